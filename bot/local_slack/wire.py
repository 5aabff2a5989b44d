"""HTTP plumbing: parse what slack-sdk sends, write back what Slack would.

slack-sdk sends JSON bodies, form bodies or GET query strings depending on the
method (SLACK.md §6.1); blocks and views arrive as JSON values in JSON bodies and
as JSON strings in form bodies. Web API answers are JSON; response URLs answer in
plain text like Slack's hooks (§5.3).
"""

from __future__ import annotations

import contextlib
import json
import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from bot.local_slack.directory import JsonObject
from bot.local_slack.web_api import ApiError

logger = logging.getLogger(__name__)

_JSON_FIELDS = ("blocks", "attachments", "view", "metadata")


@dataclass(frozen=True)
class Request:
    verb: str
    path: str
    query: str
    headers: dict[str, str]
    body: bytes


@dataclass(frozen=True)
class Reply:
    status: int
    body: JsonObject | str
    headers: Mapping[str, str] = field(default_factory=dict)


def decode_args(request: Request) -> JsonObject:
    """Query string, then a JSON or form body, with JSON-string fields decoded."""
    args: JsonObject = dict(parse_qsl(request.query, keep_blank_values=True))
    content_type = request.headers.get("Content-Type", "")
    if request.body and content_type.startswith("application/json"):
        try:
            decoded = json.loads(request.body)
        except ValueError:
            raise ApiError("invalid_json") from None
        args.update(decoded if isinstance(decoded, dict) else {})
    elif request.body:
        try:
            args.update(parse_qsl(request.body.decode(), keep_blank_values=True))
        except UnicodeDecodeError:
            raise ApiError("invalid_form_data") from None
    for name in _JSON_FIELDS:
        if isinstance(args.get(name), str):
            # Undecodable JSON stays a string; the method answers *_format errors.
            with contextlib.suppress(ValueError):
                args[name] = json.loads(args[name])
    return args


def bearer_token(request: Request, args: JsonObject) -> str | None:
    """The token from ``Authorization: Bearer``, else from a ``token`` argument."""
    form_token = args.pop("token", None)
    header = header_token(request)
    if header is not None:
        return header
    return str(form_token) if form_token else None


def header_token(request: Request) -> str | None:
    """The token from ``Authorization: Bearer`` alone."""
    headers = {name.lower(): value for name, value in request.headers.items()}
    auth = headers.get("authorization", "")
    return auth.removeprefix("Bearer ").strip() if auth else None


class Server(ThreadingHTTPServer):
    """A threaded server on 127.0.0.1 with an ephemeral port."""

    daemon_threads = True

    def __init__(self, answer: Callable[[Request], Reply]) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.answer = answer


class _Handler(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        assert isinstance(self.server, Server)
        url = urlsplit(self.path)
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        headers = dict(self.headers.items())
        request = Request(self.command, url.path, url.query, headers, body)
        try:
            reply = self.server.answer(request)
        except Exception:  # the handler boundary: a stand-in bug must not hang a test
            logger.debug("local Slack failed on %s", url.path, exc_info=True)
            reply = Reply(500, {"ok": False, "error": "fatal_error"})

        if isinstance(reply.body, str):
            data, kind = reply.body.encode(), "text/html"
        else:
            data = json.dumps(reply.body).encode()
            kind = "application/json; charset=utf-8"
        self.send_response(reply.status)
        self.send_header("Content-Type", kind)
        self.send_header("Content-Length", str(len(data)))
        for name, value in reply.headers.items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(data)

    do_POST = do_GET

    def log_message(self, format: str, *args: Any) -> None:
        """Silenced: ``LocalSlack`` logs each request at DEBUG."""

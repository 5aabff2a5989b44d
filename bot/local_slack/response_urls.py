"""Response URLs: where ``respond()`` posts, answered in plain text like Slack's hooks.

A URL takes 5 posts within 30 minutes (SLACK.md §2.2). Bad blocks get HTTP 400
``invalid_blocks`` (§5.3). What Slack answers once a URL is used up or too old is
unconfirmed: we send 404 ``expired_url`` for both, and 404 ``no_service`` (the
incoming-webhook answer) for a URL we never issued. Only accepted posts count as
uses (unconfirmed).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from urllib.parse import parse_qsl

from bot.local_slack.directory import JsonObject
from bot.local_slack.web_api import ApiError, Message, check_blocks, flag, truncate

MAX_USES = 5
LIFETIME = 30 * 60.0  # seconds


@dataclass
class ResponseUrl:
    channel: str | None
    user: str | None
    created: float
    uses: int = 0


def webhook_args(body: bytes) -> JsonObject | None:
    """A response_url body: JSON, or a form with a ``payload`` field; None if bad."""
    try:
        text = body.decode()
        if not text.lstrip().startswith("{"):
            text = dict(parse_qsl(text)).get("payload", "")
        decoded = json.loads(text)
    except ValueError:
        return None
    return decoded if isinstance(decoded, dict) else None


class ResponseUrls:
    """The URLs issued so far, keyed by path; the caller holds the lock."""

    def __init__(self, *, lifetime: float = LIFETIME, uses: int = MAX_USES) -> None:
        self.lifetime = lifetime
        self.uses = uses
        self._issued: dict[str, ResponseUrl] = {}

    def issue(
        self, path: str, channel: str | None, user: str | None, now: float
    ) -> None:
        self._issued[path] = ResponseUrl(channel, user, now)

    def post(
        self, path: str, args: JsonObject | None, now: float
    ) -> tuple[int, str, Message | None]:
        """(HTTP status, plain-text body, the message if one was accepted)."""
        target = self._issued.get(path)
        if target is None:
            return 404, "no_service", None
        if now - target.created > self.lifetime or target.uses >= self.uses:
            return 404, "expired_url", None
        if args is None:
            return 400, "invalid_payload", None
        try:
            message = _message(target, args)
        except ApiError as error:
            return 400, error.error, None
        target.uses += 1
        return 200, "ok", message


def _message(target: ResponseUrl, args: JsonObject) -> Message:
    blocks = check_blocks(args.get("blocks"))
    text = str(args.get("text") or "")
    delete = flag(args.get("delete_original"))
    if not text and not blocks and not args.get("attachments") and not delete:
        raise ApiError("no_text")
    # Ephemeral is the documented default for slash commands (§2.2); for actions
    # the default is unconfirmed and we assume the same.
    response_type = str(args.get("response_type") or "ephemeral")
    return Message(
        via="response_url",
        channel=target.channel,
        text=truncate(text, []),
        blocks=blocks,
        user=target.user if response_type == "ephemeral" else None,
        response_type=response_type,
        thread_ts=str(args["thread_ts"]) if args.get("thread_ts") else None,
        replace_original=flag(args.get("replace_original")),
        delete_original=delete,
    )

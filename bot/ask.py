"""``foresight ask``: the real app, a signed slash command, and what came back.

Runs the Bolt app over loopback HTTP against the local Slack stand-in, sends a
correctly signed command as the given user, and returns every message the app sent
in reply: the ack's body, response_url posts and Web API messages.
"""

from __future__ import annotations

import hashlib
import json
import secrets
from dataclasses import replace
from typing import Any

from bot.app import build_app
from bot.executor import TrackingExecutor
from bot.local_slack import LocalSlack, post_to_app
from bot.runtime import Runtime
from bot.server import HttpServer

REPLY_TIMEOUT = 30.0  # seconds to wait for the app's background work


class AskError(RuntimeError):
    """The command could not be sent or answered."""


def ask(runtime: Runtime, text: str, user_email: str) -> list[dict[str, Any]]:
    """Send ``text`` (``/account acme``) as ``user_email``; return the replies."""
    command, _, argument = text.strip().partition(" ")
    if not command.startswith("/"):
        raise AskError(
            f"{text!r} is not a slash command; start it with /, e.g. /account"
        )
    secret = secrets.token_hex(16)
    executor = TrackingExecutor()
    asker = asker_id(user_email)
    with LocalSlack() as slack:
        slack.add_user(asker, user_email, name=user_email.split("@")[0])
        app = build_app(
            replace(runtime, work=executor),
            token=slack.bot_token,
            signing_secret=secret,
            api_url=slack.api_url,
        )
        server = HttpServer(app, "127.0.0.1", 0, lambda: {"ok": True}).start()
        try:
            body = slack.slash_command_body(command, argument.strip(), asker)
            status, headers, reply = post_to_app(server.url, body, secret)
            if not executor.wait_idle(REPLY_TIMEOUT):
                raise AskError(f"the app was still working after {REPLY_TIMEOUT:.0f} s")
        finally:
            server.stop()
            executor.shutdown(wait=False)
        return [_ack(status, headers, reply), *map(_message, slack.messages)]


def asker_id(email: str) -> str:
    """A stable Slack-like user id per e-mail, as Slack has one id per person."""
    digest = hashlib.sha1(email.strip().casefold().encode()).hexdigest()
    return "U" + digest[:10].upper()


def _ack(status: int, headers: dict[str, str], body: bytes) -> dict[str, Any]:
    content = body.decode("utf-8", "replace")
    message: dict[str, Any] = {"via": "ack", "status": status, "text": content}
    message["blocks"] = []
    if (
        "json" in headers.get("Content-Type", headers.get("content-type", ""))
        and content
    ):
        parsed = json.loads(content)
        message["text"] = parsed.get("text", "")
        message["blocks"] = parsed.get("blocks", [])
        if "response_type" in parsed:
            message["response_type"] = parsed["response_type"]
    return message


def _message(recorded: Any) -> dict[str, Any]:
    message = {
        "via": recorded.via,
        "text": recorded.text or "",
        "blocks": recorded.blocks or [],
    }
    for key in ("channel", "user", "response_type", "thread_ts"):
        value = getattr(recorded, key, None)
        if value:
            message[key] = value
    return message

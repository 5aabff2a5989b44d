"""Signed requests from Slack to the app: slash commands and block actions.

Bodies are built as Slack sends them (SLACK.md §1, §2.1, §4) and signed over the
exact bytes that go on the wire; never re-serialise a body after signing it.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
import time
import urllib.error
import urllib.request
from collections.abc import Mapping, Sequence
from typing import Any
from urllib.parse import urlencode

TEAM_ID = "T0FSLOCAL1"
TEAM_DOMAIN = "foresight-local"
APP_ID = "A0FSLOCAL1"
BOT_USER_ID = "U0FSBOT001"
BOT_ID = "B0FSBOT001"
GENERAL_CHANNEL_ID = "C0FSGENRL1"
# The legacy verification token; Bolt ignores it and checks the signature instead.
VERIFICATION_TOKEN = "fsLocalVerificationToken"


def sign(body: bytes, secret: str, timestamp: int | None = None) -> dict[str, str]:
    """The two headers Slack adds: a v0 HMAC-SHA256 over ``v0:{ts}:{body}``."""
    stamp = str(int(time.time()) if timestamp is None else timestamp)
    base = b"v0:" + stamp.encode() + b":" + body
    digest = hmac.new(secret.encode(), base, hashlib.sha256).hexdigest()
    return {"X-Slack-Request-Timestamp": stamp, "X-Slack-Signature": f"v0={digest}"}


def trigger_id() -> str:
    """Shaped like Slack's: ``<digits>.<digits>.<32 hex>``."""
    return (
        f"{int(time.time() * 1000)}.{secrets.randbelow(10**10)}.{secrets.token_hex(16)}"
    )


def slash_command_body(
    command: str,
    text: str,
    user_id: str,
    *,
    response_url: str,
    channel_id: str = GENERAL_CHANNEL_ID,
    channel_name: str = "general",
    team_id: str = TEAM_ID,
    user_name: str | None = None,
    api_app_id: str = APP_ID,
) -> bytes:
    """A form-encoded slash command, with every field of SLACK.md §2.1.

    ``response_url`` has no default so that a test never posts to hooks.slack.com
    by accident; use ``LocalSlack.response_url_for("commands")``.
    """
    fields = {
        "token": VERIFICATION_TOKEN,
        "team_id": team_id,
        "team_domain": TEAM_DOMAIN,
        "channel_id": channel_id,
        "channel_name": channel_name,
        "user_id": user_id,
        "user_name": user_name or user_id.lower(),
        "command": command,
        "text": text,
        "api_app_id": api_app_id,
        "is_enterprise_install": "false",
        "response_url": response_url,
        "trigger_id": trigger_id(),
    }
    return urlencode(fields).encode()


def block_actions_body(
    user_id: str,
    actions: Sequence[Mapping[str, Any]],
    *,
    response_url: str,
    channel_id: str = GENERAL_CHANNEL_ID,
    channel_name: str = "general",
    container: Mapping[str, Any] | None = None,
    message: Mapping[str, Any] | None = None,
    team_id: str = TEAM_ID,
    api_app_id: str = APP_ID,
) -> bytes:
    """A ``block_actions`` interaction: form field ``payload`` holding JSON (§4).

    Each action gets an ``action_ts`` and ``type: "button"`` unless it has them.
    """
    now = f"{time.time():.6f}"
    if container is None:
        message_ts = message["ts"] if message else now
        container = {
            "type": "message",
            "message_ts": message_ts,
            "channel_id": channel_id,
            "is_ephemeral": False,
        }
    payload: dict[str, Any] = {
        "type": "block_actions",
        "user": {
            "id": user_id,
            "username": user_id.lower(),
            "name": user_id.lower(),
            "team_id": team_id,
        },
        "api_app_id": api_app_id,
        "token": VERIFICATION_TOKEN,
        "container": dict(container),
        "trigger_id": trigger_id(),
        "team": {"id": team_id, "domain": TEAM_DOMAIN},
        "enterprise": None,
        "is_enterprise_install": False,
        "channel": {"id": channel_id, "name": channel_name},
        "response_url": response_url,
        "actions": [{"type": "button", "action_ts": now, **a} for a in actions],
    }
    if message is not None:
        payload["message"] = dict(message)
    return urlencode({"payload": json.dumps(payload)}).encode()


def post_to_app(
    app_url: str,
    body: bytes,
    secret: str | None,
    headers: Mapping[str, str] | None = None,
    *,
    timeout: float = 10.0,
) -> tuple[int, dict[str, str], bytes]:
    """POST ``body`` to the app as Slack would; returns (status, headers, body).

    ``secret=None`` sends it unsigned. ``headers`` override the signed ones, so a
    test can send a stale timestamp or a bad signature.
    """
    form = "application/x-www-form-urlencoded"
    sent = {
        "Content-Type": "application/json" if body.lstrip()[:1] == b"{" else form,
        "User-Agent": "Slackbot 1.0 (+https://api.slack.com/robots)",
        **(sign(body, secret) if secret is not None else {}),
        **(headers or {}),
    }
    request = urllib.request.Request(app_url, data=body, headers=sent, method="POST")
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return response.status, dict(response.headers.items()), response.read()
    except urllib.error.HTTPError as error:
        with error:
            return error.code, dict(error.headers.items()), error.read()

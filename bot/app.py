"""The Bolt app, built the same way for serve, ask, demo and the tests."""

from __future__ import annotations

import logging
from typing import Any
from urllib.error import URLError

from slack_bolt import App
from slack_bolt.error import BoltError
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry.builtin_handlers import RateLimitErrorRetryHandler

from bot import account_command, status_command
from bot.runtime import Runtime
from context.db import check_schema

logger = logging.getLogger(__name__)

SLACK_TIMEOUT = 15  # seconds; every Slack call has a finite timeout
RATE_LIMIT_RETRIES = 2  # honour Retry-After this many times before giving up


class SetupError(RuntimeError):
    """Foresight cannot start as configured; the message says what to set."""


def build_app(
    runtime: Runtime,
    *,
    token: str | None,
    signing_secret: str | None,
    api_url: str | None = None,
    socket_mode: bool = False,
) -> App:
    """Build the Bolt app on a checked store; fails early and clearly on bad setup."""
    if not token:
        raise SetupError(
            "SLACK_BOT_TOKEN is not set: copy the Bot User OAuth Token (xoxb-…) from "
            "your Slack app's OAuth & Permissions page into SLACK_BOT_TOKEN"
        )
    if not signing_secret and not socket_mode:
        raise SetupError(
            "SLACK_SIGNING_SECRET is not set: copy the Signing Secret from your Slack "
            "app's Basic Information page into SLACK_SIGNING_SECRET"
        )
    check_schema(runtime.engine)

    client = WebClient(
        token=token, base_url=api_url or WebClient.BASE_URL, timeout=SLACK_TIMEOUT
    )
    client.retry_handlers.append(
        RateLimitErrorRetryHandler(max_retry_count=RATE_LIMIT_RETRIES)
    )
    try:
        app = App(
            signing_secret=signing_secret or "",
            client=client,
            process_before_response=False,
            request_verification_enabled=not socket_mode,
        )
    except (BoltError, SlackApiError, URLError, OSError) as error:
        # Bolt checks the token with auth.test as it starts.
        raise SetupError(
            f"could not check SLACK_BOT_TOKEN with Slack (auth.test at "
            f"{client.base_url}): {_reason(error)}. Check the token, and that this "
            "machine can reach Slack."
        ) from error
    account_command.register(app, runtime)
    status_command.register(app, runtime)
    app.error(_log_error)
    return app


def _reason(error: Exception) -> str:
    if isinstance(error, SlackApiError):
        return str(error.response.get("error"))
    return str(error) or type(error).__name__


def _log_error(error: Exception, body: dict[str, Any]) -> None:
    logger.error(
        "unhandled error for %s: %s",
        body.get("type") or body.get("command") or "request",
        error,
        exc_info=error,
    )

"""Sending replies through a response_url, and noticing when Slack refuses them.

Slack answers a response_url with a non-200 status and a plain-text reason (for
example 400 ``invalid_blocks``) instead of raising, so every send is checked; a
refused card is replaced by a short text version and the user is told. When the
response_url itself is unusable (expired, used up, unreachable) the reply goes by the
Web API instead — ephemeral in the channel, else a DM — so the user always hears back.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.error import URLError

from slack_bolt import Respond
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.blocks import Block, paginate

logger = logging.getLogger(__name__)

MAX_RESPONSE_URL_USES = 5  # Slack allows five posts per response_url
# Bolt's ``respond`` or a Responder: called with a message's fields.
Send = Callable[..., Any]
RETRY_PAUSE = 0.5  # seconds before retrying a response_url that failed in passing


class DeliveryError(RuntimeError):
    """Slack refused a message; ``reason`` is what it said."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def send(respond: Send, blocks: list[Block], text: str, **options: Any) -> None:
    """Post blocks (split into several messages if they must be) via response_url."""
    pages = paginate(blocks)[:MAX_RESPONSE_URL_USES]
    for number, page in enumerate(pages):
        page_options = dict(options)
        if number > 0:
            page_options.pop("replace_original", None)
        _post(respond, text=text, blocks=page, **page_options)


def send_text(respond: Send, text: str, **options: Any) -> None:
    _post(respond, text=text, **options)


def _post(respond: Send, **payload: Any) -> None:
    started = time.monotonic()
    response = respond(**payload)
    elapsed = (time.monotonic() - started) * 1000
    status = getattr(response, "status_code", None)
    body = str(getattr(response, "body", ""))
    if status != 200:
        logger.error(
            "slack response_url post failed: status=%s reason=%r in %.0f ms",
            status,
            body[:200],
            elapsed,
        )
        raise DeliveryError(body or f"HTTP {status}")
    logger.info("slack response_url post ok in %.0f ms", elapsed)


@dataclass(frozen=True)
class Outcome:
    """What a send came to, shaped like slack-sdk's WebhookResponse."""

    status_code: int
    body: str


class Responder:
    """``respond`` with a retry for passing failures and a Web API fallback."""

    def __init__(
        self,
        respond: Respond,
        client: WebClient,
        channel_id: str | None,
        user_id: str,
    ) -> None:
        self.respond, self.client = respond, client
        self.channel_id, self.user_id = channel_id, user_id

    def __call__(self, **payload: Any) -> Outcome:
        outcome = self._via_response_url(payload)
        if outcome.status_code in (200, 400):  # sent, or its content was refused
            return outcome
        logger.warning(
            "slack response_url unusable (%s %r); replying by the Web API",
            outcome.status_code,
            outcome.body[:100],
        )
        return self._via_web_api(payload)

    def _via_response_url(self, payload: dict[str, Any]) -> Outcome:
        outcome = Outcome(0, "")
        for attempt in (1, 2):
            try:
                response = self.respond(**payload)
                outcome = Outcome(response.status_code, str(response.body))
            except (URLError, OSError) as error:
                outcome = Outcome(0, f"unreachable: {error}")
            passing = outcome.status_code == 0 or outcome.status_code >= 500
            if not passing or attempt == 2:
                return outcome
            time.sleep(RETRY_PAUSE)
        return outcome

    def _via_web_api(self, payload: dict[str, Any]) -> Outcome:
        message = {k: payload[k] for k in ("text", "blocks") if payload.get(k)}
        public = payload.get("response_type") == "in_channel"
        try:
            if public and self.channel_id:
                self.client.chat_postMessage(channel=self.channel_id, **message)
                return Outcome(200, "ok")
            if self.channel_id and not public:
                try:
                    self.client.chat_postEphemeral(
                        channel=self.channel_id, user=self.user_id, **message
                    )
                    return Outcome(200, "ok")
                except SlackApiError as error:
                    logger.info(
                        "slack chat.postEphemeral failed: %s; sending a DM",
                        error.response.get("error"),
                    )
            if public:
                return Outcome(404, "could not post in the channel")
            dm = self.client.conversations_open(users=self.user_id)["channel"]["id"]
            self.client.chat_postMessage(channel=dm, **message)
            return Outcome(200, "ok")
        except SlackApiError as error:
            return Outcome(502, str(error.response.get("error")))

"""Sending replies through a response_url, and noticing when Slack refuses them.

Slack answers a response_url with a non-200 status and a plain-text reason (for
example 400 ``invalid_blocks``) instead of raising, so every send is checked; a
refused card is replaced by a short text version and the user is told.
"""

from __future__ import annotations

import logging
import time
from typing import Any

from slack_bolt import Respond

from bot.blocks import Block, paginate

logger = logging.getLogger(__name__)

MAX_RESPONSE_URL_USES = 5  # Slack allows five posts per response_url


class DeliveryError(RuntimeError):
    """Slack refused a message; ``reason`` is what it said."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def send(respond: Respond, blocks: list[Block], text: str, **options: Any) -> None:
    """Post blocks (split into several messages if they must be) via response_url."""
    pages = paginate(blocks)[:MAX_RESPONSE_URL_USES]
    for number, page in enumerate(pages):
        page_options = dict(options)
        if number > 0:
            page_options.pop("replace_original", None)
        _post(respond, text=text, blocks=page, **page_options)


def send_text(respond: Respond, text: str, **options: Any) -> None:
    _post(respond, text=text, **options)


def _post(respond: Respond, **payload: Any) -> None:
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

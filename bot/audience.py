"""Who would see a card shared into a channel.

A shared card is seen by everyone in the channel, so it may go only where every
person could see the card themselves: no guests, no one outside the sales team (unless
the config opens account data to the workspace), and never a channel shared with
another organisation. When Foresight cannot tell who is there, the card stays private.
"""

from __future__ import annotations

import logging
from typing import Any

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot import messages
from bot.access import check_access
from bot.runtime import Runtime

logger = logging.getLogger(__name__)

MAX_AUDIENCE = 500  # members checked at most; larger channels are refused
PAGE = 200


def share_refusal(
    runtime: Runtime, client: WebClient, channel_id: str | None
) -> str | None:
    """None when the channel may see account data, else what to tell the sharer."""
    if not channel_id:
        return messages.user_share_unknown_channel()
    try:
        info = client.conversations_info(channel=channel_id)["channel"]
        members = _members(client, channel_id)
    except SlackApiError as error:
        logger.warning(
            "slack audience check channel=%s failed: %s",
            channel_id,
            error.response.get("error"),
        )
        return messages.user_share_unknown_channel()
    if _external(info):
        return messages.user_share_external()
    if members is None:
        return messages.user_share_too_large(MAX_AUDIENCE)
    for member in members:
        verdict = check_access(runtime.engine, client, member, runtime.access).verdict
        if verdict == "bot":
            continue
        if verdict not in ("rep", "admin", "member"):
            logger.info(
                "share refused channel=%s member=%s verdict=%s",
                channel_id,
                member,
                verdict,
            )
            return messages.user_share_audience()
    return None


def _external(info: dict[str, Any]) -> bool:
    return bool(
        info.get("is_ext_shared")
        or info.get("is_shared")
        or info.get("is_pending_ext_shared")
    )


def _members(client: WebClient, channel_id: str) -> list[str] | None:
    """Every member, or None when there are more than MAX_AUDIENCE."""
    members: list[str] = []
    cursor = None
    while True:
        page = client.conversations_members(
            channel=channel_id, limit=PAGE, cursor=cursor
        )
        members += page.get("members", [])
        if len(members) > MAX_AUDIENCE:
            return None
        cursor = (page.get("response_metadata") or {}).get("next_cursor")
        if not cursor:
            return members

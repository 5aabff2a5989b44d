"""A loopback Slack that answers as real Slack does (SLACK.md).

``foresight ask`` and ``foresight demo`` run the real Bolt app against it, so that
people without a workspace see exactly what would be sent; the test suite uses it
as its Slack. Typical use::

    with LocalSlack() as slack:
        slack.add_user("U0ALICE001", "alice@example.com")
        client = WebClient(token=slack.bot_token, base_url=slack.api_url)
        ...
        slack.wait_for_messages(1)
"""

from bot.local_slack.directory import tz_fields
from bot.local_slack.payloads import (
    block_actions_body,
    post_to_app,
    sign,
    slash_command_body,
)
from bot.local_slack.server import DEFAULT_SCOPES, Call, LocalSlack
from bot.local_slack.socket_mode import Ack, Envelope, SocketModeServer
from bot.local_slack.web_api import Message

__all__ = [
    "DEFAULT_SCOPES",
    "Ack",
    "Call",
    "Envelope",
    "LocalSlack",
    "Message",
    "SocketModeServer",
    "block_actions_body",
    "post_to_app",
    "sign",
    "slash_command_body",
    "tz_fields",
]

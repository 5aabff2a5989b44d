"""``/account <name>``: acknowledge at once, then build and send the card.

The ack goes out before any store or Slack lookup (a lazy listener does the work),
so a slow store never makes Slack show ``operation_timeout``. The card is private to
the asker; its "Share to channel" button posts a copy for everyone.
"""

from __future__ import annotations

import logging
import re
import time
from typing import Any

from slack_bolt import Ack, App, Respond
from slack_sdk import WebClient

from bot import messages
from bot.access import Access, check_access
from bot.blocks import Block, context, sections
from bot.card import PICK_ACTION, SHARE_ACTION, account_card, no_match, picker
from bot.delivery import DeliveryError, send, send_text
from bot.runtime import Runtime
from context.account_view import build_account_view
from context.db import session_factory
from context.resolve import resolve_account

logger = logging.getLogger(__name__)


def register(app: App, runtime: Runtime) -> None:
    """Attach the /account command and the card's buttons to ``app``."""

    def ack_command(ack: Ack, command: dict[str, Any]) -> None:
        if not command.get("text", "").strip():
            ack(text=messages.user_usage())
        else:
            ack()

    def answer_command(
        command: dict[str, Any], respond: Respond, client: WebClient
    ) -> None:
        query = " ".join(command.get("text", "").split())
        if not query:
            return
        with _boundary(respond, "account command", command.get("user_id")):
            answer(runtime, client, respond, command["user_id"], query)

    def ack_action(ack: Ack) -> None:
        ack()

    def pick(body: dict[str, Any], respond: Respond, client: WebClient) -> None:
        user_id = body["user"]["id"]
        with _boundary(respond, "account pick", user_id):
            account_id = int(body["actions"][0]["value"])
            show_card(runtime, client, respond, user_id, account_id, replace=True)

    def share(body: dict[str, Any], respond: Respond, client: WebClient) -> None:
        user_id = body["user"]["id"]
        with _boundary(respond, "account share", user_id):
            account_id = int(body["actions"][0]["value"])
            share_card(runtime, client, respond, user_id, account_id)

    app.command("/account")(ack=ack_command, lazy=[answer_command])
    app.action(re.compile(f"^{PICK_ACTION}"))(ack=ack_action, lazy=[pick])
    app.action(SHARE_ACTION)(ack=ack_action, lazy=[share])


def answer(
    runtime: Runtime, client: WebClient, respond: Respond, user_id: str, query: str
) -> None:
    started = time.monotonic()
    if not _allowed(runtime, client, respond, user_id):
        return
    with session_factory(runtime.engine)() as session:
        resolution = resolve_account(session, query)
    logger.info(
        "account lookup user=%s status=%s candidates=%d in %.0f ms",
        user_id,
        resolution.status,
        len(resolution.candidates),
        (time.monotonic() - started) * 1000,
    )
    if resolution.status == "one" and resolution.account_id is not None:
        _send_card(runtime, respond, resolution.account_id)
    elif resolution.status == "several":
        blocks, text = picker(resolution)
        send(respond, blocks, text)
    else:
        blocks, text = no_match(resolution)
        send(respond, blocks, text)


def show_card(
    runtime: Runtime,
    client: WebClient,
    respond: Respond,
    user_id: str,
    account_id: int,
    *,
    replace: bool = False,
) -> None:
    if _allowed(runtime, client, respond, user_id):
        _send_card(runtime, respond, account_id, replace_original=replace)


def share_card(
    runtime: Runtime, client: WebClient, respond: Respond, user_id: str, account_id: int
) -> None:
    if not _allowed(runtime, client, respond, user_id):
        return
    blocks, text = _card(runtime, account_id, shareable=False)
    blocks.append(context(messages.user_shared_by(user_id)))
    send(respond, blocks, text, response_type="in_channel", replace_original=False)


def _send_card(
    runtime: Runtime, respond: Respond, account_id: int, **options: Any
) -> None:
    blocks, text = _card(runtime, account_id, shareable=True)
    try:
        send(respond, blocks, text, response_type="ephemeral", **options)
    except DeliveryError as error:
        logger.error(
            "card for account %s refused by Slack: %s", account_id, error.reason
        )
        send_text(respond, f"{messages.user_card_rejected()}\n{text}", **options)


def _card(
    runtime: Runtime, account_id: int, *, shareable: bool
) -> tuple[list[Block], str]:
    with session_factory(runtime.engine)() as session:
        try:
            view = build_account_view(session, account_id, runtime.clock)
        except LookupError:
            return sections(messages.user_account_gone()), messages.user_account_gone()
    return account_card(view, runtime.labels, shareable=shareable)


def _allowed(
    runtime: Runtime, client: WebClient, respond: Respond, user_id: str
) -> bool:
    access: Access = check_access(runtime.engine, client, user_id, runtime.access)
    if access.allowed:
        return True
    logger.info("account data refused user=%s verdict=%s", user_id, access.verdict)
    refusal = {
        "guest": messages.user_guest_refused,
        "unverified": messages.user_unverified,
    }.get(access.verdict, messages.user_not_allowed)
    send_text(respond, refusal())
    return False


class _boundary:
    """The handler boundary: log with a traceback and tell the user, never crash."""

    def __init__(self, respond: Respond, what: str, user_id: str | None) -> None:
        self.respond, self.what, self.user_id = respond, what, user_id

    def __enter__(self) -> None:
        return None

    def __exit__(self, kind: Any, error: BaseException | None, _tb: Any) -> bool:
        if error is None or not isinstance(error, Exception):
            return False
        logger.exception("%s failed for user=%s", self.what, self.user_id)
        try:
            send_text(self.respond, messages.user_something_failed())
        except Exception:
            logger.exception("could not tell user=%s about the failure", self.user_id)
        return True

"""``/account <name>``: acknowledge at once, then build and send the card.

The listener only queues the work on Foresight's own pool and acks; the store and
Slack lookups run afterwards, so a slow store never makes Slack show
``operation_timeout`` (case B03), however many slow answers are in flight. The
card is private to the asker; its "Share to channel" button posts a copy for the
channel when everyone in it may see account details.
"""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Callable
from typing import Any

from slack_bolt import Ack, App, Respond
from slack_sdk import WebClient
from sqlalchemy import select

from bot import messages
from bot.access import Access, check_access
from bot.audience import share_refusal
from bot.blocks import Block, context, sections
from bot.card import PICK_ACTION, SHARE_ACTION, account_card, no_match, picker
from bot.delivery import DeliveryError, Responder, Send, send, send_text
from bot.runtime import Runtime
from context.account_view import build_account_view
from context.db import session_factory
from context.models import Rep
from context.resolve import resolve_account

logger = logging.getLogger(__name__)


def register(app: App, runtime: Runtime) -> None:
    """Attach the /account command and the card's buttons to ``app``."""

    def on_command(
        ack: Ack, command: dict[str, Any], respond: Respond, client: WebClient
    ) -> None:
        query = " ".join(command.get("text", "").split())
        if not query:
            ack(text=messages.user_usage())
            return
        user_id, channel = command["user_id"], command.get("channel_id")
        reply = Responder(respond, client, channel, user_id)
        _later(runtime, reply, "account command", user_id, answer, client, query)
        ack()

    def on_pick(
        ack: Ack, body: dict[str, Any], respond: Respond, client: WebClient
    ) -> None:
        user_id, value = body["user"]["id"], body["actions"][0]["value"]
        channel = (body.get("channel") or {}).get("id")
        reply = Responder(respond, client, channel, user_id)
        _later(runtime, reply, "account pick", user_id, show_card, client, value)
        ack()

    def on_share(
        ack: Ack, body: dict[str, Any], respond: Respond, client: WebClient
    ) -> None:
        user_id, value = body["user"]["id"], body["actions"][0]["value"]
        channel = (body.get("channel") or {}).get("id")
        _later(
            runtime,
            Responder(respond, client, channel, user_id),
            "account share",
            user_id,
            share_card,
            client,
            value,
            channel,
        )
        ack()

    app.command("/account")(on_command)
    app.action(re.compile(f"^{PICK_ACTION}"))(on_pick)
    app.action(SHARE_ACTION)(on_share)


def _later(
    runtime: Runtime,
    respond: Send,
    what: str,
    user_id: str,
    task: Callable[..., None],
    client: WebClient,
    *args: Any,
) -> None:
    """Queue the slow part; the listener returns at once and Bolt sends the ack."""

    def run() -> None:
        with _boundary(respond, what, user_id):
            task(runtime, client, respond, user_id, *args)

    runtime.work.submit(run)


def answer(
    runtime: Runtime, client: WebClient, respond: Send, user_id: str, query: str
) -> None:
    started = time.monotonic()
    access = _allowed(runtime, client, respond, user_id)
    if access is None:
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
        _send_card(runtime, respond, resolution.account_id, access.time_zone)
    elif resolution.status == "several":
        blocks, text = picker(resolution, runtime.labels)
        send(respond, blocks, text)
    else:
        blocks, text = no_match(resolution)
        send(respond, blocks, text)


def show_card(
    runtime: Runtime, client: WebClient, respond: Send, user_id: str, value: str
) -> None:
    """A picked account's card replaces the list of choices."""
    access = _allowed(runtime, client, respond, user_id)
    if access is not None:
        _send_card(
            runtime, respond, int(value), access.time_zone, replace_original=True
        )


def share_card(
    runtime: Runtime,
    client: WebClient,
    respond: Send,
    user_id: str,
    value: str,
    channel_id: str | None,
) -> None:
    """Post the card for the whole channel, if everyone there may see it."""
    access = _allowed(runtime, client, respond, user_id)
    if access is None:
        return
    refusal = share_refusal(runtime, client, channel_id)
    if refusal is not None:
        send_text(respond, refusal, response_type="ephemeral", replace_original=False)
        return
    blocks, text = _card(runtime, int(value), access.time_zone, shareable=False)
    if text == messages.user_account_gone():
        send_text(respond, text, response_type="ephemeral", replace_original=False)
        return
    blocks.append(context(messages.user_shared_by(user_id)))
    send(respond, blocks, text, response_type="in_channel", replace_original=False)


def _send_card(
    runtime: Runtime,
    respond: Send,
    account_id: int,
    zone: str | None,
    **options: Any,
) -> None:
    blocks, text = _card(runtime, account_id, zone, shareable=True)
    try:
        send(respond, blocks, text, response_type="ephemeral", **options)
    except DeliveryError as error:
        logger.error(
            "card for account %s refused by Slack: %s", account_id, error.reason
        )
        send_text(respond, f"{messages.user_card_rejected()}\n{text}", **options)


def _card(
    runtime: Runtime, account_id: int, zone: str | None, *, shareable: bool
) -> tuple[list[Block], str]:
    with session_factory(runtime.engine)() as session:
        try:
            view = build_account_view(session, account_id, runtime.clock, zone)
        except LookupError:
            return sections(messages.user_account_gone()), messages.user_account_gone()
    return account_card(view, runtime.labels, shareable=shareable)


def _team_loaded(runtime: Runtime) -> bool:
    """Whether any source has loaded the sales org yet (a fresh store has not)."""
    with runtime.engine.connect() as connection:
        return connection.scalar(select(Rep.id).limit(1)) is not None


def _allowed(
    runtime: Runtime, client: WebClient, respond: Send, user_id: str
) -> Access | None:
    """The asker's access when allowed; otherwise they are told why, and None."""
    access = check_access(runtime.engine, client, user_id, runtime.access)
    if access.allowed:
        return access
    logger.info("account data refused user=%s verdict=%s", user_id, access.verdict)
    refusal = {
        "guest": messages.user_guest_refused,
        "unverified": messages.user_unverified,
    }.get(access.verdict, messages.user_not_allowed)
    if access.verdict == "unknown" and access.email is None:
        refusal = messages.user_email_hidden
    elif access.verdict in ("unknown", "member") and not _team_loaded(runtime):
        refusal = messages.user_team_not_loaded
    send_text(respond, refusal())
    return None


class _boundary:
    """The handler boundary: log with a traceback and tell the user, never crash."""

    def __init__(self, respond: Send, what: str, user_id: str | None) -> None:
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

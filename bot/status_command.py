"""``/foresight status``: how each source's syncs have gone, for admins only.

The same facts ``foresight status`` prints (``integrations.status`` reads them),
laid out as Block Kit: failing sources first, each with its last success and age,
records seen, cursor and last error. Only the people named in the config's
``access.admins`` may see it: errors quote vendor replies, and cursors say how far
each system has been read. The listener acks at once and the work runs on the
runtime's pool, as ``/account`` does (case B03).
"""

from __future__ import annotations

import logging
import time
from datetime import UTC, datetime
from typing import Any

from slack_bolt import Ack, App, Respond
from slack_sdk import WebClient

from bot.access import check_access
from bot.blocks import (
    Block,
    clip,
    context,
    escape,
    fallback_text,
    header,
    paginate,
    sections,
)
from bot.delivery import Responder, Send, send, send_text
from bot.runtime import Runtime
from integrations.status import SourceStatus, cursor_summary, source_status, when

logger = logging.getLogger(__name__)

COMMAND = "/foresight"
ERROR_SHOWN = 1200  # characters of a last error; `foresight status` has it whole
CURSOR_SHOWN = 200  # characters of a cursor
LABEL_SHOWN = 150  # characters of a source's label
MAX_MESSAGES = 3  # a longer status is cut, with a note pointing to the CLI

HELP = (
    "*Foresight admin commands*\n"
    "• `/foresight status`: how each source's syncs have gone (admins only)"
)
NOT_ADMIN = (
    "Sorry, sync status is only for Foresight admins. Ask your RevOps admin to add "
    "your Slack e-mail to `access.admins` in Foresight's config."
)
NO_CONFIG = (
    "Foresight is running without a config, so it has no sources to report on. "
    "Start `foresight serve` with `--config FILE` or `FORESIGHT_CONFIG`."
)
FAILED = (
    ":warning: Something went wrong while reading the sync status, and it was "
    "logged. Try `foresight status` on the server."
)


def register(app: App, runtime: Runtime) -> None:
    """Attach ``/foresight`` to ``app``."""

    def on_command(
        ack: Ack, command: dict[str, Any], respond: Respond, client: WebClient
    ) -> None:
        words = command.get("text", "").split()
        if [w.lower() for w in words] != ["status"]:
            ack(text=HELP)
            return
        user_id = command["user_id"]
        reply = Responder(respond, client, command.get("channel_id"), user_id)
        runtime.work.submit(_answer_safely, runtime, client, reply, user_id)
        ack()

    app.command(COMMAND)(on_command)


def _answer_safely(
    runtime: Runtime, client: WebClient, respond: Send, user_id: str
) -> None:
    """The handler boundary: log with a traceback and tell the admin, never crash."""
    try:
        answer(runtime, client, respond, user_id)
    except Exception:
        logger.exception("status command failed for user=%s", user_id)
        try:
            send_text(respond, FAILED)
        except Exception:
            logger.exception("could not tell user=%s about the failure", user_id)


def answer(runtime: Runtime, client: WebClient, respond: Send, user_id: str) -> None:
    started = time.monotonic()
    access = check_access(runtime.engine, client, user_id, runtime.access)
    if access.verdict != "admin":
        logger.info("sync status refused user=%s verdict=%s", user_id, access.verdict)
        send_text(respond, NOT_ADMIN)
        return
    if runtime.config is None:
        send_text(respond, NO_CONFIG)
        return

    statuses = source_status(runtime.engine, runtime.config)
    # Sync times are wall-clock times, so their age is too, whatever the clock says.
    blocks, text = status_blocks(statuses, datetime.now(UTC))
    logger.info(
        "sync status user=%s sources=%d failing=%d in %.0f ms",
        user_id,
        len(statuses),
        sum(s.failing for s in statuses),
        (time.monotonic() - started) * 1000,
    )
    send(respond, blocks, text, response_type="ephemeral")


def status_blocks(
    statuses: list[SourceStatus], now: datetime
) -> tuple[list[Block], str]:
    """Blocks for every source, failing ones first, and the fallback text."""
    failing = [s for s in statuses if s.failing]
    summary = f"{len(failing)} of {len(statuses)} sources failing"
    if not statuses:
        summary = "no sources configured"
    blocks = [header("Sync status"), context(escape(summary))]
    for status in sorted(statuses, key=lambda s: not s.failing):
        blocks.extend(sections(source_text(status, now)))
    blocks = _fit(blocks)
    names = ", ".join(s.name for s in failing)
    text = f"Sync status: {summary}" + (f" ({names})" if names else "")
    return blocks, fallback_text(text)


def source_text(status: SourceStatus, now: datetime) -> str:
    """One source's status in mrkdwn; every value from data is escaped."""
    lines = [
        f"{_mark(status)} *{escape(clip(status.label, LABEL_SHOWN))}* · "
        f"`{_code(status.name)}` · {escape(status.kind)}",
        f"Last success: {_moment(status.last_success_at, now)}",
        f"Records seen: {_count(status.records_seen)} · last run "
        f"{_moment(status.last_run_at, now)}, changed "
        f"{_count(status.last_run_changed)}",
    ]
    if status.cursor:
        lines.append(f"Cursor: `{_code(cursor_summary(status.cursor, CURSOR_SHOWN))}`")
    if status.last_error is not None:
        since = "" if status.failing else " (it has succeeded since)"
        message = clip(_code(status.last_error), ERROR_SHOWN)
        lines.append(
            f"Last error {_moment(status.last_error_at, now)}{since}:\n```{message}```"
        )
    return "\n".join(lines)


def _mark(status: SourceStatus) -> str:
    if status.failing:
        return ":x: *failing*"
    if status.last_success_at is None:
        return ":grey_question: never synced"
    return ":white_check_mark: ok"


def _moment(moment: datetime | None, now: datetime) -> str:
    if moment is None:
        return "never"
    return f"{when(moment)} ({age(moment, now)})"


def age(moment: datetime, now: datetime) -> str:
    """How long ago, in the largest whole unit: "just now", "5 min ago", "3 h ago"."""
    seconds = (now - moment).total_seconds()
    if seconds < 60:
        return "just now"
    for unit, size in (("d", 86400), ("h", 3600)):
        if seconds >= size:
            return f"{int(seconds // size)} {unit} ago"
    return f"{int(seconds // 60)} min ago"


def _count(value: int | None) -> str:
    return "none" if value is None else f"{value:,}"


def _code(text: str) -> str:
    """Escaped text for a code span or block, where a backtick would end it early."""
    return escape(text.replace("`", "'"))


def _fit(blocks: list[Block]) -> list[Block]:
    """Keep what fits in ``MAX_MESSAGES`` messages; say how many sources were cut."""
    pages = paginate(blocks)
    if len(pages) <= MAX_MESSAGES:
        return blocks
    kept = [block for page in pages[:MAX_MESSAGES] for block in page][:-1]
    cut = len(blocks) - len(kept)  # one section per source (each is under 3000)
    kept.append(
        context(
            f"_{cut} more sources did not fit here: run `foresight status` on the "
            "server for all of them._"
        )
    )
    return kept

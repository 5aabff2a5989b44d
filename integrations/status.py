"""``foresight status``: per configured source, how its syncs have gone.

Read from ``SourceState`` (cursor, last success, last error, records read) and the
newest ``SyncRun`` (when the last sync ran and what it changed), so an admin sees
at a glance which source is failing, since when, and where it will resume.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from rich.console import Console
from rich.table import Table
from rich.text import Text
from sqlalchemy import Engine, select

from context.db import transaction
from context.models import SyncRun
from context.source_state import read_states
from integrations.config import Config

CURSOR_SHOWN = 400  # characters of a cursor shown; a longer one is cut with "…"


@dataclass(frozen=True)
class SourceStatus:
    """What status shows for one source."""

    name: str
    label: str
    kind: str
    last_success_at: datetime | None
    last_error: str | None
    last_error_at: datetime | None
    records_seen: int | None
    cursor: dict[str, Any] | None
    last_run_at: datetime | None
    last_run_changed: int | None

    @property
    def failing(self) -> bool:
        """The newest outcome is an error (or it never succeeded after one)."""
        if self.last_error_at is None:
            return False
        return self.last_success_at is None or self.last_error_at > self.last_success_at


def source_status(engine: Engine, config: Config) -> list[SourceStatus]:
    """Every source of ``config``, in config order, whether it ever ran or not."""
    states = read_states(engine)
    runs = _last_runs(engine)
    found = []
    for source in config.sources:
        state = states.get(source.name)
        run = runs.get(source.name)
        found.append(
            SourceStatus(
                name=source.name,
                label=source.label,
                kind=source.kind,
                last_success_at=state.last_success_at if state else None,
                last_error=state.last_error if state else None,
                last_error_at=state.last_error_at if state else None,
                records_seen=state.records_seen if state else None,
                cursor=state.cursor if state else None,
                last_run_at=run.finished_at or run.started_at if run else None,
                last_run_changed=_changed(run.counts) if run else None,
            )
        )
    return found


def print_status(console: Console, statuses: Sequence[SourceStatus]) -> None:
    """A table of every source, each cursor, then each last error in full."""
    table = Table(title="Sources", title_justify="left")
    for column in ("Source", "Kind", "Last success", "Last run"):
        table.add_column(column)
    for column in ("Changed", "Records"):
        table.add_column(column, justify="right")
    for status in statuses:
        table.add_row(
            Text(status.label),
            Text(status.kind),
            Text(when(status.last_success_at)),
            Text(when(status.last_run_at)),
            Text(_count(status.last_run_changed)),
            Text(_count(status.records_seen)),
        )
    console.print(table)
    for status in statuses:
        if status.cursor:
            line = Text(f"{status.name} cursor: {cursor_summary(status.cursor)}")
            console.print(line, soft_wrap=True)
    for status in statuses:
        if status.last_error is None or status.last_error_at is None:
            continue
        style = "bold red" if status.failing else "yellow"
        note = "" if status.failing else " (it has succeeded since)"
        console.print(
            Text(
                f"{'✗' if status.failing else '!'} {status.name} last failed "
                f"{when(status.last_error_at)}{note}: {status.last_error}",
                style=style,
            ),
            soft_wrap=True,
        )


def _last_runs(engine: Engine) -> dict[str, SyncRun]:
    with transaction(engine) as session:
        runs = session.scalars(select(SyncRun).order_by(SyncRun.id)).all()
        session.expunge_all()
    return {run.source: run for run in runs}


def _changed(counts: dict[str, Any] | None) -> int:
    return sum(
        int(kind.get("new", 0)) + int(kind.get("updated", 0))
        for kind in (counts or {}).values()
        if isinstance(kind, dict)
    )


def _count(value: int | None) -> str:
    return "" if value is None else str(value)


def when(moment: datetime | None) -> str:
    """A sync time as status shows it, in Slack too."""
    return "never" if moment is None else moment.strftime("%Y-%m-%d %H:%M UTC")


def cursor_summary(cursor: dict[str, Any], limit: int = CURSOR_SHOWN) -> str:
    """A cursor as compact JSON, cut to ``limit`` characters with "…"."""
    text = json.dumps(cursor, sort_keys=True, separators=(",", ":"))
    return text if len(text) <= limit else text[: limit - 1] + "…"

"""Running the sources of a config into the store, one after another.

Each source is loaded by its own ``Loader`` and recorded as one ``SyncRun`` with its
counts. A source that cannot run (a missing file, a mapping that does not fit) is
reported and the next one still runs. Rows a source rejects are counted and listed
with the loader's own rejections, so nothing is dropped without a word.
"""

from __future__ import annotations

import logging
import time
from collections import Counter
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime

import httpx
from rich.console import Console
from rich.markup import escape
from rich.progress import (
    Progress,
    SpinnerColumn,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
)
from sqlalchemy import Engine, text, update

from context.clock import Clock
from context.db import transaction
from context.load import TABLES, Loader, LoadReport
from context.models import SyncRun
from context.records import KINDS, Record, Rejection
from context.source_state import read_cursor, record_failure, record_success
from integrations.config import Config
from integrations.errors import ConfigError, SourceError
from integrations.registry import read_source
from integrations.source import SourceConfig, SyncState
from integrations.summary import print_summary

logger = logging.getLogger(__name__)

OUTCOMES = ("new", "updated", "unchanged", "rejected")
ANALYZE_AFTER = 1000  # new rows in one table that make its statistics stale
PROGRESS_STEP = 100  # records between two updates of the progress display
ERROR_LIMIT = 300  # database errors quote whole statements; the log has them all


@dataclass
class SourceResult:
    """What one sync of one source did."""

    name: str
    label: str
    counts: dict[str, Counter[str]] = field(default_factory=dict)
    rejections: list[Rejection] = field(default_factory=list)
    unmatched_reps: dict[tuple[str, str], int] = field(default_factory=dict)
    # Rows this source gave before but not this time, per kind: marked deleted.
    missing: dict[str, int] = field(default_factory=dict)
    error: str | None = None
    started_at: datetime = field(default_factory=lambda: datetime.now(UTC))
    finished_at: datetime | None = None

    def changed(self) -> int:
        """Rows added or updated; 0 means the sync changed nothing."""
        return sum(c["new"] + c["updated"] for c in self.counts.values())

    def total(self, outcome: str) -> int:
        """One outcome (new, updated, unchanged, rejected) over every kind."""
        return sum(c[outcome] for c in self.counts.values())


def sync(
    engine: Engine,
    config: Config,
    clock: Clock,
    only: Sequence[str] | None = None,
    console: Console | None = None,
    transport: httpx.BaseTransport | None = None,
) -> list[SourceResult]:
    """Load every source of ``config`` (or those named in ``only``) and print what
    changed. Sync times are wall-clock times: they say when the sync ran, whatever
    "now" the clock is fixed at. ``transport`` answers live sources' requests
    instead of the network (a stand-in)."""
    sources = _selected(config, only)
    console = console or Console()
    with _progress(console) as progress:
        results = [
            _sync_source(engine, config, source, clock, transport, progress)
            for source in sources
        ]
    print_summary(console, results)
    return results


def _progress(console: Console) -> Progress:
    """A live count of records read per source on a terminal; elsewhere nothing
    (the log has a line per request, with ``-v`` or under ``serve``)."""
    return Progress(
        SpinnerColumn(),
        TextColumn("{task.description}"),
        TextColumn("{task.completed:,.0f} records read"),
        TimeElapsedColumn(),
        console=console,
        transient=True,
        disable=not console.is_terminal,
    )


def _selected(config: Config, only: Sequence[str] | None) -> list[SourceConfig]:
    if not only:
        return list(config.sources)
    return [config.source(name) for name in only]


def _sync_source(
    engine: Engine,
    config: Config,
    source: SourceConfig,
    clock: Clock,
    transport: httpx.BaseTransport | None,
    progress: Progress,
) -> SourceResult:
    result = SourceResult(source.name, source.label)
    task = progress.add_task(escape(source.label), total=None)
    loader = Loader(engine, clock)
    started = time.monotonic()
    state = SyncState(cursor=read_cursor(engine, source.name), transport=transport)
    try:
        records = read_source(source, config.data_root, clock, state)
        loader.load(_divert(records, loader.report, progress, task))
    except (SourceError, ConfigError) as error:
        result.error = str(error)
    except Exception as error:  # the boundary: one broken source must not stop the rest
        logger.exception("source %s failed", source.name)
        text = str(error).splitlines()[0] if str(error) else ""
        result.error = f"unexpected {type(error).__name__}: {text[:ERROR_LIMIT]}"
    result.finished_at = datetime.now(UTC)
    progress.stop_task(task)
    _collect(result, loader.report)
    if result.error is None and state.complete:
        # An incremental sync sees only what changed: the rest is not missing.
        spared = _still_there(result.rejections)
        result.missing = _mark_gone(engine, source.name, result.started_at, spared)
    _record_run(engine, result)
    _record_state(engine, result, state)
    _analyze(engine, result)
    logger.info(
        "synced %s in %.0f ms: %d new, %d updated, %d unchanged, %d rejected%s",
        source.name,
        (time.monotonic() - started) * 1000,
        result.total("new"),
        result.total("updated"),
        result.total("unchanged"),
        result.total("rejected"),
        f"; failed: {result.error}" if result.error else "",
    )
    return result


def _divert(
    items: Iterable[Record | Rejection],
    report: LoadReport,
    progress: Progress,
    task: TaskID,
) -> Iterator[Record]:
    """Pass records on to the loader; count a source's own rejections in its report."""
    read = 0
    for item in items:
        read += 1
        if read % PROGRESS_STEP == 0:
            progress.update(task, completed=read)
        if isinstance(item, Rejection):
            report.counts[(item.source, item.kind)]["rejected"] += 1
            report.rejections.append(item)
        else:
            yield item
    progress.update(task, completed=read)


def _collect(result: SourceResult, report: LoadReport) -> None:
    order = {kind: index for index, kind in enumerate(KINDS)}
    for (_, kind), counts in sorted(
        report.counts.items(), key=lambda item: order.get(item[0][1], len(order))
    ):
        result.counts.setdefault(kind, Counter()).update(counts)
    result.rejections = list(report.rejections)
    for (_, kind, who), count in report.unmatched_reps.items():
        result.unmatched_reps[(kind, who)] = count


def _analyze(engine: Engine, result: SourceResult) -> None:
    """Refresh PostgreSQL's statistics after a bulk load.

    The loader finds existing rows by batches of ids. Planned from statistics taken
    while a table was empty, each batch scans the whole table: a re-sync of 20k
    usage rows took 20 s instead of 3. Autovacuum analyzes eventually (if it is
    on); doing it right after a large load makes the next sync fast at once.
    """
    if engine.dialect.name != "postgresql":
        return
    tables = sorted(
        TABLES[kind].__tablename__
        for kind, counts in result.counts.items()
        if kind in TABLES and counts["new"] >= ANALYZE_AFTER
    )
    if tables:
        with engine.begin() as connection:
            connection.execute(text(f"ANALYZE {', '.join(tables)}"))


def _still_there(rejections: list[Rejection]) -> dict[str, set[str] | None]:
    """Per kind, the ids read but rejected: still at the source, so not gone.
    None: a rejection without a readable id, so no row of that kind is marked."""
    spared: dict[str, set[str] | None] = {}
    for rejection in rejections:
        ids = spared.setdefault(rejection.kind, set())
        if rejection.source_id is None:
            spared[rejection.kind] = None
        elif ids is not None:
            ids.add(rejection.source_id)
    return spared


def _mark_gone(
    engine: Engine,
    source: str,
    since: datetime,
    spared: dict[str, set[str] | None],
) -> dict[str, int]:
    """Mark deleted the rows a full read of this source no longer has.

    A file export or a first (full) read is the whole of what the source holds, so
    a row it no longer has was deleted there. Rows are kept, since other records
    may point at them, but views leave them out; a row that comes back is live
    again. Only called after a sync that read everything without an error.
    """
    missing: dict[str, int] = {}
    now = datetime.now(UTC)
    with engine.begin() as connection:
        for kind, table in TABLES.items():
            if kind in spared and spared[kind] is None:
                continue
            query = update(table).where(
                table.source == source,
                table.last_seen_at < since,
                table.deleted_at.is_(None),
            )
            for part in _batches(sorted(spared.get(kind) or ())):
                query = query.where(table.source_id.not_in(part))
            result = connection.execute(query.values(deleted_at=now, updated_at=now))
            if result.rowcount:
                missing[kind] = int(result.rowcount)
    return missing


def _batches(items: list[str], size: int = 500) -> Iterator[list[str]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def _record_state(engine: Engine, result: SourceResult, state: SyncState) -> None:
    """Move the cursor now that the loader has committed every row it covers."""
    at = result.finished_at or datetime.now(UTC)
    if result.error is not None:
        record_failure(engine, result.name, at, result.error)
        return
    seen = sum(result.total(outcome) for outcome in OUTCOMES)
    record_success(engine, result.name, at, seen, state.next_cursor)


def _record_run(engine: Engine, result: SourceResult) -> None:
    counts = {
        kind: {outcome: counts[outcome] for outcome in OUTCOMES}
        for kind, counts in result.counts.items()
    }
    with transaction(engine) as session:
        session.add(
            SyncRun(
                source=result.name,
                started_at=result.started_at,
                finished_at=result.finished_at,
                counts=counts,
                error=result.error,
            )
        )

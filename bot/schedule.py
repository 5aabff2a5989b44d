"""Scheduled syncs in ``foresight serve``, from the config's ``sync:`` section.

    sync:
      every: 15m                  # every source, unless named below
      timezone: Europe/Berlin     # for cron lines (default UTC)
      sources: {stripe: 1h, warehouse: "0 6 * * *", crm: off}

Every replica runs the same schedule; each run first takes the source's lock in the
store and skips when another replica holds it, or when the source already ran in
the last half period (a replica whose clock or scheduler is a moment behind must not
sync again), so a source syncs once per period however many replicas run (case
B13). On PostgreSQL the lock is a session advisory lock held on a dedicated
connection for the whole sync; PostgreSQL frees it if the replica dies. SQLite
cannot be shared between hosts, so there the lock is an exclusive ``flock`` on a
file beside the database: it covers every process on the host and dies with them.

Jobs name a module-level function by import path with a few strings as arguments
(B18); the engine and config are made inside each run. Each job sets its own grace
time and coalescing, so a run picked up late still happens, once (B15). Interval
runs are aligned to fixed instants (multiples of the period since 2000-01-01 UTC),
so replicas fire together and a restart does not push the next run back.
"""

from __future__ import annotations

import fcntl
import hashlib
import io
import logging
import os
import re
import threading
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from itertools import pairwise
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from apscheduler.events import (
    EVENT_JOB_ERROR,
    EVENT_JOB_MAX_INSTANCES,
    EVENT_JOB_MISSED,
    JobEvent,
)
from apscheduler.executors.pool import ThreadPoolExecutor
from apscheduler.jobstores.base import BaseJobStore
from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.triggers.base import BaseTrigger
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger
from rich.console import Console
from sqlalchemy import Engine, select, text
from sqlalchemy.exc import DBAPIError

from bot.settings import Settings
from context.clock import Clock
from context.db import SchemaError, check_schema, make_engine
from context.models import SyncRun
from integrations.config import Config, load_config
from integrations.errors import ConfigError
from integrations.sync import sync

logger = logging.getLogger(__name__)

SECTION = "sync"
JOB = "bot.schedule:run_sync"  # by import path, so any job store can keep it
ANCHOR = datetime(2000, 1, 1, tzinfo=UTC)  # interval runs fall on multiples from here
OFF = ("off", "never", "no")
UNITS = {"d": 86400, "h": 3600, "m": 60, "s": 1}
INTERVAL = re.compile(r"(?:\d+\s*[dhms]\s*)+")
SQLITE_WORKERS = 1  # SQLite takes one writer at a time; parallel syncs would wait
POSTGRES_WORKERS = 4

# What a run came to: the job's return value, seen in the scheduler's events.
SYNCED, FAILED, BUSY, RECENT, NOT_RUN = "synced", "failed", "busy", "recent", "not run"


class WallClockCron(CronTrigger):  # type: ignore[misc]
    """A cron line that fires once at a wall-clock time the fall-back hour repeats.

    NOTE: apscheduler 3.11's CronTrigger fires at both occurrences of an ambiguous
    local time (01:30 on the first Sunday of November in Los Angeles), so a daily
    sync would run twice that day (case B16 is its kind).
    """

    def get_next_fire_time(
        self, previous: datetime | None, now: datetime
    ) -> datetime | None:
        fire: datetime | None = super().get_next_fire_time(previous, now)
        if fire is None or previous is None or self._wall(fire) > self._wall(previous):
            return fire
        # The clock fell back: go on from the last time it reads ``previous``.
        last = self._wall(previous).replace(tzinfo=self.timezone, fold=1)
        after = last.astimezone(UTC) + timedelta(seconds=1)
        return super().get_next_fire_time(None, after)  # type: ignore[no-any-return]

    def _wall(self, moment: datetime) -> datetime:
        return moment.astimezone(self.timezone).replace(tzinfo=None)


CRON_DAYS = ("sun", "mon", "tue", "wed", "thu", "fri", "sat")


def cron_fields(line: str) -> dict[str, str]:
    """A crontab line as apscheduler's fields.

    apscheduler counts weekdays from Monday = 0, crontab from Sunday = 0 (and 7):
    handing it "1-5" would sync Tuesday to Saturday. The weekday field is spelled
    out as day names, which both read the same way.
    """
    minute, hour, day, month, weekday = line.split()
    return {
        "minute": minute,
        "hour": hour,
        "day": day,
        "month": month,
        "day_of_week": _weekday_names(weekday),
    }


def _weekday_names(field: str) -> str:
    if field == "*":
        return "*"
    days: set[int] = set()
    for part in field.split(","):
        span, _, step = part.partition("/")
        if span == "*":
            low, high = 0, 6
        elif "-" in span:
            first, last = span.split("-", 1)
            low, high = _weekday(first), _weekday(last)
        else:
            low = _weekday(span)
            high = 7 if step else low
        if high < low:
            raise ValueError(f"the weekday range {span!r} runs backwards")
        days.update(d % 7 for d in range(low, high + 1, int(step or 1)))
    return ",".join(CRON_DAYS[d] for d in sorted(days))


def _weekday(token: str) -> int:
    """0-7 (0 and 7 are Sunday) or a day name's first three letters."""
    token = token.strip().lower()
    if token.isdigit() and int(token) <= 7:
        return int(token)
    if token[:3] in CRON_DAYS:
        return CRON_DAYS.index(token[:3])
    raise ValueError(
        f"{token!r} is not a weekday: use 0-7 (0 and 7 are Sunday) or sun-sat"
    )


@dataclass(frozen=True)
class SourceSchedule:
    """When one source syncs: every ``period`` seconds, or on a cron line."""

    source: str
    period: float | None = None
    cron: str | None = None
    timezone: str = "UTC"

    def trigger(self) -> BaseTrigger:
        if self.cron is not None:
            return WallClockCron(
                **cron_fields(self.cron), timezone=ZoneInfo(self.timezone)
            )
        assert self.period is not None
        return IntervalTrigger(seconds=self.period, start_date=ANCHOR, timezone=UTC)

    def shortest_gap(self) -> float:
        """Seconds between runs; for a cron line the shortest of the next few."""
        if self.period is not None:
            return self.period
        trigger, now = self.trigger(), datetime.now(UTC)
        times = [trigger.get_next_fire_time(None, now)]
        for _ in range(7):
            times.append(trigger.get_next_fire_time(times[-1], times[-1]))
        gaps = [(b - a).total_seconds() for a, b in pairwise(times) if a and b]
        return float(min(gaps))


def read_schedule(config: Config) -> list[SourceSchedule]:
    """The config's ``sync:`` section, checked; every problem is reported at once."""
    raw = config.extra.get(SECTION)
    if raw is None:
        return []
    where = f"{config.path}: {SECTION}"
    if not isinstance(raw, Mapping):
        raise ConfigError(f"{where}: expected keys every, timezone and sources")
    problems = [
        f"  - {SECTION}: unknown key {key!r}; the section takes every, timezone "
        "and sources"
        for key in sorted(set(raw) - {"every", "timezone", "sources"})
    ]
    zone = _zone(raw.get("timezone", "UTC"), problems)
    default = _when(raw.get("every"), f"{SECTION}.every", zone, problems)
    per_source = raw.get("sources") or {}
    if not isinstance(per_source, Mapping):
        problems.append(f"  - {SECTION}.sources: expected `name: interval` pairs")
        per_source = {}
    names = [s.name for s in config.sources]
    plans = []
    for name in per_source:
        if name not in names:
            problems.append(
                f"  - {SECTION}.sources.{name}: no source has this name; sources: "
                f"{', '.join(names) or 'none'}"
            )
    for name in names:
        if name in per_source:
            when = _when(per_source[name], f"{SECTION}.sources.{name}", zone, problems)
        else:
            when = default
        if when is not None:
            plans.append(SourceSchedule(name, **when))
    if problems:
        raise ConfigError(
            f"{config.path}: the sync schedule has problems:\n" + "\n".join(problems)
        )
    return plans


def parse_interval(value: str) -> float:
    """``15m``, ``1h``, ``1h30m``, ``1d``, ``30s`` → seconds; ValueError otherwise."""
    spoken = value.strip().lower()
    if not INTERVAL.fullmatch(spoken):
        raise ValueError(
            f"{value!r} is neither an interval nor a cron line: write a number and "
            'a unit (30s, 15m, 1h, 1h30m, 1d) or a cron line such as "0 6 * * *"'
        )
    seconds = sum(
        int(n) * UNITS[unit] for n, unit in re.findall(r"(\d+)\s*([dhms])", spoken)
    )
    if seconds <= 0:
        raise ValueError(f"{value!r} is no time at all: give an interval above zero")
    return float(seconds)


def _when(
    value: Any, where: str, zone: str, problems: list[str]
) -> dict[str, Any] | None:
    """An entry's schedule as SourceSchedule fields; None for none (or ``off``)."""
    if value is None or value is False or str(value).strip().lower() in OFF:
        return None
    if isinstance(value, bool | int | float):
        problems.append(
            f"  - {where}: {value!r} has no unit; write e.g. {value}s or {value}m"
        )
        return None
    spoken = str(value).strip()
    if len(spoken.split()) == 5:
        try:
            CronTrigger(**cron_fields(spoken), timezone=ZoneInfo(zone))
        except ValueError as error:
            problems.append(f"  - {where}: the cron line {spoken!r} is wrong: {error}")
            return None
        return {"cron": spoken, "timezone": zone}
    try:
        return {"period": parse_interval(spoken)}
    except ValueError as error:
        problems.append(f"  - {where}: {error}")
        return None


def _zone(value: Any, problems: list[str]) -> str:
    try:
        ZoneInfo(str(value))
    except (ZoneInfoNotFoundError, ValueError):
        problems.append(
            f"  - {SECTION}.timezone: {value!r} is not a time zone; use an IANA name "
            "such as UTC or Europe/Berlin"
        )
        return "UTC"
    return str(value)


def build_scheduler(
    config: Config,
    plans: list[SourceSchedule],
    *,
    dialect: str,
    now: str | None = None,
    jobstore: BaseJobStore | None = None,
) -> BackgroundScheduler:
    """A scheduler (not started) with one job per scheduled source.

    ``now`` is the fixed "now" of ``--as-of``, passed on to each sync's clock.
    """
    workers = POSTGRES_WORKERS if dialect == "postgresql" else SQLITE_WORKERS
    scheduler = BackgroundScheduler(
        timezone=UTC,
        executors={"default": ThreadPoolExecutor(max_workers=workers)},
        jobstores={"default": jobstore} if jobstore is not None else {},
    )
    for plan in plans:
        gap = plan.shortest_gap()
        scheduler.add_job(
            JOB,
            plan.trigger(),
            id=f"sync:{plan.source}",
            name=f"sync {plan.source}",
            kwargs={
                "config_path": str(config.path),
                "source": plan.source,
                "data_root": str(config.data_root),
                "now": now,
                "min_gap": gap / 2,
            },
            # Late by less than a period: still run, once. Later than that, the
            # next run is due anyway.
            misfire_grace_time=max(1, int(gap)),
            coalesce=True,
            max_instances=1,
            replace_existing=True,
        )
    scheduler.add_listener(
        _log_trouble, EVENT_JOB_MISSED | EVENT_JOB_MAX_INSTANCES | EVENT_JOB_ERROR
    )
    return scheduler


def start_schedule(
    config: Config | None, engine: Engine, clock: Clock
) -> BackgroundScheduler | None:
    """Start the config's schedule; None when the config schedules nothing."""
    plans = read_schedule(config) if config is not None else []
    if config is None or not plans:
        logger.info("no scheduled syncs: the config has no sync section")
        return None
    fixed = clock.fixed.isoformat() if clock.fixed is not None else None
    scheduler = build_scheduler(config, plans, dialect=engine.dialect.name, now=fixed)
    scheduler.start()
    for job in scheduler.get_jobs():
        logger.info(
            "scheduled %s: %s, next at %s", job.name, job.trigger, job.next_run_time
        )
    return scheduler


def stop_schedule(scheduler: BackgroundScheduler | None) -> None:
    """Take no new runs and let a running sync finish, so its state is recorded."""
    if scheduler is None or not scheduler.running:
        return
    logger.info("stopping the sync schedule; waiting for running syncs")
    scheduler.shutdown(wait=True)
    logger.info("sync schedule stopped")


def run_sync(
    config_path: str,
    source: str,
    data_root: str | None = None,
    now: str | None = None,
    min_gap: float = 0.0,
) -> str:
    """The scheduled job: sync one source unless another replica has it in hand.

    Returns what happened (SYNCED, FAILED, BUSY, RECENT or NOT_RUN). A failed sync
    is logged with the source's error and recorded as ``foresight sync`` records
    it; the schedule goes on either way.
    """
    try:
        config = load_config(config_path, data_root=data_root)
        engine = make_engine(Settings().database_url)
    except (ConfigError, ValueError) as error:
        logger.error("scheduled sync of %s not run: %s", source, error)
        return NOT_RUN
    try:
        check_schema(engine)
        return _sync_alone(engine, config, source, Clock.parse(now), min_gap)
    except SchemaError as error:
        logger.error("scheduled sync of %s not run: %s", source, error)
        return NOT_RUN
    finally:
        engine.dispose()


def _sync_alone(
    engine: Engine, config: Config, source: str, clock: Clock, min_gap: float
) -> str:
    with source_lock(engine, source) as held:
        if not held:
            logger.info("scheduled sync of %s skipped: another replica has it", source)
            return BUSY
        last = last_started(engine, source)
        if last is not None and datetime.now(UTC) - last < timedelta(seconds=min_gap):
            logger.info(
                "scheduled sync of %s skipped: it already ran at %s",
                source,
                last.isoformat(timespec="seconds"),
            )
            return RECENT
        started = time.monotonic()
        quiet = Console(file=io.StringIO())  # the sync logs its own counts
        [result] = sync(engine, config, clock, only=[source], console=quiet)
    if result.error is not None:
        logger.error("scheduled sync of %s failed: %s", source, result.error)
        return FAILED
    logger.info(
        "scheduled sync of %s done in %.0f ms: %d changed",
        source,
        (time.monotonic() - started) * 1000,
        result.changed(),
    )
    return SYNCED


def last_started(engine: Engine, source: str) -> datetime | None:
    """When the newest recorded sync of ``source`` started, on any replica."""
    with engine.connect() as connection:
        return connection.scalar(
            select(SyncRun.started_at)
            .where(SyncRun.source == source)
            .order_by(SyncRun.id.desc())
            .limit(1)
        )


def lock_key(source: str) -> int:
    """A stable signed 64-bit key for ``source``: what pg advisory locks take."""
    digest = hashlib.blake2b(f"foresight sync {source}".encode(), digest_size=8)
    return int.from_bytes(digest.digest(), "big", signed=True)


@contextmanager
def source_lock(engine: Engine, source: str) -> Iterator[bool]:
    """Try to take ``source``'s sync lock; yields whether it was taken. Never waits."""
    if engine.dialect.name == "postgresql":
        with _advisory_lock(engine, lock_key(source)) as held:
            yield held
    else:
        with _file_lock(_lock_path(engine, source)) as held:
            yield held


@contextmanager
def _advisory_lock(engine: Engine, key: int) -> Iterator[bool]:
    """A session lock on its own connection, committed at once so the connection
    is not left idle in a transaction for the length of the sync."""
    with engine.connect() as connection:
        held = bool(
            connection.scalar(text("SELECT pg_try_advisory_lock(:key)"), {"key": key})
        )
        connection.commit()
        try:
            yield held
        finally:
            if held:
                _unlock(connection, key)


def _unlock(connection: Any, key: int) -> None:
    try:
        connection.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": key})
        connection.commit()
    except DBAPIError as error:
        # A pooled connection must not keep the lock: closing it frees the lock.
        logger.warning("could not release sync lock %d (%s); closing", key, error)
        connection.invalidate()


_local_locks: dict[str, threading.Lock] = {}
_local_guard = threading.Lock()


@contextmanager
def _file_lock(path: Path | None) -> Iterator[bool]:
    """``flock`` conflicts between separate opens, in this process or another."""
    if path is None:  # an in-memory database lives in one process only
        with _local_guard:
            lock = _local_locks.setdefault("memory", threading.Lock())
        held = lock.acquire(blocking=False)
        try:
            yield held
        finally:
            if held:
                lock.release()
        return
    handle = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
            held = True
        except BlockingIOError:
            held = False
        yield held
    finally:
        os.close(handle)  # closing releases the lock


def _lock_path(engine: Engine, source: str) -> Path | None:
    database = engine.url.database
    if not database or database == ":memory:":
        return None
    store = Path(database).expanduser().resolve()
    return store.with_name(
        f"{store.name}.sync-{lock_key(source) & 0xFFFFFFFF:08x}.lock"
    )


def _log_trouble(event: JobEvent) -> None:
    """A run that was missed or crashed is logged, never dropped without a word."""
    if event.code == EVENT_JOB_MISSED:
        logger.warning(
            "scheduled %s missed its run at %s (later than its grace time)",
            event.job_id,
            getattr(event, "scheduled_run_time", None),
        )
    elif event.code == EVENT_JOB_MAX_INSTANCES:
        logger.warning(
            "scheduled %s skipped: its previous run is still going", event.job_id
        )
    else:
        logger.error(
            "scheduled %s crashed: %s",
            event.job_id,
            getattr(event, "exception", None),
            exc_info=getattr(event, "exception", None),
        )

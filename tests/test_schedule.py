"""Scheduled syncs: the config section, each job's settings, real runs into the
store, and the lock that keeps two replicas from syncing a source twice."""

from __future__ import annotations

import logging
import os
import pickle
import queue
import signal
import socket
import subprocess
import sys
import textwrap
import time
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from apscheduler.events import (  # type: ignore[import-untyped]
    EVENT_JOB_ERROR,
    EVENT_JOB_EXECUTED,
    JobExecutionEvent,
)
from apscheduler.schedulers.background import (  # type: ignore[import-untyped]
    BackgroundScheduler,
)
from sqlalchemy import Engine, func, select

from bot.local_slack import LocalSlack
from bot.schedule import (
    BUSY,
    FAILED,
    RECENT,
    SYNCED,
    SourceSchedule,
    build_scheduler,
    parse_interval,
    read_schedule,
    run_sync,
    source_lock,
)
from context.models import Account, SyncRun
from integrations.config import DATA_ROOT_ENV, Config, load_config
from integrations.errors import ConfigError

ROOT = Path(__file__).resolve().parents[1]
SOURCES = """
    sources:
      - name: crm
        kind: files
        files:
          - path: accounts.csv
            kind: account
            id: account
            fields: {name: account}
      - name: billing
        kind: files
        files:
          - path: missing/invoices.csv
            kind: account
            id: id
            fields: {name: name}
      - name: demo
        kind: synthetic
        accounts: 3
"""
SCHEDULE = """
    sync:
      every: 15m
      timezone: America/Los_Angeles
      sources: {billing: "0 6 * * *", demo: off}
"""


@pytest.fixture(autouse=True)
def store_from_settings(monkeypatch: pytest.MonkeyPatch, database_url: str) -> None:
    """Jobs open the store named by DATABASE_URL, as in serve."""
    monkeypatch.setenv("DATABASE_URL", database_url)
    monkeypatch.delenv(DATA_ROOT_ENV, raising=False)


def write_config(folder: Path, schedule: str = SCHEDULE) -> Path:
    (folder / "accounts.csv").write_text("account\nAcme\nGlobex\n")
    path = folder / "foresight.yml"
    path.write_text(textwrap.dedent(SOURCES) + textwrap.dedent(schedule))
    return path


@pytest.fixture
def config(tmp_path: Path) -> Config:
    return load_config(write_config(tmp_path))


class Runs:
    """What the scheduler's jobs returned, as they finish."""

    def __init__(self, *schedulers: BackgroundScheduler) -> None:
        self.events: queue.Queue[JobExecutionEvent] = queue.Queue()
        for scheduler in schedulers:
            scheduler.add_listener(
                self.events.put, EVENT_JOB_EXECUTED | EVENT_JOB_ERROR
            )

    def wait(self, n: int, timeout: float = 20) -> list[str]:
        deadline = time.monotonic() + timeout
        found = []
        for _ in range(n):
            event = self.events.get(timeout=max(0.1, deadline - time.monotonic()))
            assert event.exception is None, event.traceback
            found.append(event.retval)
        return found


@pytest.fixture
def scheduler(config: Config, engine: Engine) -> Iterator[BackgroundScheduler]:
    plans = read_schedule(config)
    built = build_scheduler(config, plans, dialect=engine.dialect.name)
    built.start(paused=True)
    yield built
    built.shutdown(wait=True)


def run_now(scheduler: BackgroundScheduler, source: str, late: float = 0) -> None:
    moment = datetime.now(UTC) - timedelta(seconds=late)
    scheduler.modify_job(f"sync:{source}", next_run_time=moment)
    scheduler.resume()


def sync_runs(engine: Engine, source: str) -> int:
    with engine.connect() as connection:
        return int(
            connection.scalar(
                select(func.count())
                .select_from(SyncRun)
                .where(SyncRun.source == source)
            )
            or 0
        )


# -- the config section -----------------------------------------------------------


def test_every_source_gets_the_default_or_its_own(config: Config) -> None:
    assert read_schedule(config) == [
        SourceSchedule("crm", period=900.0),
        SourceSchedule("billing", cron="0 6 * * *", timezone="America/Los_Angeles"),
    ]


def test_no_section_schedules_nothing(tmp_path: Path) -> None:
    assert read_schedule(load_config(write_config(tmp_path, schedule=""))) == []


@pytest.mark.parametrize(
    ("text", "seconds"),
    [("30s", 30), ("15m", 900), ("1h", 3600), ("1h30m", 5400), ("1d", 86400)],
)
def test_intervals_read_as_seconds(text: str, seconds: int) -> None:
    assert parse_interval(text) == seconds


@pytest.mark.parametrize(
    ("section", "expected"),
    [
        (
            "every: 15x",
            "  - sync.every: '15x' is neither an interval nor a cron line: write a "
            'number and a unit (30s, 15m, 1h, 1h30m, 1d) or a cron line such as "0 6 '
            '* * *"',
        ),
        ("every: 900", "  - sync.every: 900 has no unit; write e.g. 900s or 900m"),
        ("every: 0m", "  - sync.every: '0m' is no time at all"),
        (
            "sources: {stripe: 1h}",
            "  - sync.sources.stripe: no source has this name; sources: crm, billing, "
            "demo",
        ),
        ("sources: {crm: '61 * * * *'}", "  - sync.sources.crm: the cron line"),
        (
            "sources: {crm: '0 6 * * 8'}",
            "  - sync.sources.crm: the cron line '0 6 * * 8' is wrong: '8' is not a "
            "weekday: use 0-7 (0 and 7 are Sunday) or sun-sat",
        ),
        ("timezone: Mars/Olympus", "  - sync.timezone: 'Mars/Olympus' is not a time"),
        ("evry: 15m", "  - sync: unknown key 'evry'; the section takes every, "),
    ],
)
def test_bad_schedules_say_what_and_where(
    tmp_path: Path, section: str, expected: str
) -> None:
    path = write_config(tmp_path, schedule=f"sync:\n  {section}\n")
    with pytest.raises(ConfigError) as raised:
        read_schedule(load_config(path))
    assert str(raised.value).startswith(
        f"{path}: the sync schedule has problems:\n{expected}"
    )


def test_every_problem_is_reported_at_once(tmp_path: Path) -> None:
    path = write_config(tmp_path, "sync:\n  every: 15x\n  sources: {crm: soon}\n")
    with pytest.raises(ConfigError) as raised:
        read_schedule(load_config(path))
    assert str(raised.value).count("\n  - ") == 2


# -- each job's settings (B15, B18) -----------------------------------------------


def test_jobs_carry_their_own_grace_and_coalesce(
    scheduler: BackgroundScheduler,
) -> None:
    jobs = {job.id: job for job in scheduler.get_jobs()}
    assert sorted(jobs) == ["sync:billing", "sync:crm"]
    crm, billing = jobs["sync:crm"], jobs["sync:billing"]
    assert (crm.misfire_grace_time, crm.coalesce, crm.max_instances) == (900, True, 1)
    assert (billing.misfire_grace_time, billing.coalesce) == (86400, True)
    assert crm.kwargs["min_gap"] == 450.0


def test_jobs_name_a_function_with_small_arguments(
    scheduler: BackgroundScheduler, config: Config
) -> None:
    [job] = [j for j in scheduler.get_jobs() if j.id == "sync:crm"]
    assert job.func_ref == "bot.schedule:run_sync"
    assert job.kwargs == {
        "config_path": str(config.path),
        "source": "crm",
        "data_root": str(config.data_root),
        "now": None,
        "min_gap": 450.0,
    }
    assert len(pickle.dumps(job.__getstate__())) < 2000  # as a SQL job store keeps it


def test_interval_runs_fall_on_the_same_instants_everywhere(
    scheduler: BackgroundScheduler,
) -> None:
    crm = scheduler.get_job("sync:crm")
    assert crm.next_run_time.minute % 15 == 0
    assert (crm.next_run_time.second, crm.next_run_time.microsecond) == (0, 0)


@pytest.mark.parametrize("zone", ["America/Los_Angeles", "Europe/Berlin", "UTC"])
@pytest.mark.parametrize("line", ["0 6 * * *", "30 2 * * *", "30 1 * * *"])
def test_daily_cron_fires_once_every_day_across_dst(zone: str, line: str) -> None:
    trigger = SourceSchedule("x", cron=line, timezone=zone).trigger()
    local = ZoneInfo(zone)
    for start in (date(2025, 3, 5), date(2025, 10, 22)):  # both changes, US and EU
        moment = datetime(start.year, start.month, start.day, tzinfo=local)
        fired, previous = [], None
        for _ in range(20):
            fire = trigger.get_next_fire_time(previous, moment)
            fired.append(fire.astimezone(local).date())
            previous = moment = fire.astimezone(UTC)  # as the scheduler keeps it
        assert fired == [start + timedelta(days=n) for n in range(20)]


# -- real runs --------------------------------------------------------------------


def test_job_syncs_the_source_into_the_store(
    scheduler: BackgroundScheduler, engine: Engine
) -> None:
    runs = Runs(scheduler)
    run_now(scheduler, "crm")
    assert runs.wait(1) == [SYNCED]
    with engine.connect() as connection:
        names = connection.scalars(select(Account.name).order_by(Account.name)).all()
    assert names == ["Acme", "Globex"]
    assert sync_runs(engine, "crm") == 1


def test_late_run_still_happens_once(
    scheduler: BackgroundScheduler, engine: Engine
) -> None:
    runs = Runs(scheduler)
    run_now(scheduler, "crm", late=40 * 60)  # three runs due, the newest 10 min late
    assert runs.wait(1) == [SYNCED]
    time.sleep(0.5)
    assert runs.events.empty()
    assert sync_runs(engine, "crm") == 1
    assert scheduler.get_job("sync:crm").next_run_time > datetime.now(UTC)


def test_failing_sync_is_logged_and_the_schedule_goes_on(
    scheduler: BackgroundScheduler, caplog: pytest.LogCaptureFixture
) -> None:
    runs = Runs(scheduler)
    with caplog.at_level(logging.ERROR, logger="bot.schedule"):
        run_now(scheduler, "billing")
        assert runs.wait(1) == [FAILED]
    assert caplog.messages == [
        "scheduled sync of billing failed: source 'billing' files[0] (account from "
        "missing/invoices.csv): there is no file 'missing/invoices.csv' under "
        f"{Path(scheduler.get_job('sync:billing').kwargs['data_root'])}; check the "
        "path, or point data_root (or FORESIGHT_DATA_ROOT) at the folder that holds it"
    ]
    nxt = scheduler.get_job("sync:billing").next_run_time
    assert (nxt > datetime.now(UTC), nxt.hour, nxt.minute) == (True, 6, 0)


# -- one replica at a time (B13) --------------------------------------------------


def test_a_held_lock_skips_the_sync(config: Config, engine: Engine) -> None:
    with source_lock(engine, "crm") as held:
        assert held
        with source_lock(engine, "crm") as again, source_lock(engine, "demo") as other:
            assert (again, other) == (False, True)
        outcome = run_sync(str(config.path), "crm", str(config.data_root))
    assert outcome == BUSY
    assert sync_runs(engine, "crm") == 0
    assert run_sync(str(config.path), "crm", str(config.data_root)) == SYNCED


def test_a_source_that_just_ran_is_not_run_again(
    config: Config, engine: Engine
) -> None:
    path, root = str(config.path), str(config.data_root)
    assert run_sync(path, "crm", root, min_gap=450) == SYNCED
    assert run_sync(path, "crm", root, min_gap=450) == RECENT
    assert run_sync(path, "crm", root, min_gap=0) == SYNCED
    assert sync_runs(engine, "crm") == 2


def test_two_schedulers_sync_a_source_once(config: Config, engine: Engine) -> None:
    plans = read_schedule(config)
    replicas = [
        build_scheduler(config, plans, dialect=engine.dialect.name) for _ in (1, 2)
    ]
    runs = Runs(*replicas)
    for replica in replicas:
        replica.start(paused=True)
    try:
        moment = datetime.now(UTC)
        for replica in replicas:
            replica.modify_job("sync:crm", next_run_time=moment)
        for replica in replicas:
            replica.resume()
        outcomes = sorted(runs.wait(2))
    finally:
        for replica in replicas:
            replica.shutdown(wait=True)
    assert outcomes[1] == SYNCED
    assert outcomes[0] in (BUSY, RECENT)
    assert sync_runs(engine, "crm") == 1


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def test_serve_syncs_on_schedule_and_stops_on_sigterm(
    tmp_path: Path, engine: Engine, database_url: str
) -> None:
    path = write_config(tmp_path, "sync:\n  sources: {demo: 1s}\n")
    with LocalSlack() as slack:
        env = {
            **os.environ,
            "DATABASE_URL": database_url,
            "SLACK_BOT_TOKEN": slack.bot_token,
            "SLACK_SIGNING_SECRET": "secret",
            "SLACK_API_URL": slack.api_url,
        }
        main = "import sys; from bot.cli import main; sys.exit(main())"
        command = [sys.executable, "-c", main, "--config", str(path), "serve"]
        server = subprocess.Popen(
            [*command, "--port", str(free_port())],
            cwd=ROOT,
            env=env,
            stderr=subprocess.PIPE,
            text=True,
        )
        try:
            deadline = time.monotonic() + 20
            while sync_runs(engine, "demo") == 0 and time.monotonic() < deadline:
                time.sleep(0.2)
            server.send_signal(signal.SIGTERM)
            _, log = server.communicate(timeout=20)
        finally:
            server.kill()
    assert sync_runs(engine, "demo") >= 1
    assert server.returncode == 0
    assert "scheduled sync of demo done" in log
    assert log.rstrip().endswith("sync schedule stopped")


def test_cron_skips_the_wall_clock_times_that_repeat() -> None:
    zone = ZoneInfo("America/Los_Angeles")
    trigger = SourceSchedule("x", cron="*/30 * * * *", timezone=zone.key).trigger()
    fire = trigger.get_next_fire_time(None, datetime(2025, 11, 2, tzinfo=zone))
    walls = []
    while fire.astimezone(zone).date() == date(2025, 11, 2):
        walls.append(fire.astimezone(zone).replace(tzinfo=None))
        fire = trigger.get_next_fire_time(fire, fire)
    assert walls == sorted(set(walls))
    assert len(walls) == 48  # a 25-hour day, its repeated hour fired once


@pytest.mark.parametrize(
    ("line", "days"),
    [
        ("0 6 * * 1-5", ["Mon", "Tue", "Wed", "Thu", "Fri", "Mon"]),
        ("0 6 * * 0", ["Sun"] * 6),
        ("0 6 * * 7", ["Sun"] * 6),
        ("0 6 * * 5-7", ["Fri", "Sat", "Sun", "Fri", "Sat", "Sun"]),
        ("0 6 * * */2", ["Tue", "Thu", "Sat", "Sun", "Tue", "Thu"]),
        ("0 6 * * sat,SUN", ["Sat", "Sun", "Sat", "Sun", "Sat", "Sun"]),
    ],
)
def test_cron_weekdays_count_from_sunday_as_crontab_does(
    line: str, days: list[str]
) -> None:
    trigger = SourceSchedule("crm", cron=line).trigger()
    fired, moment = [], datetime(2025, 6, 1, 12, tzinfo=UTC)  # a Sunday, after 6:00
    for _ in range(6):
        moment = trigger.get_next_fire_time(None, moment)
        fired.append(moment.strftime("%a"))
        moment += timedelta(seconds=1)

    assert fired == days

"""The warehouse source end to end: admin SQL run on a real SQLite file and a real
PostgreSQL database (``warehouse_whsrc``, when PostgreSQL answers on 127.0.0.1),
filled here with NUMERIC, DATE and TIMESTAMP WITH TIME ZONE columns, and loaded
through ``sync`` into the store; plus the value conversions for Snowflake and
BigQuery result types (CASES B38) and the timeouts (B31)."""

from __future__ import annotations

import io
import json
import logging
import os
import textwrap
import time
from collections.abc import Generator, Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal
from pathlib import Path
from typing import cast
from zoneinfo import ZoneInfo

import pytest
import yaml
from rich.console import Console
from sqlalchemy import Engine, create_engine, make_url, select, text
from sqlalchemy.exc import OperationalError

from context.clock import Clock
from context.models import Account, Activity, Invoice, Subscription, UsageRecord
from context.records import Record, Rejection
from context.source_state import read_cursor
from integrations.config import Config, load_config
from integrations.errors import ConfigError
from integrations.files.values import BadValue
from integrations.source import SyncState
from integrations.sync import SourceResult, sync
from integrations.warehouse import values
from integrations.warehouse.connection import describe
from integrations.warehouse.source import read_warehouse

PASSWORD = "s3cret-Pa55"  # PostgreSQL trusts 127.0.0.1, so any password works
PG_SERVER = "postgresql+psycopg://postgres@127.0.0.1:5432"
# One warehouse database per test run, so that two runs never share its tables.
PG_DATABASE = f"warehouse_test_{os.getpid()}"
UTC_ZONE = ZoneInfo("UTC")
NAME = 'Zürich "Quote" O\'Brien 100%_x\\y'  # quotes, %, _, backslash, non-ASCII

ACCOUNTS_CSV = f"""\
id,name,domain
A-1,"{NAME.replace('"', '""')}",zurich.example
A-2,Acme,acme.example
"""

TABLES = """
CREATE TABLE daily_usage (account_id TEXT, day DATE, metric TEXT, value NUMERIC(38, 9));
CREATE TABLE subs (
    sub_id TEXT, account_id TEXT, plan TEXT, seats NUMERIC(10, 2),
    mrr NUMERIC(38, 9), auto_renew BOOLEAN, started_on DATE);
CREATE TABLE invoices (
    invoice_id TEXT, account_id TEXT, sub_id TEXT, status TEXT,
    amount_due NUMERIC(38, 9), paid_at TIMESTAMP WITH TIME ZONE, issued_on DATE);
CREATE TABLE calls (call_id TEXT, account_id TEXT, subject TEXT, at TIMESTAMP);
CREATE TABLE wh_accounts (
    id TEXT, "Account Name" TEXT, employees NUMERIC(10, 0), arr NUMERIC(38, 9),
    signed_on DATE, churn_score NUMERIC(12, 9));
"""
ESCAPED = NAME.replace("'", "''")
ROWS = f"""
INSERT INTO daily_usage VALUES ('A-1', '2024-11-01', 'seats', 12.5);
INSERT INTO daily_usage VALUES ('A-1', '2024-11-02', '{ESCAPED}', 0.123456789);
INSERT INTO daily_usage VALUES ('A-2', '2024-11-02', 'seats', NULL);
INSERT INTO daily_usage VALUES ('A-404', '2024-11-02', 'seats', 1);
INSERT INTO subs VALUES ('S-1', 'A-1', 'Pro', 18, 1200.005, TRUE, '2024-01-01');
INSERT INTO subs VALUES ('S-2', 'A-2', 'Basic', 2.5, 10, FALSE, NULL);
INSERT INTO invoices VALUES ('I-1', 'A-1', 'S-1', 'paid', 1234.565,
    '2024-11-03 10:00:00-05:00', '2024-11-01');
INSERT INTO invoices VALUES ('I-2', 'A-2', NULL, 'open', NULL, NULL, NULL);
INSERT INTO calls VALUES ('C-1', 'A-1', 'Renewal: ''Q4'' 100%', '2024-11-03 09:00:00');
INSERT INTO wh_accounts VALUES ('W-1', '{ESCAPED}', 250, 1200.5, '2024-01-15',
    0.123456789);
"""

CONFIG = """
sources:
  - name: crm
    kind: files
    files:
      - path: accounts.csv
        kind: account
        id: id
        fields: {name: name, domain: domain}
  - name: dwh
    label: Warehouse
    kind: warehouse
    statement_timeout: 10
    queries:
      - kind: usage
        sql: "SELECT account_id, day, metric, value FROM daily_usage
          WHERE day >= :since AND metric LIKE '%' ORDER BY day, account_id"
        id: [account_id, day, metric]
        account: {source: crm, column: account_id}
        cursor: day
      - kind: subscription
        sql: SELECT sub_id, account_id, plan, seats, mrr, auto_renew, started_on
          FROM subs ORDER BY sub_id
        id: sub_id
        account: {source: crm, column: account_id}
      - kind: invoice
        sql: SELECT * FROM invoices ORDER BY invoice_id
        id: invoice_id
        account: {source: crm, column: account_id}
        subscription: {column: sub_id}
      - kind: activity
        name: calls
        sql: SELECT call_id, account_id, 'call' AS kind, subject, at FROM calls
        id: call_id
        fields: {at: occurred_at}
        account: {source: crm, column: account_id}
        timezone: America/New_York
      - kind: account
        name: accounts
        sql: SELECT * FROM wh_accounts
        id: id
        fields: {Account Name: name}
        extra: [arr, signed_on, churn_score]
"""


@dataclass
class Warehouse:
    """A warehouse database the test fills; ``url`` is what the admin would set."""

    backend: str
    url: str
    engine: Engine

    def run(self, script: str) -> None:
        with self.engine.begin() as connection:
            for statement in script.split(";"):
                if statement.strip():
                    connection.execute(text(statement))


@pytest.fixture(scope="session")
def postgres_warehouse() -> Iterator[str | None]:
    """This run's warehouse database, dropped at the end; None without PostgreSQL."""
    server = create_engine(f"{PG_SERVER}/template1", isolation_level="AUTOCOMMIT")
    try:
        with server.connect() as connection:
            connection.exec_driver_sql(f"CREATE DATABASE {PG_DATABASE}")
    except OperationalError:
        server.dispose()
        yield None
        return
    yield f"{PG_SERVER}/{PG_DATABASE}"
    with server.connect() as connection:
        connection.exec_driver_sql(
            f"DROP DATABASE IF EXISTS {PG_DATABASE} WITH (FORCE)"
        )
    server.dispose()


@pytest.fixture(params=["sqlite", "postgresql"])
def warehouse(
    request: pytest.FixtureRequest, tmp_path: Path, postgres_warehouse: str | None
) -> Iterator[Warehouse]:
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'warehouse.db'}"
        engine = create_engine(url)
    else:
        if postgres_warehouse is None:
            pytest.skip("PostgreSQL is not reachable on 127.0.0.1:5432")
        engine = create_engine(postgres_warehouse)
        with engine.begin() as connection:
            connection.exec_driver_sql("DROP SCHEMA IF EXISTS public CASCADE")
            connection.exec_driver_sql("CREATE SCHEMA public")
        url = f"postgresql+psycopg://postgres:{PASSWORD}@127.0.0.1:5432/{PG_DATABASE}"
    place = Warehouse(request.param, url, engine)
    place.run(TABLES + ROWS)
    yield place
    engine.dispose()


def write_config(
    folder: Path, monkeypatch: pytest.MonkeyPatch, url: str, extra: str = ""
) -> Config:
    monkeypatch.setenv("WAREHOUSE_URL", url)
    (folder / "accounts.csv").write_text(ACCOUNTS_CSV, encoding="utf-8")
    path = folder / "foresight.yml"
    path.write_text(CONFIG + textwrap.indent(textwrap.dedent(extra), "      "))
    return load_config(path)


def run(engine: Engine, config: Config) -> tuple[dict[str, SourceResult], str]:
    out = io.StringIO()
    results = sync(engine, config, Clock(), console=Console(file=out, width=300))
    return {result.name: result for result in results}, out.getvalue()


def counts(result: SourceResult) -> dict[str, dict[str, int]]:
    return {kind: dict(+c) for kind, c in result.counts.items()}


def usage_rows(engine: Engine) -> list[tuple[str, date, str, float]]:
    with engine.connect() as connection:
        rows = connection.execute(
            select(Account.source_id, UsageRecord.day, UsageRecord.metric)
            .add_columns(UsageRecord.value)
            .join(Account, Account.id == UsageRecord.account_id)
            .order_by(UsageRecord.day, UsageRecord.metric)
        )
        return [tuple(row) for row in rows]  # type: ignore[misc]


# -- values (CASES B38) ------------------------------------------------------------

SNOWFLAKE_NUMBER = Decimal("12345678901234567890.123456789")  # NUMBER(38, 9)
BIGQUERY_INT64 = 2**63 - 1
PACIFIC = timezone(timedelta(hours=-8))


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        (SNOWFLAKE_NUMBER, "12345678901234567890.123457"),
        (Decimal("0.123456789"), 0.123457),
        (Decimal("1200.500000000"), 1200.5),
        (Decimal("42.000"), 42),
        (Decimal("1E+30"), 10**30),
        (Decimal("NaN"), None),
        (BIGQUERY_INT64, BIGQUERY_INT64),
        (float("inf"), None),
        (0.1234567891, 0.123457),
        (date(2024, 11, 2), "2024-11-02"),
        (datetime(2024, 11, 2, 9, 30, tzinfo=PACIFIC), "2024-11-02T17:30:00+00:00"),
        (datetime(2024, 11, 2, 9, 30, tzinfo=UTC), "2024-11-02T09:30:00+00:00"),
        (datetime(2024, 11, 2, 9, 30), "2024-11-02T09:30:00+00:00"),
        (True, True),
        (None, None),
        (
            {"arr": Decimal("1.5"), "on": [date(2024, 1, 1)]},
            {"arr": 1.5, "on": ["2024-01-01"]},
        ),
    ],
)
def test_json_value_is_json_safe_and_rounded(given: object, expected: object) -> None:
    converted = values.json_value(given)

    assert converted == expected
    assert type(converted) is type(expected)
    json.dumps(converted, allow_nan=False)


def test_naive_times_are_read_in_the_configured_zone() -> None:
    berlin = ZoneInfo("Europe/Berlin")
    naive = datetime(2024, 7, 1, 12, 0)

    assert values.datetime_value(naive, berlin) == datetime(2024, 7, 1, 10, tzinfo=UTC)
    assert values.json_value(naive, berlin) == "2024-07-01T10:00:00+00:00"
    assert values.date_value(datetime(2024, 7, 1, 23, 30, tzinfo=UTC), berlin) == date(
        2024, 7, 2
    )


@pytest.mark.parametrize(
    ("reader", "given", "expected"),
    [
        ("money", SNOWFLAKE_NUMBER / 10**8, Decimal("123456789012.35")),
        ("money", Decimal("1234.565"), Decimal("1234.57")),
        ("money", "1,100.04", Decimal("1100.04")),
        ("money", 10, Decimal("10.00")),
        ("money", None, None),
        ("number", Decimal("0.123456789"), 0.123456789),
        ("number", "12.5", 12.5),
        ("int", Decimal("18"), 18),
        ("int", "18", 18),
        ("int", 18.0, 18),
        ("bool", 1, True),
        ("bool", 0, False),
        ("bool", Decimal("1"), True),
        ("bool", "t", True),
        ("bool", "f", False),
        ("bool", None, None),
        ("date", date(2024, 11, 2), date(2024, 11, 2)),
        ("date", "2024-11-02", date(2024, 11, 2)),
        (
            "datetime",
            datetime(2024, 11, 2, 9, tzinfo=PACIFIC),
            datetime(2024, 11, 2, 17, tzinfo=UTC),
        ),
        (
            "datetime",
            "2024-11-02T09:00:00-08:00",
            datetime(2024, 11, 2, 17, tzinfo=UTC),
        ),
        ("text", BIGQUERY_INT64, str(BIGQUERY_INT64)),
        ("text", Decimal("12.50"), "12.5"),
        ("text", "  ", None),
        ("list", '["a@x.io", "b@y.io"]', ["a@x.io", "b@y.io"]),
        ("list", "a@x.io; b@y.io", ["a@x.io", "b@y.io"]),
    ],
)
def test_readers_keep_store_types(reader: str, given: object, expected: object) -> None:
    converted = values.READERS[reader](given, UTC_ZONE)

    assert converted == expected
    assert type(converted) is type(expected)


@pytest.mark.parametrize(
    ("reader", "given"),
    [("int", Decimal("2.5")), ("money", "lots"), ("bool", "maybe"), ("date", "soon")],
)
def test_unreadable_values_say_why(reader: str, given: object) -> None:
    with pytest.raises(BadValue):
        values.READERS[reader](given, UTC_ZONE)


# -- end to end --------------------------------------------------------------------


def test_first_sync_stores_exact_values(
    engine: Engine,
    warehouse: Warehouse,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    config = write_config(tmp_path, monkeypatch, warehouse.url)

    results, out = run(engine, config)

    dwh = results["dwh"]
    assert results["crm"].error is None and dwh.error is None, dwh.error
    assert counts(dwh) == {
        "account": {"new": 1},
        "subscription": {"new": 1, "rejected": 1},
        "invoice": {"new": 2},
        "usage": {"new": 2, "rejected": 2},
        "activity": {"new": 1},
    }
    assert usage_rows(engine) == [
        ("A-1", date(2024, 11, 1), "seats", 12.5),
        ("A-1", date(2024, 11, 2), NAME, 0.123456789),
    ]
    reasons = sorted(str(r) for r in dwh.rejections)
    assert reasons[0].startswith("query 'subscription' row 2: seats: ")
    assert reasons[0].endswith("2.5 is not a whole number") or reasons[0].endswith(
        "Decimal('2.50') is not a whole number"
    )
    assert reasons[1:] == [
        "query 'usage' row 3: missing value",
        "query 'usage' row 4: account 'A-404' is not in source 'crm'; load it first "
        "or add it to the crosswalk",
    ]
    assert "query 'usage' row 4" in out
    with engine.connect() as connection:
        sub = connection.execute(select(Subscription)).one()
        invoices = connection.execute(select(Invoice).order_by(Invoice.source_id)).all()
        call = connection.execute(select(Activity)).one()
        account = connection.execute(
            select(Account).where(Account.source == "dwh")
        ).one()
    assert (sub.source_id, sub.plan, sub.seats, sub.mrr) == (
        "S-1",
        "Pro",
        18,
        Decimal("1200.01"),
    )
    assert (sub.auto_renew, sub.started_on) == (True, date(2024, 1, 1))
    paid = invoices[0]
    assert (paid.number, paid.status, paid.amount_due) == (
        None,
        "paid",
        Decimal("1234.57"),
    )
    assert paid.paid_at == datetime(2024, 11, 3, 15, tzinfo=UTC)
    assert paid.issued_on == date(2024, 11, 1)
    assert paid.subscription_id == sub.id
    assert (
        invoices[1].status,
        invoices[1].amount_due,
        invoices[1].subscription_id,
    ) == (
        "open",
        None,
        None,
    )
    assert (call.kind, call.subject) == ("call", "Renewal: 'Q4' 100%")
    assert call.occurred_at == datetime(2024, 11, 3, 14, tzinfo=UTC)  # New York, EST
    assert (account.name, account.employees) == (NAME, 250)
    assert account.extra == {
        "arr": 1200.5,
        "signed_on": "2024-01-15",
        "churn_score": 0.123457,
    }
    day = "2024-11-02"
    stored = {"date" if warehouse.backend == "postgresql" else "text": day}
    ((kind, value),) = stored.items()
    assert read_cursor(engine, "dwh") == {
        "queries": {"usage": {"type": kind, "value": value}}
    }


def test_second_sync_reads_only_newer_rows(
    engine: Engine,
    warehouse: Warehouse,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    config = write_config(tmp_path, monkeypatch, warehouse.url)
    run(engine, config)
    warehouse.run(
        """
        INSERT INTO daily_usage VALUES ('A-2', '2024-11-03', 'seats', 7);
        INSERT INTO daily_usage VALUES ('A-2', '2024-10-01', 'seats', 99);
        UPDATE daily_usage SET value = 13 WHERE day = '2024-11-01'
        """
    )

    results, _ = run(engine, config)

    usage = results["dwh"].counts["usage"]
    # 11-02 again (the cursor day: >= overlaps), 11-03 new; older days are not read.
    assert (usage["new"], usage["unchanged"], usage["rejected"]) == (1, 1, 2)
    assert usage["updated"] == 0
    assert usage_rows(engine)[0] == ("A-1", date(2024, 11, 1), "seats", 12.5)
    assert ("A-2", date(2024, 10, 1), "seats", 99.0) not in usage_rows(engine)
    assert read_cursor(engine, "dwh")["queries"]["usage"]["value"] == "2024-11-03"  # type: ignore[index]


def test_broken_query_fails_source_but_others_load(
    engine: Engine,
    warehouse: Warehouse,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    config = write_config(
        tmp_path,
        monkeypatch,
        warehouse.url,
        """
        - kind: usage
          name: gone
          sql: SELECT account_id, day, metric, value FROM no_such_table
          id: [account_id, day, metric]
          account: {source: crm, column: account_id}
        - kind: invoice
          name: renamed
          sql: SELECT invoice_id, account_id, status AS state FROM invoices
          id: invoice_id
          account: {source: crm, column: account_id}
        """,
    )

    results, out = run(engine, config)

    error = results["dwh"].error or ""
    assert "query 'gone' failed: " in error and "no_such_table" in error
    assert "check its SQL against the warehouse" in error
    assert (
        "query 'renamed' returns no column 'status'; it returns invoice_id, "
        "account_id, state" in error
    )
    assert results["crm"].error is None
    assert counts(results["dwh"])["usage"] == {"new": 2, "rejected": 2}
    assert read_cursor(engine, "dwh") is None  # the cursor stays until all queries run
    assert "dwh failed" in out
    everything = caplog.text + out + error
    assert PASSWORD not in everything
    if warehouse.backend == "postgresql":
        assert f"127.0.0.1:5432/{PG_DATABASE}" in caplog.text


@pytest.mark.parametrize(
    ("url", "package"),
    [
        (
            f"snowflake://me:{PASSWORD}@acct/db/schema?warehouse=wh",
            "snowflake-sqlalchemy",
        ),
        (
            f"bigquery://project/dataset?credentials_base64={PASSWORD}",
            "sqlalchemy-bigquery",
        ),
        (f"postgresql+psycopg2://me:{PASSWORD}@127.0.0.1/db", "psycopg2-binary"),
    ],
)
def test_missing_driver_names_the_package(
    engine: Engine,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
    url: str,
    package: str,
) -> None:
    config = write_config(tmp_path, monkeypatch, url)

    results, out = run(engine, config)

    error = results["dwh"].error or ""
    assert f"pip install {package}" in error
    assert results["crm"].error is None
    assert PASSWORD not in caplog.text + out + error


def test_unreachable_warehouse_is_retriable_and_quiet(
    engine: Engine,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    url = f"postgresql+psycopg://me:{PASSWORD}@127.0.0.1:9/db"
    config = write_config(tmp_path, monkeypatch, url)

    results, out = run(engine, config)

    error = results["dwh"].error or ""
    assert error.startswith(
        "cannot connect to the warehouse (postgresql+psycopg://127.0.0.1:9/db)"
    )
    assert PASSWORD not in caplog.text + out + error


def test_empty_url_variable_says_what_to_set(
    engine: Engine, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = write_config(tmp_path, monkeypatch, "")

    results, _ = run(engine, config)

    assert "the environment variable WAREHOUSE_URL is empty" in (
        results["dwh"].error or ""
    )


SLOW = {
    "sqlite": "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n "
    "WHERE i < 1000000000) SELECT 'A-1' AS account_id, '2024-01-01' AS day, "
    "'x' AS metric, count(*) AS value FROM n WHERE :since IS NOT NULL",
    "postgresql": "SELECT 'A-1' AS account_id, DATE '2024-01-01' AS day, 'x' AS "
    "metric, 1 AS value FROM pg_sleep(5) WHERE CAST(:since AS date) IS NOT NULL",
}


def test_statement_timeout_stops_a_slow_query(
    engine: Engine,
    warehouse: Warehouse,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    config = write_config(
        tmp_path,
        monkeypatch,
        warehouse.url,
        f"""
        - kind: usage
          name: slow
          sql: "{SLOW[warehouse.backend]}"
          id: [account_id, day, metric]
          account: {{source: crm, column: account_id}}
        """,
    )
    config.sources[1] = config.sources[1].model_copy(update={"statement_timeout": 0.5})
    started = time.monotonic()

    results, _ = run(engine, config)

    assert time.monotonic() - started < 4
    assert "query 'slow' ran longer than statement_timeout (0.5 s) and was stopped" in (
        results["dwh"].error or ""
    )
    assert counts(results["dwh"])["usage"] == {"new": 2, "rejected": 2}


def test_postgres_results_are_streamed(
    warehouse: Warehouse, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    if warehouse.backend != "postgresql":
        pytest.skip("a server-side cursor is PostgreSQL's")
    config = write_config(
        tmp_path,
        monkeypatch,
        warehouse.url,
        """
        - kind: usage
          name: big
          sql: SELECT 'A-1' AS account_id, DATE '2024-01-01' + i AS day, 'x' AS metric,
            i AS value FROM generate_series(1, 50000) AS i
          id: [account_id, day, metric]
          account: {source: crm, column: account_id}
        """,
    )
    source = config.sources[1].model_copy(update={"batch_size": 100})
    source = source.model_copy(update={"queries": source.queries[-1:]})  # type: ignore[attr-defined]
    records = cast(
        Generator[Record | Rejection, None, None],
        read_warehouse(source, SyncState(), Clock()),  # type: ignore[arg-type]
    )

    first = next(records)

    with warehouse.engine.connect() as connection:
        running = connection.scalar(
            text(
                "SELECT query FROM pg_stat_activity WHERE datname = :db "
                "AND application_name = 'foresight'"
            ),
            {"db": PG_DATABASE},
        )
    records.close()
    assert first.source_id == "A-1|2024-01-02|x"  # type: ignore[union-attr]
    assert str(running).startswith("FETCH FORWARD")


def test_account_found_by_domain(
    engine: Engine,
    warehouse: Warehouse,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    if warehouse.backend != "sqlite":
        pytest.skip("the same on every warehouse")
    warehouse.run("CREATE TABLE seats (site TEXT, day DATE, n NUMERIC(10, 2))")
    warehouse.run("INSERT INTO seats VALUES ('acme.example', '2024-11-05', 3.25)")
    config = write_config(
        tmp_path,
        monkeypatch,
        warehouse.url,
        """
        - kind: usage
          name: by_domain
          sql: SELECT site, day, 'seats' AS metric, n AS value FROM seats
          id: [site, day]
          account: {domain: site}
        """,
    )

    results, _ = run(engine, config)

    assert results["dwh"].error is None, results["dwh"].error
    assert ("A-2", date(2024, 11, 5), "seats", 3.25) in usage_rows(engine)


# -- config ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("kind: usage\nsql: SELECT 1\nid: [a]", "a usage query needs `account:`"),
        (
            "kind: usage\nsql: SELECT 1\nid: [a]\naccount: {column: a}\n"
            "fields: {v: valu}",
            "a usage has no field 'valu'; use one of day, deleted_at, merged_into, "
            "metric, value",
        ),
        (
            "kind: usage\nsql: SELECT 1 WHERE x > :from\nid: [a]\naccount: {column: a}",
            "the SQL uses :from; only :since is bound",
        ),
        (
            "kind: usage\nsql: SELECT 1\nid: [a]\naccount: {column: a}\ncursor: day",
            "cursor: day needs the SQL to use :since, e.g. WHERE day >= :since",
        ),
        (
            "kind: usage\nsql: SELECT 1\nid: [a]\naccount: {column: a, domain: b}",
            "give either `column:` (an id) or `domain:`/`email:`/`name:`",
        ),
        ("kind: deal\nsql: SELECT 1\nid: [a]", "queries[0].kind: Input should be"),
        (
            "kind: account\nsql: SELECT 1\nid: [a]\nsince_day: 1",
            "unknown key 'since_day'",
        ),
    ],
)
def test_query_config_is_checked(tmp_path: Path, query: str, message: str) -> None:
    path = tmp_path / "foresight.yml"
    entry = {"name": "dwh", "kind": "warehouse", "queries": [yaml.safe_load(query)]}
    path.write_text(json.dumps({"sources": [entry]}))

    with pytest.raises(ConfigError) as raised:
        load_config(path)

    assert message in str(raised.value)


def test_timeouts_cannot_be_switched_off(tmp_path: Path) -> None:
    path = tmp_path / "foresight.yml"
    path.write_text(
        "sources:\n  - {name: dwh, kind: warehouse, statement_timeout: , "
        "queries: [{kind: account, sql: SELECT 1, id: [a]}]}\n"
    )

    with pytest.raises(ConfigError) as raised:
        load_config(path)

    assert "statement_timeout: Input should be a valid number" in str(raised.value)


def test_url_is_never_logged_whole() -> None:
    url = make_url(f"snowflake://me:{PASSWORD}@acct/db?private_key_file_pwd={PASSWORD}")

    assert describe(url) == "snowflake://acct/db"


def test_a_float_cursor_is_bound_as_a_float_next_time(
    engine: Engine,
    warehouse: Warehouse,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:
    """A REAL/DOUBLE cursor column: the stored bookmark comes back as the same
    float, which every driver binds (SQLite's cannot bind a Decimal)."""
    warehouse.run(
        "CREATE TABLE seat_log (account_id TEXT, day DATE, metric TEXT,"
        " value REAL, version DOUBLE PRECISION);"
        "INSERT INTO seat_log VALUES ('A1', '2024-11-01', 'seats', 3, 1700000000.25)"
    )
    monkeypatch.setenv("WAREHOUSE_URL", warehouse.url)
    path = tmp_path / "foresight.yml"
    path.write_text(
        textwrap.dedent(
            """
            sources:
              - name: dwh
                kind: warehouse
                queries:
                  - kind: account
                    sql: SELECT 'A1' AS id, 'Acme' AS name
                    id: id
                  - kind: usage
                    sql: SELECT * FROM seat_log WHERE version > :since
                    id: [account_id, day, metric]
                    account: {column: account_id}
                    cursor: version
                    since: 0
            """
        )
    )
    config = load_config(path)
    run(engine, config)
    warehouse.run(
        "INSERT INTO seat_log VALUES ('A1', '2024-11-02', 'seats', 4, 1700000100.5)"
    )

    results, _ = run(engine, config)

    assert results["dwh"].error is None, results["dwh"].error
    assert counts(results["dwh"])["usage"] == {"new": 1}
    assert read_cursor(engine, "dwh") == {
        "queries": {"usage": {"type": "float", "value": "1700000100.5"}}
    }

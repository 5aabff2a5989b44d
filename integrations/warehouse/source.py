"""``kind: warehouse``: records from admin-written SQL on any SQLAlchemy database.

Snowflake, BigQuery, PostgreSQL, DuckDB, SQLite: whatever the URL in ``url_env``
names and the admin has installed a driver for. Each query is run on its own
connection and streamed (``stream_results``: a server-side cursor where the
dialect has one, fetched ``batch_size`` rows at a time), so a result of millions
of usage rows keeps memory flat.

A query that fails (bad SQL, a missing table, a missing column, a timeout) does not
stop the others: they still run and load. The source is then reported failed with
every failed query named, and the cursor stays where it was, since the stored
cursor moves only after a sync that read everything it covers; the next sync
re-reads the window, which upserts harmlessly. Failing the source, rather than
passing over the broken query with a warning, keeps a broken query in the sync's
status until an admin fixes it.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Generator, Iterator
from contextlib import closing
from datetime import date, datetime
from typing import Any, Literal
from zoneinfo import ZoneInfo

from pydantic import Field, field_validator, model_validator
from sqlalchemy import Connection, CursorResult, Row, text
from sqlalchemy.exc import DBAPIError, StatementError

from context.clock import Clock
from context.records import KINDS, Record, Rejection
from integrations.errors import SourceError
from integrations.source import SourceConfig, SyncState
from integrations.warehouse import cursors
from integrations.warehouse.connection import (
    Warehouse,
    first_line,
    open_warehouse,
    read_url,
    timed_out,
)
from integrations.warehouse.queries import SINCE, VERY_OLD, Query, check_zone
from integrations.warehouse.records import Layout

logger = logging.getLogger(__name__)

ENV_NAME = r"^[A-Za-z_][A-Za-z0-9_]*$"


class WarehouseSource(SourceConfig):
    """A warehouse at the SQLAlchemy URL in ``url_env``, read by ``queries``."""

    kind: Literal["warehouse"]
    url_env: str = Field("WAREHOUSE_URL", pattern=ENV_NAME)
    # Finite on purpose (CASES B31): an empty value is an error, never "no limit".
    connect_timeout: float = Field(10.0, gt=0, le=300)
    statement_timeout: float = Field(300.0, gt=0, le=86_400)
    timezone: str = "UTC"  # the zone of naive timestamps (TIMESTAMP_NTZ, DATETIME)
    since: date | datetime | int | str = VERY_OLD  # :since on a first sync
    batch_size: int = Field(1000, ge=1, le=100_000)
    queries: list[Query] = Field(min_length=1)

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        return check_zone(value)

    def sources_named(self) -> set[str]:
        named = set()
        for query in self.queries:
            refs = [query.account, query.person, query.deal, query.subscription]
            for ref in [*refs, *query.links]:
                if ref is not None and ref.source is not None:
                    named.add(ref.source)
        return named - {self.name}

    @model_validator(mode="after")
    def _names_differ(self) -> WarehouseSource:
        names = [query.name for query in self.queries]
        twice = sorted({name for name in names if names.count(name) > 1})
        if twice:
            raise ValueError(
                f"two queries are named {', '.join(twice)}; give each a `name:`"
            )
        return self


def read_warehouse(
    source: WarehouseSource, state: SyncState, clock: Clock
) -> Iterator[Record | Rejection]:
    """Every query's records, in the order the loader needs their kinds; the
    cursor moves only if every query ran."""
    del clock  # the warehouse's values are what they are, whatever "now" is fixed
    url = read_url(source.name, source.url_env)
    password = str(url.password) if url.password else None
    warehouse = open_warehouse(
        source.name, url, source.connect_timeout, source.statement_timeout
    )
    stored = dict((state.cursor or {}).get("queries") or {})
    marks, failures = dict(stored), []
    try:
        for query in sorted(source.queries, key=lambda q: KINDS.index(q.kind)):
            since = _since(source, query, stored.get(query.name))
            try:
                newest = yield from _run(source, warehouse, query, since, password)
            except QueryFailed as error:
                failures.append(str(error))
                logger.warning("%s: %s", source.name, error)
                continue
            if newest is not None:
                marks[query.name] = cursors.encode(newest)
    finally:
        warehouse.engine.dispose()
    if failures:
        raise SourceError(f"source {source.name!r}: " + "; ".join(failures))
    state.next_cursor = {"queries": marks}
    # Without a cursor a query reads its whole result: rows it lost are gone.
    state.complete = not any(query.cursor for query in source.queries)


class QueryFailed(SourceError):
    """One query could not run; the others still do."""


def _run(
    source: WarehouseSource,
    warehouse: Warehouse,
    query: Query,
    since: Any,
    password: str | None,
) -> Generator[Record | Rejection, None, Any]:
    """Stream one query's rows as records; returns the newest cursor value."""
    zone = ZoneInfo(query.timezone or source.timezone)
    started, count, newest = time.monotonic(), 0, None
    with warehouse.connect(password) as connection:
        try:
            result = _execute(warehouse, connection, query, since, source.batch_size)
            with closing(result):
                layout = Layout.of(query, source.name, zone, list(result.keys()))
                at = layout.index[query.cursor.casefold()] if query.cursor else None
                for row in _stream(warehouse, result, source.batch_size):
                    count += 1
                    item = layout.record(row, count)
                    if at is not None and isinstance(item, Record):
                        newest = cursors.newest(newest, row[at])
                    yield item
        except StatementError as error:
            reason = _failure(source, warehouse, query, error, password)
            raise QueryFailed(reason) from None
        except SourceError as error:
            raise QueryFailed(str(error)) from None
        finally:
            warehouse.disarm()
    logger.info(
        "%s: query %r read %d rows in %.0f ms",
        source.name,
        query.name,
        count,
        (time.monotonic() - started) * 1000,
    )
    return newest


def _execute(
    warehouse: Warehouse, connection: Connection, query: Query, since: Any, batch: int
) -> CursorResult[Any]:
    """Run the query, streamed: a server-side cursor where the dialect has one."""
    statement = text(query.sql)
    params = {SINCE: since} if SINCE in statement.compile().params else {}
    warehouse.arm()
    streamed = connection.execution_options(stream_results=True, max_row_buffer=batch)
    return streamed.execute(statement, params)


def _stream(
    warehouse: Warehouse, result: CursorResult[Any], size: int
) -> Iterator[Row[Any]]:
    """Rows batch by batch; each fetch has the whole statement timeout, the time
    the loader takes in between does not count."""
    batches = result.partitions(size)
    while True:
        warehouse.arm()
        batch = next(batches, None)
        warehouse.disarm()
        if batch is None:
            return
        yield from batch


def _since(source: WarehouseSource, query: Query, stored: Any) -> Any:
    """What ``:since`` is bound to: the stored cursor, else the configured start."""
    value = cursors.decode(stored) if stored is not None else None
    if value is not None:
        return value
    return query.since if query.since is not None else source.since


def _failure(
    source: WarehouseSource,
    warehouse: Warehouse,
    query: Query,
    error: StatementError,
    password: str | None,
) -> str:
    if isinstance(error, DBAPIError) and timed_out(error):
        return (
            f"query {query.name!r} ran longer than statement_timeout "
            f"({source.statement_timeout:g} s) and was stopped; make it cheaper "
            "(filter on :since, aggregate in the warehouse) or raise statement_timeout"
        )
    reason = first_line(
        error.orig if isinstance(error, DBAPIError) else error, password
    )
    return (
        f"query {query.name!r} failed: {reason}; check its SQL against the "
        f"warehouse ({warehouse.where})"
    )


SETTINGS = WarehouseSource
read = read_warehouse

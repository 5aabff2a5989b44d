"""Connecting to the warehouse named by a SQLAlchemy URL, with finite timeouts.

The URL comes from an environment variable because it holds the password; it is
shown only as ``describe(url)`` (dialect, host and database, no user, password or
query, which may carry a key file or token), and every error text we pass on is
scrubbed of the password as well. The driver is the admin's to install: a missing
one gives the package to install.

Timeouts (CASES B31): PostgreSQL gets ``connect_timeout`` and a server-side
``statement_timeout`` (applied to every FETCH of a streamed result); Snowflake a
login/network timeout and ``STATEMENT_TIMEOUT_IN_SECONDS``; MySQL connect and read
timeouts; SQLite a lock wait and a progress handler that interrupts a statement
(or one batch of its rows) running longer than ``statement_timeout``. Other
dialects (BigQuery, DuckDB, …) keep their own limits, and a warning says so.
"""

from __future__ import annotations

import logging
import math
import os
import sqlite3
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import URL, Connection, Engine, create_engine, event, make_url
from sqlalchemy.exc import ArgumentError, DBAPIError, NoSuchModuleError

from integrations.errors import ConfigError, CredentialError, SourceError

logger = logging.getLogger(__name__)

# dialect (or dialect+driver) → what to pip install for it
DRIVERS = {
    "snowflake": "snowflake-sqlalchemy",
    "bigquery": "sqlalchemy-bigquery",
    "duckdb": "duckdb-engine",
    "redshift": "sqlalchemy-redshift redshift_connector",
    "databricks": "databricks-sqlalchemy",
    "trino": "trino[sqlalchemy]",
    "clickhouse": "clickhouse-sqlalchemy",
    "mysql": "pymysql",
    "mariadb": "pymysql",
    "mssql": "pyodbc",
    "oracle": "oracledb",
    "postgresql": "psycopg[binary]",
    "postgresql+psycopg": "psycopg[binary]",
    "postgresql+psycopg2": "psycopg2-binary",
    "postgresql+asyncpg": "asyncpg",
    "postgresql+pg8000": "pg8000",
    "mysql+mysqldb": "mysqlclient",
}
APPLICATION = "foresight"  # how our sessions show in the warehouse's activity
# SQLite calls the progress handler every this many virtual-machine steps.
SQLITE_STEPS = 10_000


@dataclass
class Warehouse:
    """An engine and the clock that bounds each statement where the server cannot."""

    engine: Engine
    where: str
    timeout: float
    _deadline: list[float] = field(default_factory=lambda: [math.inf])

    def arm(self) -> None:
        """Start the clock for one statement or one batch of its rows."""
        self._deadline[0] = time.monotonic() + self.timeout

    def disarm(self) -> None:
        self._deadline[0] = math.inf

    @contextmanager
    def connect(self, password: str | None) -> Iterator[Connection]:
        """A connection; failing to connect stops the whole source (retriable)."""
        try:
            connection = self.engine.connect()
        except DBAPIError as error:
            raise SourceError(
                f"cannot connect to the warehouse ({self.where}): "
                f"{first_line(error.orig, password)}; check the host, the network "
                "and the credentials in the URL",
                retriable=True,
            ) from None
        with connection:
            yield connection

    def _sqlite_deadline(self, dbapi_connection: Any, _record: Any) -> None:
        deadline = self._deadline
        dbapi_connection.set_progress_handler(
            lambda: int(time.monotonic() > deadline[0]), SQLITE_STEPS
        )


def read_url(source_name: str, env: str) -> URL:
    """The warehouse URL from ``env``; never echoed, it holds the password."""
    value = os.environ.get(env, "").strip()
    if not value:
        raise CredentialError(
            f"source {source_name!r}: the environment variable {env} is empty; set "
            "it to the warehouse's SQLAlchemy URL, e.g. "
            "snowflake://user:password@account/database/schema?warehouse=wh"
        )
    try:
        return make_url(value)
    except ArgumentError:
        raise ConfigError(
            f"source {source_name!r}: {env} is not a SQLAlchemy URL; write it as "
            "dialect+driver://user:password@host:port/database"
        ) from None


def describe(url: URL) -> str:
    """Dialect, host and database, for logs and messages; no secrets."""
    bare = URL.create(url.drivername, host=url.host, port=url.port)
    return bare.set(database=url.database).render_as_string(hide_password=True)


def open_warehouse(
    source_name: str, url: URL, connect_timeout: float, statement_timeout: float
) -> Warehouse:
    """An engine for ``url`` with the dialect's finite timeouts."""
    where = describe(url)
    connect_args = _connect_args(url, connect_timeout, statement_timeout)
    if connect_args is None:
        logger.warning(
            "%s: the %s dialect has no timeout settings here; a stalled query waits "
            "for the warehouse's own limit",
            source_name,
            url.get_backend_name(),
        )
    try:
        engine = create_engine(url, connect_args=connect_args or {})
    except (NoSuchModuleError, ImportError) as error:
        raise SourceError(missing_driver(source_name, url, error)) from None
    warehouse = Warehouse(engine, where, statement_timeout)
    if engine.dialect.name == "sqlite":
        event.listen(engine, "connect", warehouse._sqlite_deadline)
    logger.info("%s: reading the warehouse at %s", source_name, where)
    return warehouse


def missing_driver(source_name: str, url: URL, error: Exception) -> str:
    name = url.drivername
    package = DRIVERS.get(name) or DRIVERS.get(url.get_backend_name())
    install = f"pip install {package}" if package else "install its SQLAlchemy dialect"
    return (
        f"source {source_name!r}: no driver for {name!r} URLs is installed "
        f"({type(error).__name__}); {install} where Foresight runs"
    )


def _connect_args(
    url: URL, connect_timeout: float, statement_timeout: float
) -> dict[str, Any] | None:
    backend, seconds = url.get_backend_name(), math.ceil(statement_timeout)
    if backend == "postgresql":
        # libpq rounds a connect_timeout of 1 up to 2 and ignores fractions.
        options = " ".join(
            filter(
                None,
                (
                    str(url.query.get("options") or ""),
                    f"-c statement_timeout={math.ceil(statement_timeout * 1000)}",
                    "-c default_transaction_read_only=on",
                ),
            )
        )
        args: dict[str, Any] = {
            "connect_timeout": max(2, math.ceil(connect_timeout)),
            "options": options,
        }
        if "application_name" not in url.query:
            args["application_name"] = APPLICATION
        return args
    if backend == "snowflake":
        return {
            "login_timeout": math.ceil(connect_timeout),
            "network_timeout": seconds,
            "session_parameters": {"STATEMENT_TIMEOUT_IN_SECONDS": seconds},
        }
    if backend in ("mysql", "mariadb"):
        return {"connect_timeout": math.ceil(connect_timeout), "read_timeout": seconds}
    if backend == "sqlite":
        return {"timeout": connect_timeout}
    return None


def first_line(error: BaseException | None, password: str | None) -> str:
    """A driver's message, first line, without the password should it quote it."""
    text = (str(error).strip().splitlines() or [""])[0][:300]
    if password:
        text = text.replace(password, "***")
    return text or type(error).__name__


def timed_out(error: DBAPIError) -> bool:
    """The statement was stopped by its timeout (ours on SQLite, the server's)."""
    orig = error.orig
    if getattr(orig, "sqlstate", None) == "57014":  # PostgreSQL query_canceled
        return True
    if isinstance(orig, sqlite3.OperationalError) and "interrupted" in str(orig):
        return True
    return "timeout" in str(orig).lower()

"""Engines, sessions and the schema version check."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, create_engine, event, make_url
from sqlalchemy.exc import ArgumentError
from sqlalchemy.orm import Session, sessionmaker

logger = logging.getLogger(__name__)

DEFAULT_DATABASE_URL = "sqlite:///foresight.db"
MIGRATIONS = Path(__file__).with_name("migrations")


class SchemaError(RuntimeError):
    """The database schema is missing or older than this code expects."""


class StoreError(RuntimeError):
    """The store's URL cannot be used or the database cannot be reached."""


STORE_HINT = (
    "set DATABASE_URL to a SQLAlchemy URL such as sqlite:///foresight.db or "
    "postgresql+psycopg://user:password@host:5432/foresight"
)


def make_engine(url: str | None = None) -> Engine:
    """Create an engine; SQLite gets foreign keys on and a generous lock wait.

    ``postgres://`` (what many hosts hand out) is read as PostgreSQL through
    psycopg, the driver Foresight installs.
    """
    url = url or DEFAULT_DATABASE_URL
    if url.startswith("postgres://"):
        url = "postgresql+psycopg://" + url.removeprefix("postgres://")
    kwargs: dict[str, Any] = {"future": True}
    if url.startswith("sqlite"):
        kwargs["connect_args"] = {"timeout": 30, "check_same_thread": False}
    else:
        kwargs["pool_pre_ping"] = True
    try:
        engine = create_engine(url, **kwargs)
    except (ArgumentError, ImportError) as error:
        raise StoreError(
            f"the store URL {_shown(url)} cannot be used "
            f"({type(error).__name__}: {error}); {STORE_HINT}"
        ) from None
    if engine.dialect.name == "sqlite":
        event.listen(engine, "connect", _sqlite_pragmas)
    return engine


def _shown(url: str) -> str:
    """The URL without its password, for messages."""
    try:
        return repr(make_url(url).render_as_string(hide_password=True))
    except ArgumentError:
        return repr(url.split("@")[-1])


def unreachable(engine: Engine, error: BaseException) -> StoreError:
    """What to say when the store does not answer."""
    shown = engine.url.render_as_string(hide_password=True)
    first = str(getattr(error, "orig", None) or error).strip().splitlines()[0]
    return StoreError(f"cannot open the store at {shown!r}: {first}; {STORE_HINT}")


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


def session_factory(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(engine, expire_on_commit=False)


@contextmanager
def transaction(engine: Engine) -> Iterator[Session]:
    """A session that commits on success and rolls back on any error."""
    with session_factory(engine)() as session, session.begin():
        yield session


def alembic_config(engine: Engine) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["engine"] = engine
    return config


def upgrade(engine: Engine, revision: str = "head") -> None:
    """Bring the schema up to ``revision`` (the newest by default)."""
    command.upgrade(alembic_config(engine), revision)


def current_revision(engine: Engine) -> str | None:
    with engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()


def head_revision() -> str | None:
    return ScriptDirectory(str(MIGRATIONS)).get_current_head()


def is_known_revision(revision: str) -> bool:
    """Whether this version's migrations know ``revision`` (a newer one they don't)."""
    return any(
        script.revision == revision
        for script in ScriptDirectory(str(MIGRATIONS)).walk_revisions()
    )


def check_schema(engine: Engine) -> None:
    """Refuse to run on a missing or out-of-date schema, and say how to fix it."""
    current, head = current_revision(engine), head_revision()
    if current == head:
        return
    where = engine.url.render_as_string(hide_password=True)
    if current is None:
        raise SchemaError(
            f"the database at {where} has no Foresight schema yet; "
            "run `foresight db upgrade` to create it"
        )
    if not is_known_revision(current):
        raise SchemaError(
            f"the database at {where} is at schema {current}, newer than this version "
            f"of Foresight knows (its newest is {head}): run a newer Foresight"
        )
    raise SchemaError(
        f"the database at {where} is at schema {current} but this version needs "
        f"{head}; run `foresight db upgrade`"
    )

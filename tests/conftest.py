"""Shared fixtures: a clean, migrated store on SQLite or PostgreSQL for every test.

The backend comes from ``FORESIGHT_TEST_DATABASE_URL`` (a SQLAlchemy URL); without it
each test gets its own SQLite file. ``.ci/run`` runs the suite once per backend.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine, text

from context.db import make_engine, upgrade
from context.models import Base

SHARED = Path(__file__).resolve().parents[1].parent / "shared"
# The sample data beside the checkout, or wherever FORESIGHT_TEST_DATA says.
DATA_ENV = "FORESIGHT_TEST_DATA"
DATA = Path(os.environ.get(DATA_ENV) or SHARED / "data").resolve()

SECRET_ENV = (
    "SLACK_BOT_TOKEN",
    "SLACK_SIGNING_SECRET",
    "SLACK_APP_TOKEN",
    "SLACK_API_URL",
    "OPENAI_API_KEY",
    "OPENAI_BASE_URL",
    "HUBSPOT_TOKEN",
    "DATABASE_URL",
    "FORESIGHT_NOW",
    "FORESIGHT_CONFIG",
    "PORT",
)
# Every vendor's credentials, whatever the variable: cleared by prefix.
SECRET_PREFIXES = (
    "HUBSPOT_",
    "SALESFORCE_",
    "GONG_",
    "STRIPE_",
    "GOOGLE_",
    "WAREHOUSE_",
)


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """A developer's real tokens must never reach a test."""
    for name in SECRET_ENV:
        monkeypatch.delenv(name, raising=False)
    for name in list(os.environ):
        if name.startswith(SECRET_PREFIXES):
            monkeypatch.delenv(name, raising=False)


def backend_url() -> str | None:
    return os.environ.get("FORESIGHT_TEST_DATABASE_URL") or None


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("template") / "store.db"
    engine = make_engine(f"sqlite:///{path}")
    upgrade(engine)
    engine.dispose()
    return path


@pytest.fixture(scope="session")
def postgres_engine() -> Iterator[Engine | None]:
    url = backend_url()
    if url is None:
        yield None
        return
    engine = make_engine(url)
    with engine.begin() as connection:
        connection.execute(text("DROP SCHEMA IF EXISTS public CASCADE"))
        connection.execute(text("CREATE SCHEMA public"))
    upgrade(engine)
    yield engine
    engine.dispose()


@pytest.fixture
def database_url(
    sqlite_template: Path, postgres_engine: Engine | None, tmp_path: Path
) -> str:
    """The URL of an empty store with the current schema."""
    if postgres_engine is not None:
        tables = ", ".join(t.name for t in Base.metadata.sorted_tables)
        with postgres_engine.begin() as connection:
            connection.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))
        return postgres_engine.url.render_as_string(hide_password=False)
    path = tmp_path / "store.db"
    shutil.copyfile(sqlite_template, path)
    return f"sqlite:///{path}"


@pytest.fixture
def engine(database_url: str) -> Iterator[Engine]:
    engine = make_engine(database_url)
    yield engine
    engine.dispose()


@pytest.fixture
def shared_data() -> Path:
    if not DATA.is_dir():
        pytest.fail(
            f"the sample data is missing: expected it at {DATA}; put the shared "
            f"folder beside the checkout or set {DATA_ENV} to its data folder"
        )
    return DATA

"""Alembic environment: runs against the engine Foresight hands it."""

from __future__ import annotations

from alembic import context as alembic_context
from sqlalchemy import Engine

from context.db import make_engine
from context.models import Base

config = alembic_context.config
engine = config.attributes.get("engine")
if not isinstance(engine, Engine):
    engine = make_engine(config.get_main_option("sqlalchemy.url"))

with engine.connect() as connection:
    alembic_context.configure(
        connection=connection,
        target_metadata=Base.metadata,
        render_as_batch=connection.dialect.name == "sqlite",
    )
    with alembic_context.begin_transaction():
        alembic_context.run_migrations()
    connection.commit()

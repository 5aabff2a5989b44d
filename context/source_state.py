"""Reading and moving each source's ``SourceState``.

The sync calls ``record_success`` only once the loader has committed every record
the new cursor covers, and ``record_failure`` otherwise; a failure keeps the old
cursor, so the next sync fetches the same window again.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from context.db import transaction
from context.jsonsafe import json_safe
from context.models import SourceState

ERROR_LIMIT = 2000  # characters of an error kept for status


def read_cursor(engine: Engine, source: str) -> dict[str, Any] | None:
    """The cursor the last successful sync of ``source`` left, if any."""
    with transaction(engine) as session:
        state = _state(session, source)
        return None if state is None else state.cursor


def record_success(
    engine: Engine,
    source: str,
    at: datetime,
    records: int,
    cursor: dict[str, Any] | None,
) -> None:
    """Move the cursor (``None`` keeps it) after a sync whose rows are committed."""
    with transaction(engine) as session:
        state = _state(session, source) or _new(session, source)
        if cursor is not None:
            state.cursor = json_safe(cursor)
        state.last_success_at = at
        state.records_seen = records


def record_failure(engine: Engine, source: str, at: datetime, error: str) -> None:
    """Note what went wrong; the cursor stays where it was."""
    with transaction(engine) as session:
        state = _state(session, source) or _new(session, source)
        state.last_error = error[:ERROR_LIMIT]
        state.last_error_at = at


def read_states(engine: Engine) -> dict[str, SourceState]:
    """Every source's state by name, detached, for status."""
    with transaction(engine) as session:
        states = session.scalars(select(SourceState)).all()
        session.expunge_all()
        return {state.source: state for state in states}


def _state(session: Session, source: str) -> SourceState | None:
    return session.scalars(
        select(SourceState).where(SourceState.source == source)
    ).one_or_none()


def _new(session: Session, source: str) -> SourceState:
    state = SourceState(source=source, records_seen=0)
    session.add(state)
    return state

"""What each record kind's columns hold, read from the store's own models.

A mapping names store columns (``amount``, ``close_date``); the column's type says how
to read the text (an amount, a date), so an admin rarely has to spell out a type, and
a mapping that names a column the store does not have is refused before any row is
read.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any, Literal

from sqlalchemy import JSON, Boolean, Date, Float, Integer, Numeric, String

from context.load import REF_COLUMNS, REP_COLUMNS, REQUIRED, TABLES
from context.models import DealChange
from context.records import KINDS
from context.types import UTCDateTime

ValueType = Literal[
    "text", "int", "decimal", "float", "bool", "date", "datetime", "json"
]
VALUE_TYPES: tuple[ValueType, ...] = (
    "text",
    "int",
    "decimal",
    "float",
    "bool",
    "date",
    "datetime",
    "json",
)

# Filled by the loader from a record's own identity or derived from other fields.
_NOT_MAPPED = {"id", "source", "source_id", "last_seen_at", "updated_at"}
_DERIVED = {"name_key", "email_key"}
REP_REFS = frozenset(REP_COLUMNS)


@dataclass(frozen=True)
class Column:
    """One store column as a mapping sees it."""

    name: str
    type: ValueType
    length: int | None = None  # longest text the column keeps
    places: int | None = None  # decimal places of an amount
    digits: int | None = None  # digits of an amount in all
    required: bool = False  # NOT NULL without a default: null would fail the insert


def model_of(kind: str) -> Any:
    """The store model a kind loads into (deal changes have no loader table)."""
    if kind == "deal_change":
        return DealChange
    return TABLES[kind]


def columns_of(kind: str) -> dict[str, Column]:
    """The columns a mapping may fill for ``kind`` (references come through refs)."""
    table = model_of(kind).__table__
    references = {column for column, _ in REF_COLUMNS.values()}
    references |= set(REP_COLUMNS.values())
    skip = _NOT_MAPPED | _DERIVED | references
    return {
        c.name: replace(_column(c), required=_required(c))
        for c in table.columns
        if c.name not in skip
    }


def refs_of(kind: str) -> set[str]:
    """The references a record of ``kind`` can carry (``account``, ``owner``, …)."""
    table = set(model_of(kind).__table__.columns.keys())
    refs = {name for name, (column, _) in REF_COLUMNS.items() if column in table}
    refs |= {name for name, column in REP_COLUMNS.items() if column in table}
    if kind == "deal_change":
        refs.discard("owner")
    return refs


def required_of(kind: str) -> dict[str, str]:
    """Columns a record must fill, each with the field or ref that fills it."""
    fillers = {column: name for name, (column, _) in REF_COLUMNS.items()}
    table = model_of(kind).__table__
    needed = [c.name for c in table.columns if _required(c)]
    needed += [c for c in REQUIRED.get(kind, ()) if c not in needed]
    return {column: fillers.get(column, column) for column in needed}


def kinds() -> tuple[str, ...]:
    """Record kinds in the order the loader needs them."""
    return KINDS


def _required(column: Any) -> bool:
    identity = column.name in _NOT_MAPPED | _DERIVED
    has_default = column.default is not None or column.server_default is not None
    return not (identity or column.nullable or has_default)


def _column(column: Any) -> Column:
    kind = column.type
    if isinstance(kind, UTCDateTime):
        return Column(column.name, "datetime")
    if isinstance(kind, Float):
        return Column(column.name, "float")
    if isinstance(kind, Numeric):
        places = kind.scale or 0
        return Column(column.name, "decimal", places=places, digits=kind.precision)
    if isinstance(kind, Boolean):
        return Column(column.name, "bool")
    if isinstance(kind, Integer):
        return Column(column.name, "int")
    if isinstance(kind, Date):
        return Column(column.name, "date")
    if isinstance(kind, JSON):
        return Column(column.name, "json")
    if isinstance(kind, String):
        return Column(column.name, "text", length=kind.length)
    return Column(column.name, "text")

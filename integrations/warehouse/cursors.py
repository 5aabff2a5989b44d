"""Each incremental query's bookmark: the newest value of its ``cursor`` column.

The stored cursor is JSON, so the value is kept as text with its type, and turned
back into the same type to bind ``:since`` next time: a date column is compared
with a date, a naive timestamp with a naive one (an aware value would be shifted
by the warehouse session's zone), a NUMERIC with its exact Decimal (a rounded one
could skip rows).
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from integrations.errors import SourceError


def newest(current: Any, value: Any) -> Any:
    """The newer of two cursor values; None never wins."""
    if value is None:
        return current
    if current is None:
        return value
    try:
        return value if value > current else current
    except TypeError:
        raise SourceError(
            f"the cursor column holds values of different types ({current!r} and "
            f"{value!r}); cast it to one type in the SQL"
        ) from None


def encode(value: Any) -> dict[str, Any]:
    """``value`` as JSON with its type, for the stored cursor."""
    if isinstance(value, bool):
        return {"type": "text", "value": str(value)}
    if isinstance(value, datetime):
        return {"type": "datetime", "value": value.isoformat()}
    if isinstance(value, date):
        return {"type": "date", "value": value.isoformat()}
    if isinstance(value, int):
        return {"type": "int", "value": value}
    if isinstance(value, float):
        # repr round-trips exactly; a float column is compared with a float (some
        # drivers, SQLite's among them, cannot bind a Decimal at all)
        return {"type": "float", "value": repr(value)}
    if isinstance(value, Decimal):
        return {"type": "decimal", "value": str(value)}
    return {"type": "text", "value": str(value)}


def decode(stored: Any) -> Any:
    """The value to bind to ``:since``; None if nothing usable was stored."""
    if not isinstance(stored, dict) or "value" not in stored:
        return None
    kind, value = stored.get("type"), stored["value"]
    try:
        if kind == "datetime":
            return datetime.fromisoformat(str(value))
        if kind == "date":
            return date.fromisoformat(str(value))
        if kind == "int":
            return int(value)
        if kind == "float":
            return float(value)
        if kind == "decimal":
            return Decimal(str(value))
    except (ValueError, InvalidOperation):
        return None
    return str(value)

"""Warehouse values as the store's types, and as JSON where they go into JSON.

Drivers hand back what the column holds: ``Decimal`` for NUMERIC (Snowflake's
NUMBER(38, s), BigQuery's NUMERIC and BIGNUMERIC), ``int`` for INT64, ``date``,
``datetime`` with a zone (TIMESTAMP_TZ, BigQuery TIMESTAMP) or without one
(TIMESTAMP_NTZ, BigQuery DATETIME: read in the source's ``timezone``), ``bool`` or
0/1 or 't' for flags, and plain text where the warehouse is untyped (SQLite).
Money stays ``Decimal`` (rounded half-up to the store's cents); anything bound for
a JSON column goes through ``json_value`` first (CASES B38), because ``json``
cannot encode a ``Decimal``, a ``date`` or a ``datetime``.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Mapping
from datetime import UTC, date, datetime
from decimal import ROUND_HALF_UP, Decimal
from typing import Any
from zoneinfo import ZoneInfo

from context.models import MONEY
from integrations.files.values import (
    BadValue,
    read_bool,
    read_date,
    read_datetime,
    read_float,
    read_int,
    read_money,
    read_text,
)

# Places kept when a fraction goes into JSON: enough for usage hours or rates.
JSON_PLACES = 6
JSON_QUANTUM = Decimal(1).scaleb(-JSON_PLACES)
# A float repeats a decimal exactly up to 15 significant digits; beyond that a
# JSON number would silently change the value, so it is written as text.
FLOAT_DIGITS = 15
MONEY_PLACES = MONEY.scale or 0
MONEY_DIGITS = (MONEY.precision or 0) - MONEY_PLACES

UTC_ZONE = ZoneInfo("UTC")

Reader = Callable[[Any, ZoneInfo], Any]


def json_value(value: Any, zone: ZoneInfo = UTC_ZONE) -> Any:
    """``value`` as plain JSON types, rounded on purpose (CASES B38).

    Whole decimals become ints (exact at any size); fractions are rounded half-up
    to ``JSON_PLACES`` and become floats, or text when a float could not hold them
    exactly; floats are rounded to the same places. Dates become ISO dates; times
    ISO times in UTC (naive ones are read in ``zone``). Non-finite numbers become
    null.
    """
    if isinstance(value, bool) or value is None or isinstance(value, str | int):
        return value
    if isinstance(value, Decimal):
        return _json_decimal(value)
    if isinstance(value, float):
        return round(value, JSON_PLACES) if math.isfinite(value) else None
    if isinstance(value, datetime):
        moment = value if value.tzinfo else value.replace(tzinfo=zone)
        return moment.astimezone(UTC).isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, bytes | bytearray | memoryview):
        return bytes(value).decode("utf-8", errors="replace")
    if isinstance(value, Mapping):
        return {str(k): json_value(v, zone) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [json_value(v, zone) for v in value]
    return str(value)


def _json_decimal(value: Decimal) -> int | float | str | None:
    if not value.is_finite():
        return None
    if value == value.to_integral_value():
        return int(value)
    rounded = value.quantize(JSON_QUANTUM, rounding=ROUND_HALF_UP).normalize()
    if len(rounded.as_tuple().digits) <= FLOAT_DIGITS:
        return float(rounded)
    return format(rounded, "f")


def id_text(value: Any) -> str | None:
    """An id or key as text: ``12`` whether it came as 12, 12.0 or Decimal('12')."""
    if value is None or isinstance(value, bool):
        return None if value is None else str(value).lower()
    if isinstance(value, Decimal | float):
        if isinstance(value, float) and not math.isfinite(value):
            raise BadValue(f"{value!r} cannot be an id")
        if value == int(value):
            return str(int(value))
        return format(Decimal(str(value)).normalize(), "f")
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, bytes | bytearray | memoryview):
        value = bytes(value).decode("utf-8", errors="replace")
    return read_text(value)


def text_value(value: Any, zone: ZoneInfo) -> str | None:
    """Text; a number or a date read as text keeps its exact form."""
    if isinstance(value, str):
        return read_text(value)
    return id_text(value) if value is not None else None


def money_value(value: Any, zone: ZoneInfo) -> Decimal | None:
    """A Decimal in the store's cents, rounded half-up, from any number or text."""
    if isinstance(value, float) and not math.isfinite(value):
        raise BadValue(f"{value!r} is not an amount")
    return read_money(value, MONEY_PLACES, MONEY_DIGITS)


def number_value(value: Any, zone: ZoneInfo) -> float | None:
    """A float, for the store's FLOAT columns (usage values)."""
    number = read_float(value)
    if number is not None and not math.isfinite(number):
        raise BadValue(f"{value!r} is not a finite number")
    return number


def int_value(value: Any, zone: ZoneInfo) -> int | None:
    return read_int(value)


def bool_value(value: Any, zone: ZoneInfo) -> bool | None:
    """True/False, 1/0 (also as Decimal), 't'/'f', yes/no."""
    if isinstance(value, Decimal | float) and value in (0, 1):
        return bool(value)
    return read_bool(value)


def date_value(value: Any, zone: ZoneInfo) -> date | None:
    """A date; a timestamp gives its date in ``zone``."""
    return read_date(value, zone)


def datetime_value(value: Any, zone: ZoneInfo) -> datetime | None:
    """An aware UTC time; naive ones (TIMESTAMP_NTZ, DATETIME) are in ``zone``."""
    return read_datetime(value, zone)


def list_value(value: Any, zone: ZoneInfo) -> list[Any] | None:
    """A JSON list (participants): an ARRAY, JSON text, or comma-separated text."""
    if value is None:
        return None
    if isinstance(value, list | tuple):
        return [json_value(item, zone) for item in value]
    text = str(value).strip()
    if not text:
        return None
    if text.startswith("["):
        try:
            parsed = json.loads(text)
        except ValueError as error:
            raise BadValue(f"cannot read {text[:60]!r} as a JSON list") from error
        if isinstance(parsed, list):
            return [json_value(item, zone) for item in parsed]
    return [part.strip() for part in text.replace(";", ",").split(",") if part.strip()]


READERS: dict[str, Reader] = {
    "text": text_value,
    "money": money_value,
    "number": number_value,
    "int": int_value,
    "bool": bool_value,
    "date": date_value,
    "datetime": datetime_value,
    "list": list_value,
}

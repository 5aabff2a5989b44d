"""Reading exported text as typed values: dates, timestamps, amounts, flags.

Exports write the same thing many ways: ``2024-12-02``, ``2024-12-02T09:00:00-05:00``,
``1733148000`` or ``1733148000000``; ``1100.04``, ``1,100.04`` or ``$5k``; ``True`` or
``yes``. Each reader accepts the common forms and raises ``BadValue`` with a reason
for anything else, so that one bad cell rejects its row instead of stopping a sync.
Timestamps always come out aware and in UTC (CASES B19, B27); values bound for JSON
columns come out JSON-safe (B38).
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from datetime import UTC, date, datetime, time, timedelta
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any
from zoneinfo import ZoneInfo

# An epoch this large in seconds would be after the year 5000, so it must be ms.
EPOCH_MS_FROM = 100_000_000_000
# Floats repeat a decimal exactly up to 15 significant digits.
FLOAT_DIGITS = 15

_TRUE = frozenset({"true", "t", "yes", "y", "1", "on"})
_FALSE = frozenset({"false", "f", "no", "n", "0", "off"})
_CURRENCY = re.compile(r"^(?:[$€£¥]|[A-Z]{3}\s?)|(?:\s?[A-Z]{3}|[$€£¥])$")
_SUFFIX = {"k": Decimal(1_000), "m": Decimal(1_000_000), "bn": Decimal(10**9)}
_NUMBER = re.compile(
    r"^(?P<digits>\d{1,3}(?:,\d{3})+(?:\.\d+)?|\d*\.?\d+(?:[eE][-+]?\d+)?)"
    r"(?P<suffix>k|m|bn)?$",
    re.IGNORECASE,
)
# Epochs are taken as such only from nine digits up (1973 on), so that a compact
# date such as 20241202 is an error instead of a day in 1970.
_EPOCH = re.compile(r"^-?\d{9,}(?:\.\d+)?$")
_DIGITS = re.compile(r"^-?\d+(?:\.\d+)?$")
_ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


class BadValue(ValueError):
    """A value that cannot be read as what its column needs; the text says why."""


def read_text(value: Any, max_length: int | None = None) -> str | None:
    """Text, stripped; empty is null. Too long for its column is an error, not a cut."""
    if value is None:
        return None
    if isinstance(value, list | dict):
        raise BadValue(f"{_show(value)} is a {type(value).__name__}, not text")
    text = str(value).strip()
    if not text:
        return None
    if max_length is not None and len(text) > max_length:
        raise BadValue(
            f"is {len(text)} characters long; the store keeps at most {max_length}"
        )
    return text


def read_decimal(value: Any) -> Decimal | None:
    """Plain, comma-grouped, currency-marked, k/m/bn-suffixed or (negative) amounts."""
    if value is None:
        return None
    if isinstance(value, bool):
        raise BadValue(f"{_show(value)} is a flag, not a number")
    if isinstance(value, int | float | Decimal):
        return _finite(Decimal(str(value)), value)
    text = str(value).strip()
    if not text:
        return None
    negative, body = _sign(text)
    match = _NUMBER.match(body)
    if match is None:
        raise BadValue(
            f"cannot read {text!r} as a number; write it like 1100.04, 1,100.04 or $5k"
        )
    try:
        number = Decimal(match["digits"].replace(",", ""))
    except (
        InvalidOperation
    ) as error:  # pragma: no cover - the pattern admits only numbers
        raise BadValue(f"cannot read {text!r} as a number") from error
    if match["suffix"]:
        number *= _SUFFIX[match["suffix"].lower()]
    return -number if negative else number


def _sign(text: str) -> tuple[bool, str]:
    """Take off brackets, a sign and a currency mark, in either order."""
    negative = text.startswith("(") and text.endswith(")")
    body = text[1:-1] if negative else text
    body = _CURRENCY.sub("", body.strip()).strip()
    if body[:1] in ("-", "+"):
        negative = negative != (body[0] == "-")
        body = _CURRENCY.sub("", body[1:].strip()).strip()
    return negative, body


INT_LIMIT = 2**31 - 1  # the store's INTEGER columns, on PostgreSQL as on SQLite


def read_int(value: Any) -> int | None:
    """Whole numbers; ``12.0`` is 12, ``12.5`` is an error."""
    number = read_decimal(value)
    if number is None:
        return None
    if not number.is_finite() or abs(number) > INT_LIMIT:
        raise BadValue(f"{_show(value)} is out of range for a whole-number field")
    if number != number.to_integral_value():
        raise BadValue(f"{_show(value)} is not a whole number")
    return int(number)


def read_float(value: Any) -> float | None:
    """A number in any form ``read_decimal`` takes, as a float."""
    number = read_decimal(value)
    return None if number is None else float(number)


def read_bool(value: Any) -> bool | None:
    """``True``/``False``, yes/no, 1/0, t/f, on/off, in any case."""
    if value is None or isinstance(value, bool):
        return value
    text = str(value).strip().casefold()
    if not text:
        return None
    if text in _TRUE:
        return True
    if text in _FALSE:
        return False
    raise BadValue(f"cannot read {_show(value)} as yes/no; write True or False")


def read_money(value: Any, places: int, integer_digits: int) -> Decimal | None:
    """An amount rounded half-up to the column's places, and checked to fit it."""
    number = read_decimal(value)
    if number is None:
        return None
    if not number.is_finite() or number.adjusted() >= integer_digits:
        raise BadValue(f"{_show(value)} is too large for the store")
    rounded = number.quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP)
    if abs(rounded) >= Decimal(10) ** integer_digits:
        raise BadValue(f"{_show(value)} is too large for the store")
    return rounded


def read_datetime(
    value: Any, zone: ZoneInfo, formats: Sequence[str] = ()
) -> datetime | None:
    """An aware UTC timestamp from ISO text (with or without an offset), a bare date,
    an epoch in seconds or milliseconds, or one of ``formats`` (strptime, or
    ``epoch_s`` / ``epoch_ms``). Values without an offset are read in ``zone``."""
    if value is None:
        return None
    if isinstance(value, datetime):
        return _utc(value, zone)
    if isinstance(value, date):
        return _utc(datetime.combine(value, time()), zone)
    if isinstance(value, bool):
        raise BadValue(f"{_show(value)} is a flag, not a time")
    text = str(value).strip()
    if not text:
        return None
    if formats:
        return _utc(_by_formats(text, formats, "a time"), zone)
    if _EPOCH.match(text):
        return _from_epoch(text, None)
    try:
        moment = datetime.fromisoformat(text)
    except ValueError as error:
        raise BadValue(
            f"cannot read {text!r} as a time; write it like 2024-12-02T09:00:00-05:00 "
            "or set `format:`"
        ) from error
    return _utc(moment, zone)


def read_date(value: Any, zone: ZoneInfo, formats: Sequence[str] = ()) -> date | None:
    """A calendar date from ISO text, a timestamp (its date in ``zone``), an epoch or
    one of ``formats``."""
    if value is None:
        return None
    if isinstance(value, datetime):
        return _utc(value, zone).astimezone(zone).date()
    if isinstance(value, date):
        return value
    text = str(value).strip()
    if not text:
        return None
    if formats:
        found = _by_formats(text, formats, "a date")
        return found.astimezone(zone).date() if found.tzinfo else found.date()
    if _ISO_DATE.match(text):
        try:
            return date.fromisoformat(text)
        except ValueError as error:
            raise BadValue(
                f"cannot read {text!r} as a date; write it like 2024-12-02 "
                "or set `format:`"
            ) from error
    moment = read_datetime(value, zone)
    return None if moment is None else moment.astimezone(zone).date()


def json_safe(value: Any) -> Any:
    """Plain JSON types, so a JSON column can be written and compared (CASES B38).

    Decimals become floats when a float repeats them exactly and strings otherwise;
    dates become ISO dates and timestamps ISO UTC times.
    """
    if isinstance(value, dict):
        return {str(k): json_safe(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [json_safe(v) for v in value]
    if isinstance(value, Decimal):
        exact = len(value.as_tuple().digits) <= FLOAT_DIGITS and value.is_finite()
        return float(value) if exact else str(value)
    if isinstance(value, datetime):
        moment = value if value.tzinfo else value.replace(tzinfo=UTC)
        return moment.astimezone(UTC).isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def _by_formats(text: str, formats: Sequence[str], what: str) -> datetime:
    for form in formats:
        if form in ("epoch_s", "epoch_ms"):
            if _DIGITS.match(text):
                return _from_epoch(text, form)
            continue
        try:
            return datetime.strptime(text, form)
        except ValueError:
            continue
    raise BadValue(f"cannot read {text!r} as {what} in format {' or '.join(formats)}")


def _from_epoch(text: str, unit: str | None) -> datetime:
    number = Decimal(text)
    if unit == "epoch_ms" or (unit is None and abs(number) >= EPOCH_MS_FROM):
        number /= 1000
    try:
        return datetime(1970, 1, 1, tzinfo=UTC) + timedelta(seconds=float(number))
    except OverflowError as error:
        raise BadValue(f"{text} is out of range for an epoch time") from error


def _utc(moment: datetime, zone: ZoneInfo) -> datetime:
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=zone)
    return moment.astimezone(UTC)


def _finite(number: Decimal, value: Any) -> Decimal:
    if not number.is_finite():
        raise BadValue(f"{_show(value)} is not a finite number")
    return number


def _show(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."

"""Reading one value of a vendor's record, the same way for every live source.

Money and counts that cannot be read make the whole record unreadable
(``Malformed``: it is rejected with the reason, the rest load). A date or time
that cannot be read is logged and left empty (CASES B27): a deal with a garbled
close date is still worth showing. Cursors a source stored earlier are read back
leniently: an unreadable one means "read everything again", never a crash.
"""

from __future__ import annotations

import logging
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from integrations.files.values import (
    BadValue,
    read_date,
    read_datetime,
    read_int,
    read_money,
)

logger = logging.getLogger(__name__)

UTC_ZONE = ZoneInfo("UTC")
MONEY_PLACES = 2
MONEY_DIGITS = 14  # whole digits that fit the store's Numeric(16, 2)


class Malformed(ValueError):
    """A vendor record that cannot become a store record; the message says why."""


def text(value: Any) -> str | None:
    """A trimmed string; None for nothing, blanks and nested objects."""
    if value is None or isinstance(value, dict | list):
        return None
    stripped = str(value).strip()
    return stripped or None


def money(value: Any, name: str = "amount") -> Decimal | None:
    try:
        return read_money(value, MONEY_PLACES, MONEY_DIGITS)
    except BadValue as error:
        raise Malformed(f"{name}: {error}") from None


def whole(value: Any, name: str) -> int | None:
    try:
        return read_int(value)
    except BadValue as error:
        raise Malformed(f"{name}: {error}") from None


def day(value: Any, where: str, name: str) -> date | None:
    """An ISO date or time, or an epoch; an unreadable one is logged and left out."""
    try:
        return read_date(value, UTC_ZONE)
    except BadValue as error:
        logger.warning("%s: %s left empty: %s", where, name, error)
        return None


def moment(value: Any, where: str, name: str) -> datetime | None:
    """An ISO time, bare date or epoch as an aware UTC time; unreadable: left out."""
    try:
        return read_datetime(value, UTC_ZONE)
    except BadValue as error:
        logger.warning("%s: %s left empty: %s", where, name, error)
        return None


def cursor_time(value: Any, vendor: str) -> datetime | None:
    """A time a source stored as its cursor; anything unreadable means read all."""
    if not isinstance(value, str):
        return None
    try:
        stored = datetime.fromisoformat(value)
    except ValueError:
        logger.warning("unreadable %s cursor %r; reading everything", vendor, value)
        return None
    return stored if stored.tzinfo else stored.replace(tzinfo=UTC)

"""Values made safe for JSON columns and payloads.

Warehouses and CSV readers hand us ``Decimal``, ``date`` and ``datetime`` values,
which ``json`` cannot encode. They are converted deliberately: whole decimals become
ints, others floats rounded to ``DECIMAL_PLACES``; dates become ISO strings and
datetimes ISO strings in UTC.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

DECIMAL_PLACES = 6


def json_safe(value: Any) -> Any:
    if isinstance(value, Decimal):
        if not value.is_finite():
            return None
        if value == value.to_integral_value():
            return int(value)
        return round(float(value), DECIMAL_PLACES)
    if isinstance(value, datetime):
        moment = value if value.tzinfo else value.replace(tzinfo=UTC)
        return moment.astimezone(UTC).isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Mapping):
        return {str(k): json_safe(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [json_safe(v) for v in value]
    return value

"""SOQL text built from our values, escaped by Salesforce's rules (CASES B25).

Every string that goes into a query passes through ``literal`` (or ``like`` for a
LIKE pattern). Salesforce escapes with a backslash, not by doubling the quote the
SQL way: ``O'Malley`` is ``'O\\'Malley'``, and a doubled quote is a MALFORMED_QUERY.
``%`` and ``_`` are wildcards only in LIKE, and a backslash before them anywhere
else is itself an error, so they are escaped only there.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import UTC, datetime

# Salesforce's "Quoted String Escape Sequences" (SOQL and SOSL reference).
ESCAPES = {
    "\\": "\\\\",
    "'": "\\'",
    '"': '\\"',
    "\n": "\\n",
    "\r": "\\r",
    "\t": "\\t",
    "\b": "\\b",
    "\f": "\\f",
}
LIKE_ESCAPES = {"%": "\\%", "_": "\\_"}


def literal(text: str) -> str:
    """``text`` as a quoted SOQL string literal."""
    return f"'{_escaped(text, ESCAPES)}'"


def like(text: str, *, prefix: bool = False) -> str:
    """``text`` as a LIKE pattern matching it exactly (or as a prefix): its own
    ``%`` and ``_`` are escaped so they match only themselves."""
    pattern = _escaped(text, {**ESCAPES, **LIKE_ESCAPES})
    return f"'{pattern}%'" if prefix else f"'{pattern}'"


def one_of(field: str, values: Iterable[str]) -> str:
    """``field IN ('a', 'b')``, every value escaped."""
    return f"{field} IN ({', '.join(literal(v) for v in values)})"


def moment(value: datetime) -> str:
    """A datetime literal; SOQL wants these unquoted, in UTC, to the second."""
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def select(
    fields: Sequence[str],
    sobject: str,
    where: Sequence[str] = (),
    order: Sequence[str] = (),
) -> str:
    """``SELECT … FROM … [WHERE … AND …] [ORDER BY …]``."""
    text = f"SELECT {', '.join(fields)} FROM {sobject}"
    if where:
        text += " WHERE " + " AND ".join(where)
    if order:
        text += " ORDER BY " + ", ".join(order)
    return text


def _escaped(text: str, escapes: dict[str, str]) -> str:
    for char in text:
        if ord(char) < 0x20 and char not in escapes:
            raise ValueError(
                f"{text!r} holds the control character {char!r}, which a SOQL "
                "string cannot carry"
            )
    return "".join(escapes.get(char, char) for char in text)

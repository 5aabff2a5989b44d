"""Reading a column, a template or a ``$`` name out of a row.

Each is compiled once per entry into a small function, so that the 20k rows of a
usage export cost a dict lookup per value, not a parse.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import PurePosixPath
from typing import Any

from context.names import fold
from integrations.files.paths import compile_path, get_path
from integrations.files.readers import Row
from integrations.files.specs import PLACEHOLDER, Format, Scalar
from integrations.files.values import BadValue

Getter = Callable[[Row], Any]

_SPECIALS: dict[str, Getter] = {
    "$file": lambda row: PurePosixPath(row.file).stem,
    "$path": lambda row: row.file,
    "$index": lambda row: row.index,
    "$line": lambda row: row.line,
}


def column_getter(text: str, fmt: Format) -> Getter:
    """A CSV column by its header, a JSON path, or a ``$`` name."""
    if text.startswith("$parent."):
        inner = column_getter(text.removeprefix("$parent."), fmt)
        return lambda row: inner(row.parent) if row.parent is not None else None
    if text in _SPECIALS:
        return _SPECIALS[text]
    if fmt == "csv":
        return lambda row: row.data.get(text)
    steps = compile_path(text)
    return lambda row: get_path(row.data, steps)


def template_getter(template: str, fmt: Format, strict: bool = False) -> Getter:
    """Fill ``{column}`` placeholders. All empty gives null; ``strict`` (for ids)
    refuses any empty placeholder, so two rows cannot share a half-empty id."""
    parts = PLACEHOLDER.split(template)
    literals = parts[0::2]
    getters = [(name.strip(), column_getter(name.strip(), fmt)) for name in parts[1::2]]

    def render(row: Row) -> str | None:
        values = [(name, text_of(get(row))) for name, get in getters]
        empty = [name for name, value in values if not value]
        if strict and empty:
            raise BadValue(f"{', '.join(empty)} is empty")
        if len(empty) == len(values):
            return None
        pieces = [literals[0]]
        for (_, value), literal in zip(values, literals[1:], strict=True):
            pieces += [value, literal]
        return "".join(pieces).strip()

    return render


def spec_getter(text: str, fmt: Format, strict: bool = False) -> Getter:
    """A string that is a template when it has ``{…}``, else a column."""
    if PLACEHOLDER.search(text):
        return template_getter(text, fmt, strict)
    return column_getter(text, fmt)


def where_filter(
    where: Mapping[str, Scalar | list[Scalar]], fmt: Format
) -> Callable[[Row], bool]:
    """Keep rows whose columns have one of the given values (compared folded)."""
    tests = [
        (column_getter(column, fmt), _wanted(value)) for column, value in where.items()
    ]
    return lambda row: all(fold(text_of(get(row))) in ok for get, ok in tests)


def fold_key(value: Any) -> str:
    """Lookup keys ignore case, spaces and punctuation: ``GTXPro`` is ``GTX Pro``."""
    return fold(text_of(value)).replace(" ", "")


def text_of(value: Any) -> str:
    """How a value reads in a template or a key: JSON numbers without noise."""
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, list):
        return ", ".join(text_of(item) for item in value if item is not None)
    return str(value).strip()


def _wanted(value: Scalar | list[Scalar]) -> set[str]:
    values = value if isinstance(value, list) else [value]
    return {fold(text_of(item)) for item in values}

"""A small path language for reaching into JSON records, simple enough to write by hand.

``response.records`` follows keys; ``records[]`` takes every element of a list;
``records[0]`` one element; ``general_query_list[query=Summarize the whole meeting.]``
the elements whose ``query`` is that text. A path that takes elements gives a list,
any other path gives one value; a key that is not there gives ``None``.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

_STEP = re.compile(r"^(?P<key>[^\[\]]*)(?:\[(?P<inner>[^\[\]]*)\])?$")


class PathError(ValueError):
    """A path that cannot be read; the message shows how to write it."""


@dataclass(frozen=True)
class Step:
    """One step of a path: a key, then optionally all, one or matching elements."""

    key: str | None
    every: bool = False
    index: int | None = None
    match: tuple[str, str] | None = None

    @property
    def takes_many(self) -> bool:
        return self.every or self.match is not None


def compile_path(text: str) -> tuple[Step, ...]:
    """Split ``a.b[].c`` into steps; dots inside brackets are part of the match text."""
    if not text.strip():
        raise PathError("the path is empty")
    return tuple(_step(part, text) for part in _split(text))


def takes_many(steps: tuple[Step, ...]) -> bool:
    """Whether the path gives a list (it takes elements somewhere)."""
    return any(step.takes_many for step in steps)


def get_path(data: Any, steps: tuple[Step, ...]) -> Any:
    """The value at the path: a list when the path takes elements, else one value."""
    values = [data]
    for step in steps:
        values = [found for value in values for found in _apply(step, value)]
    if takes_many(steps):
        return values
    return values[0] if values else None


def _apply(step: Step, value: Any) -> list[Any]:
    if step.key:
        value = value.get(step.key) if isinstance(value, Mapping) else None
    if value is None:
        return []
    if step.index is not None:
        if isinstance(value, list) and -len(value) <= step.index < len(value):
            return [value[step.index]]
        return []
    if step.match is not None:
        key, wanted = step.match
        items = value if isinstance(value, list) else [value]
        return [
            item
            for item in items
            if isinstance(item, Mapping) and _text(item.get(key)) == wanted
        ]
    if step.every and isinstance(value, list):
        return [item for item in value if item is not None]
    return [value]


def _split(text: str) -> list[str]:
    parts, current, depth = [], "", 0
    for char in text:
        if char == "." and depth == 0:
            parts.append(current)
            current = ""
            continue
        depth += {"[": 1, "]": -1}.get(char, 0)
        current += char
    parts.append(current)
    return parts


def _step(part: str, text: str) -> Step:
    found = _STEP.match(part)
    if found is None or (not found["key"] and found["inner"] is None):
        raise PathError(
            f"cannot read the path {text!r} at {part!r}; write keys with dots, "
            "and [] or [0] or [key=value] after a list"
        )
    key, inner = found["key"] or None, found["inner"]
    if inner is None:
        return Step(key)
    inner = inner.strip()
    if not inner:
        return Step(key, every=True)
    if "=" in inner:
        name, wanted = inner.split("=", 1)
        return Step(key, match=(name.strip(), wanted.strip()))
    if re.fullmatch(r"-?\d+", inner):
        return Step(key, index=int(inner))
    raise PathError(
        f"cannot read [{inner}] in the path {text!r}; use [], [0] or [key=value]"
    )


def _text(value: Any) -> str:
    return "" if value is None else str(value).strip()

"""One value of a mapping: where it comes from and how it is read.

A value is given as a column name (``close_value``), a template with ``{column}``
placeholders (``"{meeting_id}:{turn_index}"``), a constant (``{value: USD}``), a
lookup into another file (``{lookup: products, key: product, column: sales_price}``)
or an object of such values (for JSON columns such as ``extra``). In JSON files a
column is a path (see ``paths``). ``$file`` (the file's name without extension),
``$path``, ``$index``, ``$line`` and ``$parent.<column>`` name where a record was
found. Options are checked against the store column a value fills, so that a typo
is reported with its place in the config before a single row is read.
"""

from __future__ import annotations

import re
from decimal import Decimal
from typing import Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from integrations.files.columns import Column, ValueType
from integrations.files.paths import PathError, compile_path

Format = Literal["csv", "json"]
Scalar = str | int | float | bool
PLACEHOLDER = re.compile(r"\{([^{}]+)\}")
SPECIALS = ("$file", "$path", "$index", "$line")
NUMBER_TYPES = ("int", "decimal", "float")
TIME_TYPES = ("date", "datetime")


class ValueSpec(BaseModel):
    """Where one value comes from and how to read it."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    column: str | None = None
    template: str | None = None
    value: Any = None
    lookup: str | None = None
    key: str | None = None
    object: dict[str, ValueSpec] | None = None

    pattern: str | None = None
    split: str | None = None
    map: dict[str, Any] | None = None
    default: Any = None
    unique: bool = False
    join: str | None = None
    type: ValueType | None = None
    format: list[str] = Field(default_factory=list)
    timezone: str | None = None
    scale: Decimal | None = None
    required: bool = False

    @model_validator(mode="before")
    @classmethod
    def _shorthand(cls, data: Any) -> Any:
        """A bare string is a column, or a template when it has ``{…}`` in it."""
        if isinstance(data, str):
            return {"template": data} if PLACEHOLDER.search(data) else {"column": data}
        return data

    @field_validator("format", mode="before")
    @classmethod
    def _one_format(cls, value: Any) -> Any:
        return [value] if isinstance(value, str) else value

    @field_validator("map", mode="before")
    @classmethod
    def _text_keys(cls, value: Any) -> Any:
        """YAML reads ``True: churned`` with a boolean key; the data has text."""
        if isinstance(value, dict):
            return {str(key): target for key, target in value.items()}
        return value

    @model_validator(mode="after")
    def _check(self) -> ValueSpec:
        self._check_origin()
        if self.pattern is not None:
            try:
                re.compile(self.pattern)
            except re.error as error:
                raise ValueError(
                    f"pattern {self.pattern!r} is not a regex: {error}"
                ) from None
        if self.template is not None and not PLACEHOLDER.search(self.template):
            raise ValueError(
                f"template {self.template!r} has no {{column}} placeholder; "
                "for a fixed text write {value: ...}"
            )
        if self.timezone is not None:
            check_zone(self.timezone)
        return self

    def _check_origin(self) -> None:
        origins = self.origins()
        if len(origins) != 1:
            raise ValueError(
                "give exactly one of column, template, value, lookup or object"
                + (f" (found {', '.join(origins)})" if origins else "")
            )
        if self.lookup is not None and (self.key is None or self.column is None):
            raise ValueError(
                f"lookup {self.lookup!r} needs `key:` (the column or template to look "
                "up) and `column:` (what to take from the lookup's row)"
            )
        if self.lookup is None and self.key is not None:
            raise ValueError("`key:` only goes with `lookup:`")

    def origins(self) -> list[str]:
        """Which of the ways to give a value are used (exactly one is allowed)."""
        found = ["column"] if self.column is not None and self.lookup is None else []
        found += [
            name
            for name in ("template", "lookup", "object")
            if getattr(self, name) is not None
        ]
        return found + (["value"] if "value" in self.model_fields_set else [])

    def columns(self) -> list[str]:
        """The row's columns this value reads (not the lookup's)."""
        if self.lookup is not None:
            return placeholders(self.key or "")
        if self.column is not None:
            return [self.column]
        if self.template is not None:
            return placeholders(self.template)
        return [c for spec in (self.object or {}).values() for c in spec.columns()]


class RefSpec(ValueSpec):
    """A pointer to another record: its id in ``source`` (this source by default), or
    for ``owner`` / ``rep`` someone in the sales org by ``email`` and/or ``name``."""

    source: str | None = None
    name: ValueSpec | None = None
    email: ValueSpec | None = None

    def _check_origin(self) -> None:
        if self.name is None and self.email is None:
            super()._check_origin()
            return
        if self.origins() or self.source is not None:
            raise ValueError(
                "a sales-org ref takes only `name:` and/or `email:` "
                "(reps are not per source)"
            )

    def is_rep(self) -> bool:
        """Whether this points at someone in the sales org rather than a record."""
        return self.name is not None or self.email is not None

    def columns(self) -> list[str]:
        if not self.is_rep():
            return super().columns()
        return [c for spec in (self.name, self.email) if spec for c in spec.columns()]


def lookups_in(spec: ValueSpec) -> list[ValueSpec]:
    """The lookups a value uses, including those inside an ``object:``."""
    found = [spec] if spec.lookup is not None else []
    for inner in (spec.object or {}).values():
        found += lookups_in(inner)
    return found


def check_spec(spec: ValueSpec, column: Column, fmt: Format, where: str) -> None:
    """Options must suit the column they fill, and columns must be readable."""
    kind: ValueType = spec.type or column.type
    if spec.type and column.type != "json" and spec.type != column.type:
        raise ValueError(
            f"{where} is a {column.type} column; remove `type: {spec.type}`"
        )
    if spec.format and kind not in TIME_TYPES:
        raise ValueError(f"{where}: `format:` is for dates and times, not {kind}")
    if spec.scale is not None and kind not in NUMBER_TYPES:
        raise ValueError(f"{where}: `scale:` is for numbers, not {kind}")
    if spec.object is not None and column.type != "json":
        raise ValueError(f"{where}: `object:` fills JSON columns such as extra")
    for name, inner in (spec.object or {}).items():
        check_spec(inner, Column(name, inner.type or "json"), fmt, f"{where}.{name}")
    for used in spec.columns():
        check_column(used, fmt)


def check_column(text: str, fmt: Format) -> None:
    """A column name (CSV), a path (JSON) or one of the ``$`` names."""
    if text.startswith("$parent."):
        if fmt != "json":
            raise ValueError(f"{text!r}: only JSON records have a parent")
        check_column(text.removeprefix("$parent."), fmt)
        return
    if text.startswith("$"):
        if text not in SPECIALS:
            raise ValueError(
                f"unknown name {text!r}; use one of {', '.join(SPECIALS)} "
                "or $parent.<column>"
            )
        return
    if fmt == "json":
        try:
            compile_path(text)
        except PathError as error:
            raise ValueError(str(error)) from error


def check_zone(name: str) -> None:
    """An IANA zone name, or an error that says how to write one."""
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as error:
        raise ValueError(
            f"unknown time zone {name!r}; use an IANA name such as America/Chicago"
        ) from error


def placeholders(template: str) -> list[str]:
    """``"{a}:{b}"`` → ``["a", "b"]``; a string without braces is one column."""
    found = PLACEHOLDER.findall(template)
    return [name.strip() for name in found] if found else [template]

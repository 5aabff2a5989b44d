"""Turning one row into one ``Record`` by the entry's mapping, or into a rejection.

Each value goes through the same steps, in the order an admin would expect: take it
(column, template, constant, lookup), cut it (``pattern``, ``split``), rename it
(``map``, ``default``), then read it as its column's type (``format``, ``scale``).
Every problem with a row is collected into one reason, so that one pass over a
rejected file shows everything that needs fixing.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from typing import Any
from zoneinfo import ZoneInfo

from context.records import AnyRef, Record, Ref, Rejection, RepRef
from integrations.files import values
from integrations.files.columns import Column, columns_of
from integrations.files.getters import (
    Getter,
    column_getter,
    spec_getter,
    template_getter,
)
from integrations.files.lookups import MISSING, LookupTable
from integrations.files.mapping import FileEntry
from integrations.files.readers import Row
from integrations.files.specs import Format, RefSpec, ValueSpec
from integrations.files.values import BadValue

# Ids and references are stored in String(255) columns.
ID_LENGTH = 255


class Value:
    """One compiled value of a mapping: ``read(row)`` or ``BadValue``."""

    def __init__(
        self,
        name: str,
        spec: ValueSpec,
        column: Column,
        fmt: Format,
        lookups: Mapping[str, LookupTable],
        zone: ZoneInfo,
    ) -> None:
        self.name, self.spec, self.column = name, spec, column
        self.zone = ZoneInfo(spec.timezone) if spec.timezone else zone
        self.pattern = re.compile(spec.pattern) if spec.pattern else None
        self.map = {_fold(k): v for k, v in (spec.map or {}).items()}
        self.place = _describe(spec)
        self.take = self._taker(fmt, lookups)
        self.parts = {
            key: Value(
                key, inner, Column(key, inner.type or "json"), fmt, lookups, zone
            )
            for key, inner in (spec.object or {}).items()
        }

    def read(self, row: Row) -> Any:
        """The typed value for ``row``; ``BadValue`` names the field and the cause."""
        try:
            raw = self.take(row)
            value = self._shape(raw)
            value = self._typed(value)
        except BadValue as error:
            raise BadValue(f"{self.name} from {self.place}: {error}") from None
        if value is None and (self.spec.required or self.column.required):
            if isinstance(raw, Missing):
                raise BadValue(
                    f"{self.name} is missing: {raw.key!r} is not in lookup "
                    f"{self.spec.lookup}"
                )
            raise BadValue(f"{self.name} is missing: {self.place} is empty")
        return value

    def _taker(self, fmt: Format, lookups: Mapping[str, LookupTable]) -> Getter:
        spec = self.spec
        if spec.object is not None:
            return self._object
        if spec.lookup is not None:
            return _lookup(lookups[spec.lookup], spec, fmt)
        if spec.template is not None:
            return template_getter(spec.template, fmt, strict=self.name == "id")
        if spec.column is not None:
            return column_getter(spec.column, fmt)
        constant = spec.value
        return lambda row: constant

    def _object(self, row: Row) -> dict[str, Any] | None:
        found = {key: part.read(row) for key, part in self.parts.items()}
        kept = {key: value for key, value in found.items() if value is not None}
        return kept or None

    def _shape(self, value: Any) -> Any:
        """pattern, split, map, default, unique: the steps before typing."""
        if isinstance(value, Missing) or (isinstance(value, str) and not value.strip()):
            value = None
        if value is not None and self.pattern is not None:
            value = _each(value, self._cut)
        if isinstance(value, str) and self.spec.split is not None:
            value = [part.strip() for part in value.split(self.spec.split)]
            value = [part for part in value if part] or None
        if value is not None and self.map:
            value = _each(value, self._rename)
        if value is None or value == []:
            value = self.spec.default
        if isinstance(value, list) and self.spec.unique:
            value = _unique(value)
        return value

    def _cut(self, value: Any) -> Any:
        assert self.pattern is not None
        found = self.pattern.search(str(value))
        if found is None:
            return None
        return found.group(1) if found.groups() else found.group(0)

    def _rename(self, value: Any) -> Any:
        folded = _fold(value)
        if folded in self.map:
            return self.map[folded]
        return self.spec.default if "default" in self.spec.model_fields_set else value

    def _typed(self, value: Any) -> Any:
        kind = self.spec.type or self.column.type
        if kind == "json":
            return values.json_safe(value)
        if isinstance(value, list):
            value = self._one(value)
        return _read(kind, value, self)

    def _one(self, items: list[Any]) -> Any:
        if self.spec.join is not None:
            return self.spec.join.join(str(i) for i in items if i is not None) or None
        if len(items) > 1:
            raise BadValue(
                f'{len(items)} values where one is needed; add `join: ", "` to '
                "combine them"
            )
        return items[0] if items else None


class Missing:
    """A lookup key that is not in the table; empty, but able to say which key."""

    def __init__(self, key: Any) -> None:
        self.key = key


def _lookup(table: LookupTable, spec: ValueSpec, fmt: Format) -> Getter:
    key_of, column = spec_getter(spec.key or "", fmt), spec.column or ""

    def find(row: Row) -> Any:
        key = key_of(row)
        found = table.find(key, column)
        return Missing(key) if found is MISSING else found

    return find


class RecordBuilder:
    """Builds the records of one file entry for one source."""

    def __init__(
        self,
        source: str,
        entry: FileEntry,
        lookups: Mapping[str, LookupTable],
        zone: ZoneInfo,
    ) -> None:
        fmt = entry.file_format
        columns = columns_of(entry.kind)
        self.source, self.kind = source, entry.kind
        self.id = Value(
            "id",
            entry.id,
            Column("id", "text", ID_LENGTH, required=True),
            fmt,
            lookups,
            zone,
        )
        self.fields = {
            name: Value(name, spec, columns[name], fmt, lookups, zone)
            for name, spec in entry.fields.items()
        }
        self.refs = {
            name: _ref_reader(source, name, spec, fmt, lookups, zone)
            for name, spec in entry.refs.items()
        }

    def build(self, row: Row) -> Record | Rejection:
        """The row's record, or a rejection listing every field that is wrong."""
        try:
            source_id = self.id.read(row)
        except BadValue as error:
            return Rejection(
                self.source, self.kind, row.origin, f"no usable id: {error}"
            )
        origin = f"{row.origin} ({source_id})"
        fields: dict[str, Any] = {}
        refs: dict[str, AnyRef] = {}
        problems: list[str] = []
        for name, value in self.fields.items():
            try:
                fields[name] = value.read(row)
            except BadValue as error:
                problems.append(str(error))
        for name, read_ref in self.refs.items():
            try:
                ref = read_ref(row)
            except BadValue as error:
                problems.append(str(error))
                continue
            if ref is not None:
                refs[name] = ref
        if problems:
            reason = "; ".join(problems)
            return Rejection(self.source, self.kind, origin, reason, str(source_id))
        return Record(self.kind, self.source, str(source_id), fields, refs, origin)


RefReader = Callable[[Row], Ref | RepRef | None]


def _ref_reader(
    source: str,
    name: str,
    spec: RefSpec,
    fmt: Format,
    lookups: Mapping[str, LookupTable],
    zone: ZoneInfo,
) -> RefReader:
    def text(part: ValueSpec, label: str) -> Value:
        return Value(label, part, Column(label, "text", ID_LENGTH), fmt, lookups, zone)

    if spec.is_rep():
        by_name = text(spec.name, name) if spec.name else None
        by_email = text(spec.email, name) if spec.email else None

        def rep(row: Row) -> RepRef | None:
            who = by_name.read(row) if by_name else None
            email = by_email.read(row) if by_email else None
            return RepRef(email=email, name=who) if who or email else None

        return rep

    target, value = spec.source or source, text(spec, name)

    def ref(row: Row) -> Ref | None:
        found = value.read(row)
        return None if found is None else Ref(target, str(found))

    return ref


def _read(kind: str, value: Any, value_spec: Value) -> Any:
    column, spec = value_spec.column, value_spec.spec
    if kind == "text":
        return values.read_text(value, column.length)
    if kind == "bool":
        return values.read_bool(value)
    if kind == "date":
        return values.read_date(value, value_spec.zone, spec.format)
    if kind == "datetime":
        return values.read_datetime(value, value_spec.zone, spec.format)
    number = values.read_decimal(value)
    if number is not None and spec.scale is not None:
        number *= spec.scale
    if kind == "int":
        return values.read_int(number)
    if kind == "float":
        return values.read_float(number)
    if column.places is not None and number is not None:
        digits = (column.digits or 16) - column.places
        return values.read_money(number, column.places, digits)
    return number


def _unique(items: list[Any]) -> list[Any]:
    """First appearances in order; JSON items may be unhashable, so no set."""
    kept: list[Any] = []
    for item in items:
        if item not in kept:
            kept.append(item)
    return kept


def _each(value: Any, change: Callable[[Any], Any]) -> Any:
    if isinstance(value, list):
        return [change(item) for item in value]
    return change(value)


def _fold(value: Any) -> str:
    return " ".join(str(value).casefold().split())


def _describe(spec: ValueSpec) -> str:
    if spec.lookup is not None:
        return f"lookup {spec.lookup} by {spec.key}"
    if spec.template is not None:
        return f"template {spec.template!r}"
    if spec.column is not None:
        return spec.column if spec.column.startswith("$") else f"column {spec.column}"
    return "the constant" if spec.object is None else "object"

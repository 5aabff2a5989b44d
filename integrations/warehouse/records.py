"""One result row as one record, by a query's column layout.

Columns are found without regard to case: Snowflake returns unquoted names in
upper case, PostgreSQL in lower case, and the admin writes either. A row that
cannot be read becomes a ``Rejection`` naming the query and the row's number.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

from context.records import AnyRef, Match, Record, Ref, Rejection, RepRef
from integrations.errors import SourceError
from integrations.files.values import BadValue
from integrations.warehouse.queries import COMMON, FIELDS, Query, RefSpec
from integrations.warehouse.values import READERS, id_text, json_value

ID_JOIN = "|"  # between the parts of an id made of several columns


class ColumnsMissing(SourceError):
    """The query's result lacks columns its config needs."""


@dataclass(frozen=True)
class Layout:
    """Where each needed value sits in a row of one query's result."""

    query: Query
    source: str
    zone: ZoneInfo
    index: dict[str, int]
    fields: tuple[tuple[str, int, str], ...]  # (field, column index, reader name)

    @classmethod
    def of(
        cls, query: Query, source: str, zone: ZoneInfo, columns: Sequence[str]
    ) -> Layout:
        """The layout of a result with ``columns``; needed ones must be there."""
        index = _index(columns)
        missing = [c for c in query.needed_columns() if c.casefold() not in index]
        if missing:
            wanted = ", ".join(map(repr, missing))
            returned = ", ".join(map(str, columns)) or "no columns"
            raise ColumnsMissing(
                f"query {query.name!r} returns no column {wanted}; it returns "
                f"{returned}: rename them in the SQL (AS …) or map them with `fields:`"
            )
        return cls(query, source, zone, index, _fields(query, index))

    def record(self, row: Sequence[Any], number: int) -> Record | Rejection:
        origin = f"query {self.query.name!r} row {number}"
        try:
            return self._record(row, origin)
        except BadValue as error:
            return Rejection(self.source, self.query.kind, origin, str(error))

    def _record(self, row: Sequence[Any], origin: str) -> Record:
        query = self.query
        fields: dict[str, Any] = {}
        for name, at, reader in self.fields:
            try:
                fields[name] = READERS[reader](row[at], self.zone)
            except BadValue as error:
                raise BadValue(f"{name}: {error}") from None
        if query.extra:
            fields["extra"] = {
                c: json_value(self._at(row, c), self.zone) for c in query.extra
            }
        refs: dict[str, AnyRef] = {}
        for name in ("account", "person", "deal", "subscription", "owner"):
            ref = self._ref(row, name, getattr(query, name))
            if ref is not None:
                refs[name] = ref
        links = tuple(
            link for spec in query.links if (link := self._ref(row, "link", spec))
        )
        return Record(
            kind=query.kind,
            source=self.source,
            source_id=self._id(row),
            fields=fields,
            refs=refs,
            origin=origin,
            links=links,  # type: ignore[arg-type]
        )

    def _id(self, row: Sequence[Any]) -> str:
        parts = []
        for column in self.query.id:
            part = id_text(self._at(row, column))
            if part is None:
                raise BadValue(f"the id column {column!r} is empty")
            parts.append(part)
        return ID_JOIN.join(parts)

    def _ref(
        self, row: Sequence[Any], name: str, spec: RefSpec | None
    ) -> AnyRef | None:
        if spec is None:
            return None
        if spec.column:
            value = id_text(self._at(row, spec.column))
            return None if value is None else Ref(spec.source or self.source, value)
        emails, domains, names = (
            self._texts(row, spec.email),
            self._texts(row, spec.domain),
            self._texts(row, spec.name),
        )
        if name == "owner":
            if not (emails or names):
                return None
            return RepRef(email=next(iter(emails), None), name=next(iter(names), None))
        if not (emails or domains or names):
            return None
        return Match(emails=emails, domains=domains, names=names)

    def _texts(self, row: Sequence[Any], column: str | None) -> tuple[str, ...]:
        value = id_text(self._at(row, column)) if column else None
        return () if value is None else (value,)

    def _at(self, row: Sequence[Any], column: str) -> Any:
        return row[self.index[column.casefold()]]


def _index(columns: Sequence[str]) -> dict[str, int]:
    """Column positions by folded name; the first of two equal names wins."""
    index: dict[str, int] = {}
    for at, column in enumerate(columns):
        index.setdefault(str(column).casefold(), at)
    return index


def _fields(query: Query, index: dict[str, int]) -> tuple[tuple[str, int, str], ...]:
    """Each field the result has: by the `fields:` mapping, else by its own name."""
    readers = FIELDS[query.kind] | COMMON
    found = {
        field: index[field.casefold()] for field in readers if field.casefold() in index
    }
    for column, field in query.fields.items():
        found[field] = index[column.casefold()]
    return tuple((field, at, readers[field]) for field, at in found.items())

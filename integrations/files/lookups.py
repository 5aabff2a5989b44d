"""Small tables read whole, that other files' values look up by key.

A price list, a subscription → account table, a meeting's summary by meeting id. Only
the columns some value takes are kept, so a lookup over large JSON files holds a few
strings per key, not the files. Keys are compared folded. Two rows with one key and
different values make that key ambiguous: a value looking it up is rejected with
both places, rather than quietly taking either.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from integrations.errors import SourceError
from integrations.files.getters import (
    column_getter,
    fold_key,
    spec_getter,
    where_filter,
)
from integrations.files.mapping import LookupSpec
from integrations.files.readers import (
    FileProblem,
    csv_header,
    csv_rows,
    json_rows,
    resolve,
)
from integrations.files.specs import placeholders
from integrations.files.values import BadValue

logger = logging.getLogger(__name__)

MISSING = object()


@dataclass
class LookupTable:
    """A lookup's rows by folded key, and the keys asked for that were not there."""

    name: str
    files: str
    rows: dict[str, dict[str, Any]] = field(default_factory=dict)
    origins: dict[str, str] = field(default_factory=dict)
    ambiguous: dict[str, str] = field(default_factory=dict)
    missed: dict[str, int] = field(default_factory=dict)

    def find(self, key: Any, column: str) -> Any:
        """The value of ``column`` in the row for ``key``, or ``MISSING``."""
        folded = fold_key(key)
        if folded in self.ambiguous:
            raise BadValue(
                f"{key!r} is in lookup {self.name!r} more than once with different "
                f"values ({self.ambiguous[folded]})"
            )
        row = self.rows.get(folded)
        if row is None:
            self.missed[str(key)] = self.missed.get(str(key), 0) + 1
            return MISSING
        return row.get(column)

    def warn_missed(self) -> None:
        """A key that finds nothing leaves its value empty; say so once, with some
        of the keys, so a gap in a lookup file does not go unnoticed."""
        if self.missed:
            examples = ", ".join(repr(key) for key in list(self.missed)[:5])
            logger.warning(
                "lookup %s (%s): %d look-ups of %d keys found nothing, e.g. %s",
                self.name,
                self.files,
                sum(self.missed.values()),
                len(self.missed),
                examples,
            )


def load_lookup(
    name: str, spec: LookupSpec, data_root: Path, columns: set[str]
) -> LookupTable:
    """Read every file of a lookup, keeping ``columns`` of each row by its key."""
    files = resolve(spec, data_root)
    table = LookupTable(name, ", ".join(rel for _, rel in files))
    key_of = spec_getter(spec.key, spec.file_format)
    getters = {column: column_getter(column, spec.file_format) for column in columns}
    keep = where_filter(spec.where, spec.file_format)
    for path, relative in files:
        if spec.file_format == "csv":
            _check_header(path, spec, relative, {spec.key, *columns})
        reader = csv_rows if spec.file_format == "csv" else json_rows
        for row in reader(path, relative, spec):
            if isinstance(row, FileProblem):
                raise SourceError(f"lookup {name!r}: {row.file} {row.reason}")
            if not keep(row):
                continue
            key = fold_key(key_of(row))
            if key:
                _add(
                    table, key, {c: get(row) for c, get in getters.items()}, row.origin
                )
    shown = table.files if len(files) <= 3 else f"{len(files)} files ({files[0][1]}, …)"
    logger.info("lookup %s: %d keys from %s", name, len(table.rows), shown)
    return table


def _add(table: LookupTable, key: str, values: dict[str, Any], origin: str) -> None:
    known = table.rows.get(key)
    if known is None:
        table.rows[key] = values
        table.origins[key] = origin
    elif known != values and key not in table.ambiguous:
        table.ambiguous[key] = f"{table.origins[key]} and {origin}"


def _check_header(
    path: Path, spec: LookupSpec, relative: str, wanted: set[str]
) -> None:
    header = set(csv_header(path, spec))
    needed = {c for text in wanted for c in placeholders(text) if not c.startswith("$")}
    missing = sorted(needed - header)
    if missing:
        raise SourceError(
            f"{relative} has no column {', '.join(missing)}; its columns are "
            f"{', '.join(sorted(header))}"
        )

"""The ``files`` source: every entry of a mapping, read in the order the store loads.

Everything that can make the whole source unusable (a missing file, a CSV without a
mapped column, a lookup that cannot be read) is checked before the first record is
handed over, so a bad mapping loads nothing rather than half. After that, a bad row
is a rejection and the rest still loads. Records of one kind from every entry come
together, kinds in ``KINDS`` order, because the loader resolves references only to
kinds it has already loaded.
"""

from __future__ import annotations

import logging
import time
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal
from zoneinfo import ZoneInfo

from context.clock import Clock
from context.records import KINDS, Record, Rejection
from integrations.errors import SourceError
from integrations.files.convert import RecordBuilder
from integrations.files.getters import where_filter
from integrations.files.lookups import LookupTable, load_lookup
from integrations.files.mapping import FileEntry, FilesSource, entry_specs
from integrations.files.readers import (
    FileProblem,
    Row,
    csv_header,
    csv_rows,
    json_rows,
    resolve,
)
from integrations.files.specs import lookups_in, placeholders

logger = logging.getLogger(__name__)


@dataclass
class Entry:
    """A file entry with its files found and its mapping compiled."""

    entry: FileEntry
    files: list[tuple[Path, str]]
    build: RecordBuilder
    keep: Callable[[Row], bool]


@dataclass
class Seen:
    """Ids already handed over per kind, to refuse a second record with the same id.

    The loader would otherwise update the first with the second, and a re-run would
    flip between them. For ``distinct`` entries (a manager repeated on each of their
    reps' rows) an identical repeat is the same record and is merged.
    """

    ids: dict[str, dict[str, tuple[str, str | None]]] = field(default_factory=dict)

    def check(
        self, record: Record, distinct: bool
    ) -> Literal["new", "merged"] | Rejection:
        """A new id, a merged repeat of a distinct record, or a rejection."""
        known = self.ids.setdefault(record.kind, {})
        mark = repr((sorted(record.fields.items()), sorted(record.refs.items())))
        first = known.get(record.source_id)
        if first is None:
            known[record.source_id] = (record.origin, mark if distinct else None)
            return "new"
        if distinct and first[1] == mark:
            return "merged"
        reason = (
            f"id {record.source_id!r} was already read at {first[0]}"
            + (" with other values" if distinct else "")
            + "; ids must be unique within a source (mark the entry `distinct: true` "
            "if its rows repeat the same record)"
        )
        return Rejection(
            record.source, record.kind, record.origin, reason, record.source_id
        )


def read_files(
    source: FilesSource, data_root: Path, clock: Clock
) -> Iterator[Record | Rejection]:
    """Check and compile the mapping now; stream the records when asked."""
    del clock  # files carry their own dates; "now" does not change what they say
    zone = ZoneInfo(source.timezone)
    lookups = _load_lookups(source, data_root)
    entries = [
        _prepare(source, number, entry, data_root, lookups, zone)
        for number, entry in enumerate(source.files)
    ]
    return _stream(source.name, entries, lookups)


def _stream(
    source: str, entries: list[Entry], lookups: dict[str, LookupTable]
) -> Iterator[Record | Rejection]:
    seen = Seen()
    for kind in KINDS:
        for item in entries:
            if item.entry.kind == kind:
                for path, name in item.files:
                    yield from _read_file(source, item, path, name, seen)
    for table in lookups.values():
        table.warn_missed()


def _read_file(
    source: str, item: Entry, path: Path, name: str, seen: Seen
) -> Iterator[Record | Rejection]:
    started, tally = time.monotonic(), Counter[str]()
    reader = json_rows if item.entry.file_format == "json" else csv_rows
    for row in reader(path, name, item.entry):
        outcome, found = _take(source, item, row, seen)
        tally[outcome] += 1
        if found is not None:
            yield found
    logger.info(
        "read %s as %s for %s in %.0f ms: %d records, %d rejected, %d repeats merged,"
        " %d not selected by where",
        name,
        item.entry.kind,
        source,
        (time.monotonic() - started) * 1000,
        tally["read"],
        tally["rejected"],
        tally["merged"],
        tally["skipped"],
    )


def _take(
    source: str, item: Entry, row: Row | FileProblem, seen: Seen
) -> tuple[str, Record | Rejection | None]:
    """What one row becomes, with the tally it counts under."""
    if isinstance(row, FileProblem):
        return "rejected", Rejection(source, item.entry.kind, row.file, row.reason)
    if not item.keep(row):
        return "skipped", None
    built = item.build.build(row)
    if isinstance(built, Rejection):
        return "rejected", built
    verdict = seen.check(built, item.entry.distinct)
    if isinstance(verdict, Rejection):
        return "rejected", verdict
    return ("merged", None) if verdict == "merged" else ("read", built)


def _prepare(
    source: FilesSource,
    number: int,
    entry: FileEntry,
    data_root: Path,
    lookups: dict[str, LookupTable],
    zone: ZoneInfo,
) -> Entry:
    where = f"files[{number}] ({entry.kind} from {entry.path})"
    try:
        files = resolve(entry, data_root)
        if entry.file_format == "csv":
            for path, name in files:
                _check_columns(path, name, entry)
    except SourceError as error:
        raise SourceError(f"source {source.name!r} {where}: {error}") from error
    build = RecordBuilder(source.name, entry, lookups, zone)
    return Entry(entry, files, build, where_filter(entry.where, entry.file_format))


def _check_columns(path: Path, name: str, entry: FileEntry) -> None:
    header = csv_header(path, entry)
    used = {c for _, spec in entry_specs(entry) for c in spec.columns()}
    used |= set(entry.where)
    needed = {c for text in used for c in placeholders(text) if not c.startswith("$")}
    missing = sorted(needed - set(header))
    if missing:
        raise SourceError(
            f"{name} has no column {', '.join(repr(m) for m in missing)}; its columns "
            f"are {', '.join(header)}. Fix the mapping or the file"
        )


def _load_lookups(source: FilesSource, data_root: Path) -> dict[str, LookupTable]:
    """Read each lookup some value uses, keeping only the columns taken from it."""
    wanted: dict[str, set[str]] = {}
    for entry in source.files:
        for _, spec in entry_specs(entry):
            for used in lookups_in(spec):
                wanted.setdefault(used.lookup or "", set()).add(used.column or "")
    tables = {}
    for name, columns in wanted.items():
        try:
            tables[name] = load_lookup(name, source.lookups[name], data_root, columns)
        except SourceError as error:
            raise SourceError(
                f"source {source.name!r} lookup {name!r}: {error}"
            ) from error
    return tables

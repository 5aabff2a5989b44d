"""Rows out of CSV and JSON files, each knowing exactly where it was found.

CSV is streamed row by row; a JSON file is read whole (one export, one document) and
its records are walked along the entry's ``records`` path. Every row carries its
origin (``sales_pipeline.csv:12``, ``x.json response.records[3]``) so that a rejected
row can be found again.
"""

from __future__ import annotations

import csv
import glob
import json
import logging
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from integrations.errors import SourceError
from integrations.files.mapping import FileOptions
from integrations.files.paths import Step, compile_path

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Row:
    """One record as read, with where it came from."""

    data: Mapping[str, Any]
    file: str  # relative to the data root, as the admin wrote it
    place: str  # "12" (a CSV line) or "records[3]" (a JSON location)
    index: int  # position among the records of its list or file
    line: int | None = None
    parent: Row | None = None

    @property
    def origin(self) -> str:
        """Where to find the row again: ``file:line`` or ``file json.location``."""
        if self.line is not None:
            return f"{self.file}:{self.line}"
        return f"{self.file} {self.place}".rstrip()


@dataclass(frozen=True)
class FileProblem:
    """A file that cannot be read at all (not JSON, no records list)."""

    file: str
    reason: str


def resolve(options: FileOptions, data_root: Path) -> list[tuple[Path, str]]:
    """The files an entry names: one path, or every match of a glob, sorted."""
    pattern = options.path
    if _glob(pattern):
        found = glob.glob(pattern, root_dir=data_root, recursive=True)
        paths = [data_root / match for match in sorted(found)]
    else:
        paths = [data_root / pattern]
    paths = [path for path in paths if path.is_file()]
    if not paths:
        what = "no file matches" if _glob(pattern) else "there is no file"
        raise SourceError(
            f"{what} {pattern!r} under {data_root}; check the path, or point "
            "data_root (or FORESIGHT_DATA_ROOT) at the folder that holds it"
        )
    return [(path, _relative(path, data_root)) for path in paths]


def csv_header(path: Path, options: FileOptions) -> list[str]:
    """The header row, to check a mapping against before anything is loaded."""
    with _open(path, options) as handle:
        try:
            return next(csv.reader(handle, delimiter=options.delimiter), [])
        except (csv.Error, UnicodeDecodeError) as error:
            raise SourceError(f"cannot read the header of {path}: {error}") from error


def csv_rows(
    path: Path, name: str, options: FileOptions
) -> Iterator[Row | FileProblem]:
    """Rows as dicts by header; a row of the wrong width is a problem, not data."""
    with _open(path, options) as handle:
        reader = csv.reader(handle, delimiter=options.delimiter)
        header = next(reader, [])
        start, index = reader.line_num + 1, 0
        try:
            for values in reader:
                line, start = start, reader.line_num + 1
                if not any(value.strip() for value in values):
                    continue
                if len(values) != len(header):
                    yield FileProblem(
                        f"{name}:{line}",
                        f"has {len(values)} values but the header has "
                        f"{len(header)} columns",
                    )
                    continue
                yield Row(dict(zip(header, values, strict=True)), name, "", index, line)
                index += 1
        except (csv.Error, UnicodeDecodeError) as error:
            raise SourceError(
                f"cannot read {name} after line {start - 1}: {error}; "
                "check the file (and `encoding:` / `delimiter:` in the mapping)"
            ) from error


def json_rows(
    path: Path, name: str, options: FileOptions
) -> Iterator[Row | FileProblem]:
    """The records at the entry's ``records`` path; without one, the whole document
    is one record (or each element, if it is a list)."""
    try:
        with _open(path, options) as handle:
            document = json.load(handle)
    except (json.JSONDecodeError, UnicodeDecodeError) as error:
        yield FileProblem(name, f"is not valid JSON: {error}")
        return
    if options.records is None:
        yield from _walk(document, name, "", None, ())
        return
    levels = _levels(options.records)
    first = _follow(document, levels[0])
    if first is None:
        yield FileProblem(name, f"has no {options.records!r} in it")
        return
    yield from _walk(first, name, _label(levels[0]), None, levels[1:])


def _walk(
    value: Any,
    file: str,
    place: str,
    parent: Row | None,
    rest: tuple[tuple[Step, ...], ...],
) -> Iterator[Row | FileProblem]:
    items = value if isinstance(value, list) else [value]
    for index, item in enumerate(items):
        here = f"{place}[{index}]" if isinstance(value, list) else place
        if not isinstance(item, Mapping):
            yield FileProblem(f"{file} {here}".rstrip(), "is not a JSON object")
            continue
        row = Row(item, file, here, index, None, parent)
        if not rest:
            yield row
            continue
        children = _follow(item, rest[0])
        if children is not None:
            label = f"{here}.{_label(rest[0])}"
            yield from _walk(children, file, label, row, rest[1:])


def _levels(records: str) -> tuple[tuple[Step, ...], ...]:
    """``response.records[].Contacts.records`` → the steps to each nested list.

    The mapping allows only keys and ``[]`` in a records path.
    """
    levels: list[tuple[Step, ...]] = [()]
    for step in compile_path(records):
        if step.every and step.key is not None:
            levels[-1] += (Step(step.key),)
            levels.append(())
        elif step.every:
            levels.append(())
        else:
            levels[-1] += (step,)
    return tuple(level for level in levels if level) or ((),)


def _follow(value: Any, steps: tuple[Step, ...]) -> Any:
    for step in steps:
        if not isinstance(value, Mapping) or step.key is None:
            return None
        value = value.get(step.key)
    return value


def _label(steps: tuple[Step, ...]) -> str:
    return ".".join(step.key or "" for step in steps)


def _open(path: Path, options: FileOptions) -> Any:
    try:
        return path.open(encoding=options.encoding, newline="")
    except LookupError as error:
        raise SourceError(
            f"unknown encoding {options.encoding!r} for {path}"
        ) from error
    except OSError as error:
        raise SourceError(f"cannot open {path}: {error.strerror}") from error


def _glob(pattern: str) -> bool:
    return any(char in pattern for char in "*?[")


def _relative(path: Path, root: Path) -> str:
    try:
        return path.relative_to(root).as_posix()
    except ValueError:
        return path.as_posix()

"""The mapping a RevOps admin writes by hand: which file holds which records, which
column is which field (see ``specs`` for how one value is given), and where the
records are in a JSON file.

Everything is checked here against the store's own columns: a field the store does
not have, a ref a kind cannot carry or a required field left unmapped is reported
with its place in the config before a single row is read.
"""

from __future__ import annotations

from pathlib import PurePosixPath
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from integrations.files.columns import (
    REP_REFS,
    Column,
    columns_of,
    kinds,
    refs_of,
    required_of,
)
from integrations.files.paths import PathError, compile_path
from integrations.files.specs import (
    Format,
    RefSpec,
    Scalar,
    ValueSpec,
    check_column,
    check_spec,
    check_zone,
    lookups_in,
    placeholders,
)
from integrations.source import SourceConfig


class FileOptions(BaseModel):
    """Which files to read and where the records are in them."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    path: str = Field(min_length=1)
    format: Format | None = None
    records: str | None = None
    where: dict[str, Scalar | list[Scalar]] = Field(default_factory=dict)
    delimiter: str = Field(",", min_length=1, max_length=1)
    encoding: str = "utf-8-sig"

    @model_validator(mode="before")
    @classmethod
    def _format_from_name(cls, data: Any) -> Any:
        if not isinstance(data, dict) or data.get("format") or "path" not in data:
            return data
        suffix = PurePosixPath(str(data["path"])).suffix.lower().lstrip(".")
        if suffix not in ("csv", "json"):
            raise ValueError(
                f"cannot tell the format of {data['path']!r} from its name; "
                "add `format: csv` or `format: json`"
            )
        return {**data, "format": suffix}

    @model_validator(mode="after")
    def _check_format(self) -> FileOptions:
        if self.records is not None:
            self._check_records(self.records)
        for column in self.where:
            check_column(column, self.file_format)
        return self

    def _check_records(self, records: str) -> None:
        if self.format != "json":
            raise ValueError("`records:` is a path inside JSON files; CSV has rows")
        try:
            steps = compile_path(records)
        except PathError as error:
            raise ValueError(f"records: {error}") from error
        if any(step.index is not None or step.match for step in steps):
            raise ValueError(
                f"records: {records!r} may use keys and [] only, such as "
                "response.records[].Contacts.records; filter with `where:`"
            )

    @property
    def file_format(self) -> Format:
        """The format, known after validation (from the name if not given)."""
        return "json" if self.format == "json" else "csv"


class LookupSpec(FileOptions):
    """A small table read whole, whose rows other files' values can look up by key.

    Keys are compared folded (case, spaces and punctuation ignored), so ``GTXPro``
    finds ``GTX Pro``.
    """

    key: str = Field(min_length=1)

    @model_validator(mode="after")
    def _check_key(self) -> LookupSpec:
        for column in placeholders(self.key):
            check_column(column, self.file_format)
        return self


class FileEntry(FileOptions):
    """One kind of record read from one file or a glob of files."""

    kind: str
    id: ValueSpec
    fields: dict[str, ValueSpec] = Field(default_factory=dict)
    refs: dict[str, RefSpec] = Field(default_factory=dict)
    distinct: bool = False

    @field_validator("kind")
    @classmethod
    def _known_kind(cls, kind: str) -> str:
        if kind not in kinds():
            raise ValueError(
                f"{kind!r} is not a record kind; use one of: {', '.join(kinds())}"
            )
        return kind

    @model_validator(mode="before")
    @classmethod
    def _rep_shorthand(cls, data: Any) -> Any:
        """``owner: sales_agent`` means the rep whose name is in that column."""
        if isinstance(data, dict) and isinstance(data.get("refs"), dict):
            refs = {
                name: {"name": spec}
                if name in REP_REFS and isinstance(spec, str)
                else spec
                for name, spec in data["refs"].items()
            }
            return {**data, "refs": refs}
        return data

    @model_validator(mode="after")
    def _check_against_store(self) -> FileEntry:
        columns = columns_of(self.kind)
        for name, spec in self.fields.items():
            if name not in columns:
                raise ValueError(_unknown_field(self.kind, name, columns))
            check_spec(spec, columns[name], self.file_format, f"fields.{name}")
        self._check_refs()
        self._check_required()
        check_spec(self.id, Column("id", "text"), self.file_format, "id")
        return self

    def _check_refs(self) -> None:
        allowed = refs_of(self.kind)
        for name, spec in self.refs.items():
            if name not in allowed:
                raise ValueError(
                    f"a {self.kind} record has no ref {name!r}; "
                    f"it can have: {', '.join(sorted(allowed)) or 'none'}"
                )
            if spec.is_rep() != (name in REP_REFS):
                form = "name: and/or email:" if name in REP_REFS else "a column"
                raise ValueError(f"refs.{name} points by {form}")
            for part in (spec.name, spec.email) if spec.is_rep() else (spec,):
                if part is not None:
                    check_spec(
                        part, Column(name, "text"), self.file_format, f"refs.{name}"
                    )

    def _check_required(self) -> None:
        given = set(self.fields) | set(self.refs)
        if "subscription" in self.refs:
            given.add("account")
        missing = sorted(
            filler for filler in required_of(self.kind).values() if filler not in given
        )
        if missing:
            raise ValueError(
                f"a {self.kind} record needs {', '.join(missing)}; map "
                + " and ".join(f"`{m}`" for m in missing)
                + " under fields: or refs:"
            )


class FilesSource(SourceConfig):
    """CSV and JSON exports read through a mapping (``kind: files``)."""

    kind: Literal["files"]
    timezone: str = "UTC"
    lookups: dict[str, LookupSpec] = Field(default_factory=dict)
    files: list[FileEntry] = Field(min_length=1)

    @model_validator(mode="after")
    def _check_lookups(self) -> FilesSource:
        check_zone(self.timezone)
        for index, entry in enumerate(self.files):
            for where, spec in entry_specs(entry):
                for used in lookups_in(spec):
                    if used.lookup not in self.lookups:
                        raise ValueError(
                            f"files[{index}] {where} looks up {used.lookup!r}, which "
                            "is not under `lookups:`; known: "
                            + (", ".join(sorted(self.lookups)) or "none")
                        )
                    check_column(
                        used.column or "", self.lookups[used.lookup].file_format
                    )
        return self


def entry_specs(entry: FileEntry) -> list[tuple[str, ValueSpec]]:
    """Every value an entry reads, with where it sits in the entry."""
    specs: list[tuple[str, ValueSpec]] = [("id", entry.id)]
    specs += [(f"fields.{name}", spec) for name, spec in entry.fields.items()]
    for name, ref in entry.refs.items():
        parts = (ref.name, ref.email) if ref.is_rep() else (ref,)
        specs += [(f"refs.{name}", part) for part in parts if part is not None]
    return specs


def _unknown_field(kind: str, name: str, columns: dict[str, Column]) -> str:
    if name.endswith("_id") and name.removesuffix("_id") in refs_of(kind):
        return f"{name} comes from a ref: map it under refs: as {name[:-3]}"
    return (
        f"a {kind} record has no field {name!r}; it has: {', '.join(columns)} "
        "(references go under refs:)"
    )

"""Source kinds by name: how a config's ``kind:`` is checked and read.

Built-in kinds register here the same way another one would: a settings model (the
keys its config entry may have) and a reader (settings, data root, clock → records).
"""

from __future__ import annotations

import importlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from pydantic import Field

from context.clock import Clock
from context.records import Record, Rejection
from integrations.errors import ConfigError, SourceError
from integrations.files.mapping import FilesSource
from integrations.files.source import read_files
from integrations.source import SourceConfig, SourceReader


@dataclass(frozen=True)
class SourceKind:
    """A kind's settings model (its config keys) and its reader."""

    settings: type[SourceConfig]
    read: SourceReader


class SyntheticSource(SourceConfig):
    """Generated demo accounts (``kind: synthetic``), the same for the same seed."""

    kind: Literal["synthetic"]
    accounts: int = Field(25, ge=1, le=100_000)
    seed: int = 7


def read_synthetic(
    source: SyntheticSource, data_root: Path, clock: Clock
) -> Iterator[Record | Rejection]:
    """Imported only when used: the generator is a separate, optional module."""
    del data_root
    try:
        module: Any = importlib.import_module("integrations.synthetic")
    except ImportError as error:
        raise SourceError(
            f"source {source.name!r}: the synthetic generator is not available "
            f"({error}); install Foresight fully or remove this source"
        ) from error
    records: Iterator[Record] = module.generate(
        source.accounts, seed=source.seed, today=clock.today(), source=source.name
    )
    return iter(records)


SOURCE_KINDS: dict[str, SourceKind] = {}


def register(name: str, settings: type[SourceConfig], read: SourceReader) -> None:
    """Make ``kind: name`` usable in configs."""
    SOURCE_KINDS[name] = SourceKind(settings, read)


def source_kind(name: str) -> SourceKind:
    """The registered kind ``name``; an unknown one lists the known kinds."""
    kind = SOURCE_KINDS.get(name)
    if kind is None:
        known = ", ".join(sorted(SOURCE_KINDS))
        raise ConfigError(f"unknown source kind {name!r}; use one of: {known}")
    return kind


def reader(name: str) -> SourceReader:
    """The function that reads sources of kind ``name``."""
    return source_kind(name).read


def read_source(
    source: SourceConfig, data_root: Path, clock: Clock
) -> Iterator[Record | Rejection]:
    """The records of one configured source, whatever its kind."""
    return source_kind(source.kind).read(source, data_root, clock)


register("files", FilesSource, read_files)
register("synthetic", SyntheticSource, read_synthetic)

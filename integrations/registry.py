"""Source kinds by name: how a config's ``kind:`` is checked and read.

Built-in kinds register here the same way another one would: a settings model (the
keys its config entry may have) and a reader (settings, data root, clock → records),
or for a live source a reader that starts from the stored cursor (settings, sync
state, clock → records).

Live vendors are imported only when a config names them (``LIVE_MODULES``): each
module has ``SETTINGS`` (its settings model) and ``read`` (its live reader), so a
config that uses only files never loads a vendor client.
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
from integrations.source import LiveReader, SourceConfig, SourceReader, SyncState


@dataclass(frozen=True)
class SourceKind:
    """A kind's settings model (its config keys) and its reader, one of the two."""

    settings: type[SourceConfig]
    read: SourceReader | None = None
    read_live: LiveReader | None = None


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

# kind → the module that implements it (``SETTINGS`` and ``read``)
LIVE_MODULES = {
    "hubspot": "integrations.hubspot.source",
    "salesforce": "integrations.salesforce.source",
    "gong": "integrations.gong.source",
    "stripe": "integrations.stripe.source",
    "google_calendar": "integrations.google_calendar.source",
    "warehouse": "integrations.warehouse.source",
}


def known_kinds() -> list[str]:
    """Every kind a config may name, registered or importable."""
    return sorted(set(SOURCE_KINDS) | set(LIVE_MODULES))


def register(name: str, settings: type[SourceConfig], read: SourceReader) -> None:
    """Make ``kind: name`` usable in configs."""
    SOURCE_KINDS[name] = SourceKind(settings, read=read)


def register_live(name: str, settings: type[SourceConfig], read: LiveReader) -> None:
    """Make ``kind: name`` usable for a source synced incrementally from a cursor."""
    SOURCE_KINDS[name] = SourceKind(settings, read_live=read)


def source_kind(name: str) -> SourceKind:
    """The registered kind ``name``; an unknown one lists the known kinds."""
    kind = SOURCE_KINDS.get(name)
    if kind is None and name in LIVE_MODULES:
        kind = _import_live(name)
    if kind is None:
        known = ", ".join(known_kinds())
        raise ConfigError(f"unknown source kind {name!r}; use one of: {known}")
    return kind


def _import_live(name: str) -> SourceKind:
    module: Any = importlib.import_module(LIVE_MODULES[name])
    register_live(name, module.SETTINGS, module.read)
    return SOURCE_KINDS[name]


def reader(name: str) -> SourceReader:
    """The function that reads file-like sources of kind ``name``."""
    read = source_kind(name).read
    if read is None:
        raise ConfigError(f"source kind {name!r} is live: it reads from a cursor")
    return read


def read_source(
    source: SourceConfig, data_root: Path, clock: Clock, state: SyncState
) -> Iterator[Record | Rejection]:
    """The records of one configured source, whatever its kind."""
    kind = source_kind(source.kind)
    if kind.read_live is not None:
        return kind.read_live(source, state, clock)
    if kind.read is None:
        raise ConfigError(f"source kind {source.kind!r} has no reader")
    state.complete = True  # an export is the whole of what the source holds
    return kind.read(source, data_root, clock)


register("files", FilesSource, read_files)
register("synthetic", SyntheticSource, read_synthetic)

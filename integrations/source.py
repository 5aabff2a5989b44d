"""What every source entry in a config has, whatever its kind.

Each kind (``files``, ``synthetic``, …) extends ``SourceConfig`` with its own keys, so
that a config is checked strictly and a typo is caught before anything is read.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import httpx
from pydantic import BaseModel, ConfigDict, Field, model_validator

from context.clock import Clock
from context.records import Record, Rejection

# The store keeps a source's name in a String(64) column on every row.
SOURCE_NAME_LIMIT = 64


class SourceConfig(BaseModel):
    """A source's name (stored on every row it supplies), label and kind."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = Field(
        min_length=1, max_length=SOURCE_NAME_LIMIT, pattern=r"^[A-Za-z0-9_.-]+$"
    )
    label: str = ""
    kind: str

    def sources_named(self) -> set[str]:
        """Other sources this one points at (checked against the config's)."""
        return set()

    @model_validator(mode="before")
    @classmethod
    def _label_defaults_to_name(cls, data: Any) -> Any:
        if isinstance(data, dict) and not data.get("label") and data.get("name"):
            return {**data, "label": str(data["name"])}
        return data


class SourceReader(Protocol):
    """Reads one source: good records in ``KINDS`` order, bad ones as rejections."""

    def __call__(
        self, source: Any, data_root: Path, clock: Clock
    ) -> Iterator[Record | Rejection]: ...


@dataclass
class SyncState:
    """What a live source starts a sync from and leaves for the next one.

    ``cursor`` is what the last successful sync left (None: read everything). The
    reader sets ``next_cursor`` once it has handed over every record; the sync
    stores it only after the loader has committed them. ``transport`` replaces the
    network, for a stand-in in tests. File-like sources are always ``complete``.
    """

    cursor: dict[str, Any] | None = None
    next_cursor: dict[str, Any] | None = None
    transport: httpx.BaseTransport | None = None
    # Set by the reader: it read the whole of the source (a first sync, a listing
    # after an expired cursor), so a stored row it did not see is gone there.
    complete: bool = False


class LiveReader(Protocol):
    """Reads one live source from its cursor; sets ``state.next_cursor`` at the end."""

    def __call__(
        self, source: Any, state: SyncState, clock: Clock
    ) -> Iterator[Record | Rejection]: ...

"""What a source hands the store: normalised records with references, not row ids.

Sources (integrations/) build these; ``context.load.Loader`` turns references into
row ids, inserts or updates in bulk and counts what happened.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

# The order the loader wants kinds in: a record can only point at kinds before it.
KINDS = (
    "account_alias",
    "rep",
    "account",
    "person",
    "deal",
    "deal_change",
    "subscription",
    "invoice",
    "usage",
    "activity",
    "conversation",
    "turn",
    "meeting",
    "attendee",
)


@dataclass(frozen=True)
class Ref:
    """A pointer to another record by its source and its id in that source."""

    source: str
    id: str


@dataclass(frozen=True)
class RepRef:
    """A pointer to someone in our sales org, by e-mail first, then by name."""

    email: str | None = None
    name: str | None = None


@dataclass
class Record:
    """One record of one kind from one source.

    ``fields`` holds column values already converted to Python types (aware datetimes,
    dates, Decimals). ``refs`` holds pointers to other records: ``account``,
    ``person``, ``deal``, ``subscription``, ``conversation``, ``meeting`` (``Ref``) and
    ``owner`` / ``rep`` (``RepRef``). ``origin`` says where it was read, for errors:
    ``accounts.csv line 12``.
    """

    kind: str
    source: str
    source_id: str
    fields: dict[str, Any] = field(default_factory=dict)
    refs: dict[str, Ref | RepRef] = field(default_factory=dict)
    origin: str = ""


@dataclass(frozen=True)
class Rejection:
    """A record that was not loaded, where it came from and why."""

    source: str
    kind: str
    origin: str
    reason: str

    def __str__(self) -> str:
        return f"{self.origin}: {self.reason}"

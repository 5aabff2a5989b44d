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


@dataclass(frozen=True)
class Match:
    """Another source's account or person, found by what identifies it anywhere.

    A call or a calendar event knows e-mail addresses, not CRM ids. The loader tries,
    in order: ``emails`` (for ``person``: the person with that address; for
    ``account``: the account of such a person), ``domains`` (an account with that
    web domain; free-mail domains never match), then ``names`` (an account whose
    normalised name is equal, and only if exactly one is). E-mails are compared
    without regard to case or surrounding spaces. Nothing found leaves the column
    empty: the record still loads.
    """

    emails: tuple[str, ...] = ()
    domains: tuple[str, ...] = ()
    names: tuple[str, ...] = ()


AnyRef = Ref | RepRef | Match


@dataclass
class Record:
    """One record of one kind from one source.

    ``fields`` holds column values already converted to Python types (aware datetimes,
    dates, Decimals). ``refs`` holds pointers to other records: ``account``,
    ``person``, ``deal``, ``subscription``, ``conversation``, ``meeting`` (``Ref``) and
    ``owner`` / ``rep`` (``RepRef``), or for ``account`` and ``person`` a ``Match``.
    ``origin`` says where it was read, for errors: ``accounts.csv line 12``.

    ``links`` (accounts only) names the same account in other sources, e.g. the CRM
    company id a Stripe customer keeps in its metadata: a new account that links
    to, or shares a domain with, an account already stored is merged into it.
    ``fields["secondary"] = True`` marks a billing or product account: it is merged
    into the CRM account of the same customer even when that arrives later, and a
    CRM account is never merged into it.
    ``join_by_name`` lets it also be merged into the one account of another source
    with an equal normalised name, when nothing stronger ties it: right for a billing
    customer, wrong for two CRMs, where equal names may be two firms.

    Every kind may set ``fields["deleted_at"]`` (when the source archived or deleted
    it) and ``fields["merged_into"]`` (the surviving record's id in the same source).
    """

    kind: str
    source: str
    source_id: str
    fields: dict[str, Any] = field(default_factory=dict)
    refs: dict[str, AnyRef] = field(default_factory=dict)
    origin: str = ""
    links: tuple[Ref, ...] = ()
    join_by_name: bool = False


@dataclass(frozen=True)
class Rejection:
    """A record that was not loaded, where it came from and why."""

    source: str
    kind: str
    origin: str
    reason: str
    # Its id, where it could be read: the stored row is still at the source.
    source_id: str | None = None

    def __str__(self) -> str:
        return f"{self.origin}: {self.reason}"

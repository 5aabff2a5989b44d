"""The queries a warehouse source runs: one admin-written SELECT per kind of record.

Each query's result columns are named like the store's fields (``day``, ``metric``,
``value`` for usage), or renamed with ``fields: {column: field}``. ``id`` names the
columns that together make a record's id; ``account`` (and ``person``, ``deal``,
``subscription``) point into another source by a column, or find an account by
domain, e-mail or name. A query with a ``cursor`` column is incremental: the newest
value read is kept, and the next sync binds it to ``:since``.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator
from sqlalchemy import text
from sqlalchemy.exc import ArgumentError

Kind = Literal["account", "person", "subscription", "invoice", "usage", "activity"]

# Per kind, each field the store keeps and how its value is read (values.READERS).
COMMON = {"deleted_at": "datetime", "merged_into": "text"}
FIELDS: dict[str, dict[str, str]] = {
    "account": {
        "name": "text",
        "domain": "text",
        "industry": "text",
        "employees": "int",
        "revenue": "money",
        "location": "text",
        "parent_name": "text",
    },
    "person": {"name": "text", "email": "text", "title": "text", "role": "text"},
    "subscription": {
        "plan": "text",
        "status": "text",
        "seats": "int",
        "mrr": "money",
        "arr": "money",
        "currency": "text",
        "started_on": "date",
        "ends_on": "date",
        "renews_on": "date",
        "auto_renew": "bool",
        "cancel_at_period_end": "bool",
        "billing_frequency": "text",
    },
    "invoice": {
        "number": "text",
        "status": "text",
        "amount_due": "money",
        "amount_paid": "money",
        "currency": "text",
        "issued_on": "date",
        "due_on": "date",
        "paid_at": "datetime",
    },
    "usage": {"day": "date", "metric": "text", "value": "number"},
    "activity": {
        "kind": "text",
        "direction": "text",
        "subject": "text",
        "body": "text",
        "occurred_at": "datetime",
        "participants": "list",
    },
}
# Fields a record of the kind cannot be stored without: their column must exist.
REQUIRED = {
    "account": ("name",),
    "person": ("name",),
    "usage": ("day", "metric", "value"),
    "invoice": ("status",),
    "activity": ("kind",),
}
# References each kind may have; the ones listed in NEEDS_ACCOUNT must be given.
REFS = {
    "account": ("owner",),
    "person": ("account",),
    "subscription": ("account",),
    "invoice": ("account", "subscription"),
    "usage": ("account",),
    "activity": ("account", "person", "deal"),
}
NEEDS_ACCOUNT = ("subscription", "invoice", "usage")
SINCE = "since"
VERY_OLD = date(1900, 1, 1)
NAME = r"^[A-Za-z0-9_.-]+$"


class RefSpec(BaseModel):
    """Where a reference points: ``{source: crm, column: account_id}`` (an id in
    that source; this source if ``source`` is left out), or ``{domain: col}`` /
    ``{email: col}`` / ``{name: col}`` (any source's account or person that
    matches; for ``owner``, a rep by e-mail or name)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    column: str | None = Field(None, min_length=1)
    source: str | None = Field(None, min_length=1, max_length=64, pattern=NAME)
    domain: str | None = Field(None, min_length=1)
    email: str | None = Field(None, min_length=1)
    name: str | None = Field(None, min_length=1)

    @model_validator(mode="after")
    def _one_way(self) -> RefSpec:
        matching = [c for c in (self.domain, self.email, self.name) if c]
        if self.column and matching:
            raise ValueError(
                "give either `column:` (an id) or `domain:`/`email:`/`name:` "
                "(a match), not both"
            )
        if not self.column and not matching:
            raise ValueError("give `column:` (an id) or `domain:`/`email:`/`name:`")
        if self.source and not self.column:
            raise ValueError("`source:` goes with `column:`; a match searches all")
        return self

    def columns(self) -> list[str]:
        return [c for c in (self.column, self.domain, self.email, self.name) if c]


class Query(BaseModel):
    """One SELECT and how its rows become records of one kind."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    kind: Kind
    name: str = Field("", max_length=64, pattern=r"^$|^[A-Za-z0-9_.-]+$")
    sql: str = Field(min_length=1)
    id: list[str] = Field(min_length=1)
    fields: dict[str, str] = Field(default_factory=dict)
    account: RefSpec | None = None
    person: RefSpec | None = None
    deal: RefSpec | None = None
    subscription: RefSpec | None = None
    owner: RefSpec | None = None
    links: list[RefSpec] = Field(default_factory=list)
    extra: list[str] = Field(default_factory=list)
    cursor: str | None = Field(None, min_length=1)
    since: date | datetime | int | str | None = None
    timezone: str | None = None

    @model_validator(mode="before")
    @classmethod
    def _defaults(cls, data: Any) -> Any:
        if not isinstance(data, dict):
            return data
        data = dict(data)
        if isinstance(data.get("id"), str):
            data["id"] = [data["id"]]
        if not data.get("name") and isinstance(data.get("kind"), str):
            data["name"] = data["kind"]
        return data

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str | None) -> str | None:
        return None if value is None else check_zone(value)

    @model_validator(mode="after")
    def _fits_kind(self) -> Query:
        known = FIELDS[self.kind] | COMMON
        for column, field in self.fields.items():
            if field not in known:
                raise ValueError(
                    f"fields: {column!r} → {field!r}: a {self.kind} has no field "
                    f"{field!r}; use one of {', '.join(sorted(known))}"
                )
        for ref in ("account", "person", "deal", "subscription", "owner"):
            if getattr(self, ref) is not None and ref not in REFS[self.kind]:
                allowed = ", ".join(REFS[self.kind]) or "none"
                raise ValueError(
                    f"a {self.kind} query cannot have `{ref}:` (references: {allowed})"
                )
        if self.kind in NEEDS_ACCOUNT and self.account is None:
            raise ValueError(
                f"a {self.kind} query needs `account:`, e.g. "
                "{source: crm, column: account_id} or {domain: website}"
            )
        self._check_refs()
        self._check_binds()
        return self

    def _check_refs(self) -> None:
        if (self.links or self.extra) and self.kind != "account":
            raise ValueError("`links:` and `extra:` are for account queries only")
        for link in self.links:
            if not (link.column and link.source):
                raise ValueError("each of `links:` needs `source:` and `column:`")
        for ref in (self.deal, self.subscription):
            if ref is not None and not ref.column:
                raise ValueError("`deal:` and `subscription:` need `column:` (an id)")
        if self.owner is not None and (self.owner.column or self.owner.domain):
            raise ValueError("`owner:` finds a rep by `email:` or `name:`")

    def _check_binds(self) -> None:
        """Only ``:since`` is bound; any other ``:name`` would fail at run time."""
        try:
            binds = set(text(self.sql).compile().params)
        except ArgumentError as error:
            raise ValueError(f"cannot read the SQL: {error}") from None
        others = sorted(binds - {SINCE})
        if others:
            raise ValueError(
                f"the SQL uses :{', :'.join(others)}; only :since is bound (write a "
                "literal colon as \\:)"
            )
        if self.cursor and SINCE not in binds:
            raise ValueError(
                f"cursor: {self.cursor} needs the SQL to use :since, e.g. "
                f"WHERE {self.cursor} >= :since"
            )

    def needed_columns(self) -> list[str]:
        """Columns the result must have: id, cursor, references, required fields."""
        needed = [*self.id, *self.fields, *self.extra]
        for ref in (self.account, self.person, self.deal, self.subscription):
            needed += ref.columns() if ref is not None else []
        needed += [c for link in self.links for c in link.columns()]
        needed += self.owner.columns() if self.owner is not None else []
        needed += [self.cursor] if self.cursor else []
        renamed = {field: column for column, field in self.fields.items()}
        needed += [renamed.get(f, f) for f in REQUIRED.get(self.kind, ())]
        return list(dict.fromkeys(needed))


def check_zone(value: str) -> str:
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(
            f"unknown time zone {value!r}; use a name like UTC or Europe/Berlin"
        ) from None
    return value

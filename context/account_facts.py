"""The shapes of an account's view: plain facts, ready to show, with their sources.

Rows their source deleted or merged away stay in the store, since other rows point
at them, but no section counts or shows them: every section's query adds ``live``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import ColumnElement

from context.models import Sourced


@dataclass(frozen=True)
class Freshness:
    """Where a section's facts came from and how recent the newest one is."""

    sources: tuple[str, ...]
    newest: date | None = None
    synced_at: datetime | None = None


@dataclass(frozen=True)
class RepFacts:
    name: str
    role: str
    email: str | None
    team: str | None


@dataclass(frozen=True)
class DealFacts:
    name: str
    stage: str | None
    status: str
    amount: Decimal | None
    list_value: Decimal | None
    close_date: date | None
    age_days: int | None
    days_in_stage: int | None
    pushes: int
    owner: str | None


@dataclass(frozen=True)
class StakeholderFacts:
    name: str
    title: str | None
    role: str | None
    email: str | None
    last_touch: datetime | None
    last_touch_kind: str | None


@dataclass(frozen=True)
class UsageFacts:
    last_period: float
    previous_period: float
    change_pct: float | None
    top_metrics: tuple[tuple[str, float, float], ...]  # metric, last, previous
    days_with_data: int
    newest_day: date | None


@dataclass(frozen=True)
class BillingFacts:
    plan: str | None
    status: str | None
    subscriptions: int
    mrr: Decimal | None
    arr: Decimal | None
    seats: int | None
    renews_on: date | None
    ends_on: date | None
    auto_renew: bool | None
    unpaid_invoices: int
    unpaid_amount: Decimal
    failed_invoices: int


@dataclass(frozen=True)
class ConversationFacts:
    title: str | None
    started_at: datetime | None
    duration_minutes: int | None
    participants: tuple[str, ...]
    rep: str | None
    key_points: tuple[str, ...]


@dataclass
class AccountView:
    account_id: int
    name: str
    as_of: datetime
    industry: str | None = None
    employees: int | None = None
    location: str | None = None
    parent: str | None = None
    domain: str | None = None
    team: list[RepFacts] = field(default_factory=list)
    open_deals: list[DealFacts] = field(default_factory=list)
    recent_closed: list[DealFacts] = field(default_factory=list)
    stakeholders: list[StakeholderFacts] = field(default_factory=list)
    usage: UsageFacts | None = None
    billing: BillingFacts | None = None
    last_conversation: ConversationFacts | None = None
    freshness: dict[str, Freshness] = field(default_factory=dict)


def live(table: type[Sourced]) -> ColumnElement[bool]:
    """Rows still current at their source: neither deleted nor merged into another.

    A merge normally sets ``deleted_at`` too, but some sources only name the
    survivor, and the survivor's own row already carries what the merged one said.
    """
    return table.deleted_at.is_(None) & table.merged_into.is_(None)


def shown(row: Sourced | None) -> bool:
    """The same test for a row already read."""
    return row is not None and row.deleted_at is None and row.merged_into is None


def freshness(rows: list[Any], newest: date | None) -> Freshness:
    sources = tuple(sorted({r.source for r in rows}))
    synced = max((r.last_seen_at for r in rows), default=None)
    return Freshness(sources, newest, synced)


def aware(value: Any) -> datetime | None:
    """Aggregates bypass the column type on SQLite; put UTC back on them."""
    if value is None:
        return None
    moment = datetime.fromisoformat(value) if isinstance(value, str) else value
    if not isinstance(moment, datetime):
        raise TypeError(f"expected a timestamp, got {moment!r}")
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def timestamp(value: datetime | None) -> float:
    return value.timestamp() if value else 0.0

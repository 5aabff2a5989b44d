"""The context store's tables.

Every row that came from a source keeps that source's name, its id there and when a
sync last saw it, so that anything shown can say where it came from and how fresh it
is. ``(source, source_id)`` is unique per table: loading the same record twice updates
one row.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    Date,
    Float,
    ForeignKey,
    Index,
    Integer,
    Numeric,
    String,
    Text,
    UniqueConstraint,
    false,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, declared_attr, mapped_column

from context.types import UTCDateTime

MONEY = Numeric(16, 2)


class Base(DeclarativeBase):
    pass


class Sourced:
    """Provenance kept on every row that a source supplied."""

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    source: Mapped[str] = mapped_column(String(64))
    source_id: Mapped[str] = mapped_column(String(255))
    last_seen_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)
    # Set when the source deleted or archived the record; kept, since other rows
    # may point at it, and left out of what people are shown.
    deleted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # The surviving record's source_id when the source merged this one into it.
    merged_into: Mapped[str | None] = mapped_column(String(255))

    @declared_attr.directive
    def __table_args__(cls) -> tuple[Any, ...]:
        name = cls.__tablename__  # type: ignore[attr-defined]
        return (UniqueConstraint("source", "source_id", name=f"uq_{name}_source"),)


class Rep(Sourced, Base):
    """Someone in our own sales org: a rep, a manager or an admin."""

    __tablename__ = "reps"

    name: Mapped[str] = mapped_column(String(255))
    name_key: Mapped[str] = mapped_column(String(255), index=True)
    email: Mapped[str | None] = mapped_column(String(320))
    email_key: Mapped[str | None] = mapped_column(String(320), index=True)
    role: Mapped[str] = mapped_column(String(32), default="rep")
    manager_name: Mapped[str | None] = mapped_column(String(255))
    team: Mapped[str | None] = mapped_column(String(128))
    time_zone: Mapped[str | None] = mapped_column(String(64))
    slack_user_id: Mapped[str | None] = mapped_column(String(32))


class Account(Sourced, Base):
    __tablename__ = "accounts"

    name: Mapped[str] = mapped_column(String(255))
    name_key: Mapped[str] = mapped_column(String(255), index=True)
    domain: Mapped[str | None] = mapped_column(String(255), index=True)
    industry: Mapped[str | None] = mapped_column(String(128))
    employees: Mapped[int | None] = mapped_column(Integer)
    revenue: Mapped[Decimal | None] = mapped_column(MONEY)
    location: Mapped[str | None] = mapped_column(String(255))
    parent_name: Mapped[str | None] = mapped_column(String(255))
    owner_rep_id: Mapped[int | None] = mapped_column(ForeignKey("reps.id"))
    extra: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    # A billing or product account: it joins the CRM account of the same customer,
    # even one that arrives later, and never becomes the account others join.
    secondary: Mapped[bool] = mapped_column(
        Boolean, default=False, server_default=false()
    )


class AccountAlias(Sourced, Base):
    """Another source's id for an account, from a crosswalk: (source, id) → target."""

    __tablename__ = "account_aliases"

    alias_source: Mapped[str] = mapped_column(String(64))
    alias_id: Mapped[str] = mapped_column(String(255))
    target_source: Mapped[str] = mapped_column(String(64))
    target_id: Mapped[str] = mapped_column(String(255))

    __table_args__ = (
        UniqueConstraint("source", "source_id", name="uq_account_aliases_source"),
        Index("ix_account_aliases_alias", "alias_source", "alias_id"),
    )


class Person(Sourced, Base):
    """Someone at a customer or prospect account."""

    __tablename__ = "people"

    account_id: Mapped[int | None] = mapped_column(
        ForeignKey("accounts.id"), index=True
    )
    name: Mapped[str] = mapped_column(String(255))
    email: Mapped[str | None] = mapped_column(String(320))
    email_key: Mapped[str | None] = mapped_column(String(320), index=True)
    title: Mapped[str | None] = mapped_column(String(255))
    role: Mapped[str | None] = mapped_column(String(64))


class Deal(Sourced, Base):
    __tablename__ = "deals"

    account_id: Mapped[int | None] = mapped_column(
        ForeignKey("accounts.id"), index=True
    )
    name: Mapped[str | None] = mapped_column(String(255))
    product: Mapped[str | None] = mapped_column(String(255))
    stage: Mapped[str | None] = mapped_column(String(128))
    status: Mapped[str] = mapped_column(String(16), default="open")
    amount: Mapped[Decimal | None] = mapped_column(MONEY)
    list_value: Mapped[Decimal | None] = mapped_column(MONEY)
    currency: Mapped[str | None] = mapped_column(String(8))
    created_on: Mapped[date | None] = mapped_column(Date)
    close_date: Mapped[date | None] = mapped_column(Date)
    stage_entered_on: Mapped[date | None] = mapped_column(Date)
    owner_rep_id: Mapped[int | None] = mapped_column(ForeignKey("reps.id"))
    owner_name: Mapped[str | None] = mapped_column(String(255))


class DealChange(Base):
    """One change of a deal's stage, amount or close date, as seen by a sync."""

    __tablename__ = "deal_changes"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    deal_id: Mapped[int] = mapped_column(ForeignKey("deals.id"), index=True)
    field: Mapped[str] = mapped_column(String(32))
    old_value: Mapped[str | None] = mapped_column(String(255))
    new_value: Mapped[str | None] = mapped_column(String(255))
    changed_at: Mapped[datetime] = mapped_column(UTCDateTime)
    source: Mapped[str] = mapped_column(String(64))


class Activity(Sourced, Base):
    """An e-mail, meeting, call, note or task logged against an account."""

    __tablename__ = "activities"

    account_id: Mapped[int | None] = mapped_column(
        ForeignKey("accounts.id"), index=True
    )
    deal_id: Mapped[int | None] = mapped_column(ForeignKey("deals.id"))
    person_id: Mapped[int | None] = mapped_column(ForeignKey("people.id"), index=True)
    kind: Mapped[str] = mapped_column(String(16))
    direction: Mapped[str | None] = mapped_column(String(16))
    subject: Mapped[str | None] = mapped_column(String(500))
    body: Mapped[str | None] = mapped_column(Text)
    occurred_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    participants: Mapped[list[str] | None] = mapped_column(JSON)


class Conversation(Sourced, Base):
    """A recorded call or meeting with what was said."""

    __tablename__ = "conversations"

    account_id: Mapped[int | None] = mapped_column(
        ForeignKey("accounts.id"), index=True
    )
    rep_id: Mapped[int | None] = mapped_column(ForeignKey("reps.id"))
    title: Mapped[str | None] = mapped_column(String(500))
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    duration_minutes: Mapped[int | None] = mapped_column(Integer)
    participants: Mapped[list[str] | None] = mapped_column(JSON)
    summary: Mapped[str | None] = mapped_column(Text)
    key_points: Mapped[list[str] | None] = mapped_column(JSON)


class ConversationTurn(Sourced, Base):
    __tablename__ = "conversation_turns"

    conversation_id: Mapped[int] = mapped_column(
        ForeignKey("conversations.id"), index=True
    )
    position: Mapped[int] = mapped_column(Integer)
    speaker: Mapped[str | None] = mapped_column(String(255))
    text: Mapped[str] = mapped_column(Text)
    start_ms: Mapped[int | None] = mapped_column(Integer)
    end_ms: Mapped[int | None] = mapped_column(Integer)


class UsageRecord(Sourced, Base):
    """Product usage of one metric on one day for one account."""

    __tablename__ = "usage_records"

    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id"))
    day: Mapped[date] = mapped_column(Date)
    metric: Mapped[str] = mapped_column(String(128))
    value: Mapped[float] = mapped_column(Float)

    __table_args__ = (
        UniqueConstraint("source", "source_id", name="uq_usage_records_source"),
        Index("ix_usage_records_account_day", "account_id", "day"),
    )


class Subscription(Sourced, Base):
    __tablename__ = "subscriptions"

    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id"), index=True)
    plan: Mapped[str | None] = mapped_column(String(128))
    status: Mapped[str | None] = mapped_column(String(32))
    seats: Mapped[int | None] = mapped_column(Integer)
    mrr: Mapped[Decimal | None] = mapped_column(MONEY)
    arr: Mapped[Decimal | None] = mapped_column(MONEY)
    currency: Mapped[str | None] = mapped_column(String(8))
    started_on: Mapped[date | None] = mapped_column(Date)
    ends_on: Mapped[date | None] = mapped_column(Date)
    renews_on: Mapped[date | None] = mapped_column(Date)
    auto_renew: Mapped[bool | None] = mapped_column(Boolean)
    cancel_at_period_end: Mapped[bool | None] = mapped_column(Boolean)
    billing_frequency: Mapped[str | None] = mapped_column(String(32))


class Invoice(Sourced, Base):
    __tablename__ = "invoices"

    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id"), index=True)
    subscription_id: Mapped[int | None] = mapped_column(ForeignKey("subscriptions.id"))
    number: Mapped[str | None] = mapped_column(String(64))
    status: Mapped[str] = mapped_column(String(32))
    amount_due: Mapped[Decimal | None] = mapped_column(MONEY)
    amount_paid: Mapped[Decimal | None] = mapped_column(MONEY)
    currency: Mapped[str | None] = mapped_column(String(8))
    issued_on: Mapped[date | None] = mapped_column(Date)
    due_on: Mapped[date | None] = mapped_column(Date)
    paid_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class Meeting(Sourced, Base):
    """A calendar event; attendees say who is in it."""

    __tablename__ = "meetings"

    account_id: Mapped[int | None] = mapped_column(
        ForeignKey("accounts.id"), index=True
    )
    rep_id: Mapped[int | None] = mapped_column(ForeignKey("reps.id"))
    title: Mapped[str | None] = mapped_column(String(500))
    starts_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    ends_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    all_day: Mapped[bool] = mapped_column(Boolean, default=False)
    organizer_email: Mapped[str | None] = mapped_column(String(320))


class MeetingAttendee(Sourced, Base):
    __tablename__ = "meeting_attendees"

    meeting_id: Mapped[int] = mapped_column(ForeignKey("meetings.id"), index=True)
    email: Mapped[str | None] = mapped_column(String(320))
    email_key: Mapped[str | None] = mapped_column(String(320), index=True)
    name: Mapped[str | None] = mapped_column(String(255))
    response: Mapped[str | None] = mapped_column(String(32))
    person_id: Mapped[int | None] = mapped_column(ForeignKey("people.id"), index=True)


class SlackUser(Base):
    """What Slack said about a user, kept so that every replica sees the same."""

    __tablename__ = "slack_users"

    slack_user_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    team_id: Mapped[str | None] = mapped_column(String(32))
    email_key: Mapped[str | None] = mapped_column(String(320), index=True)
    is_guest: Mapped[bool] = mapped_column(Boolean, default=False)
    is_bot: Mapped[bool] = mapped_column(Boolean, default=False)
    deleted: Mapped[bool] = mapped_column(Boolean, default=False)
    time_zone: Mapped[str | None] = mapped_column(String(64))
    fetched_at: Mapped[datetime] = mapped_column(UTCDateTime)


class SyncRun(Base):
    """One sync of one source, with its counts, for status and history."""

    __tablename__ = "sync_runs"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    source: Mapped[str] = mapped_column(String(64), index=True)
    started_at: Mapped[datetime] = mapped_column(UTCDateTime)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    counts: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    error: Mapped[str | None] = mapped_column(Text)


class SourceState(Base):
    """Where a source's last sync left off, for the next sync and for status.

    ``cursor`` is the source's own bookmark (modified-since times, a sync token). It
    is written only after the records it covers are committed, so a sync that dies
    half-way starts again from the old cursor and upserts what it had already
    loaded: nothing is lost and nothing is stored twice.
    """

    __tablename__ = "source_states"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    source: Mapped[str] = mapped_column(String(64))
    cursor: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    last_success_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_error: Mapped[str | None] = mapped_column(Text)
    last_error_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Records the newest successful sync read, rejected ones included.
    records_seen: Mapped[int] = mapped_column(Integer, default=0)

    __table_args__ = (UniqueConstraint("source", name="uq_source_states_source"),)

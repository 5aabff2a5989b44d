"""Everything known about one account at "now", ready to show.

The view is built with a fixed number of queries whatever the size of the store, and
it uses nothing dated after the clock's now: a deal won after "now" is still open, a
usage day after today does not count. Each section carries its sources and freshness.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from context.clock import Clock
from context.models import (
    Account,
    Activity,
    Conversation,
    Deal,
    DealChange,
    Invoice,
    Meeting,
    MeetingAttendee,
    Person,
    Rep,
    Subscription,
    UsageRecord,
)
from context.names import fold

RECENT_DAYS = 90  # won and lost deals this recent are shown
USAGE_WINDOW = 30  # usage: the last 30 days against the 30 before
UNPAID = ("open", "past_due", "failed", "uncollectible")


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


def build_account_view(
    session: Session, account_id: int, clock: Clock, zone: str | None = None
) -> AccountView:
    """Read every section of one account's view as of ``clock.now()``.

    "Today" and day counts are the reader's: ``zone`` is their IANA time zone (a
    deal closing today in New York at 21:30 has not closed yet in UTC terms).
    """
    account = session.get(Account, account_id)
    if account is None:
        raise LookupError(f"no account with id {account_id}")
    now = clock.now().astimezone(_zone(zone))
    view = AccountView(
        account_id=account.id,
        name=account.name,
        as_of=now,
        industry=account.industry,
        employees=account.employees,
        location=account.location,
        parent=account.parent_name,
        domain=account.domain,
    )
    view.freshness["account"] = Freshness((account.source,), None, account.last_seen_at)

    reps = _deals(session, view, account, now)
    _team(session, view, account, reps)
    _stakeholders(session, view, now, reps)
    _usage(session, view, now.date())
    _billing(session, view, now.date())
    _conversation(session, view, now, reps)
    return view


def _deals(
    session: Session, view: AccountView, account: Account, now: datetime
) -> dict[int, Rep]:
    today = now.date()  # in the reader's zone: ``now`` carries it
    deals = [
        d
        for d in session.scalars(select(Deal).where(Deal.account_id == account.id))
        if d.created_on is None or d.created_on <= today
    ]
    changes = _changes_by_deal(session, [d.id for d in deals], now)
    rep_ids = {d.owner_rep_id for d in deals} | {account.owner_rep_id}
    reps = _reps(session, {i for i in rep_ids if i is not None})

    recent_from = today - timedelta(days=RECENT_DAYS)
    for deal in deals:
        facts = _deal_facts(deal, changes.get(deal.id, []), today, reps)
        if facts.status == "open":
            view.open_deals.append(facts)
        elif deal.close_date and recent_from <= deal.close_date <= today:
            view.recent_closed.append(facts)
    view.open_deals.sort(key=lambda d: (d.close_date or date.max, d.name))
    view.recent_closed.sort(key=lambda d: d.close_date or date.min, reverse=True)
    if deals:
        view.freshness["deals"] = _freshness(deals, _newest_deal_date(deals, today))
    return reps


def _deal_facts(
    deal: Deal, changes: list[DealChange], today: date, reps: dict[int, Rep]
) -> DealFacts:
    status, stage, amount = deal.status, deal.stage, deal.amount
    if status != "open" and deal.close_date and deal.close_date > today:
        # The outcome is dated after "now": at "now" the deal was still open.
        status, amount = "open", None
        earlier = [c for c in changes if c.field == "stage"]
        stage = earlier[-1].new_value if earlier else None
    pushes = sum(
        1
        for c in changes
        if c.field == "close_date" and c.old_value and c.new_value
        if c.new_value > c.old_value
    )
    owner = reps.get(deal.owner_rep_id) if deal.owner_rep_id else None
    entered = deal.stage_entered_on if status == "open" else None
    return DealFacts(
        name=deal.name or deal.product or deal.source_id,
        stage=stage,
        status=status,
        amount=amount,
        list_value=deal.list_value,
        close_date=deal.close_date,
        age_days=(today - deal.created_on).days if deal.created_on else None,
        days_in_stage=(today - entered).days if entered else None,
        pushes=pushes,
        owner=owner.name if owner else deal.owner_name,
    )


def _changes_by_deal(
    session: Session, deal_ids: list[int], now: datetime
) -> dict[int, list[DealChange]]:
    grouped: dict[int, list[DealChange]] = defaultdict(list)
    if not deal_ids:
        return grouped
    query = (
        select(DealChange)
        .where(DealChange.deal_id.in_(deal_ids), DealChange.changed_at <= now)
        .order_by(DealChange.changed_at)
    )
    for change in session.scalars(query):
        grouped[change.deal_id].append(change)
    return grouped


def _newest_deal_date(deals: list[Deal], today: date) -> date | None:
    dates = [
        d
        for deal in deals
        for d in (deal.created_on, deal.stage_entered_on, deal.close_date)
        if d is not None and d <= today
    ]
    return max(dates, default=None)


def _reps(session: Session, ids: set[int]) -> dict[int, Rep]:
    if not ids:
        return {}
    return {r.id: r for r in session.scalars(select(Rep).where(Rep.id.in_(ids)))}


def _team(
    session: Session, view: AccountView, account: Account, reps: dict[int, Rep]
) -> None:
    """Who on our side works the account: its owner, then owners of open deals
    (most open deals first), then owners of recently closed ones."""
    weight: dict[str, int] = defaultdict(int)
    for deal in view.open_deals:
        if deal.owner:
            weight[deal.owner] += 1000
    for deal in view.recent_closed:
        if deal.owner:
            weight[deal.owner] += 1
    ordered = sorted(
        (r for r in reps.values() if r.name in weight),
        key=lambda r: (-weight[r.name], r.name),
    )
    owner = reps.get(account.owner_rep_id) if account.owner_rep_id else None
    if owner is not None:
        ordered = [owner, *(r for r in ordered if r.id != owner.id)]
    view.team = [RepFacts(r.name, r.role, r.email, r.team) for r in ordered]


def _stakeholders(
    session: Session, view: AccountView, now: datetime, reps: dict[int, Rep]
) -> None:
    """People at the account with their last touch; people heard on calls who are
    not (yet) in the CRM are stakeholders too, touched when the call happened."""
    people = list(
        session.scalars(select(Person).where(Person.account_id == view.account_id))
    )
    touches = _last_touches(session, [p.id for p in people], now)
    calls = _call_participants(session, view.account_id, now, reps)
    by_name = {fold(p.name): p.id for p in people}
    for name, (at, _) in calls.items():
        person_id = by_name.get(fold(name))
        known = touches.get(person_id) if person_id is not None else None
        if person_id is not None and (known is None or at > known[0]):
            touches[person_id] = (at, "call")
    facts = [
        StakeholderFacts(
            p.name, p.title, p.role, p.email, *touches.get(p.id, (None, None))
        )
        for p in people
    ]
    facts += [
        StakeholderFacts(name, None, None, None, at, "call")
        for name, (at, _) in calls.items()
        if fold(name) not in by_name
    ]
    facts.sort(key=lambda s: (s.last_touch is None, -_ts(s.last_touch), s.name))
    view.stakeholders = facts
    newest = max((s.last_touch for s in facts if s.last_touch), default=None)
    sources = [*people, *(source for _, source in calls.values())]
    view.freshness["stakeholders"] = _freshness(
        sources, newest.date() if newest else None
    )


def _call_participants(
    session: Session, account_id: int, now: datetime, reps: dict[int, Rep]
) -> dict[str, tuple[datetime, Any]]:
    """Each participant of the account's calls until now, with their latest call."""
    conversations = session.scalars(
        select(Conversation).where(
            Conversation.account_id == account_id, Conversation.started_at <= now
        )
    )
    ours = {fold(r.name) for r in reps.values()}
    latest: dict[str, tuple[datetime, Any]] = {}
    for conversation in conversations:
        at = _aware(conversation.started_at)
        for name in conversation.participants or []:
            if not isinstance(name, str) or not name.strip() or fold(name) in ours:
                continue
            if at is not None and (name not in latest or at > latest[name][0]):
                latest[name] = (at, conversation)
    return latest


def _last_touches(
    session: Session, person_ids: list[int], now: datetime
) -> dict[int, tuple[datetime, str]]:
    if not person_ids:
        return {}
    touches: dict[int, tuple[datetime, str]] = {}
    activity = session.execute(
        select(Activity.person_id, Activity.kind, func.max(Activity.occurred_at))
        .where(Activity.person_id.in_(person_ids), Activity.occurred_at <= now)
        .group_by(Activity.person_id, Activity.kind)
    )
    met = session.execute(
        select(MeetingAttendee.person_id, func.max(Meeting.starts_at))
        .join(Meeting, Meeting.id == MeetingAttendee.meeting_id)
        .where(MeetingAttendee.person_id.in_(person_ids), Meeting.starts_at <= now)
        .group_by(MeetingAttendee.person_id)
    )
    rows: list[tuple[Any, str, Any]] = [(p, k, at) for p, k, at in activity]
    rows += [(p, "meeting", at) for p, at in met]
    for person_id, kind, at in rows:
        at = _aware(at)
        if at is not None and (person_id not in touches or at > touches[person_id][0]):
            touches[person_id] = (at, kind)
    return touches


def _usage(session: Session, view: AccountView, today: date) -> None:
    start = today - timedelta(days=2 * USAGE_WINDOW - 1)
    split = today - timedelta(days=USAGE_WINDOW - 1)
    rows = session.execute(
        select(
            UsageRecord.day,
            UsageRecord.metric,
            func.sum(UsageRecord.value),
            func.max(UsageRecord.last_seen_at),
            func.min(UsageRecord.source),
        )
        .where(
            UsageRecord.account_id == view.account_id,
            UsageRecord.day >= start,
            UsageRecord.day <= today,
        )
        .group_by(UsageRecord.day, UsageRecord.metric)
    ).all()
    if not rows:
        return
    last: dict[str, float] = defaultdict(float)
    previous: dict[str, float] = defaultdict(float)
    for day, metric, total, _, _ in rows:
        (last if day >= split else previous)[metric] += float(total or 0)
    total_last, total_previous = sum(last.values()), sum(previous.values())
    change = (
        100.0 * (total_last - total_previous) / total_previous
        if total_previous
        else None
    )
    metrics = sorted(set(last) | set(previous), key=lambda m: -last.get(m, 0.0))
    view.usage = UsageFacts(
        last_period=total_last,
        previous_period=total_previous,
        change_pct=change,
        top_metrics=tuple(
            (m, last.get(m, 0.0), previous.get(m, 0.0)) for m in metrics[:3]
        ),
        days_with_data=len({r[0] for r in rows if r[0] >= split}),
        newest_day=max(r[0] for r in rows),
    )
    view.freshness["usage"] = Freshness(
        tuple(sorted({r[4] for r in rows})),
        view.usage.newest_day,
        max(
            _aware(r[3]) or datetime.min.replace(tzinfo=view.as_of.tzinfo) for r in rows
        ),
    )


def _billing(session: Session, view: AccountView, today: date) -> None:
    subscriptions = [
        s
        for s in session.scalars(
            select(Subscription).where(Subscription.account_id == view.account_id)
        )
        if s.started_on is None or s.started_on <= today
    ]
    invoices = [
        i
        for i in session.scalars(
            select(Invoice).where(Invoice.account_id == view.account_id)
        )
        if i.issued_on is None or i.issued_on <= today
    ]
    if not subscriptions and not invoices:
        return
    current = _current_subscription(subscriptions, today)
    live = [s for s in subscriptions if s.ends_on is None or s.ends_on >= today]
    counted = live or ([current] if current else [])
    unpaid = [i for i in invoices if i.status in UNPAID]
    view.billing = BillingFacts(
        plan=current.plan if current else None,
        status=_subscription_status(current, today) if current else None,
        subscriptions=len(live),
        mrr=_total(s.mrr for s in counted),
        arr=_total(s.arr for s in counted),
        seats=_total(s.seats for s in counted),
        renews_on=min((s.renews_on for s in live if s.renews_on), default=None),
        ends_on=current.ends_on if current else None,
        auto_renew=current.auto_renew if current else None,
        unpaid_invoices=len(unpaid),
        unpaid_amount=sum(
            (
                (i.amount_due or Decimal(0)) - (i.amount_paid or Decimal(0))
                for i in unpaid
            ),
            Decimal(0),
        ),
        failed_invoices=sum(
            1 for i in invoices if i.status in ("failed", "uncollectible")
        ),
    )
    dated = [s.started_on for s in subscriptions if s.started_on]
    dated += [i.issued_on for i in invoices if i.issued_on]
    view.freshness["billing"] = _freshness(
        [*subscriptions, *invoices], max(dated, default=None)
    )


def _total(values: Any) -> Any:
    """The sum of the known values, or None when none is known."""
    known = [v for v in values if v is not None]
    return sum(known[1:], known[0]) if known else None


def _current_subscription(
    subscriptions: list[Subscription], today: date
) -> Subscription | None:
    """The live subscription with the most MRR, else the one that ended last."""
    live = [s for s in subscriptions if s.ends_on is None or s.ends_on >= today]
    if live:
        return max(live, key=lambda s: (s.mrr or Decimal(0), s.started_on or date.min))
    return max(subscriptions, key=lambda s: s.ends_on or date.min, default=None)


def _subscription_status(subscription: Subscription, today: date) -> str | None:
    if subscription.ends_on is not None and subscription.ends_on < today:
        return "ended"
    return subscription.status


def _conversation(
    session: Session, view: AccountView, now: datetime, reps: dict[int, Rep]
) -> None:
    query = (
        select(Conversation)
        .where(
            Conversation.account_id == view.account_id,
            Conversation.started_at <= now,
        )
        .order_by(Conversation.started_at.desc())
        .limit(1)
    )
    conversation = session.scalars(query).first()
    if conversation is None:
        return
    rep = reps.get(conversation.rep_id) if conversation.rep_id else None
    if conversation.rep_id and rep is None:
        rep = session.get(Rep, conversation.rep_id)
    view.last_conversation = ConversationFacts(
        title=conversation.title,
        started_at=conversation.started_at,
        duration_minutes=conversation.duration_minutes,
        participants=tuple(conversation.participants or ()),
        rep=rep.name if rep else None,
        key_points=tuple((conversation.key_points or [])[:3]),
    )
    started = conversation.started_at
    view.freshness["conversation"] = Freshness(
        (conversation.source,),
        started.date() if started else None,
        conversation.last_seen_at,
    )


def _zone(name: str | None) -> ZoneInfo:
    try:
        return ZoneInfo(name or "UTC")
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("UTC")


def _freshness(rows: list[Any], newest: date | None) -> Freshness:
    sources = tuple(sorted({r.source for r in rows}))
    synced = max((r.last_seen_at for r in rows), default=None)
    return Freshness(sources, newest, synced)


def _aware(value: Any) -> datetime | None:
    """Aggregates bypass the column type on SQLite; put UTC back on them."""
    if value is None:
        return None
    moment = datetime.fromisoformat(value) if isinstance(value, str) else value
    if not isinstance(moment, datetime):
        raise TypeError(f"expected a timestamp, got {moment!r}")
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _ts(value: datetime | None) -> float:
    return value.timestamp() if value else 0.0

"""Everything known about one account at "now", ready to show.

The view is built with a fixed number of queries whatever the size of the store, and
it uses nothing dated after the clock's now: a deal won after "now" is still open, a
usage day after today does not count. Each section carries its sources and freshness.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy import select
from sqlalchemy.orm import Session

from context.account_facts import (
    AccountView,
    BillingFacts,
    ConversationFacts,
    DealFacts,
    Freshness,
    RepFacts,
    StakeholderFacts,
    UsageFacts,
    freshness,
    live,
    shown,
)
from context.account_people import stakeholders_section
from context.account_product import billing_section, usage_section
from context.clock import Clock
from context.models import Account, Conversation, Deal, DealChange, Rep

__all__ = [
    "AccountView",
    "BillingFacts",
    "ConversationFacts",
    "DealFacts",
    "Freshness",
    "RepFacts",
    "StakeholderFacts",
    "UsageFacts",
    "build_account_view",
]

RECENT_DAYS = 90  # won and lost deals this recent are shown
MERGE_HOPS = 5  # a survivor merged in turn is followed, but never round a cycle


def build_account_view(
    session: Session, account_id: int, clock: Clock, zone: str | None = None
) -> AccountView:
    """Read every section of one account's view as of ``clock.now()``.

    "Today" and day counts are the reader's: ``zone`` is their IANA time zone (a
    deal closing today in New York at 21:30 has not closed yet in UTC terms).
    """
    account = _current(session, session.get(Account, account_id))
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
    stakeholders_section(session, view, now, reps)
    usage_section(session, view, now.date())
    billing_section(session, view, now.date())
    _conversation(session, view, now, reps)
    return view


def _current(session: Session, account: Account | None) -> Account | None:
    """The account, or its survivor when its source merged it; None when deleted.

    A card asked for by id (a picker button, a shared card) may name an account
    deleted or merged since: the survivor is what the rep meant.
    """
    for _ in range(MERGE_HOPS):
        if account is None or shown(account):
            return account
        if account.merged_into is None:
            return None
        account = session.scalars(
            select(Account).where(
                Account.source == account.source,
                Account.source_id == account.merged_into,
            )
        ).first()
    return None


def _deals(
    session: Session, view: AccountView, account: Account, now: datetime
) -> dict[int, Rep]:
    today = now.date()  # in the reader's zone: ``now`` carries it
    deals = [
        d
        for d in session.scalars(
            select(Deal).where(Deal.account_id == account.id, live(Deal))
        )
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
        view.freshness["deals"] = freshness(deals, _newest_deal_date(deals, today))
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
    if not shown(owner):
        owner = None  # the deal's own owner name, if any, still says who it was
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
    """Deleted reps too: they still tell our side from the customer's on a call,
    though no section names them."""
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
        (r for r in reps.values() if r.name in weight and shown(r)),
        key=lambda r: (-weight[r.name], r.name),
    )
    owner = reps.get(account.owner_rep_id) if account.owner_rep_id else None
    if owner is not None and shown(owner):
        ordered = [owner, *(r for r in ordered if r.id != owner.id)]
    view.team = [RepFacts(r.name, r.role, r.email, r.team) for r in ordered]


def _conversation(
    session: Session, view: AccountView, now: datetime, reps: dict[int, Rep]
) -> None:
    query = (
        select(Conversation)
        .where(
            Conversation.account_id == view.account_id,
            Conversation.started_at <= now,
            live(Conversation),
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
    if not shown(rep):
        rep = None
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

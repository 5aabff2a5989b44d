"""Product usage and billing: the last 30 days against the 30 before, and what the
account pays, as of "now"."""

from __future__ import annotations

from collections import defaultdict
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from context.account_facts import (
    AccountView,
    BillingFacts,
    Freshness,
    UsageFacts,
    aware,
    freshness,
    live,
)
from context.models import Invoice, Subscription, UsageRecord

USAGE_WINDOW = 30  # usage: the last 30 days against the 30 before
UNPAID = ("open", "past_due", "failed", "uncollectible")


def usage_section(session: Session, view: AccountView, today: date) -> None:
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
            live(UsageRecord),
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
            aware(r[3]) or datetime.min.replace(tzinfo=view.as_of.tzinfo) for r in rows
        ),
    )


def billing_section(session: Session, view: AccountView, today: date) -> None:
    subscriptions = [
        s
        for s in session.scalars(
            select(Subscription).where(
                Subscription.account_id == view.account_id, live(Subscription)
            )
        )
        if s.started_on is None or s.started_on <= today
    ]
    invoices = [
        i
        for i in session.scalars(
            select(Invoice).where(Invoice.account_id == view.account_id, live(Invoice))
        )
        if i.issued_on is None or i.issued_on <= today
    ]
    if not subscriptions and not invoices:
        return
    current = _current_subscription(subscriptions, today)
    running = [s for s in subscriptions if s.ends_on is None or s.ends_on >= today]
    counted = running or ([current] if current else [])
    unpaid = [i for i in invoices if i.status in UNPAID]
    view.billing = BillingFacts(
        plan=current.plan if current else None,
        status=_subscription_status(current, today) if current else None,
        subscriptions=len(running),
        mrr=_total(s.mrr for s in counted),
        arr=_total(s.arr for s in counted),
        seats=_total(s.seats for s in counted),
        renews_on=min((s.renews_on for s in running if s.renews_on), default=None),
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
    view.freshness["billing"] = freshness(
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

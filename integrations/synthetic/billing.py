"""What customers pay and how much they use: subscription, invoices, daily usage.

Prospects have none of it. Usage ends yesterday (today's total is not in yet) and
some customers have no usage data at all, which is not the same as zero use.
"""

from __future__ import annotations

import math
import random
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal

from context.records import Record
from integrations.synthetic.accounts import Account, account
from integrations.synthetic.world import World

PLANS = (  # (plan, most seats, price per seat and month)
    ("Starter", 25, 19),
    ("Team", 100, 35),
    ("Business", 500, 55),
    ("Enterprise", 10**9, 79),
)
USAGE_DAYS = 90
METRICS = ("active_users", "api_calls", "dashboards_viewed", "reports_exported")
INVOICE_MONTHS = 12
NET_DAYS = 15


@dataclass(frozen=True)
class Subscription:
    id: str
    plan: str
    seats: int
    mrr: Decimal
    started_on: date
    renews_on: date
    auto_renew: bool


def subscription(world: World, company: Account) -> Subscription | None:
    if not company.customer:
        return None
    rng = world.rng(company.index, "subscription")
    seats = max(5, min(5000, round(company.employees * rng.uniform(0.05, 0.3))))
    plan, _, price = next(p for p in PLANS if seats <= p[1])
    ahead = rng.randint(10, 45) if "auto_renew_off" in company.traits else None
    renews = world.today + timedelta(days=ahead or rng.randint(1, 364))
    started = renews - timedelta(days=365 * rng.randint(1, 3))
    return Subscription(
        f"{company.id}-sub",
        plan,
        seats,
        Decimal(seats * price).quantize(Decimal("0.01")),
        started,
        renews,
        ahead is None,
    )


def subscription_records(world: World, index: int) -> Iterator[Record]:
    company = account(world, index)
    sub = subscription(world, company)
    if sub is None:
        return
    failing = "failed_payment" in company.traits
    fields = {
        "plan": sub.plan,
        "status": "past_due" if failing else "active",
        "seats": sub.seats,
        "mrr": sub.mrr,
        "arr": sub.mrr * 12,
        "currency": company.currency,
        "started_on": sub.started_on,
        "renews_on": sub.renews_on,
        "auto_renew": sub.auto_renew,
        "cancel_at_period_end": False,
        "billing_frequency": "monthly",
    }
    refs = {"account": world.ref(company.id)}
    yield world.record("subscription", sub.id, fields, refs)


def invoice_records(world: World, index: int) -> Iterator[Record]:
    """Up to a year of monthly invoices; the newest may be open or have failed."""
    company = account(world, index)
    sub = subscription(world, company)
    if sub is None:
        return
    rng = world.rng(index, "invoices")
    issued = _issue_days(world, sub.started_on)
    refs = {
        "account": world.ref(company.id),
        "subscription": world.ref(sub.id),
    }
    for number, day in enumerate(issued):
        newest = number == len(issued) - 1
        status = _status(world, rng, company, day, newest)
        paid = status == "paid"
        fields = {
            "number": f"INV-{index:06d}-{number + 1:03d}",
            "status": status,
            "amount_due": sub.mrr,
            "amount_paid": sub.mrr if paid else Decimal("0.00"),
            "currency": company.currency,
            "issued_on": day,
            "due_on": day + timedelta(days=NET_DAYS),
            "paid_at": _paid_at(world, rng, day) if paid else None,
        }
        key = f"{sub.id}-inv{number + 1}"
        yield world.record("invoice", key, fields, refs)


def _issue_days(world: World, started: date) -> list[date]:
    """The billing day of each month since the start, within the last year."""
    days, month = [], 0
    while True:
        total = started.month - 1 + month
        day = date(started.year + total // 12, total % 12 + 1, min(started.day, 28))
        if day >= world.today:
            break
        if day >= world.days_ago(INVOICE_MONTHS * 31):
            days.append(day)
        month += 1
    return days


def _status(
    world: World, rng: random.Random, company: Account, day: date, newest: bool
) -> str:
    if newest and "failed_payment" in company.traits:
        return "failed"
    if day + timedelta(days=NET_DAYS) >= world.today and rng.random() < 0.6:
        return "open"
    return "uncollectible" if rng.random() < 0.01 else "paid"


def _paid_at(world: World, rng: random.Random, day: date) -> datetime:
    paid = datetime.combine(day, time(8), UTC) + timedelta(
        days=rng.randint(0, NET_DAYS - 2), minutes=rng.randrange(600)
    )
    return min(paid, world.midnight - timedelta(minutes=rng.randint(1, 600)))


def usage_records(world: World, index: int) -> Iterator[Record]:
    """Ninety days of one or two metrics, shaped by the account's usage trait."""
    company = account(world, index)
    sub = subscription(world, company)
    if sub is None or "no_usage" in company.traits:
        return
    rng = world.rng(index, "usage")
    metrics = rng.sample(METRICS, rng.choice((1, 1, 2)))
    refs = {"account": world.ref(company.id)}
    first = world.days_ago(USAGE_DAYS)
    for metric in metrics:
        base = sub.seats * (0.7 if metric == "active_users" else rng.uniform(2, 40))
        for offset in range(USAGE_DAYS):
            day = first + timedelta(days=offset)
            value = base * _shape(company.traits, offset) * rng.gauss(1.0, 0.06)
            if day.weekday() >= 5:
                value *= 0.3
            fields = {
                "day": day,
                "metric": metric,
                "value": float(max(0, round(value))),
            }
            key = f"{company.id}-{metric}-{day.isoformat()}"
            yield world.record("usage", key, fields, refs)


def _shape(traits: frozenset[str], offset: int) -> float:
    """Growing: +40% over the period; declining: flat, then down 60% in 30 days."""
    if "growing" in traits:
        return 0.75 + 0.35 * offset / USAGE_DAYS
    if "declining" in traits:
        return 1.0 - 0.6 * min(1.0, max(0, offset - 60) / 30)
    return 1.0 + 0.03 * math.sin(offset / 7)

"""Deals with their stage moves and close-date pushes.

A deal is what its history left: the stage is the last stage moved into,
``stage_entered_on`` the day of that move, and an open deal's close date the last
push's new value. Histories are built backwards from their last move, so nothing in
them lands after yesterday.
"""

from __future__ import annotations

import itertools
import math
import random
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal

from context.records import Record, Ref, RepRef
from integrations.synthetic.accounts import Account, account
from integrations.synthetic.billing import subscription
from integrations.synthetic.world import World

STAGES = ("Discovery", "Qualification", "Proposal", "Negotiation")
WON, LOST = "Closed Won", "Closed Lost"
STATUS = {WON: "won", LOST: "lost"}
PRODUCTS = (
    ("Foresight Platform", "new business"),
    ("Additional seats", "expansion"),
    ("Usage Analytics add-on", "add-on"),
    ("Premium Support", "add-on"),
    ("Foresight Platform", "renewal"),
    ("Warehouse connector", "add-on"),
)


@dataclass(frozen=True)
class Change:
    field: str
    old: str | None
    new: str
    at: datetime


@dataclass(frozen=True)
class Deal:
    id: str
    name: str
    product: str
    stage: str
    amount: Decimal
    created_on: date
    close_date: date
    stage_entered_on: date
    changes: tuple[Change, ...]

    @property
    def status(self) -> str:
        return STATUS.get(self.stage, "open")


def deals(world: World, company: Account) -> list[Deal]:
    """Three to seven deals; a customer's first one is the won original purchase,
    closed a little before its subscription started."""
    rng = world.rng(company.index, "deals")
    sub = subscription(world, company)
    found: list[Deal] = []
    for number in range(rng.randint(3, 7)):
        closing = _outcome(company, rng, number)
        if number == 1 and company.traits & {"pushed", "stalled"}:
            closing = None  # the deal that shows the trait
        first_open = closing is None and all(d.status != "open" for d in found)
        traits = company.traits if first_open else frozenset()
        last = _last_move(world, rng, closing, traits)
        if number == 0 and sub is not None:
            last = sub.started_on - timedelta(days=rng.randint(3, 20))
        found.append(_deal(world, company, rng, number, closing, traits, last))
    return found


def _outcome(company: Account, rng: random.Random, number: int) -> str | None:
    if not company.customer:
        return None if number == 0 or rng.random() < 0.6 else LOST
    if number == 0:
        return WON
    return rng.choices((None, WON, LOST), (40, 35, 25))[0]


def _last_move(
    world: World, rng: random.Random, closing: str | None, traits: frozenset[str]
) -> date:
    if closing:
        return world.days_ago(rng.randint(5, 400))
    if "stalled" in traits:
        return world.days_ago(rng.randint(60, 150))
    return world.days_ago(rng.randint(1, 45))


def _deal(
    world: World,
    company: Account,
    rng: random.Random,
    number: int,
    closing: str | None,
    traits: frozenset[str],
    last: date,
) -> Deal:
    product, kind = PRODUCTS[0] if number == 0 else rng.choice(PRODUCTS[1:])
    target = len(STAGES) - 1 if closing else rng.randrange(len(STAGES))
    if "stalled" in traits:
        target = max(target, 1)
    moves = _moves(rng, target, closing, last, quick="stalled" in traits)
    stage = moves[-1][1] if moves else STAGES[0]
    created = moves[0][2] - timedelta(days=rng.randint(3, 30)) if moves else last

    changes = [
        _change(rng, "stage", old, new, day, serial)
        for serial, (old, new, day) in enumerate(moves)
    ]
    close = last
    if stage not in STATUS:
        pushes = rng.randint(3, 5) if "pushed" in traits else int(rng.random() < 0.25)
        close, pushed = _pushes(world, rng, pushes, len(changes))
        changes += pushed
        if pushed:
            earliest = min(c.at for c in pushed).date()
            created = min(created, earliest - timedelta(days=rng.randint(3, 20)))

    return Deal(
        f"{company.id}-d{number}",
        f"{company.name} – {product} ({kind})",
        product,
        stage,
        _amount(rng, company.employees),
        created,
        close,
        moves[-1][2] if moves else created,
        tuple(sorted(changes, key=lambda c: c.at)),
    )


def _moves(
    rng: random.Random,
    target: int,
    closing: str | None,
    last: date,
    quick: bool,
) -> list[tuple[str, str, date]]:
    """Stage moves from Discovery to ``STAGES[target]`` (then to ``closing``), the
    last one on ``last``, each earlier one a few days or weeks before the next."""
    path = [*STAGES[: target + 1], *([closing] if closing else [])]
    days = [last]
    for _ in range(len(path) - 2):
        days.append(
            days[-1] - timedelta(rng.randint(3, 9) if quick else rng.randint(4, 35))
        )
    days.reverse()
    return [
        (old, new, day)
        for (old, new), day in zip(itertools.pairwise(path), days, strict=False)
    ]


def _pushes(
    world: World, rng: random.Random, pushes: int, serial: int
) -> tuple[date, list[Change]]:
    """The close date, and the pushes that led to it, built backwards from it."""
    close = world.today + timedelta(days=rng.randint(-10, 120))
    newer, latest = close, world.today
    found = []
    for n in range(pushes):
        older = newer - timedelta(days=rng.randint(14, 45))
        day = min(older, latest - timedelta(days=1)) - timedelta(rng.randint(0, 5))
        old, new = older.isoformat(), newer.isoformat()
        found.append(_change(rng, "close_date", old, new, day, serial + n))
        newer, latest = older, day
    return close, found


def _change(
    rng: random.Random, field: str, old: str | None, new: str, day: date, serial: int
) -> Change:
    """Seconds carry a serial number so no two changes of a deal share an instant."""
    at = datetime.combine(day, time(13, 0), UTC) + timedelta(
        minutes=rng.randrange(9 * 60), seconds=serial
    )
    return Change(field, old, new, at)


def _amount(rng: random.Random, employees: int) -> Decimal:
    typical = max(6_000, min(employees * 40, 900_000))
    value = math.exp(rng.gauss(math.log(typical), 0.6))
    return Decimal(max(2_000, round(value, -2))).quantize(Decimal("0.01"))


def deal_records(world: World, index: int) -> Iterator[Record]:
    company = account(world, index)
    for deal in deals(world, company):
        fields = {
            "name": deal.name,
            "product": deal.product,
            "stage": deal.stage,
            "status": deal.status,
            "amount": deal.amount,
            "list_value": (deal.amount * Decimal("1.15")).quantize(Decimal("0.01")),
            "currency": company.currency,
            "created_on": deal.created_on,
            "close_date": deal.close_date,
            "stage_entered_on": deal.stage_entered_on,
            "owner_name": company.owner.name,
        }
        refs: dict[str, Ref | RepRef] = {
            "account": world.ref(company.id),
            "owner": RepRef(email=company.owner.email),
        }
        yield world.record("deal", deal.id, fields, refs)


def deal_change_records(world: World, index: int) -> Iterator[Record]:
    for deal in deals(world, account(world, index)):
        for number, change in enumerate(deal.changes):
            fields = {
                "field": change.field,
                "old_value": change.old,
                "new_value": change.new,
                "changed_at": change.at,
            }
            refs = {"deal": world.ref(deal.id)}
            key = f"{deal.id}-c{number}"
            yield world.record("deal_change", key, fields, refs)

"""A believable, seeded company world for demos, tests and benchmarks.

``generate(200)`` streams our sales org and 200 accounts with their people, deals and
deal history, subscriptions, invoices, daily usage, activities, recorded calls and
upcoming meetings, in the load order ``context.records.KINDS``. The same seed gives
the same records on every machine; memory does not grow with the number of accounts,
because each kind is a fresh pass that recomputes what it needs per account.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from datetime import date

from context.records import KINDS, Record
from integrations.synthetic.accounts import account_records, person_records
from integrations.synthetic.billing import (
    invoice_records,
    subscription_records,
    usage_records,
)
from integrations.synthetic.deals import deal_change_records, deal_records
from integrations.synthetic.engagement import (
    activity_records,
    conversation_records,
    turn_records,
)
from integrations.synthetic.meetings import attendee_records, meeting_records
from integrations.synthetic.org import DEMO_MANAGER_EMAIL, DEMO_USER_EMAIL, rep_records
from integrations.synthetic.world import DEFAULT_TODAY, World

__all__ = [
    "DEMO_ACCOUNTS",
    "DEMO_ASKS",
    "DEMO_MANAGER_EMAIL",
    "DEMO_TODAY",
    "DEMO_USER_EMAIL",
    "generate",
    "generate_kind",
]

DEMO_ACCOUNTS = 200
DEMO_TODAY = DEFAULT_TODAY

# `/account` arguments that show the resolver's cases on the demo world (seed 7, 200
# accounts): an exact name with an apostrophe and an ampersand, a typo, a domain, a
# prefix three accounts share, and a name that matches nothing.
DEMO_ASKS = [
    "O'Malley Freight & Co",
    "Halvorson Maritime",
    "globex.com",
    "Northwind",
    "Initech",
]

PerAccount = Callable[[World, int], Iterable[Record]]
PASSES: dict[str, PerAccount] = {
    "account": account_records,
    "person": person_records,
    "deal": deal_records,
    "deal_change": deal_change_records,
    "subscription": subscription_records,
    "invoice": invoice_records,
    "usage": usage_records,
    "activity": activity_records,
    "conversation": conversation_records,
    "turn": turn_records,
    "meeting": meeting_records,
    "attendee": attendee_records,
}


def generate(
    accounts: int, seed: int = 7, today: date | None = None, source: str = "demo"
) -> Iterator[Record]:
    """Every record of the world, kind by kind in ``KINDS`` order.

    ``today`` (by default 2026-11-30, so demos read the same every run) is the last
    day anything happened: only open deals' close dates, renewals, invoice due dates
    and calendar meetings lie after it.
    """
    for kind in KINDS:
        yield from generate_kind(kind, accounts, seed, today, source)


def generate_kind(
    kind: str,
    accounts: int,
    seed: int = 7,
    today: date | None = None,
    source: str = "demo",
) -> Iterator[Record]:
    """The records of one kind only, as ``generate`` would yield them."""
    world = World(accounts, seed, today or DEFAULT_TODAY, source)
    if kind == "rep":
        yield from rep_records(world)
        return
    make = PASSES.get(kind)
    if make is None:
        return
    for index in range(accounts):
        yield from make(world, index)

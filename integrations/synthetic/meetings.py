"""Upcoming calendar meetings, from today on, with who is invited.

Most are with the customer; some are internal account reviews with the rep's manager;
some bring a partner from outside both companies. Each demo account has a meeting
today, so the demo rep's pre-call brief has something to say.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

from context.records import Record, Ref, RepRef
from integrations.synthetic import talk
from integrations.synthetic.accounts import CURATED_AT, Account, account, people
from integrations.synthetic.world import World

HORIZON_DAYS = 14
INTERNAL_SHARE = 0.15
PARTNER_SHARE = 0.2
PARTNERS = (
    ("Jamie Fox", "jamie.fox@brightpath-consulting.example"),
    ("Priya Raman", "priya.raman@northstar-advisory.example"),
    ("Tom Becker", "tom.becker@implementers.example"),
)
RESPONSES = (("accepted", 60), ("tentative", 15), ("needsAction", 20), ("declined", 5))


@dataclass(frozen=True)
class Invite:
    email: str
    name: str
    person_id: str | None
    response: str


@dataclass(frozen=True)
class Meeting:
    id: str
    title: str
    starts_at: datetime
    minutes: int
    invites: tuple[Invite, ...]


def meetings(world: World, company: Account) -> list[Meeting]:
    rng = world.rng(company.index, "meetings")
    demo = company.index in CURATED_AT
    count = rng.randint(1, 2) if demo else rng.choices((0, 1, 2, 3), (45, 35, 15, 5))[0]
    found = []
    for number in range(count):
        today = demo and number == 0
        internal = not today and rng.random() < INTERNAL_SHARE
        title = (
            f"Account review: {company.name}"
            if internal
            else f"{company.name} / Foresight: {rng.choice(talk.TOPICS).title}"
        )
        found.append(
            Meeting(
                f"{company.id}-mtg{number}",
                title,
                _start(world, rng, company, 0 if today else None),
                rng.choice((30, 30, 45, 60)),
                tuple(_invites(world, rng, company, internal)),
            )
        )
    return found


def _start(
    world: World, rng: random.Random, company: Account, offset: int | None
) -> datetime:
    """Working hours in the rep's zone, on a weekday unless it is today."""
    day = world.today + timedelta(
        days=rng.randrange(HORIZON_DAYS) if offset is None else offset
    )
    if offset is None and day.weekday() >= 5:
        day += timedelta(days=7 - day.weekday())
    local = time(rng.randint(9, 16), rng.choice((0, 30)))
    zone = ZoneInfo(company.owner.time_zone)
    return datetime.combine(day, local, zone).astimezone(UTC)


def _invites(
    world: World, rng: random.Random, company: Account, internal: bool
) -> Iterator[Invite]:
    owner = company.owner
    yield Invite(owner.email, owner.name, None, "accepted")
    if internal:
        if owner.manager_email and owner.manager_name:
            yield Invite(owner.manager_email, owner.manager_name, None, _answer(rng))
        return
    crowd = people(world, company)
    for person in rng.sample(crowd, rng.randint(1, 3)):
        yield Invite(person.email, person.name, person.id, _answer(rng))
    if rng.random() < PARTNER_SHARE:
        name, email = rng.choice(PARTNERS)
        yield Invite(email, name, None, _answer(rng))


def _answer(rng: random.Random) -> str:
    return rng.choices([r for r, _ in RESPONSES], [w for _, w in RESPONSES])[0]


def meeting_records(world: World, index: int) -> Iterator[Record]:
    company = account(world, index)
    for meeting in meetings(world, company):
        fields = {
            "title": meeting.title,
            "starts_at": meeting.starts_at,
            "ends_at": meeting.starts_at + timedelta(minutes=meeting.minutes),
            "all_day": False,
            "organizer_email": company.owner.email,
        }
        refs: dict[str, Ref | RepRef] = {
            "account": world.ref(company.id),
            "rep": RepRef(email=company.owner.email),
        }
        yield world.record("meeting", meeting.id, fields, refs)


def attendee_records(world: World, index: int) -> Iterator[Record]:
    for meeting in meetings(world, account(world, index)):
        for number, invite in enumerate(meeting.invites):
            fields = {
                "email": invite.email,
                "name": invite.name,
                "response": invite.response,
            }
            refs: dict[str, Ref | RepRef] = {"meeting": world.ref(meeting.id)}
            if invite.person_id is not None:
                refs["person"] = world.ref(invite.person_id)
            key = f"{meeting.id}-a{number}"
            yield world.record("attendee", key, fields, refs)

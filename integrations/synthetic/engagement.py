"""Touches with the account: logged activities and recorded calls with transcripts.

A quiet champion is quiet everywhere: no activity and no call with them in the last
``QUIET_DAYS`` days, so silence signals can be seen in the demo.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime

from context.records import Record, Ref, RepRef
from integrations.synthetic import talk
from integrations.synthetic.accounts import Account, Person, account, people
from integrations.synthetic.world import World

QUIET_DAYS = 25
HISTORY_DAYS = 180
KINDS = (("email", 55), ("meeting", 15), ("call", 15), ("note", 15))
ROLE_WEIGHT = {"champion": 4.0, "economic buyer": 2.0, "user": 1.5, "none": 1.0}
MS_PER_WORD = 380


@dataclass(frozen=True)
class Call:
    id: str
    topic: talk.Topic
    started_at: datetime
    minutes: int
    guests: tuple[Person, ...]
    negative: bool


def _quiet(company: Account, person: Person, days_ago: int) -> bool:
    return (
        "quiet_champion" in company.traits
        and person.role == "champion"
        and days_ago < QUIET_DAYS
    )


def activity_records(world: World, index: int) -> Iterator[Record]:
    """Eight to twenty e-mails, meetings, calls and notes, most of them recent."""
    company = account(world, index)
    crowd = people(world, company)
    weights = [ROLE_WEIGHT[p.role] for p in crowd]
    rng = world.rng(index, "activities")
    for number in range(rng.randint(8, 20)):
        person = rng.choices(crowd, weights)[0]
        ago = min(HISTORY_DAYS, 1 + int(rng.expovariate(1 / 30)))
        if _quiet(company, person, ago):
            ago = rng.randint(QUIET_DAYS, HISTORY_DAYS)

        kind = rng.choices([k for k, _ in KINDS], [w for _, w in KINDS])[0]
        direction, subject = _subject(rng, kind, company)
        fields = {
            "kind": kind,
            "direction": direction,
            "subject": subject,
            "body": f"{subject}. {rng.choice(talk.NOTES)}",
            "occurred_at": world.moment(rng, ago),
            "participants": [company.owner.email, person.email],
        }
        refs = {
            "account": world.ref(company.id),
            "person": world.ref(person.id),
        }
        key = f"{company.id}-act{number}"
        yield world.record("activity", key, fields, refs)


def _subject(rng: random.Random, kind: str, company: Account) -> tuple[str | None, str]:
    if kind == "email":
        direction = rng.choice(("inbound", "outbound"))
        return direction, rng.choice(talk.EMAIL_SUBJECTS[direction])
    if kind == "note":
        return None, rng.choice(talk.NOTES)
    title = rng.choice(talk.TOPICS).title
    return ("outbound" if kind == "call" else None), f"{title} with {company.name}"


def calls(world: World, company: Account, crowd: list[Person]) -> list[Call]:
    """One to three recorded calls (none to two for prospects), oldest first."""
    rng = world.rng(company.index, "calls")
    count = rng.randint(1, 3) if company.customer else rng.randint(0, 2)
    unhappy = bool(company.traits & {"declining", "failed_payment"})
    found = []
    for number, ago in enumerate(sorted(rng.sample(range(2, 90), count))[::-1]):
        eligible = [p for p in crowd if not _quiet(company, p, ago)]
        guests = rng.sample(eligible, rng.randint(1, 3))
        last = number == count - 1
        found.append(
            Call(
                f"{company.id}-call{number}",
                rng.choice(talk.TOPICS),
                world.moment(rng, ago),
                rng.choice((30, 30, 45, 60)),
                tuple(guests),
                last and (unhappy or rng.random() < 0.15),
            )
        )
    return found


def conversation_records(world: World, index: int) -> Iterator[Record]:
    company = account(world, index)
    for call in calls(world, company, people(world, company)):
        rng = world.rng(index, "summary", call.id)
        points = rng.sample(call.topic.key_points, rng.randint(2, 3))
        names = ", ".join(g.name for g in call.guests)
        summary = (
            f"{names} met {company.owner.name} for a {call.topic.title.lower()}. "
            f"Main points: {'; '.join(points).lower()}."
        )
        if call.negative:
            summary += " The customer pushed back on price and budget near the end."
        fields = {
            "title": f"{company.name} / Foresight: {call.topic.title}",
            "started_at": call.started_at,
            "duration_minutes": call.minutes,
            "participants": [company.owner.name, *(g.name for g in call.guests)],
            "summary": summary,
            "key_points": points,
        }
        refs: dict[str, Ref | RepRef] = {
            "account": world.ref(company.id),
            "rep": RepRef(email=company.owner.email),
        }
        yield world.record("conversation", call.id, fields, refs)


def turn_records(world: World, index: int) -> Iterator[Record]:
    """Eight to twenty turns per call: the rep and the guests, taking turns."""
    company = account(world, index)
    for call in calls(world, company, people(world, company)):
        rng = world.rng(index, "turns", call.id)
        count = rng.randint(8, 20)
        clock = rng.randint(2_000, 9_000)
        refs = {"conversation": world.ref(call.id)}
        for position in range(count):
            speaker, text = _line(rng, call, company, position, count)
            length = MS_PER_WORD * len(text.split()) + rng.randint(0, 1_500)
            fields = {
                "position": position,
                "speaker": speaker,
                "text": text,
                "start_ms": clock,
                "end_ms": clock + length,
            }
            key = f"{call.id}-t{position}"
            yield world.record("turn", key, fields, refs)
            clock += length + rng.randint(300, 20_000)


def _line(
    rng: random.Random, call: Call, company: Account, position: int, count: int
) -> tuple[str, str]:
    if position % 2 == 0:
        lines = call.topic.rep_lines + talk.COMMON_REP
        return company.owner.name, rng.choice(lines)
    guest = rng.choice(call.guests)
    last_guest_turn = count - 1 if count % 2 == 0 else count - 2
    if call.negative and position == last_guest_turn:
        return guest.name, rng.choice(talk.NEGATIVE_LINES)
    return guest.name, rng.choice(call.topic.customer_lines + talk.COMMON_CUSTOMER)

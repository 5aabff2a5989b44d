"""Our own sales org: managers with about eight reps each, in three teams."""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import dataclass

from context.records import Record
from integrations.synthetic.words import REP_FIRST_NAMES, REP_LAST_NAMES
from integrations.synthetic.world import World, permute

EMAIL_DOMAIN = "foresight-demo.example"
DEMO_USER_NAME = "Alex Morgan"
DEMO_MANAGER_NAME = "Dana Whitfield"
ADMIN_NAME = "Sam Okafor"
DEMO_USER_EMAIL = f"alex.morgan@{EMAIL_DOMAIN}"
DEMO_MANAGER_EMAIL = f"dana.whitfield@{EMAIL_DOMAIN}"
ADMIN_EMAIL = f"sam.okafor@{EMAIL_DOMAIN}"

TEAMS = (
    ("East", "America/New_York"),
    ("Central", "America/Chicago"),
    ("West", "America/Los_Angeles"),
)
# A few reps work away from their team's home zone.
REMOTE_ZONES = {"East": "America/Toronto", "Central": "America/Denver"}
REPS_PER_MANAGER = 8
ACCOUNTS_PER_REP = 40
MIN_REPS = 24


@dataclass(frozen=True)
class Member:
    """Someone in our sales org; ``index`` is the rep or manager number."""

    id: str
    name: str
    email: str
    role: str
    team: str
    time_zone: str
    manager_name: str | None = None
    manager_email: str | None = None


def rep_count(world: World) -> int:
    return max(MIN_REPS, math.ceil(world.accounts / ACCOUNTS_PER_REP))


def manager_count(world: World) -> int:
    return math.ceil(rep_count(world) / REPS_PER_MANAGER)


def manager(world: World, index: int) -> Member:
    team, zone = TEAMS[index % len(TEAMS)]
    name, email = (
        (DEMO_MANAGER_NAME, DEMO_MANAGER_EMAIL)
        if index == 0
        else _person(world, rep_count(world) + index)
    )
    return Member(f"mgr-{index}", name, email, "manager", team, zone)


def rep(world: World, index: int) -> Member:
    """Rep 0 is the demo user; every rep reports to manager ``index // 8``."""
    boss = manager(world, index // REPS_PER_MANAGER)
    name, email = (
        (DEMO_USER_NAME, DEMO_USER_EMAIL) if index == 0 else _person(world, index)
    )
    zone = boss.time_zone
    if index % 5 == 3 and boss.team in REMOTE_ZONES:
        zone = REMOTE_ZONES[boss.team]
    return Member(
        f"rep-{index}", name, email, "rep", boss.team, zone, boss.name, boss.email
    )


def owner_of(world: World, account: int) -> Member:
    return rep(world, world.rng(account, "owner").randrange(rep_count(world)))


def rep_records(world: World) -> Iterator[Record]:
    admin = Member("admin-0", ADMIN_NAME, ADMIN_EMAIL, "admin", "RevOps", "UTC")
    yield _record(world, admin)
    for index in range(manager_count(world)):
        yield _record(world, manager(world, index))
    for index in range(rep_count(world)):
        yield _record(world, rep(world, index))


def _person(world: World, number: int) -> tuple[str, str]:
    """A unique name for rep or manager ``number`` (names never repeat under 1,600)."""
    size = len(REP_FIRST_NAMES) * len(REP_LAST_NAMES)
    pick = permute(number % size, size, world.seed)
    first = REP_FIRST_NAMES[pick % len(REP_FIRST_NAMES)]
    last = REP_LAST_NAMES[pick // len(REP_FIRST_NAMES)]
    again = f"{number // size + 1}" if number >= size else ""
    return f"{first} {last}", f"{first}.{last}{again}@{EMAIL_DOMAIN}".lower()


def _record(world: World, member: Member) -> Record:
    fields = {
        "name": member.name,
        "email": member.email,
        "role": member.role,
        "team": member.team,
        "time_zone": member.time_zone,
        "manager_name": member.manager_name,
    }
    return world.record("rep", member.id, fields)

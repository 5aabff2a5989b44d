"""Accounts and the people at them.

Most names come from a keyed bijection over three families of words, so 50,000
accounts get 50,000 different names with no set of taken names kept in memory. A few
hand-written accounts sit at fixed indexes for the demo: near-duplicates, accents,
punctuation and a parent with its subsidiary.
"""

from __future__ import annotations

import math
import random
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal

from context.records import Record, RepRef
from integrations.synthetic import words
from integrations.synthetic.org import Member, owner_of, rep
from integrations.synthetic.world import World, permute, slug


@dataclass(frozen=True)
class Curated:
    name: str
    domain: str
    industry: str
    location: int  # index into words.LOCATIONS
    employees: int
    traits: frozenset[str]
    parent: str | None = None


def _traits(text: str) -> frozenset[str]:
    return frozenset(text.split())


CURATED = (
    Curated("Northwind Traders", "northwindtraders.com", "Wholesale", 1,
            850, _traits("declining quiet_champion pushed")),
    Curated("Northwind Logistics", "northwind-logistics.com",
            "Transportation & Logistics", 4, 420, _traits("growing")),
    Curated("Northwind Health Partners", "northwindhealth.org", "Healthcare", 8,
            2300, _traits("prospect")),
    Curated("Café Société", "cafesociete.fr", "Food & Beverage", 15,
            45, _traits("flat failed_payment")),
    Curated("O'Malley Freight & Co", "omalleyfreight.com",
            "Transportation & Logistics", 0, 260, _traits("flat auto_renew_off")),
    Curated("Globex Holdings", "globex.com", "Conglomerate", 5,
            12000, _traits("growing")),
    Curated("Globex Retail", "globexretail.com", "Retail", 5,
            3400, _traits("declining stalled"), parent="Globex Holdings"),
    Curated("Müller & Söhne GmbH", "mueller-soehne.de", "Manufacturing", 13,
            1800, _traits("flat")),
    Curated("Halvorsen Maritime", "halvorsen-maritime.com",
            "Transportation & Logistics", 16, 220, _traits("no_usage pushed")),
    Curated("Acme Corporation", "acme.com", "Manufacturing", 6,
            5200, _traits("growing")),
)  # fmt: skip
CURATED_FIRST, CURATED_SPACING = 3, 19
CURATED_AT = {CURATED_FIRST + CURATED_SPACING * k: c for k, c in enumerate(CURATED)}

USAGE_SHAPES = ("declining", "flat", "growing", "no_usage")
USAGE_WEIGHTS = (20, 35, 30, 15)
RARE_TRAITS = (
    ("failed_payment", 0.08),
    ("auto_renew_off", 0.12),
    ("quiet_champion", 0.25),
    ("pushed", 0.2),
    ("stalled", 0.15),
)
CUSTOMER_SHARE = 0.75
PARENT_SHARE = 0.04

_COMPOUNDS = len(words.PREFIXES) * len(words.ROOTS)
_PAIRS = len(words.ADJECTIVES) * len(words.NOUNS)
_CORES = _COMPOUNDS + _PAIRS + len(words.FOUNDERS)
_DESCRIPTORS = tuple(words.DESCRIPTORS)
NAME_SPACE = _CORES * len(_DESCRIPTORS)


@dataclass(frozen=True)
class Account:
    index: int
    id: str
    name: str
    domain: str
    industry: str
    location: str
    time_zone: str
    employees: int
    parent_name: str | None
    owner: Member
    traits: frozenset[str]

    @property
    def customer(self) -> bool:
        return "prospect" not in self.traits

    @property
    def currency(self) -> str:
        country = self.location.rsplit(", ", 1)[-1]
        return {"DE": "EUR", "FR": "EUR", "NL": "EUR", "GB": "GBP"}.get(country, "USD")


@dataclass(frozen=True)
class Person:
    id: str
    name: str
    email: str
    title: str
    role: str


def account(world: World, index: int) -> Account:
    """The account at ``index``: a pure function of the seed and the index."""
    rng = world.rng(index, "account")
    curated = CURATED_AT.get(index)
    if curated is not None:
        name, domain, industry = curated.name, curated.domain, curated.industry
        place, zone = words.LOCATIONS[curated.location]
        owner, traits, parent = rep(world, 0), curated.traits, curated.parent
    else:
        name, domain, industry = company(world, index)
        place, zone = rng.choice(words.LOCATIONS)
        owner, traits = owner_of(world, index), _random_traits(rng)
        parent = None
        if index and rng.random() < PARENT_SHARE:
            parent = account_name(world, rng.randrange(index))

    employees = min(200_000, max(8, int(math.exp(rng.gauss(5.3, 1.4)))))
    if curated is not None:
        employees = curated.employees
    return Account(
        index, f"acct-{index}", name, domain, industry, place, zone, employees,
        parent, owner, traits,
    )  # fmt: skip


def account_name(world: World, index: int) -> str:
    curated = CURATED_AT.get(index)
    return curated.name if curated is not None else company(world, index)[0]


def company(world: World, index: int) -> tuple[str, str, str]:
    """Name, domain and industry of a generated company."""
    pick = permute(index % NAME_SPACE, NAME_SPACE, world.seed)
    descriptor = _DESCRIPTORS[pick % len(_DESCRIPTORS)]
    core = _core(pick // len(_DESCRIPTORS))
    rng = world.rng(index, "name")
    ending = rng.choice(words.LEGAL_ENDINGS)
    domain = slug(f"{core} {descriptor}") + rng.choice(words.TLDS)
    return f"{core} {descriptor}{ending}", domain, words.DESCRIPTORS[descriptor]


def _core(number: int) -> str:
    if number < _COMPOUNDS:
        prefix, root = divmod(number, len(words.ROOTS))
        return words.PREFIXES[prefix] + words.ROOTS[root]
    number -= _COMPOUNDS
    if number < _PAIRS:
        adjective, noun = divmod(number, len(words.NOUNS))
        return f"{words.ADJECTIVES[adjective]} {words.NOUNS[noun]}"
    return words.FOUNDERS[number - _PAIRS]


def _random_traits(rng: random.Random) -> frozenset[str]:
    if rng.random() > CUSTOMER_SHARE:
        return frozenset({"prospect"})
    chosen = {rng.choices(USAGE_SHAPES, USAGE_WEIGHTS)[0]}
    chosen.update(t for t, share in RARE_TRAITS if rng.random() < share)
    return frozenset(chosen)


def people(world: World, company: Account) -> list[Person]:
    """About ten people: one C-level, a couple of VPs, directors and managers.

    The economic buyer is the most senior; the champion is a VP or director; a few
    managers are users; everyone else has no role.
    """
    rng = world.rng(company.index, "people")
    count = rng.randint(6, 14)
    levels = ["c_level", "vp", "vp", "director", "director", "director"]
    levels += ["manager"] * (count - len(levels))
    roles = ["economic buyer", "none", rng.choice(["champion", "none"])]
    roles += ["champion" if roles[2] == "none" else "none", "none", "none"]
    roles += [rng.choice(["user", "user", "none"]) for _ in levels[6:]]

    found: list[Person] = []
    taken: set[str] = set()
    for number, (level, role) in enumerate(zip(levels, roles, strict=True)):
        first, last = rng.choice(words.FIRST_NAMES), rng.choice(words.LAST_NAMES)
        local = f"{slug(first)}.{slug(last)}"
        if local in taken:
            local += str(number)
        taken.add(local)
        title = rng.choice(words.TITLES[level])
        pid = f"{company.id}-p{number}"
        found.append(
            Person(pid, f"{first} {last}", f"{local}@{company.domain}", title, role)
        )
    return found


def account_records(world: World, index: int) -> Iterator[Record]:
    company = account(world, index)
    rng = world.rng(index, "firmographics")
    revenue = Decimal(company.employees * rng.randrange(60, 320)) * 1000
    segment = (
        "Enterprise" if company.employees >= 1000
        else "Mid-Market" if company.employees >= 100 else "SMB"
    )  # fmt: skip
    fields = {
        "name": company.name,
        "domain": company.domain,
        "industry": company.industry,
        "employees": company.employees,
        "revenue": revenue,
        "location": company.location,
        "parent_name": company.parent_name,
        "extra": {
            "segment": segment,
            "lifecycle": "customer" if company.customer else "prospect",
        },
    }
    refs = {"owner": RepRef(email=company.owner.email)}
    yield world.record("account", company.id, fields, refs)


def person_records(world: World, index: int) -> Iterator[Record]:
    company = account(world, index)
    for person in people(world, company):
        fields = {
            "name": person.name,
            "email": person.email,
            "title": person.title,
            "role": None if person.role == "none" else person.role,
        }
        refs = {"account": world.ref(company.id)}
        yield world.record("person", person.id, fields, refs)

"""The synthetic world: repeatable, loadable, never in the future, good for demos."""

from __future__ import annotations

import hashlib
from collections import Counter, defaultdict
from datetime import UTC, date, datetime, time

from rapidfuzz import fuzz
from sqlalchemy import Engine, func, select

from context.load import TABLES, Loader
from context.models import DealChange
from context.names import fold, name_key
from context.records import KINDS, Record
from integrations.synthetic import (
    DEMO_ACCOUNTS,
    DEMO_ASKS,
    DEMO_MANAGER_EMAIL,
    DEMO_USER_EMAIL,
    generate,
    generate_kind,
)
from integrations.synthetic.accounts import account_name
from integrations.synthetic.world import DEFAULT_TODAY, World

SMALL = 30
# Dates that look ahead by nature; everything else must be on or before today.
FORWARD = {
    ("deal", "close_date"),
    ("subscription", "renews_on"),
    ("invoice", "due_on"),
    ("meeting", "starts_at"),
    ("meeting", "ends_at"),
}


def digests(records: list[Record], first: int = 40) -> dict[str, str]:
    by_kind: dict[str, list[str]] = defaultdict(list)
    for record in records:
        if len(by_kind[record.kind]) < first:
            by_kind[record.kind].append(repr(record))
    return {
        kind: hashlib.sha256("\n".join(rows).encode()).hexdigest()
        for kind, rows in by_kind.items()
    }


def demo_accounts() -> list[Record]:
    return list(generate_kind("account", DEMO_ACCOUNTS))


def test_same_seed_gives_same_records() -> None:
    first = digests(list(generate(SMALL, seed=7)))
    again = digests(list(generate(SMALL, seed=7)))
    assert set(first) == set(KINDS) - {"account_alias"}
    assert first == again


def test_other_seed_gives_other_records() -> None:
    first = digests(list(generate(SMALL, seed=7)))
    other = digests(list(generate(SMALL, seed=8)))
    assert all(first[kind] != other[kind] for kind in first)


def test_records_come_in_load_order() -> None:
    order = [KINDS.index(r.kind) for r in generate(SMALL)]
    assert order == sorted(order)


def test_loading_thirty_accounts_counts_every_kind(engine: Engine) -> None:
    records = list(generate(SMALL))
    expected = Counter(r.kind for r in records)

    report = Loader(engine).load(records)
    assert report.rejections == []
    assert {k: c["new"] for (_, k), c in report.counts.items()} == expected

    with engine.connect() as connection:
        for kind, count in expected.items():
            table = DealChange if kind == "deal_change" else TABLES[kind]
            assert connection.scalar(select(func.count()).select_from(table)) == count

    again = Loader(engine).load(records)
    assert again.changed() == 0
    assert again.rejections == []


def test_nothing_happens_after_today() -> None:
    midnight = datetime.combine(DEFAULT_TODAY, time(), UTC)
    for record in generate(SMALL):
        for name, value in record.fields.items():
            if (record.kind, name) in FORWARD:
                continue
            if isinstance(value, datetime):
                assert value.tzinfo is not None, (record, name)
                assert value < midnight, (record, name)
            elif isinstance(value, date):
                assert value <= DEFAULT_TODAY, (record, name)


def test_meetings_are_upcoming_and_demo_rep_has_one_today() -> None:
    midnight = datetime.combine(DEFAULT_TODAY, time(), UTC)
    meetings = list(generate_kind("meeting", SMALL))
    assert all(m.fields["starts_at"] >= midnight for m in meetings)
    today = [
        m
        for m in meetings
        if m.fields["organizer_email"] == DEMO_USER_EMAIL
        and m.fields["starts_at"].date() == DEFAULT_TODAY
    ]
    assert today


def test_demo_rep_reports_to_demo_manager() -> None:
    reps = {r.fields["email"]: r.fields for r in generate_kind("rep", DEMO_ACCOUNTS)}
    assert len(reps) == len(list(generate_kind("rep", DEMO_ACCOUNTS)))
    manager = reps[DEMO_MANAGER_EMAIL]
    assert manager["role"] == "manager"
    assert reps[DEMO_USER_EMAIL]["role"] == "rep"
    assert reps[DEMO_USER_EMAIL]["manager_name"] == manager["name"]
    assert {r["team"] for r in reps.values() if r["role"] == "rep"} == {
        "East",
        "Central",
        "West",
    }


def test_per_account_counts_are_about_right() -> None:
    counts = Counter(r.kind for r in generate(DEMO_ACCOUNTS))
    per_account = {kind: n / DEMO_ACCOUNTS for kind, n in counts.items()}
    assert 8 <= per_account["person"] <= 12
    assert 4 <= per_account["deal"] <= 6
    assert 8 <= per_account["turn"] / per_account["conversation"] <= 20
    assert 40 <= per_account["usage"] <= 135


def test_fifty_thousand_names_are_distinct() -> None:
    world = World(50_000, 7, DEFAULT_TODAY, "demo")
    keys = {name_key(account_name(world, i)) for i in range(world.accounts)}
    assert len(keys) == world.accounts


def test_demo_ask_exact_name_matches_one_account() -> None:
    names = [r.fields["name"] for r in demo_accounts()]
    assert names.count(DEMO_ASKS[0]) == 1


def test_demo_ask_typo_is_close_to_one_name() -> None:
    typo = name_key(DEMO_ASKS[1])
    scores = sorted(
        (fuzz.ratio(typo, name_key(r.fields["name"])) for r in demo_accounts()),
        reverse=True,
    )
    assert DEMO_ASKS[1] not in [r.fields["name"] for r in demo_accounts()]
    assert scores[0] >= 90
    assert scores[1] < 70


def test_demo_ask_domain_belongs_to_one_account() -> None:
    domains = [r.fields["domain"] for r in demo_accounts()]
    assert domains.count(DEMO_ASKS[2]) == 1


def test_demo_ask_prefix_is_ambiguous() -> None:
    prefix = fold(DEMO_ASKS[3])
    matches = [r for r in demo_accounts() if fold(r.fields["name"]).startswith(prefix)]
    assert len(matches) >= 2


def test_demo_ask_unknown_name_matches_nothing() -> None:
    unknown = fold(DEMO_ASKS[4])
    for record in demo_accounts():
        name = fold(record.fields["name"])
        assert unknown not in name
        assert fuzz.ratio(name_key(DEMO_ASKS[4]), name_key(name)) < 60

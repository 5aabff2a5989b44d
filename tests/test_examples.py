"""Every example config, run on the shared data where it lies and on a small world.

The expected numbers were counted by hand in the CSV and JSON files (python's csv
module and json, not this code): for example Acme Corporation has 34 Won, 24 Lost,
8 Engaging and 2 Prospecting rows in sales_pipeline.csv.
"""

from __future__ import annotations

import io
import os
from collections import Counter
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from rich.console import Console
from sqlalchemy import Engine, func, select

from context.clock import Clock
from context.models import (
    Account,
    Activity,
    Conversation,
    ConversationTurn,
    Deal,
    Person,
    Rep,
    Subscription,
    UsageRecord,
)
from integrations.config import DATA_ROOT_ENV, load_config
from integrations.sync import SourceResult, sync
from tests.conftest import DATA, DATA_ENV
from tests.small_world import build_small_world

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"
SETS = ("maven", "salesforce", "ravenstack", "ami", "joined")

Counts = dict[tuple[str, str], dict[str, int]]


def run(
    engine: Engine, name: str, data_root: Path | None = None
) -> tuple[list[SourceResult], str]:
    config = load_config(EXAMPLES / name / "foresight.yml", data_root or DATA)
    out = io.StringIO()
    results = sync(engine, config, Clock(config.now), console=Console(file=out))
    return results, out.getvalue()


def counts(results: list[SourceResult]) -> Counts:
    """Outcomes that happened, per (source, kind)."""
    return {
        (result.name, kind): {k: v for k, v in outcomes.items() if v}
        for result in results
        for kind, outcomes in result.counts.items()
    }


def assert_resync_changes_nothing(engine: Engine, name: str, first: Counts) -> None:
    results, output = run(engine, name)
    assert sum(result.changed() for result in results) == 0
    assert "Nothing changed." in output
    again = counts(results)
    assert {key: sum(c.values()) for key, c in again.items()} == {
        key: sum(c.values()) for key, c in first.items()
    }


def scalars(engine: Engine, query: Any) -> list[Any]:
    with engine.connect() as connection:
        return list(connection.scalars(query).all())


def rows(engine: Engine, query: Any) -> list[tuple[Any, ...]]:
    with engine.connect() as connection:
        return [tuple(row) for row in connection.execute(query).all()]


def open_deals(engine: Engine, account: str) -> list[tuple[Any, ...]]:
    return rows(
        engine,
        select(Deal.source_id, Deal.stage, Deal.amount, Deal.list_value)
        .join(Account, Deal.account_id == Account.id)
        .where(Account.name == account, Deal.status == "open")
        .order_by(Deal.source_id),
    )


@pytest.fixture(autouse=True)
def no_data_root_override(monkeypatch: pytest.MonkeyPatch) -> None:
    """The configs' own data_root, unless a test says otherwise."""
    monkeypatch.delenv(DATA_ROOT_ENV, raising=False)


@pytest.mark.parametrize("name", SETS)
def test_examples_read_the_shared_data_where_it_lies(
    name: str, shared_data: Path
) -> None:
    if os.environ.get(DATA_ENV):
        pytest.skip(f"{DATA_ENV} puts the data elsewhere")
    assert load_config(EXAMPLES / name / "foresight.yml").data_root == shared_data


# Acme Corporation's open deals: (id, stage, amount, list value from products.csv).
ACME_OPEN = [
    ("0N11U6L3", "Engaging", None, Decimal("1096")),
    ("7TI1WTV9", "Engaging", None, Decimal("4821")),  # GTXPro → GTX Pro
    ("B3A6VXVQ", "Engaging", None, Decimal("550")),
    ("EMH2I8XE", "Engaging", None, Decimal("3393")),
    ("LDQITW5C", "Engaging", None, Decimal("3393")),
    ("MG1YUTUE", "Engaging", None, Decimal("55")),
    ("MI3MV7PU", "Prospecting", None, Decimal("3393")),
    ("S3W6Q07M", "Engaging", None, Decimal("5482")),
    ("SP9W5IND", "Engaging", None, Decimal("55")),
    ("VAM56BG4", "Prospecting", None, Decimal("1096")),
]


def test_maven_example(engine: Engine) -> None:
    results, _ = run(engine, "maven")
    loaded = counts(results)

    assert loaded == {
        ("crm", "rep"): {"new": 41},  # 35 agents and their 6 managers
        ("crm", "account"): {"new": 64},
        ("crm", "deal"): {"new": 6529},
    }
    assert open_deals(engine, "Acme Corporation") == ACME_OPEN
    acme_won = select(func.count(), func.sum(Deal.amount)).join(Account)
    acme_won = acme_won.where(Account.name == "Acme Corporation", Deal.status == "won")
    assert rows(engine, acme_won) == [(34, Decimal("101744"))]
    statuses = rows(engine, select(Deal.status, func.count()).group_by(Deal.status))
    assert dict(statuses) == {"won": 3132, "lost": 1865, "open": 1532}
    no_account = select(func.count()).where(Deal.account_id.is_(None))
    assert scalars(engine, no_account) == [1035]
    assert scalars(engine, select(func.count()).where(Deal.owner_rep_id.is_(None))) == [
        0
    ]
    gtx_pro = select(Deal.list_value).where(Deal.product == "GTXPro").distinct()
    assert scalars(engine, gtx_pro) == [Decimal("4821")]
    acme = rows(
        engine,
        select(Account.revenue, Account.industry, Account.extra).where(
            Account.name == "Acme Corporation"
        ),
    )
    assert acme == [(Decimal("1100040000"), "technolgy", {"year_established": 1996})]
    managers = select(Rep.name, Rep.team).where(Rep.role == "manager")
    assert ("Dustin Brinkmann", "Central") in rows(engine, managers)
    assert len(rows(engine, managers)) == 6

    assert_resync_changes_nothing(engine, "maven", loaded)


def test_salesforce_example(engine: Engine) -> None:
    results, _ = run(engine, "salesforce")
    loaded = counts(results)

    assert loaded == {
        ("sf_recipes", "account"): {"new": 10},
        ("sf_recipes", "person"): {"new": 6},
        ("sf_recipes", "deal"): {"new": 20},
        ("sf_tree", "account"): {"new": 2},
        ("sf_tree", "deal"): {"new": 1},
        ("sf_tree", "activity"): {"new": 2},
        ("salesforce", "account"): {"new": 50},
        ("salesforce", "person"): {"new": 23},  # 2 top-level, 21 in sub-queries
        ("salesforce", "deal"): {"new": 1},
    }
    assert open_deals(engine, "Alpha Dynamics") == [
        ("OpportunityRef1", "Proposal/Price Quote", Decimal("125000"), None),
        ("OpportunityRef11", "Qualification", Decimal("42000"), None),
    ]
    lwc = select(Deal.status, func.count()).where(Deal.source == "sf_recipes")
    assert dict(rows(engine, lwc.group_by(Deal.status))) == {
        "open": 17,
        "won": 2,
        "lost": 1,
    }
    people = (
        select(Person.name)
        .join(Account)
        .where(Account.name == "United Oil & Gas Corp.")
        .order_by(Person.name)
    )
    assert scalars(engine, people) == ["Boyle", "Green", "Pavlova", "Song"]
    tasks = rows(
        engine,
        select(Activity.source_id, Activity.kind, Deal.name, Account.name)
        .outerjoin(Deal, Activity.deal_id == Deal.id)
        .outerjoin(Account, Activity.account_id == Account.id)
        .order_by(Activity.source_id),
    )
    assert tasks == [
        ("TaskRef1", "task", "Test Oppty", "Test"),
        ("TaskRef2", "task", None, None),  # its WhatId is a Case, which is not loaded
    ]
    soql_deal = select(Deal.product, Deal.amount).where(Deal.source == "salesforce")
    assert rows(engine, soql_deal) == [("MyProduct", Decimal("1300"))]

    assert_resync_changes_nothing(engine, "salesforce", loaded)


def test_ravenstack_example(engine: Engine) -> None:
    results, _ = run(engine, "ravenstack")
    loaded = counts(results)

    assert loaded == {
        ("ravenstack", "account"): {"new": 375},
        ("ravenstack", "subscription"): {"new": 3782},
        ("ravenstack", "usage"): {"new": 18948},
        ("ravenstack", "activity"): {"new": 2001},  # 1,535 tickets, 466 churn events
    }
    statuses = select(Subscription.status, func.count()).group_by(Subscription.status)
    assert dict(rows(engine, statuses)) == {
        "active": 2881,
        "trial": 537,
        "churned": 364,
    }
    company0 = rows(
        engine,
        select(Account.name, Account.industry, Account.location, Account.extra).where(
            Account.source_id == "A-2e4581"
        ),
    )
    assert company0 == [
        (
            "Company_0",
            "EdTech",
            "US",
            {
                "signup_date": "2024-10-16",
                "referral_source": "partner",
                "plan_tier": "Basic",
                "seats": 9,
                "is_trial": False,
                "churned": False,
            },
        )
    ]
    mrr = (
        select(Subscription.mrr)
        .join(Account)
        .where(Account.source_id == "A-2e4581")
        .order_by(Subscription.mrr)
    )
    assert [int(m) for m in scalars(engine, mrr)] == [
        0, 0, 209, 441, 637, 836, 980, 1791, 1938, 5771,
    ]  # fmt: skip
    twice = select(UsageRecord.source_id).where(
        UsageRecord.source_id.like("%/U-8128da")
    )
    assert sorted(scalars(engine, twice)) == ["S-6c969d/U-8128da", "S-9c85b0/U-8128da"]

    assert_resync_changes_nothing(engine, "ravenstack", loaded)


def test_ami_example(engine: Engine) -> None:
    results, _ = run(engine, "ami")
    loaded = counts(results)

    assert loaded == {
        ("ami", "conversation"): {"new": 28},
        ("ami", "turn"): {"new": 18398},
    }
    meeting = rows(
        engine,
        select(
            Conversation.id,
            Conversation.title,
            Conversation.summary,
            Conversation.key_points,
            Conversation.participants,
            Conversation.account_id,
            Conversation.started_at,
        ).where(Conversation.source_id == "ES2002a"),
    )
    key, title, summary, points, participants, account, started = meeting[0]
    assert title == "Meeting ES2002a"
    assert summary.startswith("This was the kick-off meeting for the project.")
    assert points == [
        "Group mates self-introduction and the project introduction",
        "Discussion about favourite animal characteristics and the workflow",
    ]
    assert participants == [
        "Project Manager",
        "Marketing",
        "Industrial Designer",
        "User Interface",
    ]
    assert (account, started) == (None, None)
    turns = select(ConversationTurn.position, ConversationTurn.speaker).where(
        ConversationTurn.conversation_id == key
    )
    said = rows(engine, turns.order_by(ConversationTurn.position))
    assert len(said) == 287
    assert said[:2] == [(0, "Project Manager"), (1, "Marketing")]

    assert_resync_changes_nothing(engine, "ami", loaded)


def test_joined_example(engine: Engine) -> None:
    results, _ = run(engine, "joined")
    loaded = counts(results)

    assert loaded == {
        ("crm", "rep"): {"new": 41},
        ("crm", "account"): {"new": 64},
        ("crm", "deal"): {"new": 6529},
        ("product", "account_alias"): {"new": 64},
        # 64 product accounts merge into their CRM accounts (which already have
        # every field they could fill); the other 311 are accounts of their own.
        ("product", "account"): {"new": 311, "unchanged": 64},
        ("product", "subscription"): {"new": 3782},
        ("product", "usage"): {"new": 18948},
        ("product", "activity"): {"new": 2001},
        ("calls", "conversation"): {"new": 28},
        ("calls", "turn"): {"new": 18398},
    }
    assert scalars(engine, select(func.count()).select_from(Account)) == [375]
    assert open_deals(engine, "Acme Corporation") == ACME_OPEN
    created = select(Deal.created_on).where(Deal.source_id == "0N11U6L3")
    assert scalars(engine, created) == [date(2024, 10, 28)]  # re-dated 365 weeks

    acme = scalars(engine, select(Account.id).where(Account.name == "Acme Corporation"))
    subscriptions = rows(
        engine,
        select(Subscription.status, Subscription.mrr).where(
            Subscription.account_id == acme[0]
        ),
    )
    assert Counter(status for status, _ in subscriptions) == {"active": 9, "trial": 1}
    assert sum(mrr for status, mrr in subscriptions if status == "active") == 33506
    usage = select(func.count()).where(UsageRecord.account_id == acme[0])
    assert scalars(engine, usage) == [51]
    notes = select(func.count()).where(Activity.account_id == acme[0])
    assert scalars(engine, notes) == [5]  # 4 support tickets and 1 churn event

    calls = rows(
        engine,
        select(Conversation.source_id, Conversation.started_at, Rep.name, Rep.email)
        .join(Account, Conversation.account_id == Account.id)
        .join(Rep, Conversation.rep_id == Rep.id)
        .where(Account.name == "Domzoom")
        .order_by(Conversation.started_at),
    )
    assert [c[0] for c in calls] == ["ES2002a", "ES2002b", "ES2002c", "ES2002d"]
    assert calls[0][1:] == (
        datetime(2024, 10, 14, 15, 0, tzinfo=UTC),  # 10:00 at -05:00
        "Darcel Schlecht",
        "darcel.schlecht@example.com",
    )
    assert calls[0][1].utcoffset() is not None
    first_call = select(Conversation.summary, func.count(ConversationTurn.id))
    first_call = first_call.join(ConversationTurn).where(
        Conversation.source_id == "ES2002a"
    )
    summary, turns = rows(engine, first_call.group_by(Conversation.summary))[0]
    assert summary.startswith("This was the kick-off meeting") and turns == 287
    zones = select(Rep.time_zone).where(Rep.name == "Anna Snelling")
    assert scalars(engine, zones) == ["America/Chicago"]

    assert_resync_changes_nothing(engine, "joined", loaded)


# -- the same configs on another folder of the same layout -------------------------


@pytest.fixture
def small_world(tmp_path: Path) -> Path:
    return build_small_world(tmp_path / "data")


def test_maven_on_another_folder(engine: Engine, small_world: Path) -> None:
    results, _ = run(engine, "maven", small_world)

    assert counts(results) == {
        ("crm", "rep"): {"new": 3},
        ("crm", "account"): {"new": 2},
        ("crm", "deal"): {"new": 3, "rejected": 1},
    }
    assert [str(r) for r in results[0].rejections] == [
        "crm/maven_crm_sales_opportunities/sales_pipeline.csv:5 (OP4): close_date "
        "from column close_date: cannot read '2017-02-30' as a date; write it like "
        "2024-12-02 or set `format:`"
    ]
    assert open_deals(engine, "Acme Corporation") == [
        ("OP1", "Engaging", None, Decimal("4821"))
    ]


def test_joined_on_another_folder(engine: Engine, small_world: Path) -> None:
    results, _ = run(engine, "joined", small_world)

    assert counts(results) == {
        ("crm", "rep"): {"new": 3},
        ("crm", "account"): {"new": 2},
        ("crm", "deal"): {"new": 3, "rejected": 1},
        ("product", "account_alias"): {"new": 1},
        ("product", "account"): {"new": 1, "unchanged": 1},
        ("product", "subscription"): {"new": 2},
        ("product", "usage"): {"new": 2},
        ("product", "activity"): {"new": 2},
        ("calls", "conversation"): {"new": 1},
        ("calls", "turn"): {"new": 2},
    }
    by_account = rows(
        engine,
        select(Account.name, func.count(UsageRecord.id))
        .join(UsageRecord)
        .group_by(Account.name)
        .order_by(Account.name),
    )
    assert by_account == [("Acme Corporation", 1), ("Company_9", 1)]
    call = rows(
        engine,
        select(Conversation.summary, Conversation.key_points, Account.name).join(
            Account
        ),
    )
    assert call == [("A short kick-off.", ["Introductions"], "Acme Corporation")]


def test_other_examples_on_another_folder(engine: Engine, small_world: Path) -> None:
    loaded: Counts = {}
    for name in ("ravenstack", "ami", "salesforce"):
        results, _ = run(engine, name, small_world)
        loaded |= counts(results)

    assert loaded == {
        ("ravenstack", "account"): {"new": 2},
        ("ravenstack", "subscription"): {"new": 2},
        ("ravenstack", "usage"): {"new": 2},
        ("ravenstack", "activity"): {"new": 2},
        ("ami", "conversation"): {"new": 1},
        ("ami", "turn"): {"new": 2},
        ("sf_recipes", "account"): {"new": 1},
        ("sf_recipes", "person"): {"new": 1},
        ("sf_recipes", "deal"): {"new": 1},
        ("sf_tree", "account"): {"new": 1},
        ("sf_tree", "deal"): {"new": 1},
        ("sf_tree", "activity"): {"new": 1},
        ("salesforce", "account"): {"new": 1},
        ("salesforce", "person"): {"new": 1},
    }

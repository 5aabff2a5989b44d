"""Records deleted or merged at their source stay stored but are never shown."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import Engine, select

from context.account_view import AccountView, build_account_view
from context.clock import Clock
from context.db import session_factory
from context.load import Loader
from context.models import Account
from context.records import AnyRef, Record, Ref, RepRef
from context.resolve import Resolution, resolve_account

NOW = datetime(2024, 12, 2, 14, 0, tzinfo=UTC)
TODAY = NOW.date()
GONE_AT = NOW - timedelta(days=1)
ACME: dict[str, AnyRef] = {"account": Ref("crm", "acme")}
# What ``world(deleted=True)`` marks deleted, by source id.
DELETED = {
    "gus",
    "umbrella",
    "acme-dup",
    "p-ben",
    "d-old",
    "d-gone",
    "a-call",
    "m1",
    "c-secret",
    "s-addon",
    "i-failed",
    "u-spike",
}
# What it marks merged, with the survivor: the account is deleted too (as HubSpot
# does), the deal only names its survivor (as some sources do).
MERGED = {"acme-dup": "acme", "d-dup": "d-won"}


def days_ago(n: int) -> date:
    return TODAY - timedelta(days=n)


def world(deleted: bool) -> list[Record]:
    """The same records either way; with ``deleted`` some carry the source's mark."""
    records = [*_org(), *_accounts(), *_deals(), *_touches(), *_billing()]
    if deleted:
        for record in records:
            if record.source_id in DELETED:
                record.fields["deleted_at"] = GONE_AT
            if record.source_id in MERGED:
                record.fields["merged_into"] = MERGED[record.source_id]
    return records


def _org() -> list[Record]:
    return [
        Record("rep", "org", "dana", {"name": "Dana Reyes", "email": "dana@ex.com"}),
        Record("rep", "org", "gus", {"name": "Gus Gone", "email": "gus@ex.com"}),
    ]


def _accounts() -> list[Record]:
    return [
        Record(
            "account",
            "crm",
            "acme",
            {"name": "Acme Corporation", "domain": "acme.com"},
            {"owner": RepRef(email="dana@ex.com")},
        ),
        Record("account", "crm", "acme-dup", {"name": "Acme Corporation"}),
        Record(
            "account",
            "crm",
            "umbrella",
            {"name": "Umbrella Holdings", "domain": "umbrella.com"},
        ),
        Record("account", "crm", "initech", {"name": "Initech"}),
        Record("person", "crm", "p-amy", {"name": "Amy Taylor"}, ACME),
        Record("person", "crm", "p-ben", {"name": "Ben Quiet"}, ACME),
    ]


def _deal(deal_id: str, owner: str, **fields: object) -> Record:
    refs: dict[str, AnyRef] = {**ACME, "owner": RepRef(email=f"{owner}@ex.com")}
    return Record("deal", "crm", deal_id, dict(fields), refs)


def _deals() -> list[Record]:
    open_deal = {"status": "open", "created_on": days_ago(40)}
    won = {"status": "won", "created_on": days_ago(80), "close_date": days_ago(10)}
    return [
        _deal(
            "d-pro",
            "dana",
            name="GTX Pro",
            close_date=TODAY + timedelta(5),
            **open_deal,
        ),
        _deal(
            "d-gus",
            "gus",
            name="Gus Deal",
            close_date=TODAY + timedelta(6),
            **open_deal,
        ),
        _deal(
            "d-old",
            "dana",
            name="Old Pro",
            close_date=TODAY + timedelta(7),
            **open_deal,
        ),
        _deal("d-won", "dana", name="GTX Basic", amount=Decimal(588), **won),
        _deal("d-gone", "dana", name="Dup Basic", amount=Decimal(900), **won),
        _deal("d-dup", "dana", name="GTX Basic", amount=Decimal(588), **won),
    ]


def _touches() -> list[Record]:
    amy: dict[str, AnyRef] = {**ACME, "person": Ref("crm", "p-amy")}
    return [
        Record(
            "activity",
            "crm",
            "a-mail",
            {"kind": "email", "occurred_at": NOW - timedelta(3)},
            amy,
        ),
        Record(
            "activity",
            "crm",
            "a-call",
            {"kind": "call", "occurred_at": NOW - timedelta(1)},
            amy,
        ),
        Record(
            "meeting",
            "cal",
            "m1",
            {"title": "Sync", "starts_at": NOW - timedelta(2)},
            ACME,
        ),
        Record(
            "attendee",
            "cal",
            "m1-amy",
            {"name": "Amy Taylor"},
            {"meeting": Ref("cal", "m1"), "person": Ref("crm", "p-amy")},
        ),
        Record(
            "conversation",
            "calls",
            "c-pricing",
            {
                "title": "Pricing review",
                "started_at": NOW - timedelta(5),
                "participants": ["Amy Taylor"],
            },
            ACME,
        ),
        Record(
            "conversation",
            "calls",
            "c-secret",
            {
                "title": "Secret call",
                "started_at": NOW - timedelta(1),
                "participants": ["Zed Outsider"],
            },
            ACME,
        ),
    ]


def _billing() -> list[Record]:
    records = [
        Record(
            "subscription",
            "billing",
            "s-main",
            {
                "plan": "Enterprise",
                "mrr": Decimal(2786),
                "seats": 14,
                "started_on": days_ago(300),
            },
            ACME,
        ),
        Record(
            "subscription",
            "billing",
            "s-addon",
            {
                "plan": "Add-on",
                "mrr": Decimal(100),
                "seats": 2,
                "started_on": days_ago(30),
            },
            ACME,
        ),
        Record(
            "invoice",
            "billing",
            "i-open",
            {"status": "open", "amount_due": Decimal(2786), "issued_on": days_ago(5)},
            ACME,
        ),
        Record(
            "invoice",
            "billing",
            "i-failed",
            {"status": "failed", "amount_due": Decimal(500), "issued_on": days_ago(35)},
            ACME,
        ),
        Record(
            "usage",
            "product",
            "u-spike",
            {"day": TODAY, "metric": "logins", "value": 999.0},
            ACME,
        ),
    ]
    records += [
        Record(
            "usage",
            "product",
            f"u{n}",
            {"day": days_ago(n), "metric": "logins", "value": 10.0},
            ACME,
        )
        for n in range(10)
    ]
    return records


def load(engine: Engine, *, deleted: bool) -> None:
    report = Loader(engine, Clock(NOW)).load(world(deleted))
    assert report.rejections == []


def card(engine: Engine, source_id: str = "acme") -> AccountView:
    with session_factory(engine)() as session:
        account_id = session.scalars(
            select(Account.id).where(Account.source_id == source_id)
        ).one()
        return build_account_view(session, account_id, Clock(NOW))


def lookup(engine: Engine, query: str) -> Resolution:
    with session_factory(engine)() as session:
        return resolve_account(session, query)


@pytest.fixture
def marked(engine: Engine) -> Engine:
    """The world loaded live first, then again with the deletions: a row marked
    after it was shown is the case that matters."""
    load(engine, deleted=False)
    load(engine, deleted=True)
    return engine


def test_deleted_deals_are_not_counted(marked: Engine) -> None:
    view = card(marked)
    assert [(d.name, d.owner) for d in view.open_deals] == [
        ("GTX Pro", "Dana Reyes"),
        ("Gus Deal", None),
    ]
    assert [(d.name, d.amount) for d in view.recent_closed] == [
        ("GTX Basic", Decimal("588.00"))
    ]


def test_deleted_rep_is_not_on_the_team(marked: Engine) -> None:
    assert [r.name for r in card(marked).team] == ["Dana Reyes"]


def test_deleted_person_is_not_a_stakeholder(marked: Engine) -> None:
    touches = [
        (s.name, s.last_touch, s.last_touch_kind) for s in card(marked).stakeholders
    ]
    assert touches == [("Amy Taylor", NOW - timedelta(days=3), "email")]


def test_deleted_conversation_is_not_the_last(marked: Engine) -> None:
    call = card(marked).last_conversation
    assert call is not None
    assert call.title == "Pricing review"


def test_deleted_billing_rows_are_not_shown(marked: Engine) -> None:
    billing = card(marked).billing
    assert billing is not None
    assert (billing.plan, billing.subscriptions, billing.mrr, billing.seats) == (
        "Enterprise",
        1,
        Decimal("2786.00"),
        14,
    )
    assert (
        billing.unpaid_invoices,
        billing.unpaid_amount,
        billing.failed_invoices,
    ) == (1, Decimal("2786.00"), 0)


def test_deleted_usage_is_not_counted(marked: Engine) -> None:
    usage = card(marked).usage
    assert usage is not None
    assert (usage.last_period, usage.previous_period, usage.days_with_data) == (
        100.0,
        0.0,
        10,
    )


@pytest.mark.parametrize(
    "query", ["umbrella.com", "Umbrella Holdings", "umbrel", "Umbrela Holdngs"]
)
def test_deleted_account_is_not_offered(marked: Engine, query: str) -> None:
    found = lookup(marked, query)
    assert found.status == "none"
    assert "Umbrella Holdings" not in [c.name for c in found.candidates]


def test_merged_account_name_finds_the_survivor(marked: Engine) -> None:
    for query in ("Acme Corporation", "acme", "Acme Corporaton"):
        found = lookup(marked, query)
        assert (found.status, found.candidates[0].name) == ("one", "Acme Corporation")
        assert found.account_id == card(marked, "acme").account_id


def test_card_by_id_follows_a_merge(marked: Engine) -> None:
    assert card(marked, "acme-dup").account_id == card(marked, "acme").account_id
    with pytest.raises(LookupError):
        card(marked, "umbrella")


def test_reloaded_without_deleted_at_is_shown_again(engine: Engine) -> None:
    load(engine, deleted=False)
    assert lookup(engine, "Umbrela Holdngs").status == "one"  # fills the name cache
    load(engine, deleted=True)
    assert lookup(engine, "Umbrela Holdngs").status == "none"
    load(engine, deleted=False)

    assert [c.name for c in lookup(engine, "Umbrela Holdngs").candidates] == [
        "Umbrella Holdings"
    ]
    assert lookup(engine, "umbrella.com").status == "one"
    assert lookup(engine, "Acme Corporation").status == "several"
    view = card(engine)
    assert [(d.name, d.owner) for d in view.open_deals] == [
        ("GTX Pro", "Dana Reyes"),
        ("Gus Deal", "Gus Gone"),
        ("Old Pro", "Dana Reyes"),
    ]
    assert sorted(d.name for d in view.recent_closed) == [
        "Dup Basic",
        "GTX Basic",
        "GTX Basic",
    ]
    assert [r.name for r in view.team] == ["Dana Reyes", "Gus Gone"]
    assert [(s.name, s.last_touch_kind) for s in view.stakeholders] == [
        ("Amy Taylor", "call"),
        ("Zed Outsider", "call"),
        ("Ben Quiet", None),
    ]
    assert view.last_conversation is not None
    assert view.last_conversation.title == "Secret call"
    assert view.billing is not None and view.usage is not None
    assert (view.billing.subscriptions, view.billing.failed_invoices) == (2, 1)
    assert view.usage.last_period == 1099.0

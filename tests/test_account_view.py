"""An account's view at a fixed "now": nothing dated after it is used."""

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
from context.records import Record, Ref, RepRef

NOW = datetime(2024, 12, 2, 14, 0, tzinfo=UTC)
TODAY = NOW.date()
ACME = {"account": Ref("crm", "acme")}


def days_ago(n: int) -> date:
    return TODAY - timedelta(days=n)


def deal(deal_id: str, **fields: object) -> Record:
    return Record(
        "deal",
        "crm",
        deal_id,
        dict(fields),
        {**ACME, "owner": RepRef(name="Dana Reyes")},
    )


def world() -> list[Record]:
    records = [
        Record(
            "rep",
            "org",
            "dana",
            {
                "name": "Dana Reyes",
                "email": "Dana.Reyes@Example.com",
                "role": "rep",
                "team": "East",
            },
        ),
        Record(
            "account",
            "crm",
            "acme",
            {
                "name": "Acme Corporation",
                "industry": "Software",
                "employees": 2822,
                "location": "United States",
            },
        ),
        Record(
            "person",
            "crm",
            "p1",
            {"name": "Amy Taylor", "title": "VP Engineering", "role": "champion"},
            ACME,
        ),
        Record("person", "crm", "p2", {"name": "Ben Quiet", "title": "CFO"}, ACME),
        deal(
            "d-open",
            name="GTX Pro",
            stage="Engaging",
            status="open",
            list_value=Decimal("4821"),
            created_on=days_ago(40),
            stage_entered_on=days_ago(40),
        ),
        deal(
            "d-won-later",
            name="MG Special",
            stage="Won",
            status="won",
            amount=Decimal("55"),
            created_on=days_ago(20),
            close_date=TODAY + timedelta(days=5),
        ),
        deal(
            "d-won",
            name="GTX Basic",
            stage="Won",
            status="won",
            amount=Decimal("588"),
            created_on=days_ago(80),
            close_date=days_ago(10),
        ),
        deal(
            "d-lost-old",
            name="GTK 500",
            stage="Lost",
            status="lost",
            amount=Decimal("0"),
            created_on=days_ago(400),
            close_date=days_ago(200),
        ),
        deal(
            "d-future",
            name="Not yet",
            stage="Prospecting",
            status="open",
            created_on=TODAY + timedelta(days=3),
        ),
        Record(
            "activity",
            "crm",
            "a1",
            {
                "kind": "email",
                "direction": "inbound",
                "occurred_at": NOW - timedelta(days=3),
            },
            {**ACME, "person": Ref("crm", "p1")},
        ),
        Record(
            "activity",
            "crm",
            "a2",
            {"kind": "call", "occurred_at": NOW + timedelta(days=1)},
            {**ACME, "person": Ref("crm", "p2")},
        ),
        Record(
            "activity",
            "crm",
            "a3",
            {"kind": "email", "occurred_at": NOW - timedelta(days=45)},
            {**ACME, "person": Ref("crm", "p2")},
        ),
        Record(
            "subscription",
            "billing",
            "s1",
            {
                "plan": "Enterprise",
                "status": "active",
                "mrr": Decimal("2786"),
                "seats": 14,
                "started_on": days_ago(300),
                "renews_on": TODAY + timedelta(days=40),
                "auto_renew": False,
            },
            ACME,
        ),
        Record(
            "subscription",
            "billing",
            "s2",
            {
                "plan": "Add-on",
                "mrr": Decimal("100"),
                "seats": 2,
                "started_on": days_ago(30),
                "renews_on": TODAY + timedelta(days=10),
            },
            ACME,
        ),
        Record(
            "subscription",
            "billing",
            "s-old",
            {
                "plan": "Pilot",
                "mrr": Decimal("999"),
                "started_on": days_ago(900),
                "ends_on": days_ago(500),
            },
            ACME,
        ),
        Record(
            "invoice",
            "billing",
            "i1",
            {"status": "open", "amount_due": Decimal("2786"), "issued_on": days_ago(5)},
            ACME,
        ),
        Record(
            "invoice",
            "billing",
            "i2",
            {
                "status": "failed",
                "amount_due": Decimal("2786"),
                "issued_on": days_ago(35),
            },
            ACME,
        ),
        Record(
            "invoice",
            "billing",
            "i3",
            {
                "status": "failed",
                "amount_due": Decimal("9"),
                "issued_on": TODAY + timedelta(days=2),
            },
            ACME,
        ),
        Record(
            "conversation",
            "calls",
            "c1",
            {
                "title": "Pricing review",
                "started_at": NOW - timedelta(days=2),
                "duration_minutes": 30,
                "participants": ["Amy Taylor"],
                "key_points": [
                    "Asked for a discount",
                    "Security review pending",
                    "Decision by Jan",
                    "extra",
                ],
            },
            {**ACME, "rep": RepRef(email="dana.reyes@example.com")},
        ),
        Record(
            "conversation",
            "calls",
            "c2",
            {"title": "Tomorrow", "started_at": NOW + timedelta(days=1)},
            ACME,
        ),
    ]
    for n in range(60):
        value = 10.0 if n < 30 else 20.0  # last 30 days: 10/day, the 30 before: 20/day
        records.append(
            Record(
                "usage",
                "product",
                f"u{n}",
                {"day": days_ago(n), "metric": "logins", "value": value},
                ACME,
            )
        )
    records.append(
        Record(
            "usage",
            "product",
            "u-future",
            {"day": TODAY + timedelta(days=1), "metric": "logins", "value": 999.0},
            ACME,
        )
    )
    return sorted(records, key=lambda r: KIND_ORDER.index(r.kind))


KIND_ORDER = [
    "rep",
    "account",
    "person",
    "deal",
    "subscription",
    "invoice",
    "usage",
    "activity",
    "conversation",
]


@pytest.fixture
def view(engine: Engine) -> AccountView:
    report = Loader(engine, Clock(NOW)).load(world())
    assert report.rejections == []
    with session_factory(engine)() as session:
        account_id = session.scalars(select(Account.id)).one()
        return build_account_view(session, account_id, Clock(NOW))


def test_open_deals_hide_outcomes_after_now(view: AccountView) -> None:
    assert [(d.name, d.status, d.amount, d.list_value) for d in view.open_deals] == [
        ("MG Special", "open", None, None),
        ("GTX Pro", "open", None, Decimal("4821.00")),
    ]
    pro = view.open_deals[1]
    assert (pro.age_days, pro.days_in_stage, pro.owner) == (40, 40, "Dana Reyes")


def test_recent_closed_only_within_ninety_days(view: AccountView) -> None:
    assert [(d.name, d.status, d.amount) for d in view.recent_closed] == [
        ("GTX Basic", "won", Decimal("588.00"))
    ]


def test_stakeholder_last_touch_ignores_future(view: AccountView) -> None:
    touches = {s.name: (s.last_touch, s.last_touch_kind) for s in view.stakeholders}
    assert touches == {
        "Amy Taylor": (NOW - timedelta(days=2), "call"),
        "Ben Quiet": (NOW - timedelta(days=45), "email"),
    }


def test_usage_compares_thirty_days_with_the_thirty_before(view: AccountView) -> None:
    assert view.usage is not None
    assert (view.usage.last_period, view.usage.previous_period) == (300.0, 600.0)
    assert view.usage.change_pct == -50.0
    assert view.usage.newest_day == TODAY


def test_billing_counts_unpaid_and_failed_invoices(view: AccountView) -> None:
    billing = view.billing
    assert billing is not None
    assert (billing.plan, billing.subscriptions, billing.mrr, billing.seats) == (
        "Enterprise",
        2,
        Decimal("2886.00"),
        16,
    )
    assert (billing.auto_renew, billing.renews_on) == (
        False,
        TODAY + timedelta(days=10),
    )
    assert (
        billing.unpaid_invoices,
        billing.unpaid_amount,
        billing.failed_invoices,
    ) == (2, Decimal("5572.00"), 1)


def test_last_conversation_is_before_now(view: AccountView) -> None:
    call = view.last_conversation
    assert call is not None
    assert (call.title, call.rep, call.key_points) == (
        "Pricing review",
        "Dana Reyes",
        ("Asked for a discount", "Security review pending", "Decision by Jan"),
    )


def test_team_and_freshness(view: AccountView) -> None:
    assert [r.name for r in view.team] == ["Dana Reyes"]
    assert view.freshness["usage"].sources == ("product",)
    assert view.freshness["usage"].newest == TODAY
    assert view.freshness["deals"].newest == days_ago(10)
    assert view.freshness["billing"].sources == ("billing",)


@pytest.mark.parametrize(
    ("zone", "status"),
    [("America/New_York", "open"), ("UTC", "won"), ("Asia/Tokyo", "won")],
)
def test_today_is_the_readers_own_day(engine: Engine, zone: str, status: str) -> None:
    # 02:30 UTC on 2 Dec is still the evening of 1 Dec in New York.
    evening = Clock(datetime(2024, 12, 2, 2, 30, tzinfo=UTC))
    Loader(engine, evening).load(
        [
            Record("account", "crm", "acme", {"name": "Acme"}),
            Record(
                "deal",
                "crm",
                "d",
                {
                    "name": "Closes 2 Dec",
                    "status": "won",
                    "close_date": date(2024, 12, 2),
                },
                ACME,
            ),
        ]
    )
    with session_factory(engine)() as session:
        account_id = session.scalars(select(Account.id)).one()
        view = build_account_view(session, account_id, evening, zone)
    statuses = [d.status for d in view.open_deals + view.recent_closed]
    assert statuses == [status]
    assert view.as_of.tzinfo is not None
    assert str(view.as_of.tzinfo) == zone

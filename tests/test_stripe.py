"""The Stripe source end to end: real httpx clients against a stand-in account
(``tests/stripe_stand_in.py``) built from recorded list responses and Stripe's
example objects, loaded into a real store through ``sync``, with amounts, dates,
cursors and faults checked exactly."""

from __future__ import annotations

import copy
import io
import json
import time
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
import pytest
from rich.console import Console
from sqlalchemy import Engine, func, select

from context.clock import Clock
from context.models import Account, Invoice, Subscription
from context.source_state import read_cursor, record_success
from integrations.config import Config, load_config
from integrations.errors import ConfigError
from integrations.http import HttpSource
from integrations.sync import SourceResult, sync
from tests.stripe_stand_in import KEY, StandIn, example

CONFIG = """
sources:
  - name: stripe
    label: Stripe
    kind: stripe
    base_url: https://stripe.test
    max_attempts: 3
    max_retry_wait: 0.01
"""
LINKED = CONFIG + "    links: {hubspot_company_id: crm}\n"
CRM = """
  - name: crm
    kind: files
    files:
      - path: companies.csv
        kind: account
        id: id
        fields: {name: name, domain: domain}
"""
OWNER = "cus_Uae6TTxHlP2hxk"  # owns every recorded subscription
QUOTED, GMAIL, TOKYO, NAMELESS = (
    "cus_UaepkMAC4Sf8Di",
    "cus_UaepM9M2k4nHBk",
    "cus_UaenoUJqfiTzup",
    "cus_UaelY6E0mKfsot",
)
MONTHLY = "sub_1TbTPWEZpD6kXraeBLTbIN9B"  # active, $20 a month, 1 seat
CANCELED = "sub_1TbTEMEZpD6kXraezIbiSvfj"
PAID = "in_1TbTPWEZpD6kXraeFErYlfqb"
PRODUCT = "prod_Uae6ZKq4YfmcYb"
YEN = "sub_stand_in_yen"


def _customer(data: Path, customer_id: str, **fields: Any) -> dict[str, Any]:
    raw = example(data, "customer")
    raw.update(id=customer_id, **fields)
    return raw


def _item(data: Path, price: dict[str, Any], quantity: int, end: date) -> Any:
    item = example(data, "subscription_item")
    item.update(id=f"si_{price['id']}", price=price, quantity=quantity)
    item["current_period_end"] = int(
        datetime(*end.timetuple()[:3], tzinfo=UTC).timestamp()
    )
    return item


def _yen_subscription(data: Path) -> dict[str, Any]:
    """Two items in a zero-decimal currency; the embedded list says there are more."""
    yearly = example(data, "price")
    yearly.update(id="price_yearly_yen", currency="jpy", unit_amount=120000)
    yearly.update(unit_amount_decimal="120000", nickname="Enterprise (JP)")
    yearly["recurring"].update(interval="year", interval_count=1)
    monthly = example(data, "price")
    monthly.update(id="price_addon_yen", currency="jpy", unit_amount=5000)
    monthly.update(unit_amount_decimal="5000", nickname="Support add-on")
    items = [
        _item(data, yearly, 3, date(2027, 9, 1)),
        _item(data, monthly, 2, date(2027, 7, 1)),
    ]
    sub = example(data, "subscription")
    sub.update(id=YEN, customer=TOKYO, currency="jpy", status="active")
    sub.update(cancel_at=None, canceled_at=None, ended_at=None)
    sub.update(cancel_at_period_end=False, start_date=1767225600)  # 2026-01-01
    sub["items"] = {"data": items[:1], "has_more": True, "all": items}
    return sub


@pytest.fixture
def stand_in(shared_data: Path) -> StandIn:
    account = StandIn(shared_data)
    data = shared_data
    account.add(
        "customers",
        _customer(
            data,
            QUOTED,
            name='O\'Malley "Freight" 100%_\\ Ünïcode',
            email="billing@omalley.example",
            metadata={"hubspot_company_id": "406260751575"},
        ),
    )
    account.add("customers", _customer(data, GMAIL, email="Someone@Gmail.com"))
    account.add(
        "customers",
        _customer(data, TOKYO, name="東京 KK", email="keiri@tokyo-kk.example"),
    )
    account.add("customers", _customer(data, NAMELESS, email=None, name=None))
    account.objects["products"][0].update(id=PRODUCT, name="Team plan")
    account.add("subscriptions", _yen_subscription(data))
    yen_invoice = copy.deepcopy(account.find("invoices", PAID))
    yen_invoice.update(
        id="in_stand_in_yen",
        customer=TOKYO,
        currency="jpy",
        status="open",
        amount_due=480000,
        amount_paid=0,
        attempt_count=1,
        due_date=1796083200,  # 2026-12-01: past due
        number="YEN-0001",
    )
    yen_invoice["parent"]["subscription_details"]["subscription"] = YEN
    yen_invoice["status_transitions"]["paid_at"] = None
    account.add("invoices", yen_invoice)
    return account


@pytest.fixture
def config(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Config:
    monkeypatch.setenv("STRIPE_API_KEY", KEY)
    path = tmp_path / "foresight.yml"
    path.write_text(CONFIG)
    return load_config(path)


def run(engine: Engine, config: Config, stand_in: StandIn) -> list[SourceResult]:
    return sync(
        engine,
        config,
        Clock(),
        console=Console(file=io.StringIO(), width=200),
        transport=httpx.MockTransport(stand_in),
    )


def counts(result: SourceResult) -> dict[str, dict[str, int]]:
    return {kind: dict(+c) for kind, c in result.counts.items()}


def stored(engine: Engine, table: Any, source_id: str) -> Any:
    with engine.connect() as connection:
        return connection.execute(
            select(table).where(table.source_id == source_id)
        ).one()


def test_first_sync_lists_everything_pinned(
    engine: Engine, config: Config, stand_in: StandIn
) -> None:
    before = int(time.time())
    (result,) = run(engine, config, stand_in)

    assert result.error is None, result.error
    assert counts(result) == {
        "account": {"new": 14},
        "subscription": {"new": 9},
        "invoice": {"new": 33},
    }
    assert set(stand_in.versions) == {"2025-03-31.basil"}  # B28: pinned
    customers = stand_in.params("/v1/customers")
    assert [p.get("starting_after") for p in customers] == [
        None,
        [stand_in.objects["customers"][3]["id"]],
        [stand_in.objects["customers"][7]["id"]],
        [stand_in.objects["customers"][11]["id"]],
    ]
    assert {p["limit"][0] for p in customers} == {"100"}
    assert stand_in.params("/v1/subscriptions")[0]["status"] == ["all"]
    assert stand_in.params("/v1/subscription_items") == [
        {"subscription": [YEN], "limit": ["100"]}
    ]
    cursor = read_cursor(engine, "stripe")
    assert cursor is not None and cursor["seen"] == []
    assert before <= cursor["events_from"] <= int(time.time())


def test_amounts_in_major_units_including_yen(
    engine: Engine, config: Config, stand_in: StandIn
) -> None:
    run(engine, config, stand_in)

    yen = stored(engine, Subscription, YEN)
    tokyo = stored(engine, Account, TOKYO)
    assert yen.account_id == tokyo.id
    # 3 × ¥120,000 a year + 2 × ¥5,000 a month: JPY has no minor unit
    assert (yen.mrr, yen.arr, yen.seats) == (
        Decimal("40000.00"),
        Decimal("480000.00"),
        5,
    )
    assert (yen.plan, yen.currency, yen.billing_frequency) == (
        "Enterprise (JP) + Support add-on",
        "JPY",
        "annual",
    )
    assert (yen.started_on, yen.renews_on) == (date(2026, 1, 1), date(2027, 9, 1))
    monthly = stored(engine, Subscription, MONTHLY)
    assert (monthly.mrr, monthly.arr, monthly.seats, monthly.plan) == (
        Decimal("20.00"),
        Decimal("240.00"),
        1,
        "Team plan",
    )
    assert (monthly.status, monthly.auto_renew, monthly.ends_on) == (
        "active",
        True,
        None,
    )
    canceled = stored(engine, Subscription, CANCELED)
    assert (canceled.status, canceled.ends_on, canceled.renews_on) == (
        "canceled",
        date(2026, 5, 26),
        None,
    )
    paid = stored(engine, Invoice, PAID)
    assert (paid.amount_due, paid.amount_paid, paid.currency) == (
        Decimal("50.00"),
        Decimal("50.00"),
        "USD",
    )
    assert paid.paid_at == datetime(2026, 5, 26, 22, 25, 18, tzinfo=UTC)
    assert (paid.issued_on, paid.subscription_id) == (date(2026, 5, 26), monthly.id)
    unpaid = stored(engine, Invoice, "in_stand_in_yen")
    assert (unpaid.status, unpaid.amount_due, unpaid.due_on, unpaid.paid_at) == (
        "open",
        Decimal("480000.00"),
        date(2026, 12, 1),
        None,
    )
    assert unpaid.subscription_id == yen.id


@pytest.mark.parametrize("version", ["2025-03-31.basil", "2024-06-20"])
def test_renewal_read_from_items_or_old_field(
    engine: Engine,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    stand_in: StandIn,
    version: str,
) -> None:
    """B28: the period end moved onto the items in 2025-03-31; both shapes load,
    and a subscription with the period end in neither place loads as unknown."""
    monkeypatch.setenv("STRIPE_API_KEY", KEY)
    path = tmp_path / "foresight.yml"
    path.write_text(CONFIG + f"    api_version: '{version}'\n")
    for item in stand_in.find("subscriptions", CANCELED)["items"]["data"]:
        del item["current_period_end"]
    stand_in.find("subscriptions", CANCELED)["status"] = "past_due"

    (result,) = run(engine, load_config(path), stand_in)

    assert result.error is None, result.error
    assert set(stand_in.versions) == {version}
    assert stored(engine, Subscription, MONTHLY).renews_on == date(2026, 6, 26)
    assert stored(engine, Subscription, YEN).renews_on == date(2027, 9, 1)
    unknown = stored(engine, Subscription, CANCELED)
    assert (unknown.status, unknown.renews_on) == ("past_due", None)
    paid = stored(engine, Invoice, PAID)  # the subscription: top level or `parent`
    assert paid.subscription_id == stored(engine, Subscription, MONTHLY).id


def test_customers_named_and_domained(
    engine: Engine, config: Config, stand_in: StandIn
) -> None:
    run(engine, config, stand_in)

    quoted = stored(engine, Account, QUOTED)
    assert (quoted.name, quoted.domain) == (
        'O\'Malley "Freight" 100%_\\ Ünïcode',
        "omalley.example",
    )
    gmail = stored(engine, Account, GMAIL)
    assert (gmail.name, gmail.domain) == ("Someone@Gmail.com", None)  # free mail
    assert stored(engine, Account, TOKYO).name == "東京 KK"
    nameless = stored(engine, Account, NAMELESS)
    assert nameless.name == f"Stripe customer {NAMELESS}"
    owner = stored(engine, Account, OWNER)
    # B38: the JSON column holds plain JSON values
    assert owner.extra == {
        "delinquent": False,
        "currency": "usd",
        "stripe_customer": OWNER,
    }
    assert json.loads(json.dumps(owner.extra)) == owner.extra


def test_malformed_objects_are_rejected_with_their_ids(
    engine: Engine, config: Config, stand_in: StandIn
) -> None:
    stand_in.find("invoices", "in_1TbTFzEZpD6kXraevORfRmgF")["amount_due"] = "lots"
    stand_in.find("subscriptions", MONTHLY)["items"]["data"][0]["quantity"] = -2
    stand_in.objects["customers"].insert(5, {"object": "customer", "name": "no id"})

    (result,) = run(engine, config, stand_in)

    assert result.error is None, result.error
    assert sorted(str(r) for r in result.rejections) == [
        "customer (no id): the object has no id",
        "invoice in_1TbTFzEZpD6kXraevORfRmgF: amount_due 'lots' is not an amount "
        "in minor units",
        "invoice in_1TbTPWEZpD6kXraeFErYlfqb: subscription "
        "'sub_1TbTPWEZpD6kXraeBLTbIN9B' is not in source 'stripe'; load it first "
        "or add it to the crosswalk",
        f"subscription {MONTHLY}: a subscription item's quantity -2 is not a count",
    ]
    assert counts(result)["invoice"] == {"new": 31, "rejected": 2}


def test_events_bring_changes_and_deletions(
    engine: Engine, config: Config, stand_in: StandIn
) -> None:
    run(engine, config, stand_in)
    first = read_cursor(engine, "stripe")
    assert first is not None
    stand_in.calls.clear()
    at = first["events_from"] + 1
    sub = stand_in.find("subscriptions", MONTHLY)
    sub["items"]["data"][0]["quantity"] = 4
    sub["cancel_at_period_end"] = True
    stand_in.emit("customer.subscription.updated", sub, at)
    stand_in.emit("invoice.paid", stand_in.find("invoices", PAID), at - 3600 * 48)
    stand_in.delete_customer(GMAIL, at + 5)

    (result,) = run(engine, config, stand_in)

    assert result.error is None, result.error
    assert counts(result) == {
        "account": {"updated": 1},
        "subscription": {"updated": 1},
    }
    events = stand_in.params("/v1/events")
    assert events[0]["created[gte]"] == [str(first["events_from"])]
    assert "customer.deleted" in events[0]["types[]"]
    assert stand_in.paths() == [
        "/v1/events",
        "/v1/products",
        f"/v1/subscriptions/{MONTHLY}",
    ]
    changed = stored(engine, Subscription, MONTHLY)
    assert (changed.seats, changed.mrr, changed.cancel_at_period_end) == (
        4,
        Decimal("80.00"),
        True,
    )
    gone = stored(engine, Account, GMAIL)
    assert gone.deleted_at == datetime.fromtimestamp(at + 5, UTC)
    newest = stand_in.objects["events"][0]["id"]
    assert read_cursor(engine, "stripe") == {"events_from": at + 5, "seen": [newest]}

    stand_in.calls.clear()
    (result,) = run(engine, config, stand_in)

    assert result.error is None and result.changed() == 0
    assert stand_in.paths() == ["/v1/events"]  # the events at the cursor: seen
    assert read_cursor(engine, "stripe") == {"events_from": at + 5, "seen": [newest]}


def test_cursor_older_than_the_events_lists_again(
    engine: Engine, config: Config, stand_in: StandIn
) -> None:
    old = datetime.now(UTC) - timedelta(days=31)
    cursor = {"events_from": int(old.timestamp()), "seen": []}
    record_success(engine, "stripe", old, 0, cursor)

    (result,) = run(engine, config, stand_in)

    assert result.error is None, result.error
    assert "/v1/events" not in stand_in.paths()
    assert counts(result)["account"] == {"new": 14}
    after = read_cursor(engine, "stripe")
    assert after is not None and after["events_from"] > cursor["events_from"]


def test_a_customer_gone_while_its_events_expired_is_marked_by_the_listing(
    engine: Engine, config: Config, stand_in: StandIn
) -> None:
    """No ``customer.deleted`` event is left after a month: the full listing is
    the whole account, so a customer it no longer has was deleted."""
    run(engine, config, stand_in)
    stand_in.objects["customers"].remove(stand_in.find("customers", NAMELESS))
    old = datetime.now(UTC) - timedelta(days=31)
    record_success(
        engine, "stripe", old, 0, {"events_from": int(old.timestamp()), "seen": []}
    )

    (result,) = run(engine, config, stand_in)

    assert result.error is None, result.error
    assert result.missing == {"account": 1}
    assert stored(engine, Account, NAMELESS).deleted_at is not None
    assert stored(engine, Account, TOKYO).deleted_at is None
    (result,) = run(engine, config, stand_in)  # events again: nothing more marked
    assert result.missing == {}


def test_rate_limits_outages_and_timeouts_are_retried(
    engine: Engine, config: Config, stand_in: StandIn
) -> None:
    limited = {"error": {"message": "Too many requests", "type": "rate_limit_error"}}
    stand_in.fail(
        "/v1/customers",
        httpx.Response(429, json=limited, headers={"Stripe-Should-Retry": "true"}),
    )
    stand_in.fail(
        "/v1/subscriptions",
        httpx.Response(429, json=limited, headers={"Retry-After": "0"}),
    )
    stand_in.fail("/v1/products", httpx.Response(500, json={"error": {}}))
    stand_in.fail("/v1/invoices", httpx.ReadTimeout("timed out"))

    (result,) = run(engine, config, stand_in)

    assert result.error is None, result.error
    assert stand_in.paths().count("/v1/customers") == 5  # 4 pages, 1 retry
    assert stand_in.paths().count("/v1/products") == 2
    assert stand_in.paths().count("/v1/invoices") == 10  # 9 pages, 1 retry
    assert counts(result)["invoice"] == {"new": 33}


def test_stalled_stripe_fails_in_bounded_time_and_keeps_cursor(
    engine: Engine, config: Config, stand_in: StandIn
) -> None:
    """B31: every request has a finite timeout; a vendor that never answers ends
    the sync with an error after ``max_attempts``, and the cursor stays."""
    run(engine, config, stand_in)
    cursor = read_cursor(engine, "stripe")
    stand_in.fail("/v1/events", *[httpx.ReadTimeout("timed out")] * 3)

    (result,) = run(engine, config, stand_in)

    assert result.error is not None
    assert (
        "GET /v1/events failed 3 times (last: ReadTimeout: timed out)" in result.error
    )
    assert read_cursor(engine, "stripe") == cursor
    source = config.sources[0]
    assert isinstance(source, HttpSource) and source.read_timeout == 30.0


def test_repeated_page_stops_the_sync(
    engine: Engine, config: Config, stand_in: StandIn
) -> None:
    """B22: a cursor the vendor ignores must not load the first page forever."""
    stand_in.ignore_starting_after = True

    (result,) = run(engine, config, stand_in)

    first = stand_in.objects["customers"][3]["id"]
    assert result.error == (
        f"source 'stripe': GET /v1/customers: the page after cursor {first!r} repeats "
        "an earlier page; stopped instead of loading the same records again (the "
        "vendor ignored the cursor)"
    )
    assert read_cursor(engine, "stripe") is None
    assert stand_in.paths() == ["/v1/customers"] * 2


def test_bad_key_is_refused_with_what_to_do(
    engine: Engine, config: Config, stand_in: StandIn, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("STRIPE_API_KEY", "sk_live_revoked_0123456789")

    (result,) = run(engine, config, stand_in)

    assert result.error is not None
    assert "HTTP 401 on GET /v1/customers" in result.error
    assert "Invalid API Key provided" in result.error
    assert "restricted key" in result.error and "STRIPE_API_KEY" in result.error
    assert "sk_live_revoked_0123456789" not in result.error
    assert stand_in.paths() == ["/v1/customers"]  # not retried
    assert read_cursor(engine, "stripe") is None


def test_customer_joins_the_crm_account_it_names(
    engine: Engine,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    stand_in: StandIn,
) -> None:
    """A customer whose metadata names a CRM company is that company's account:
    its subscriptions and invoices hang off the CRM account, no second account."""
    monkeypatch.setenv("STRIPE_API_KEY", KEY)
    (tmp_path / "companies.csv").write_text(
        "id,name,domain\n406260751575,O'Malley Freight,omalley-freight.example\n"
    )
    path = tmp_path / "foresight.yml"
    path.write_text(LINKED.replace("sources:\n", "sources:\n" + CRM.lstrip("\n")))
    stand_in.find("invoices", "in_1TbTWCEZpD6kXrae5HcVlKNv")["customer"] = QUOTED

    crm, stripe = run(engine, load_config(path), stand_in)

    assert crm.error is None and stripe.error is None, stripe.error
    with engine.connect() as connection:
        company = connection.execute(
            select(Account).where(Account.source == "crm")
        ).one()
        invoice_account = connection.scalar(
            select(Invoice.account_id).where(
                Invoice.source_id == "in_1TbTWCEZpD6kXrae5HcVlKNv"
            )
        )
        named = connection.scalar(
            select(func.count())
            .select_from(Account)
            .where(Account.name_key.like("%malley%"))
        )
    assert invoice_account == company.id
    assert named == 1


def test_customer_with_nothing_stronger_joins_a_crm_account_by_its_name(
    engine: Engine,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    stand_in: StandIn,
) -> None:
    """No metadata link and no shared domain: a unique equal name is the last
    resort, and the CRM account gains the customer's domain."""
    monkeypatch.setenv("STRIPE_API_KEY", KEY)
    (tmp_path / "companies.csv").write_text("id,name,domain\nc-9,東京 KK,\n")
    path = tmp_path / "foresight.yml"
    path.write_text(LINKED.replace("sources:\n", "sources:\n" + CRM.lstrip("\n")))

    crm, stripe = run(engine, load_config(path), stand_in)

    assert crm.error is None and stripe.error is None, stripe.error
    with engine.connect() as connection:
        tokyo = connection.execute(
            select(Account.source, Account.domain).where(Account.name == "東京 KK")
        ).all()
    assert [tuple(row) for row in tokyo] == [("crm", "tokyo-kk.example")]


def test_links_to_a_source_the_config_lacks_are_refused(tmp_path: Path) -> None:
    path = tmp_path / "foresight.yml"
    path.write_text(CONFIG + "    links: {hubspot_company_id: hubspott}\n")
    with pytest.raises(ConfigError) as raised:
        load_config(path)
    assert (
        "sources[0] (stripe): names the source 'hubspott', which the config does "
        "not have; sources: stripe"
    ) in str(raised.value)

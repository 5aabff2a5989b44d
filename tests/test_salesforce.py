"""The Salesforce source end to end: real httpx clients against a stand-in org
(``tests/salesforce_org.py``) built from recorded REST responses, loaded into a
real store through ``sync``, with values, SOQL, cursors and faults checked exactly."""

from __future__ import annotations

import io
import json
import math
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path

import httpx
import pytest
from rich.console import Console
from sqlalchemy import Engine, select

from context.clock import Clock
from context.models import Account, Activity, Deal, DealChange, Person, Rep
from context.source_state import read_cursor
from integrations.config import Config, load_config
from integrations.salesforce import soql
from integrations.sync import SourceResult, sync
from tests.salesforce_org import (
    CLIENT_ID,
    CLIENT_SECRET,
    REFRESH_TOKEN,
    TOKEN,
    BadQuery,
    Org,
    parse,
)

CONFIG = """
sources:
  - name: crm
    label: Salesforce
    kind: salesforce
    base_url: https://acme.my.salesforce.test
    max_attempts: 3
    max_retry_wait: 0.01
    users_as_reps: true
"""
QUERY = "/services/data/v61.0/query"
EDGE, BURLINGTON = "001dM00003jU9GxQAK", "001dM00003jU9GyQAK"
ROSE = "003dM00001vWOXJQA4"  # a contact of Edge Communications
WON, OPEN, LOST = "006dM00000Mw7VvQAJ", "006dM00000Mw7VtQAJ", "006dM00000Mw7VuQAJ"
EPIC = "epic.orgfarm@salesforce.com"  # the recorded user who owns every opportunity
NAMES = ("O'Malley Freight", "100% Juice_Co", "Back\\slash & Sons", "Zoë Ørsted")


@pytest.fixture
def org(shared_data: Path) -> Org:
    org = Org(shared_data)
    org.find("Account", EDGE).update(
        Website="http://www.EdgeComm.com/about",
        Industry="Electronics",
        NumberOfEmployees=1000,
        AnnualRevenue=139000000.5,
        BillingCity="Austin",
        BillingState="TX",
        BillingCountry="USA",
        ParentId=BURLINGTON,
    )
    # B27: the forms Salesforce and its exports use, and one unreadable date.
    org.find("Opportunity", WON).update(CreatedDate="2026-03-05T14:22:10.000+0000")
    org.find("Opportunity", OPEN).update(
        CreatedDate="2026-03-05T23:30:00-0500", CloseDate="1767139200000"
    )
    org.find("Opportunity", LOST).update(
        StageName="Closed Lost", IsClosed=True, IsWon=False, CloseDate="soon-ish"
    )
    org.add(
        "OpportunityFieldHistory",
        {
            "Id": "017dM00000Hist1AAA",
            "OpportunityId": WON,
            "Field": "StageName",
            "OldValue": "Negotiation/Review",
            "NewValue": "Closed Won",
            "CreatedDate": "2026-04-02T09:15:00.000+0000",
        },
    )
    org.add(
        "OpportunityFieldHistory",
        {
            "Id": "017dM00000Hist2AAA",
            "OpportunityId": WON,
            "Field": "Amount",
            "OldValue": 200000,
            "NewValue": 220000,
            "CreatedDate": "2026-04-02T09:16:00.000+0000",
        },
    )
    org.add(
        "Task",
        {
            "Id": "00TdM00000Call1AAA",
            "Subject": "Discovery call",
            "Description": "Talked budget",
            "TaskSubtype": "Call",
            "Type": "Call",
            "ActivityDate": "2026-04-03",
            "CreatedDate": "2026-04-03T16:00:00.000+0000",
            "WhatId": WON,
            "WhoId": ROSE,
            "AccountId": EDGE,
        },
    )
    org.add(
        "Task",
        {
            "Id": "00TdM00000Mail1AAA",
            "Subject": "Email: pricing",
            "TaskSubtype": "Email",
            "CreatedDate": "2026-04-04T08:00:00.000+0000",
            "WhatId": EDGE,
            "WhoId": "00QdM00000Lead1AAA",  # a lead: not in the store
        },
    )
    org.add(
        "Event",
        {
            "Id": "00UdM00000Meet1AAA",
            "Subject": "On-site demo",
            "Type": "Meeting",
            "ActivityDateTime": "2026-04-10T15:00:00.000+0000",
            "ActivityDate": "2026-04-10",
            "WhoId": ROSE,
            "AccountId": EDGE,
        },
    )
    return org


@pytest.fixture
def config(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Config:
    monkeypatch.setenv("SALESFORCE_ACCESS_TOKEN", TOKEN)
    return write_config(tmp_path, CONFIG)


def write_config(tmp_path: Path, text: str) -> Config:
    path = tmp_path / "foresight.yml"
    path.write_text(text)
    return load_config(path)


def run(engine: Engine, config: Config, org: Org) -> SourceResult:
    results = sync(
        engine,
        config,
        Clock(),
        console=Console(file=io.StringIO(), width=200),
        transport=httpx.MockTransport(org),
    )
    return results[0]


def counts(result: SourceResult) -> dict[str, dict[str, int]]:
    return {kind: dict(+c) for kind, c in result.counts.items()}


def refresh_credentials(monkeypatch: pytest.MonkeyPatch, refresh: str) -> None:
    monkeypatch.setenv("SALESFORCE_CLIENT_ID", CLIENT_ID)
    monkeypatch.setenv("SALESFORCE_CLIENT_SECRET", CLIENT_SECRET)
    monkeypatch.setenv("SALESFORCE_REFRESH_TOKEN", refresh)


def test_first_sync_reads_every_object_page_by_page(
    engine: Engine, config: Config, org: Org
) -> None:
    result = run(engine, config, org)

    assert result.error is None, result.error
    assert counts(result) == {
        "rep": {"new": 8},
        "account": {"new": 12},
        "person": {"new": 213},
        "deal": {"new": 31},
        "deal_change": {"new": 2},
        "activity": {"new": 3},
    }
    more = [r.url.path.rsplit("/", 1)[1] for r in org.requests if "/01g" in str(r.url)]
    # 25 a page: 213 contacts (locator 1) take 8 more pages, 31 deals 1 more
    assert [m.split("-")[1] for m in more] == [*map(str, range(25, 201, 25)), "25"]
    assert org.soql("Contact") == [
        "SELECT Id, Name, FirstName, LastName, Email, Title, AccountId, IsDeleted, "
        "MasterRecordId, SystemModstamp FROM Contact ORDER BY SystemModstamp, Id"
    ]
    with engine.connect() as connection:
        edge = connection.execute(
            select(Account).where(Account.source_id == EDGE)
        ).one()
        epic = connection.scalar(select(Rep.id).where(Rep.email == EPIC))
        rose = connection.execute(select(Person).where(Person.source_id == ROSE)).one()
    assert (edge.name, edge.domain, edge.industry, edge.employees) == (
        "Edge Communications",
        "edgecomm.com",
        "Electronics",
        1000,
    )
    assert (edge.revenue, edge.location) == (Decimal("139000000.50"), "Austin, TX, USA")
    assert (edge.parent_name, edge.owner_rep_id) == (
        "Burlington Textiles Corp of America",
        epic,
    )
    assert (rose.name, rose.email, rose.title, rose.account_id) == (
        "Rose Gonzalez",
        "rose@edge.com",
        "SVP, Procurement",
        edge.id,
    )
    assert read_cursor(engine, "crm") == {
        "User": "2026-05-06T09:49:19+00:00",
        "Account": "2026-05-01T07:25:37+00:00",
        "Contact": "2026-05-06T11:37:04+00:00",
        "Opportunity": "2026-05-01T07:25:37+00:00",
        "OpportunityFieldHistory": "2026-04-02T09:16:00+00:00",
        "Task": "2026-05-01T07:25:37+00:00",
        "Event": "2026-05-01T07:25:37+00:00",
    }


def test_deal_values_and_dates_in_every_form(
    engine: Engine, config: Config, org: Org
) -> None:
    run(engine, config, org)

    with engine.connect() as connection:
        deals = {d.source_id: d for d in connection.execute(select(Deal)).all()}
        epic = connection.scalar(select(Rep.id).where(Rep.email == EPIC))
        changes = connection.execute(select(DealChange).order_by(DealChange.id)).all()
    won = deals[WON]
    assert (won.name, won.stage, won.status) == (
        "Express Logistics Standby Generator",
        "Closed Won",
        "won",
    )
    assert (won.amount, won.currency, won.owner_rep_id) == (Decimal(220000), None, epic)
    assert (won.close_date, won.created_on) == (date(2026, 1, 20), date(2026, 3, 5))
    assert deals[OPEN].status == "open"
    assert deals[OPEN].close_date == date(2025, 12, 31)  # from 1767139200000 ms
    assert deals[OPEN].created_on == date(2026, 3, 6)  # 23:30 at -05:00 is UTC's 6th
    assert (deals[LOST].status, deals[LOST].close_date) == ("lost", None)
    assert [
        (c.deal_id, c.field, c.old_value, c.new_value, c.changed_at) for c in changes
    ] == [
        (
            won.id,
            "stage",
            "Negotiation/Review",
            "Closed Won",
            datetime(2026, 4, 2, 9, 15, tzinfo=UTC),
        ),
        (
            won.id,
            "amount",
            "200000.00",
            "220000.00",
            datetime(2026, 4, 2, 9, 16, tzinfo=UTC),
        ),
    ]


def test_tasks_and_events_become_activities(
    engine: Engine, config: Config, org: Org
) -> None:
    run(engine, config, org)

    with engine.connect() as connection:
        rows = {a.source_id: a for a in connection.execute(select(Activity)).all()}
        edge = connection.scalar(select(Account.id).where(Account.source_id == EDGE))
        rose = connection.scalar(select(Person.id).where(Person.source_id == ROSE))
        won = connection.scalar(select(Deal.id).where(Deal.source_id == WON))
    call, mail = rows["00TdM00000Call1AAA"], rows["00TdM00000Mail1AAA"]
    meeting = rows["00UdM00000Meet1AAA"]
    assert (call.kind, call.subject, call.body) == (
        "call",
        "Discovery call",
        "Talked budget",
    )
    assert (call.account_id, call.deal_id, call.person_id) == (edge, won, rose)
    assert call.occurred_at == datetime(2026, 4, 3, tzinfo=UTC)
    assert (mail.kind, mail.account_id, mail.person_id) == ("email", edge, None)
    assert mail.occurred_at == datetime(2026, 4, 4, 8, tzinfo=UTC)
    assert (meeting.kind, meeting.person_id) == ("meeting", rose)
    assert meeting.occurred_at == datetime(2026, 4, 10, 15, tzinfo=UTC)


def test_currency_is_read_only_in_multi_currency_orgs(
    engine: Engine, config: Config, org: Org, tmp_path: Path
) -> None:
    org.find("Opportunity", WON)["CurrencyIsoCode"] = "EUR"
    org.multi_currency = True
    config = write_config(tmp_path, CONFIG + "    multi_currency: true\n")

    result = run(engine, config, org)

    assert result.error is None, result.error
    with engine.connect() as connection:
        currency = connection.scalar(select(Deal.currency).where(Deal.source_id == WON))
    assert currency == "EUR"
    assert "CurrencyIsoCode" in org.soql("Opportunity")[0]


def test_malformed_record_is_rejected_with_its_id(
    engine: Engine, config: Config, org: Org
) -> None:
    org.objects["Contact"][3] = {"attributes": {"type": "Contact"}, "IsDeleted": False}
    org.find("Opportunity", OPEN)["Amount"] = "lots"

    result = run(engine, config, org)

    assert result.error is None, result.error
    assert sorted(str(r) for r in result.rejections) == [
        "Contact (no id): the record has no Id",
        "Opportunity 006dM00000Mw7VtQAJ: Amount: cannot read 'lots' as a number; "
        "write it like 1100.04, 1,100.04 or $5k",
    ]
    assert counts(result)["person"] == {"new": 212, "rejected": 1}
    assert counts(result)["deal"] == {"new": 30, "rejected": 1}


def test_resync_reads_only_what_changed(
    engine: Engine, config: Config, org: Org
) -> None:
    run(engine, config, org)
    org.queries.clear()

    result = run(engine, config, org)

    assert result.error is None and result.changed() == 0
    assert org.soql("Contact") == [
        "SELECT Id, Name, FirstName, LastName, Email, Title, AccountId, IsDeleted, "
        "MasterRecordId, SystemModstamp FROM Contact WHERE SystemModstamp > "
        "2026-05-06T11:37:04Z ORDER BY SystemModstamp, Id",
        "SELECT Id, Name, FirstName, LastName, Email, Title, AccountId, IsDeleted, "
        "MasterRecordId, SystemModstamp FROM Contact WHERE IsDeleted = true AND "
        "SystemModstamp > 2026-05-06T11:37:04Z",
    ]
    assert [e for e, q in org.queries if "IsDeleted = true" in q] == ["queryAll"] * 5

    later = datetime(2026, 6, 1, 12, 0, 0, 500000, tzinfo=UTC)
    org.touch("Opportunity", WON, later, StageName="Closed Lost", IsWon=False)
    result = run(engine, config, org)

    assert counts(result) == {"deal": {"updated": 1}}  # reps too are incremental
    cursor = read_cursor(engine, "crm") or {}
    assert cursor["Opportunity"] == "2026-06-01T12:00:00+00:00"
    with engine.connect() as connection:
        deal = connection.execute(select(Deal).where(Deal.source_id == WON)).one()
    assert (deal.stage, deal.status) == ("Closed Lost", "lost")


def test_deleted_and_merged_records_are_marked(
    engine: Engine, config: Config, org: Org
) -> None:
    run(engine, config, org)
    gone = datetime(2026, 6, 2, 8, 30, tzinfo=UTC)
    org.touch(
        "Contact", ROSE, gone, IsDeleted=True, MasterRecordId="003dM00001vWOXKQA4"
    )
    org.touch("Opportunity", OPEN, gone, IsDeleted=True)

    result = run(engine, config, org)

    assert result.error is None, result.error
    assert counts(result)["person"] == {"updated": 1}
    with engine.connect() as connection:
        rose = connection.execute(select(Person).where(Person.source_id == ROSE)).one()
        deal = connection.execute(select(Deal).where(Deal.source_id == OPEN)).one()
    assert (rose.deleted_at, rose.merged_into) == (gone, "003dM00001vWOXKQA4")
    assert (deal.deleted_at, deal.merged_into) == (gone, None)


def test_account_scope_is_escaped_by_soql_rules(
    engine: Engine, config: Config, org: Org, tmp_path: Path
) -> None:
    for index, name in enumerate(NAMES):
        org.add("Account", {"Id": f"001dM00000Name{index}AA", "Name": name})
    org.add("Account", {"Id": "001dM00000NameXAA", "Name": "O"})
    names = "".join(f"\n      - {json.dumps(name)}" for name in NAMES)
    config = write_config(tmp_path, CONFIG + f"    account_names:{names}\n")

    result = run(engine, config, org)

    assert result.error is None, result.error
    scope = (
        "Name IN ('O\\'Malley Freight', '100% Juice_Co', 'Back\\\\slash & Sons', "
        "'Zoë Ørsted')"
    )
    assert f"FROM Account WHERE {scope} ORDER BY" in org.soql("Account")[0]
    assert f"FROM Contact WHERE Account.{scope} ORDER BY" in org.soql("Contact")[0]
    with engine.connect() as connection:
        stored = connection.scalars(select(Account.name).order_by(Account.name)).all()
    assert stored == sorted(NAMES)


@pytest.mark.parametrize(
    ("text", "quoted", "pattern"),
    [
        ("O'Malley Freight", "'O\\'Malley Freight'", "'O\\'Malley Freight%'"),
        ("100% Juice_Co", "'100% Juice_Co'", "'100\\% Juice\\_Co%'"),
        ("Back\\slash & Sons", "'Back\\\\slash & Sons'", "'Back\\\\slash & Sons%'"),
        ("Zoë Ørsted", "'Zoë Ørsted'", "'Zoë Ørsted%'"),
        ('Say "hi"\n\tnow', "'Say \\\"hi\\\"\\n\\tnow'", "'Say \\\"hi\\\"\\n\\tnow%'"),
    ],
)
def test_soql_literals_round_trip(text: str, quoted: str, pattern: str) -> None:
    assert soql.literal(text) == quoted
    assert soql.like(text, prefix=True) == pattern
    where = parse(f"SELECT Id FROM Account WHERE Name = {soql.literal(text)}")[2]
    assert where == [("Name", "=", text)]


def test_sql_style_quote_doubling_is_a_malformed_query() -> None:
    with pytest.raises(BadQuery):
        parse("SELECT Id FROM Account WHERE Name = 'O''Malley Freight'")
    with pytest.raises(ValueError, match="control character"):
        soql.literal("bell\x07")


def test_expired_token_is_renewed_with_the_refresh_token(
    engine: Engine, config: Config, org: Org, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SALESFORCE_ACCESS_TOKEN", "00Dtest!expired")
    refresh_credentials(monkeypatch, REFRESH_TOKEN)
    org.instance_url = "https://acme-moved.my.salesforce.test"

    result = run(engine, config, org)

    assert result.error is None, result.error
    assert counts(result)["deal"] == {"new": 31}
    tokens = [r for r in org.requests if r.url.path == "/services/oauth2/token"]
    assert [str(r.url) for r in tokens] == [
        "https://login.salesforce.com/services/oauth2/token"
    ]
    assert org.requests[0].headers["authorization"] == "Bearer 00Dtest!expired"
    assert org.requests[-1].url.host == "acme-moved.my.salesforce.test"


def test_refresh_token_alone_is_enough(
    engine: Engine, config: Config, org: Org, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("SALESFORCE_ACCESS_TOKEN")
    refresh_credentials(monkeypatch, REFRESH_TOKEN)

    result = run(engine, config, org)

    assert result.error is None, result.error
    assert org.requests[0].url.path == "/services/oauth2/token"
    assert org.requests[1].headers["authorization"] == "Bearer 00Dtest!renewed-1"


def test_expired_token_without_refresh_tells_the_admin_what_to_set(
    engine: Engine, config: Config, org: Org, monkeypatch: pytest.MonkeyPatch
) -> None:
    run(engine, config, org)
    cursor = read_cursor(engine, "crm")
    monkeypatch.setenv("SALESFORCE_ACCESS_TOKEN", "00Dtest!expired")
    org.requests.clear()

    result = run(engine, config, org)

    assert result.error is not None
    assert "HTTP 401 on GET /services/data/v61.0/query" in result.error
    assert "INVALID_SESSION_ID" in result.error
    assert (
        "put a valid access token in SALESFORCE_ACCESS_TOKEN, or set " in result.error
    )
    assert "SALESFORCE_REFRESH_TOKEN" in result.error
    assert "00Dtest!expired" not in result.error
    assert len(org.requests) == 1  # not retried
    assert read_cursor(engine, "crm") == cursor


def test_refused_refresh_token_says_what_to_do(
    engine: Engine, config: Config, org: Org, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SALESFORCE_ACCESS_TOKEN", "00Dtest!expired")
    refresh_credentials(monkeypatch, "5Aep-revoked")

    result = run(engine, config, org)

    assert result.error == (
        "source 'crm': Salesforce refused to renew the access token (HTTP 400 from "
        "https://login.salesforce.com/services/oauth2/token: invalid_grant: expired "
        "access/refresh token); authorise the connected app again and put the new "
        "refresh token in SALESFORCE_REFRESH_TOKEN (check SALESFORCE_CLIENT_ID and "
        "SALESFORCE_CLIENT_SECRET too)"
    )
    assert "5Aep-revoked" not in result.error


def test_a_token_url_that_is_no_token_endpoint_says_to_check_it(
    engine: Engine, config: Config, org: Org, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SALESFORCE_ACCESS_TOKEN", "00Dtest!expired")
    refresh_credentials(monkeypatch, "5Aep-good")
    org.fail(
        "/services/oauth2/token", httpx.Response(404, text="<html>Not here</html>")
    )

    result = run(engine, config, org)

    assert result.error == (
        "source 'crm': the token endpoint https://login.salesforce.com/services/oauth2/"
        "token answered HTTP 404 (no readable answer); check the source's token_url "
        "(https://login.salesforce.com/services/oauth2/token, or test.salesforce.com "
        "for a sandbox)"
    )


def test_no_credential_at_all_is_reported(
    engine: Engine, config: Config, org: Org, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("SALESFORCE_ACCESS_TOKEN")
    monkeypatch.setenv("SALESFORCE_CLIENT_ID", CLIENT_ID)

    result = run(engine, config, org)

    assert result.error == (
        "source 'crm': SALESFORCE_CLIENT_SECRET and SALESFORCE_REFRESH_TOKEN are not "
        "set; set them as well, or unset the other refresh-token variables and use "
        "an access token alone"
    )
    assert org.requests == []


def test_rate_limits_outages_and_timeouts_are_retried(
    engine: Engine, config: Config, org: Org
) -> None:
    org.fail(
        QUERY,
        httpx.Response(429, headers={"Retry-After": "1"}, json=[]),
        httpx.Response(503, text="Server unavailable"),
    )
    org.fail(f"{QUERY}/01gTEST00000000-25", httpx.ReadTimeout("read timed out"))

    result = run(engine, config, org)

    assert result.error is None, result.error
    assert counts(result)["rep"] == {"new": 8}
    users = [r for r in org.requests if r.url.path == QUERY][:3]
    assert len(users) == 3 and len(org.soql("User")) == 1  # 2 failures, then read
    assert counts(result)["person"] == {"new": 213}  # page 2 timed out once
    timeouts = [r.extensions["timeout"] for r in org.requests]
    assert all(math.isfinite(t["read"]) and t["read"] > 0 for t in timeouts)  # B31


def test_outage_fails_the_source_and_keeps_the_cursor(
    engine: Engine, config: Config, org: Org
) -> None:
    run(engine, config, org)
    cursor = read_cursor(engine, "crm")
    org.touch("Opportunity", WON, datetime(2026, 6, 1, tzinfo=UTC), Amount=230000)
    org.fail(QUERY, *[httpx.Response(503)] * 3)

    result = run(engine, config, org)

    assert result.error is not None
    assert "failed 3 times (last: HTTP 503)" in result.error
    assert read_cursor(engine, "crm") == cursor
    result = run(engine, config, org)

    assert result.error is None and counts(result)["deal"] == {"updated": 1}


def test_repeated_page_stops_the_sync(engine: Engine, config: Config, org: Org) -> None:
    org.ignore_locator = True

    result = run(engine, config, org)

    assert result.error is not None
    assert result.error.startswith(
        "source 'crm': GET /services/data/v61.0/query: the page after cursor "
        "'/services/data/v61.0/query/01gTEST"
    )
    assert "repeats an earlier page" in result.error
    assert read_cursor(engine, "crm") is None

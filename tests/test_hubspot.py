"""The HubSpot source end to end: real httpx clients against a stand-in portal
(``tests/hubspot_portal.py``) built from recorded CRM v3 responses, loaded into a
real store through ``sync``, with values, cursors and faults checked exactly."""

from __future__ import annotations

import io
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import httpx
import pytest
from rich.console import Console
from sqlalchemy import Engine, func, select

from bot.cli import EXIT_SOURCE_FAILED, main
from context.clock import Clock
from context.models import Account, Deal, DealChange, Person, Rep, SourceState
from context.source_state import read_cursor
from integrations.config import Config, load_config
from integrations.sync import SourceResult, sync
from tests.hubspot_portal import TOKEN, Portal

CONFIG = """
sources:
  - name: hubspot
    label: HubSpot
    kind: hubspot
    base_url: https://hubspot.test
    token_env: HUBSPOT_TOKEN
    max_attempts: 3
    max_retry_wait: 0.01
    owners_as_reps: true
"""
FILES = """
  - name: org
    kind: files
    files:
      - path: people.csv
        kind: rep
        id: email
        fields: {name: name, email: email}
"""
DEAL = "479475667160"  # recorded deals, companies and contacts used below
BAD_DEAL = "481587939522"
ACME, OTHER = "406260751575", "406504204524"
CONTACT = "713492963559"
TAYLOR = "88842095"


@pytest.fixture
def portal(shared_data: Path) -> Portal:
    portal = Portal(shared_data)
    portal.companies_of[("contacts", CONTACT)] = ACME
    portal.companies_of[("deals", DEAL)] = OTHER
    deal = portal.find("deals", DEAL)["properties"]
    # B27: a millisecond epoch, a bare date and an unreadable date side by side.
    deal.update(closedate="1767139200000", dealstage="closedwon")
    deal["hubspot_owner_id"] = TAYLOR
    portal.find("deals", "480202228957")["properties"]["closedate"] = "2026-06-30"
    portal.find("deals", "480280330430")["properties"]["closedate"] = "soon-ish"
    portal.find("deals", BAD_DEAL)["properties"]["amount"] = "lots"
    return portal


@pytest.fixture
def config(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Config:
    monkeypatch.setenv("HUBSPOT_TOKEN", TOKEN)
    path = tmp_path / "foresight.yml"
    path.write_text(CONFIG)
    return load_config(path)


def run(engine: Engine, config: Config, portal: Portal) -> tuple[SourceResult, str]:
    out = io.StringIO()
    results = sync(
        engine,
        config,
        Clock(),
        console=Console(file=out, width=200),
        transport=httpx.MockTransport(portal),
    )
    return results[0], out.getvalue()


def counts(result: SourceResult) -> dict[str, dict[str, int]]:
    return {kind: dict(+c) for kind, c in result.counts.items()}


def test_first_sync_pages_through_everything(
    engine: Engine, config: Config, portal: Portal
) -> None:
    result, _ = run(engine, config, portal)

    assert result.error is None, result.error
    assert counts(result) == {
        "rep": {"new": 2},
        "account": {"new": 57},
        "person": {"new": 26},
        "deal": {"new": 20, "rejected": 1},
    }
    listed = [
        params
        for method, path, params in portal.calls
        if (method, path) == ("GET", "/crm/v3/objects/companies")
    ]
    assert [p.get("after") for p in listed] == [
        None,
        "10",
        "20",
        "30",
        "40",
        "50",
        None,
    ]
    assert listed[-1]["archived"] == "true"  # 57 companies, 10 a page, archived
    assert not [p for p in portal.paths("POST") if p.endswith("/search")]
    with engine.connect() as connection:
        acme = connection.execute(
            select(Account).where(Account.source_id == ACME)
        ).one()
        assert (acme.name, acme.domain, acme.location) == (
            "Test Company Batch Updated - Dryrun",
            "testcompany.com",
            "San Francisco, CA, United States",
        )
        person = connection.execute(
            select(Person).where(Person.source_id == CONTACT)
        ).one()
        assert (person.name, person.email, person.account_id) == (
            "Updated Contact",
            "test-contact-2026@example.com",
            acme.id,
        )


def test_deal_values_and_dates_in_every_form(
    engine: Engine, config: Config, portal: Portal
) -> None:
    run(engine, config, portal)

    with engine.connect() as connection:
        deals = {d.source_id: d for d in connection.execute(select(Deal)).all()}
        taylor = connection.scalar(
            select(Rep.id).where(Rep.email == "taylor.quinn@example.com")
        )
        other = connection.scalar(select(Account.id).where(Account.source_id == OTHER))
    won = deals[DEAL]
    assert (won.stage, won.status, won.amount) == ("Closed Won", "won", Decimal(3000))
    assert won.close_date == date(2025, 12, 31)  # from 1767139200000 ms
    assert (won.owner_rep_id, won.account_id) == (taylor, other)
    assert won.created_on == date(2026, 2, 25)
    assert deals["480202228957"].close_date == date(2026, 6, 30)
    assert deals["480280330430"].close_date is None  # unreadable: left empty
    assert deals["480280330430"].name == "Test Deal - Feb 26 2026"
    late = deals["493593663734"]
    assert (late.stage, late.close_date) == ("Qualified To Buy", date(2026, 12, 31))
    assert deals["487463597256"].stage is None
    assert BAD_DEAL not in deals


def test_malformed_record_is_rejected_with_its_id(
    engine: Engine, config: Config, portal: Portal
) -> None:
    portal.objects["contacts"][3] = {"id": "999", "properties": "garbled"}
    result, out = run(engine, config, portal)

    reasons = sorted(str(r) for r in result.rejections)
    assert reasons == [
        "contacts 999: the object has no properties",
        "deals 481587939522: amount: cannot read 'lots' as a number; write it like "
        "1100.04, 1,100.04 or $5k",
    ]
    assert counts(result)["person"] == {"new": 25, "rejected": 1}
    assert "deals 481587939522: amount" in " ".join(out.split())


def test_resync_reads_only_the_changed_window(
    engine: Engine, config: Config, portal: Portal
) -> None:
    before = datetime.now(UTC)
    run(engine, config, portal)
    cursor = read_cursor(engine, "hubspot")
    assert cursor is not None and set(cursor) == {"companies", "contacts", "deals"}
    assert datetime.fromisoformat(cursor["deals"]) < before
    portal.calls.clear()

    result, out = run(engine, config, portal)

    assert result.error is None and result.changed() == 0
    assert "Nothing changed." in out
    listed = [b for m, p, b in portal.calls if m == "GET" and "/objects/" in p]
    assert [b["archived"] for b in listed] == ["true"] * 3  # only archived ones
    searches = [body for _, path, body in portal.calls if path.endswith("/search")]
    assert len(searches) == 3
    low = searches[2]["filterGroups"][0]["filters"][0]
    since = datetime.fromisoformat(cursor["deals"])
    assert low == {
        "propertyName": "hs_lastmodifieddate",
        "operator": "GTE",
        "value": str(int(since.timestamp() * 1000)),
    }

    portal.touch("deals", DEAL, datetime.now(UTC), dealstage="closedlost")
    result, _ = run(engine, config, portal)

    assert counts(result) == {"rep": {"unchanged": 2}, "deal": {"updated": 1}}
    with engine.connect() as connection:
        deal = connection.execute(select(Deal).where(Deal.source_id == DEAL)).one()
        change = connection.execute(select(DealChange)).one()
        assert connection.scalar(select(func.count()).select_from(Deal)) == 20
    assert (deal.stage, deal.status) == ("Closed Lost", "lost")
    assert (change.field, change.old_value, change.new_value) == (
        "stage",
        "Closed Won",
        "Closed Lost",
    )


def test_archived_company_is_marked(
    engine: Engine, config: Config, portal: Portal, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level("INFO", logger="integrations.hubspot")
    run(engine, config, portal)
    gone = portal.objects["companies"].pop(1)
    gone.update(archived=True, archivedAt="2026-12-01T10:00:00.000Z")
    portal.archived["companies"].append(gone)
    portal.archived["deals"].append(portal.objects["deals"].pop(1))

    result, _ = run(engine, config, portal)

    assert counts(result)["account"] == {"updated": 1}
    with engine.connect() as connection:
        extra = connection.scalar(
            select(Account.extra).where(Account.source_id == gone["id"])
        )
    assert extra == {"archived": True, "archived_at": "2026-12-01T10:00:00.000Z"}
    assert "hubspot: 1 archived deals noted" in caplog.messages


def test_search_over_the_cap_splits_the_window(
    engine: Engine, config: Config, portal: Portal
) -> None:
    run(engine, config, portal)
    now = datetime.now(UTC)
    for index, company in enumerate(portal.objects["companies"][:12]):
        at = now - timedelta(seconds=index * 7)
        portal.touch("companies", company["id"], at, industry=f"Industry {index}")
    portal.search_scale = 1000  # 12 matches read as 12,000: over the 10,000 cap
    portal.calls.clear()

    result, _ = run(engine, config, portal)

    assert result.error is None, result.error
    assert counts(result)["account"] == {"updated": 12}
    bodies = [b for _, p, b in portal.calls if p.endswith("companies/search")]
    assert len(bodies) > 3  # split into narrower windows
    with engine.connect() as connection:
        industries = connection.scalars(
            select(Account.industry).where(Account.industry.like("Industry %"))
        ).all()
    assert len(industries) == 12


def test_unsplittable_window_is_reported_not_truncated(
    engine: Engine, config: Config, portal: Portal
) -> None:
    run(engine, config, portal)
    cursor = read_cursor(engine, "hubspot")
    at = datetime.now(UTC)
    for company in portal.objects["companies"][:11]:
        portal.touch("companies", company["id"], at)
    portal.search_scale = 1000

    result, _ = run(engine, config, portal)

    assert result.error is not None
    assert "more than HubSpot search can return (10000)" in result.error
    assert read_cursor(engine, "hubspot") == cursor


def test_rate_limits_and_outages_are_retried(
    engine: Engine, config: Config, portal: Portal
) -> None:
    portal.fail(
        "/crm/v3/owners",
        httpx.Response(429, headers={"Retry-After": "1"}, json={"status": "error"}),
    )
    portal.fail("/crm/v3/pipelines/deals", httpx.Response(502, text="bad gateway"))
    portal.fail("/crm/v3/objects/contacts", httpx.ConnectTimeout("timed out"))

    result, _ = run(engine, config, portal)

    assert result.error is None, result.error
    assert portal.paths().count("/crm/v3/owners") == 2
    assert portal.paths().count("/crm/v3/pipelines/deals") == 2
    # 3 pages, 1 retry, 1 for the archived contacts
    assert portal.paths().count("/crm/v3/objects/contacts") == 5
    assert counts(result)["person"] == {"new": 26}


def test_outage_fails_the_source_and_keeps_the_cursor(
    engine: Engine, config: Config, portal: Portal
) -> None:
    run(engine, config, portal)
    cursor = read_cursor(engine, "hubspot")
    now = datetime.now(UTC)
    portal.touch("companies", ACME, now, name="Acme Renamed")
    portal.touch("deals", DEAL, now, amount="4500")
    for _ in range(3):
        portal.fail("/crm/v3/objects/deals/search", httpx.Response(503))

    result, _ = run(engine, config, portal)

    assert result.error is not None
    assert "failed 3 times (last: HTTP 503)" in result.error
    assert read_cursor(engine, "hubspot") == cursor  # the deal change is not lost
    result, _ = run(engine, config, portal)

    assert result.error is None
    assert counts(result)["deal"] == {"updated": 1}
    assert counts(result)["account"] == {"updated": 1}
    with engine.connect() as connection:
        assert connection.scalar(select(func.count()).select_from(Account)) == 57
        amount = connection.scalar(select(Deal.amount).where(Deal.source_id == DEAL))
    assert amount == Decimal(4500)


def test_repeated_page_stops_the_sync(
    engine: Engine, config: Config, portal: Portal
) -> None:
    portal.ignore_after = True

    result, _ = run(engine, config, portal)

    assert result.error == (
        "source 'hubspot': GET /crm/v3/objects/companies: the page after cursor '10' "
        "repeats an earlier page; stopped instead of loading the same records again "
        "(the vendor ignored the cursor)"
    )
    assert read_cursor(engine, "hubspot") is None
    assert portal.paths().count("/crm/v3/objects/companies") == 2


def test_bad_token_stops_only_that_source(
    engine: Engine,
    tmp_path: Path,
    portal: Portal,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    database_url: str,
) -> None:
    monkeypatch.setenv("HUBSPOT_TOKEN", "pat-expired")
    (tmp_path / "people.csv").write_text("name,email\nDana Reyes,dana@example.com\n")
    path = tmp_path / "foresight.yml"
    path.write_text(CONFIG + FILES)
    hubspot, org = sync(
        engine,
        load_config(path),
        Clock(),
        console=Console(file=io.StringIO()),
        transport=httpx.MockTransport(portal),
    )

    assert (
        hubspot.error is not None and "HTTP 401 on GET /crm/v3/owners" in hubspot.error
    )
    assert "put it in HUBSPOT_TOKEN" in hubspot.error
    assert "pat-expired" not in hubspot.error
    assert portal.paths() == ["/crm/v3/owners"]  # not retried
    assert org.error is None and counts(org) == {"rep": {"new": 1}}

    monkeypatch.setenv("DATABASE_URL", database_url)
    assert main(["--config", str(path), "status"]) == EXIT_SOURCE_FAILED
    out = " ".join(capsys.readouterr().out.split())
    assert "✗ hubspot last failed" in out and "HTTP 401" in out
    with engine.connect() as connection:
        states = {s.source: s for s in connection.execute(select(SourceState)).all()}
    assert states["org"].records_seen == 1 and states["org"].last_error is None
    assert states["hubspot"].cursor is None


def test_status_shows_cursor_and_records(
    engine: Engine,
    config: Config,
    portal: Portal,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    database_url: str,
) -> None:
    run(engine, config, portal)
    monkeypatch.setenv("DATABASE_URL", database_url)

    assert main(["--config", str(config.path), "status"]) == 0

    out = capsys.readouterr().out
    assert "HubSpot" in out and "hubspot" in out
    assert " 106 " in out  # 2 reps, 57 companies, 26 contacts, 21 deals read
    cursor = read_cursor(engine, "hubspot")
    assert cursor is not None
    assert f'hubspot cursor: {{"companies":"{cursor["companies"]}",' in out

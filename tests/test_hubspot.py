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
from context.models import (
    Account,
    AccountAlias,
    Activity,
    Deal,
    DealChange,
    Person,
    Rep,
    SourceState,
)
from context.records import Record, Rejection
from context.source_state import read_cursor
from integrations.config import Config, load_config
from integrations.hubspot.source import HubSpotSource, read_hubspot
from integrations.source import SyncState
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
TASK, TASK_CONTACT = "463216971977", "713802347732"  # a recorded task, its contact
ENGAGEMENTS = ("emails", "meetings", "calls", "notes", "tasks")


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


def association_reads(portal: Portal) -> list[tuple[str, list[str]]]:
    """The batch association reads made: ``from/to`` and the ids asked for."""
    return [
        (
            path.removeprefix("/crm/v3/associations/").removesuffix("/batch/read"),
            [i["id"] for i in body["inputs"]],
        )
        for method, path, body in portal.calls
        if path.startswith("/crm/v3/associations/")
    ]


def read_all(config: Config, portal: Portal) -> list[Record | Rejection]:
    """What the source hands the loader on a first sync, without a store."""
    source = config.source("hubspot")
    assert isinstance(source, HubSpotSource)
    state = SyncState(transport=httpx.MockTransport(portal))
    return list(read_hubspot(source, state, Clock()))


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
        "activity": {"new": 37},  # 25 tasks; 3 e-mails, meetings, calls, notes
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
    assert cursor is not None and set(cursor) == {
        "companies",
        "contacts",
        "deals",
        "emails",
        "meetings",
        "calls",
        "notes",
        "tasks",
    }
    assert datetime.fromisoformat(cursor["deals"]) < before
    portal.calls.clear()

    result, out = run(engine, config, portal)

    assert result.error is None and result.changed() == 0
    assert "Nothing changed." in out
    listed = [b for m, p, b in portal.calls if m == "GET" and "/objects/" in p]
    assert [b["archived"] for b in listed] == ["true"] * 3  # only archived ones
    searches = [body for _, path, body in portal.calls if path.endswith("/search")]
    assert len(searches) == 8  # companies, contacts, deals and 5 engagement types
    low = searches[2]["filterGroups"][0]["filters"][0]
    since = datetime.fromisoformat(cursor["deals"])
    assert low == {
        "propertyName": "hs_lastmodifieddate",
        "operator": "GTE",
        "value": str(int(since.timestamp() * 1000)),
    }

    portal.touch("deals", DEAL, datetime.now(UTC), dealstage="closedlost")
    result, _ = run(engine, config, portal)

    assert counts(result) == {
        "rep": {"unchanged": 2},
        "deal": {"updated": 1},
        "deal_change": {"new": 1},
    }
    with engine.connect() as connection:
        deal = connection.execute(select(Deal).where(Deal.source_id == DEAL)).one()
        changes = connection.execute(
            select(DealChange.field, DealChange.old_value, DealChange.new_value)
        ).all()
        assert connection.scalar(select(func.count()).select_from(Deal)) == 20
    assert (deal.stage, deal.status) == ("Closed Lost", "lost")
    # Once: HubSpot's history replaces the change the loader noticed itself.
    assert changes == [("stage", "Closed Won", "Closed Lost")]


def test_archived_records_are_marked_deleted(
    engine: Engine, config: Config, portal: Portal, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level("INFO", logger="integrations.hubspot")
    run(engine, config, portal)
    archived = {
        "companies": (
            "2026-12-01T10:00:00.000Z",
            datetime(2026, 12, 1, 10, tzinfo=UTC),
        ),
        "contacts": ("1764583200000", datetime(2025, 12, 1, 10, tzinfo=UTC)),
        "deals": ("2026-12-02T08:30:00Z", datetime(2026, 12, 2, 8, 30, tzinfo=UTC)),
    }
    gone = {}
    for kind, (stamp, _) in archived.items():
        record = portal.objects[kind].pop(1)
        record.update(archived=True, archivedAt=stamp)
        portal.archived[kind].append(record)
        gone[kind] = record["id"]

    result, _ = run(engine, config, portal)

    assert counts(result) == {
        "rep": {"unchanged": 2},
        "account": {"updated": 1},
        "person": {"updated": 1},
        "deal": {"updated": 1},
    }
    with engine.connect() as connection:
        marked = {
            kind: connection.execute(
                select(table.deleted_at, table.name).where(
                    table.source_id == gone[kind]
                )
            ).one()
            for kind, table in (
                ("companies", Account),
                ("contacts", Person),
                ("deals", Deal),
            )
        }
        live = connection.scalar(
            select(func.count())
            .select_from(Account)
            .where(Account.deleted_at.is_(None))
        )
    assert {kind: row.deleted_at for kind, row in marked.items()} == {
        kind: at for kind, (_, at) in archived.items()
    }
    assert all(row.name for row in marked.values())  # the rest of the row is kept
    assert live == 56
    assert "hubspot: 1 archived deals read" in caplog.messages


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
    # The renamed company was loaded before the outage: what a source handed
    # over is kept, and reading it again changes nothing.
    assert counts(result)["account"] == {"unchanged": 1}
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
    assert " 143 " in out  # 2 reps, 57 companies, 26 contacts, 21 deals, 37 activities
    cursor = read_cursor(engine, "hubspot")
    assert cursor is not None
    assert f'hubspot cursor: {{"calls":"{cursor["calls"]}",' in out


def test_engagements_become_activities(
    engine: Engine, config: Config, portal: Portal
) -> None:
    email, meeting, note = (
        portal.objects[k][0] for k in ("emails", "meetings", "notes")
    )
    call = portal.objects["calls"][1]
    email["properties"]["hs_timestamp"] = "1767258000000"  # B27: ms epoch
    meeting["properties"]["hs_timestamp"] = "2026-03-02T15:30:00+01:00"
    note["properties"]["hs_note_body"] = (
        "<p>Renewal risk &amp; budget</p><p>Frozen  until Q3.</p><script>x()</script>"
    )
    call["properties"]["hs_call_body"] = "<p>" + "word " * 1000 + "</p>"
    portal.associate("emails", email["id"], "companies", ACME)
    portal.associate("emails", email["id"], "contacts", CONTACT, TASK_CONTACT)
    portal.associate("emails", email["id"], "deals", DEAL)
    portal.associate("meetings", meeting["id"], "companies", OTHER)

    result, _ = run(engine, config, portal)

    assert counts(result)["activity"] == {"new": 37}
    with engine.connect() as connection:
        rows = {
            a.source_id: a
            for a in connection.execute(select(Activity)).all()
            if a.source_id in {email["id"], meeting["id"], note["id"], call["id"], TASK}
        }
        ids = {
            key: connection.scalar(select(table.id).where(table.source_id == key))
            for key, table in (
                (ACME, Account),
                (OTHER, Account),
                (CONTACT, Person),
                (TASK_CONTACT, Person),
                (DEAL, Deal),
            )
        }

    def shown(key: str) -> tuple[object, ...]:
        a = rows[key]
        return (a.kind, a.direction, a.subject, a.body, a.occurred_at)

    assert shown(email["id"]) == (
        "email",
        "outbound",
        "Pricing for 1 seats",
        "Hi,\nhere is the quote for 1 seats.\n-- Taylor",
        datetime(2026, 1, 1, 9, tzinfo=UTC),
    )
    assert (rows[email["id"]].account_id, rows[email["id"]].person_id) == (
        ids[ACME],
        ids[CONTACT],
    )
    assert rows[email["id"]].deal_id == ids[DEAL]
    assert rows[email["id"]].participants == [
        "taylor.quinn@example.com",
        "buyer1@testcompany.com",
    ]
    assert shown(meeting["id"]) == (
        "meeting",
        None,
        "Discovery call 1",
        "Agenda:\nGoals\nTimeline",
        datetime(2026, 3, 2, 14, 30, tzinfo=UTC),
    )
    assert rows[meeting["id"]].account_id == ids[OTHER]
    assert shown(note["id"]) == (
        "note",
        None,
        "Renewal risk & budget",
        "Renewal risk & budget\nFrozen until Q3.",
        datetime(2026, 2, 25, 15, 16, 50, 258000, tzinfo=UTC),  # created: no time
    )
    body = rows[call["id"]].body
    assert (rows[call["id"]].direction, len(body), body[-1]) == ("outbound", 4000, "…")
    task = rows[TASK]
    assert (task.kind, task.subject, task.person_id, task.account_id) == (
        "task",
        "(Sample task) Follow up with Brian",
        ids[TASK_CONTACT],
        None,
    )


def test_deal_history_becomes_deal_changes(
    engine: Engine, config: Config, portal: Portal
) -> None:
    portal.history[(DEAL, "dealstage")] = [
        {"value": "closedwon", "timestamp": "2026-03-01T12:00:00.000Z"},
        {"value": "qualifiedtobuy", "timestamp": "1769904000000"},  # B27: ms epoch
        {"value": "appointmentscheduled", "timestamp": "2026-01-10T09:00:00Z"},
    ]
    portal.history[(DEAL, "amount")] = [
        {"value": "3000", "timestamp": "2026-02-15T10:00:00.000Z"},
        {"value": "1500", "timestamp": "2026-01-10T09:00:00Z"},
    ]
    portal.history[(DEAL, "closedate")] = [
        {"value": "1767139200000", "timestamp": "2026-03-01T12:00:00.000Z"},
        {"value": "2026-06-30", "timestamp": "2026-01-10T09:00:00Z"},
    ]

    result, _ = run(engine, config, portal)

    assert counts(result)["deal_change"] == {"new": 4}
    histories = [b for _, p, b in portal.calls if p.endswith("deals/batch/read")]
    assert histories[0]["propertiesWithHistory"] == ["dealstage", "amount", "closedate"]
    assert len(histories[0]["inputs"]) == 20  # the deals read, not the rejected one
    with engine.connect() as connection:
        changes = connection.execute(
            select(
                DealChange.field,
                DealChange.old_value,
                DealChange.new_value,
                DealChange.changed_at,
                DealChange.source,
            ).order_by(DealChange.changed_at, DealChange.field)
        ).all()
    assert changes == [
        (
            "stage",
            "Appointment Scheduled",
            "Qualified To Buy",
            at(2026, 2, 1),
            "hubspot",
        ),
        ("amount", "1500.00", "3000.00", at(2026, 2, 15, 10), "hubspot"),
        ("close_date", "2026-06-30", "2025-12-31", at(2026, 3, 1, 12), "hubspot"),
        ("stage", "Qualified To Buy", "Closed Won", at(2026, 3, 1, 12), "hubspot"),
    ]

    moved = datetime.now(UTC).replace(microsecond=0)
    portal.touch("deals", DEAL, moved, amount="3500")
    result, _ = run(engine, config, portal)

    assert counts(result)["deal_change"] == {"new": 1, "unchanged": 4}
    with engine.connect() as connection:
        newest = connection.execute(
            select(DealChange.old_value, DealChange.new_value).where(
                DealChange.changed_at == moved
            )
        ).one()
    assert newest == ("3000.00", "3500.00")


def test_merged_records_lead_to_the_survivor(
    engine: Engine, config: Config, portal: Portal
) -> None:
    run(engine, config, portal)
    merged_at = datetime.now(UTC).replace(microsecond=0)
    gone_contact = portal.objects["contacts"][5]["id"]
    portal.objects["companies"].remove(portal.find("companies", OTHER))
    portal.objects["contacts"].remove(portal.find("contacts", gone_contact))
    portal.touch("companies", ACME, merged_at, hs_merged_object_ids=OTHER)
    portal.touch("contacts", CONTACT, merged_at, hs_merged_object_ids=gone_contact)
    portal.touch("deals", DEAL, datetime.now(UTC), dealname="Renewal")  # still OTHER

    result, _ = run(engine, config, portal)

    assert result.error is None, result.error
    assert counts(result) == {
        "rep": {"unchanged": 2},
        "account_alias": {"new": 1},
        "account": {"unchanged": 1, "updated": 1},
        "person": {"unchanged": 1, "updated": 1},
        "deal": {"updated": 1},
    }
    with engine.connect() as connection:
        acme = connection.execute(
            select(Account).where(Account.source_id == ACME)
        ).one()
        other = connection.execute(
            select(Account).where(Account.source_id == OTHER)
        ).one()
        alias = connection.execute(select(AccountAlias)).one()
        person = connection.execute(
            select(Person).where(Person.source_id == gone_contact)
        ).one()
        deal_account = connection.scalar(
            select(Deal.account_id).where(Deal.source_id == DEAL)
        )
    assert (other.merged_into, other.deleted_at) == (ACME, merged_at)
    assert (acme.merged_into, acme.deleted_at) == (None, None)
    assert (alias.alias_source, alias.alias_id, alias.target_source) == (
        "hubspot",
        OTHER,
        "hubspot",
    )
    assert alias.target_id == ACME
    assert (person.merged_into, person.deleted_at) == (CONTACT, merged_at)
    assert deal_account == acme.id


def test_later_record_on_a_merged_company_lands_on_the_survivor(
    engine: Engine, config: Config, portal: Portal
) -> None:
    run(engine, config, portal)
    portal.objects["companies"].remove(portal.find("companies", OTHER))
    portal.touch("companies", ACME, datetime.now(UTC), hs_merged_object_ids=OTHER)
    run(engine, config, portal)
    # The merge is older than the next sync's window: only the alias knows of it.
    portal.touch("companies", ACME, datetime.now(UTC) - timedelta(hours=1))
    late = "480202228957"
    portal.associate("deals", late, "companies", OTHER)  # a stale association
    portal.touch("deals", late, datetime.now(UTC), dealname="Expansion")

    result, _ = run(engine, config, portal)

    assert counts(result)["deal"] == {"updated": 1}
    with engine.connect() as connection:
        acme = connection.scalar(select(Account.id).where(Account.source_id == ACME))
        account = connection.scalar(
            select(Deal.account_id).where(Deal.source_id == late)
        )
    assert account == acme  # through the alias, not the merged row


def test_malformed_engagements_are_rejected(
    engine: Engine, config: Config, portal: Portal, caplog: pytest.LogCaptureFixture
) -> None:
    bad_email = portal.objects["emails"][1]["id"]
    portal.objects["emails"][1] = {"id": bad_email, "properties": None}
    portal.objects["notes"].append("garbled")  # type: ignore[arg-type]
    portal.find("tasks", TASK)["properties"]["hs_timestamp"] = "next tuesday"

    result, _ = run(engine, config, portal)

    assert result.error is None, result.error
    assert counts(result)["activity"] == {"new": 36, "rejected": 2}
    reasons = sorted(str(r) for r in result.rejections if r.kind == "activity")
    assert reasons == [
        f"emails {bad_email}: the object has no properties",
        "notes (no id): expected an object, got str",
    ]
    with engine.connect() as connection:
        when = connection.scalar(
            select(Activity.occurred_at).where(Activity.source_id == TASK)
        )
    assert when == datetime(2026, 2, 25, 15, 16, 50, 258000, tzinfo=UTC)  # created
    assert any("hs_timestamp left empty" in m for m in caplog.messages)


def test_resync_picks_up_a_changed_engagement(
    engine: Engine, config: Config, portal: Portal
) -> None:
    run(engine, config, portal)
    cursor = read_cursor(engine, "hubspot")
    assert cursor is not None
    portal.calls.clear()
    task = "463595700430"
    portal.touch("tasks", task, datetime.now(UTC), hs_task_subject="Send contract")
    portal.find("tasks", task)["properties"]["hs_timestamp"] = "2026-12-10"
    portal.associate("tasks", task, "deals", DEAL)

    result, _ = run(engine, config, portal)

    assert counts(result) == {"rep": {"unchanged": 2}, "activity": {"updated": 1}}
    search = next(b for _, p, b in portal.calls if p.endswith("tasks/search"))
    assert search["filterGroups"][0]["filters"][0]["value"] == str(
        int(datetime.fromisoformat(cursor["tasks"]).timestamp() * 1000)
    )
    with engine.connect() as connection:
        row = connection.execute(
            select(Activity).where(Activity.source_id == task)
        ).one()
        deal = connection.scalar(select(Deal.id).where(Deal.source_id == DEAL))
    assert (row.subject, row.occurred_at, row.deal_id) == (
        "Send contract",
        datetime(2026, 12, 10, tzinfo=UTC),  # B27: a bare date
        deal,
    )


def at(year: int, month: int, day: int, hour: int = 0) -> datetime:
    return datetime(year, month, day, hour, tzinfo=UTC)


def test_first_sync_reads_associations_inline(
    engine: Engine, config: Config, portal: Portal
) -> None:
    email = portal.objects["emails"][0]["id"]
    portal.associate("emails", email, "companies", ACME)
    portal.associate("emails", email, "contacts", CONTACT, TASK_CONTACT)
    portal.associate("emails", email, "deals", DEAL)

    result, _ = run(engine, config, portal)

    assert result.error is None, result.error
    assert association_reads(portal) == []  # no inline list was cut off
    asked = {
        path.rsplit("/", 1)[1]: params.get("associations")
        for method, path, params in portal.calls
        if method == "GET"
        and path.startswith("/crm/v3/objects/")
        and "archived" not in params
    }
    assert asked == {
        "companies": None,
        "contacts": "companies",
        "deals": "companies",
        **{t: "companies,contacts,deals" for t in ENGAGEMENTS},
    }
    with engine.connect() as connection:
        row = connection.execute(
            select(Activity).where(Activity.source_id == email)
        ).one()
        ids = {
            key: connection.scalar(select(table.id).where(table.source_id == key))
            for key, table in ((ACME, Account), (CONTACT, Person), (DEAL, Deal))
        }
    assert (row.account_id, row.person_id, row.deal_id) == (
        ids[ACME],
        ids[CONTACT],
        ids[DEAL],
    )

    # Search carries no associations: an incremental sync reads them in batches.
    task = "463595700430"
    portal.touch("tasks", task, datetime.now(UTC), hs_task_subject="Call back")
    portal.associate("tasks", task, "deals", DEAL)
    portal.calls.clear()
    result, _ = run(engine, config, portal)

    assert counts(result)["activity"] == {"updated": 1}
    assert association_reads(portal) == [
        ("tasks/companies", [task]),
        ("tasks/contacts", [task]),
        ("tasks/deals", [task]),
    ]
    with engine.connect() as connection:
        deal_id = connection.scalar(
            select(Activity.deal_id).where(Activity.source_id == task)
        )
    assert deal_id == ids[DEAL]


def test_cut_off_inline_associations_are_read_in_a_batch(
    engine: Engine, config: Config, portal: Portal
) -> None:
    portal.association_cap = 1
    # ACME sorts first and comes inline, unlabeled; the primary OTHER is cut off.
    portal.associate("contacts", CONTACT, "companies", OTHER, ACME)
    email = portal.objects["emails"][0]["id"]
    portal.associate("emails", email, "contacts", TASK_CONTACT, CONTACT)
    portal.associate("emails", email, "companies", ACME)

    result, _ = run(engine, config, portal)

    assert result.error is None, result.error
    # Only the two cut-off lists, each for its one object; the recorded task and
    # the deal have one association each, which came whole.
    assert association_reads(portal) == [
        ("contacts/companies", [CONTACT]),
        ("emails/contacts", [email]),
    ]
    with engine.connect() as connection:
        accounts = dict(connection.execute(select(Account.source_id, Account.id)).all())
        people = dict(connection.execute(select(Person.source_id, Person.id)).all())
        contact_account = connection.scalar(
            select(Person.account_id).where(Person.source_id == CONTACT)
        )
        row = connection.execute(
            select(Activity).where(Activity.source_id == email)
        ).one()
        task_person = connection.scalar(
            select(Activity.person_id).where(Activity.source_id == TASK)
        )
    assert contact_account == accounts[OTHER]  # the primary, from the batch read
    assert (row.account_id, row.person_id) == (accounts[ACME], people[TASK_CONTACT])
    assert task_person == people[TASK_CONTACT]


def test_inline_associations_give_the_records_batch_reads_give(
    config: Config, shared_data: Path
) -> None:
    portals = []
    for cap in (100, 0):  # 0: every list cut off, all read in batches as before
        portal = Portal(shared_data)
        companies = [c["id"] for c in portal.objects["companies"]]
        contacts = [c["id"] for c in portal.objects["contacts"]]
        deals = [d["id"] for d in portal.objects["deals"]]
        portal.find("companies", ACME)["properties"]["hs_merged_object_ids"] = "77"
        for n, contact in enumerate(contacts):
            portal.associate("contacts", contact, "companies", *companies[n : n + 3])
        for n, deal in enumerate(deals):
            portal.associate("deals", deal, "companies", companies[-n - 1], "77")
        for kind in ENGAGEMENTS:
            for n, raw in enumerate(portal.objects[kind]):
                portal.associate(kind, raw["id"], "companies", "77", companies[n])
                portal.associate(kind, raw["id"], "contacts", *contacts[n : n + 2])
                portal.associate(kind, raw["id"], "deals", deals[n % len(deals)])
        portal.association_cap = cap
        portals.append(portal)
    inline, batched = portals

    assert read_all(config, inline) == read_all(config, batched)
    assert association_reads(inline) == []
    # One per page and linked type: 3 pages of contacts, 3 of deals, 1 of each of
    # 4 engagement types and 3 of tasks, 10 a page.
    assert len(association_reads(batched)) == 3 + 3 + 4 * 3 + 3 * 3

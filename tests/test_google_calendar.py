"""The Google Calendar source end to end: real httpx clients against a stand-in
(``tests/google_calendar_stand_in.py``) built from recorded Calendar v3 responses,
loaded into a real store through ``sync``, with times, cursors and faults checked
exactly."""

from __future__ import annotations

import io
import json
import logging
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from rich.console import Console
from sqlalchemy import Engine, select

from context.clock import Clock
from context.models import Account, Meeting, MeetingAttendee, Person, Rep
from context.source_state import read_cursor
from integrations.config import Config, load_config
from integrations.errors import ConfigError
from integrations.google_calendar.source import GoogleCalendarSource
from integrations.sync import SourceResult, sync
from tests.google_calendar_stand_in import (
    CLIENT_ID,
    CLIENT_SECRET,
    FRESH,
    JWT_BEARER,
    REFRESH,
    SCOPE,
    TOKEN,
    TOKEN_URL,
    Calendars,
    recorded,
)

ANA, BEN = "ana@ourco.test", "ben@ourco.test"
NOW = datetime(2026, 3, 12, 12, 0, tzinfo=UTC)
CONFIG = f"""
sources:
  - name: crm
    kind: files
    files:
      - {{path: reps.csv, kind: rep, id: email, fields: {{name: name, email: email}}}}
      - path: accounts.csv
        kind: account
        id: name
        fields: {{name: name, domain: domain}}
      - path: people.csv
        kind: person
        id: email
        fields: {{name: name, email: email}}
        refs: {{account: account}}
  - name: calendar
    kind: google_calendar
    base_url: https://calendar.stand-in.test
    token_url: {TOKEN_URL}
    calendars: [{ANA}, {BEN}]
    internal_domains: [ourco.test]
    page_size: 10
    max_attempts: 3
    max_retry_wait: 0.01
"""
SHARED = "02kfi15oihuf9iftlc3pricm0k"  # recorded; made a meeting of Ana, Ben and Acme
ALL_DAY = "fiohtofhovslvl0nvvr1vpltvs"  # recorded: {"date": "2026-03-15"}
GET_EVENT = "jaj7p7vj5lo6aeo45ebh79tckk"  # recorded: 2026-03-20T14:00:00-03:00
LISTED_ATTENDEE = "g65fvocgea781hubcl4099oc9o"  # recorded with one attendee
ROOM = "ourco.test_3130@resource.calendar.google.com"


@pytest.fixture
def google(shared_data: Path) -> Calendars:
    listed = recorded(shared_data, "list-upcoming-events")
    events = {e["id"]: e for e in listed["items"]}
    shared = events[SHARED]
    shared["organizer"] = {"email": ANA, "displayName": "Ana Ruiz"}
    shared["attendees"] = [
        {"email": ANA, "organizer": True, "responseStatus": "accepted"},
        {"email": "Ben@ourco.test", "responseStatus": "tentative"},
        {"email": "zoe@acme.test", "displayName": "Zoë O'Brien_100%"},
        {"email": ROOM, "resource": True, "responseStatus": "accepted"},
    ]
    extra = [
        _event("tokyo-1", "Tokyo sync", {"dateTime": "2026-03-16T09:30:00"}, "Tokyo"),
        _event("berlin-dst", "Offsite", {"date": "2026-03-29"}, "Berlin"),
        _event("broken-1", "Soon", {"dateTime": "next tuesday"}, "Tokyo"),
        "garbage",
    ]
    google = Calendars()
    google.add(ANA, listed["timeZone"], [*listed["items"], *extra])
    globex = recorded(shared_data, "get-event")
    globex.update(id="globex-call-1", organizer={"email": "buyer@globex.test"})
    globex["attendees"] = [
        {"email": "buyer@globex.test", "organizer": True},
        {"email": BEN, "self": True, "responseStatus": "accepted"},
    ]
    google.add(BEN, "Europe/London", [shared, globex])
    return google


def _event(event_id: str, title: str, start: dict[str, str], zone: str) -> Any:
    names = {"Tokyo": "Asia/Tokyo", "Berlin": "Europe/Berlin"}
    end = dict(start)
    if "date" in start:
        end["date"] = "2026-03-30"
    else:
        end["dateTime"] = start["dateTime"].replace("09:30", "10:15")
    return {
        "id": event_id,
        "status": "confirmed",
        "summary": title,
        "organizer": {"email": ANA},
        "start": {**start, "timeZone": names[zone]},
        "end": {**end, "timeZone": names[zone]},
        "iCalUID": f"{event_id}@google.com",
    }


@pytest.fixture
def config(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Config:
    monkeypatch.setenv("GOOGLE_CALENDAR_TOKEN", TOKEN)
    (tmp_path / "reps.csv").write_text(
        f"name,email\nAna Ruiz,{ANA}\nBen Okafor,{BEN}\n"
    )
    (tmp_path / "accounts.csv").write_text("name,domain\nAcme,acme.test\n")
    (tmp_path / "people.csv").write_text("name,email,account\nZoë,ZOE@acme.test,Acme\n")
    path = tmp_path / "foresight.yml"
    path.write_text(CONFIG)
    return load_config(path)


def run(
    engine: Engine, config: Config, google: Calendars, now: datetime = NOW
) -> SourceResult:
    results = sync(
        engine,
        config,
        Clock(now),
        console=Console(file=io.StringIO(), width=200),
        transport=httpx.MockTransport(google),
    )
    return results[-1]


def counts(result: SourceResult) -> dict[str, dict[str, int]]:
    return {kind: dict(+c) for kind, c in result.counts.items()}


def meetings(engine: Engine) -> dict[str, Any]:
    with engine.connect() as connection:
        return {m.source_id: m for m in connection.execute(select(Meeting)).all()}


def test_first_sync_pages_through_each_calendar(
    engine: Engine, config: Config, google: Calendars
) -> None:
    result = run(engine, config, google)

    assert result.error is None, result.error
    assert counts(result) == {
        "meeting": {"new": 28, "rejected": 2},
        "attendee": {"new": 6},
    }
    ana = google.listed(ANA)
    assert [q.get("pageToken") for q in ana] == [None, "page-10", "page-20"]
    assert {k: v for k, v in ana[0].items() if k != "timeout"} == {
        "singleEvents": "true",
        "showDeleted": "true",
        "maxResults": "10",
        "timeMin": "2025-12-12T12:00:00Z",
        "timeMax": "2026-04-11T12:00:00Z",
    }
    cursor = read_cursor(engine, "calendar")
    assert cursor == {
        "calendars": {
            ANA: {
                "sync_token": "sync-ana@ourco.test-256-0",
                "until": "2026-04-11T12:00:00+00:00",
            },
            BEN: {
                "sync_token": "sync-ben@ourco.test-256-1",
                "until": "2026-04-11T12:00:00+00:00",
            },
        }
    }


def test_times_are_utc_instants_and_all_day_events_load(
    engine: Engine, config: Config, google: Calendars
) -> None:
    run(engine, config, google)

    found = meetings(engine)
    get = found[GET_EVENT]
    assert (get.title, get.starts_at, get.ends_at, get.all_day) == (
        "Get Event Test",
        datetime(2026, 3, 20, 17, 0, tzinfo=UTC),
        datetime(2026, 3, 20, 18, 0, tzinfo=UTC),
        False,
    )
    day = found[ALL_DAY]  # B29: a bare date, midnight in the calendar's São Paulo
    assert (day.starts_at, day.ends_at, day.all_day) == (
        datetime(2026, 3, 15, 3, 0, tzinfo=UTC),
        datetime(2026, 3, 16, 3, 0, tzinfo=UTC),
        True,
    )
    dst = found["berlin-dst"]  # Berlin moves to summer time on 2026-03-29
    assert (dst.starts_at, dst.ends_at, dst.all_day) == (
        datetime(2026, 3, 28, 23, 0, tzinfo=UTC),
        datetime(2026, 3, 29, 22, 0, tzinfo=UTC),
        True,
    )
    tokyo = found["tokyo-1"]  # no offset: read in the event's own zone
    assert (tokyo.starts_at, tokyo.ends_at) == (
        datetime(2026, 3, 16, 0, 30, tzinfo=UTC),
        datetime(2026, 3, 16, 1, 15, tzinfo=UTC),
    )
    with engine.connect() as connection:
        early = connection.scalars(
            select(Meeting.source_id).where(
                Meeting.starts_at < datetime(2026, 3, 15, 12, 0, tzinfo=UTC),
                Meeting.all_day.is_(True),
            )
        ).all()
    assert early == [ALL_DAY]  # B19: the same instant filters alike on both stores


def test_shared_meeting_is_one_row_with_its_attendees(
    engine: Engine, config: Config, google: Calendars
) -> None:
    run(engine, config, google)

    with engine.connect() as connection:
        rep = dict(connection.execute(select(Rep.email, Rep.id)).all())
        acme = connection.scalar(select(Account.id).where(Account.name == "Acme"))
        zoe = connection.scalar(select(Person.id))
        shared = connection.execute(
            select(Meeting).where(Meeting.source_id == SHARED)
        ).one()
        globex = connection.execute(
            select(Meeting).where(Meeting.source_id == "globex-call-1")
        ).one()
        people = connection.execute(
            select(
                MeetingAttendee.source_id,
                MeetingAttendee.email,
                MeetingAttendee.name,
                MeetingAttendee.response,
                MeetingAttendee.person_id,
                MeetingAttendee.meeting_id,
            ).order_by(MeetingAttendee.source_id)
        ).all()
    assert (shared.rep_id, shared.account_id, shared.organizer_email) == (
        rep[ANA],
        acme,
        ANA,
    )
    assert (globex.rep_id, globex.account_id) == (rep[BEN], None)
    assert [tuple(p) for p in people if p.meeting_id == shared.id] == [
        (f"{SHARED}/ana@ourco.test", ANA, None, "accepted", None, shared.id),
        (
            f"{SHARED}/ben@ourco.test",
            "Ben@ourco.test",
            None,
            "tentative",
            None,
            shared.id,
        ),
        (
            f"{SHARED}/zoe@acme.test",
            "zoe@acme.test",
            "Zoë O'Brien_100%",
            None,
            zoe,
            shared.id,
        ),
    ]
    assert len(people) == 6


def test_malformed_event_is_rejected_and_the_rest_load(
    engine: Engine, config: Config, google: Calendars
) -> None:
    result = run(engine, config, google)

    assert sorted(str(r) for r in result.rejections) == [
        "event (no id) in ana@ourco.test: expected an object, got str",
        "event broken-1 in ana@ourco.test: cannot read 'next tuesday' as a time; "
        "write it like 2024-12-02T09:00:00-05:00 or set `format:`",
    ]
    assert "broken-1" not in meetings(engine)


def test_next_sync_reads_only_changes(
    engine: Engine, config: Config, google: Calendars
) -> None:
    run(engine, config, google)
    cursor = read_cursor(engine, "calendar")
    assert cursor is not None
    moved = google.find(ANA, GET_EVENT)
    moved["start"] = {"dateTime": "2026-03-20T16:00:00-03:00"}
    google.put(ANA, moved)
    google.put(ANA, {"id": "tokyo-1", "status": "cancelled"})
    google.calls.clear()

    result = run(engine, config, google)

    assert result.error is None, result.error
    assert counts(result) == {"meeting": {"updated": 2}}
    query = {k: v for k, v in google.listed(ANA)[0].items() if k != "timeout"}
    assert query == {
        "singleEvents": "true",
        "showDeleted": "true",
        "maxResults": "10",
        "syncToken": cursor["calendars"][ANA]["sync_token"],
    }
    assert google.listed(BEN)[0]["syncToken"] == cursor["calendars"][BEN]["sync_token"]
    found = meetings(engine)
    assert found[GET_EVENT].starts_at == datetime(2026, 3, 20, 19, 0, tzinfo=UTC)
    assert found["tokyo-1"].title == "Tokyo sync"  # kept, and marked deleted
    assert found["tokyo-1"].deleted_at is not None
    assert found[GET_EVENT].deleted_at is None


def test_expired_sync_token_reads_the_calendar_again(
    engine: Engine,
    config: Config,
    google: Calendars,
    caplog: pytest.LogCaptureFixture,
) -> None:
    run(engine, config, google)
    google.expire(BEN)
    gone = google.find(BEN, "globex-call-1")
    gone.update(status="cancelled", updated="2026-03-12T13:00:00.000Z")
    google.put(BEN, gone)
    google.calls.clear()
    caplog.set_level("INFO", logger="integrations.google_calendar")

    result = run(engine, config, google)

    assert result.error is None, result.error
    assert [("syncToken" in q, "timeMin" in q) for q in google.listed(BEN)] == [
        (True, False),
        (False, True),
    ]
    assert (
        "calendar: Google expired the sync token of calendar ben@ourco.test "
        "(HTTP 410); reading it in full again"
    ) in caplog.messages
    assert meetings(engine)["globex-call-1"].deleted_at == datetime(
        2026, 3, 12, 13, 0, tzinfo=UTC
    )
    cursor = read_cursor(engine, "calendar")
    assert cursor is not None
    assert cursor["calendars"][BEN]["sync_token"] == "sync-ben@ourco.test-257-3"


def test_window_is_read_again_when_half_of_it_has_passed(
    engine: Engine, config: Config, google: Calendars
) -> None:
    run(engine, config, google)
    google.calls.clear()

    run(engine, config, google, now=datetime(2026, 3, 28, tzinfo=UTC))

    assert google.listed(ANA)[0]["timeMax"] == "2026-04-27T00:00:00Z"


def test_expired_access_token_is_renewed(
    engine: Engine,
    config: Config,
    google: Calendars,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("GOOGLE_CALENDAR_TOKEN", "ya29.expired")
    monkeypatch.setenv("GOOGLE_CLIENT_ID", CLIENT_ID)
    monkeypatch.setenv("GOOGLE_CLIENT_SECRET", CLIENT_SECRET)
    monkeypatch.setenv("GOOGLE_REFRESH_TOKEN", REFRESH)

    result = run(engine, config, google)

    assert result.error is None, result.error
    assert counts(result)["meeting"] == {"new": 28, "rejected": 2}
    renewals = [c for c in google.calls if c[1] == TOKEN_URL]
    assert [c[2]["grant_type"] for c in renewals] == ["refresh_token"]
    assert google.access == {TOKEN, FRESH}


def test_refused_credential_tells_the_admin_what_to_set(
    engine: Engine,
    config: Config,
    google: Calendars,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("GOOGLE_CALENDAR_TOKEN", "ya29.expired")
    monkeypatch.setenv("GOOGLE_CLIENT_ID", CLIENT_ID)
    monkeypatch.setenv("GOOGLE_CLIENT_SECRET", CLIENT_SECRET)
    monkeypatch.setenv("GOOGLE_REFRESH_TOKEN", "1//revoked")

    result = run(engine, config, google)

    assert result.error is not None
    assert result.error.startswith(
        "source 'calendar': Google would not renew the access token (HTTP 400 from "
        f"{TOKEN_URL}: Token has been expired or revoked.); set GOOGLE_CLIENT_ID, "
        "GOOGLE_CLIENT_SECRET and GOOGLE_REFRESH_TOKEN"
    )
    assert "calendar.readonly" in result.error
    assert "1//revoked" not in result.error
    assert "ya29" not in result.error and CLIENT_SECRET not in result.error
    assert read_cursor(engine, "calendar") is None


def test_missing_credential_is_named(
    engine: Engine, config: Config, google: Calendars, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("GOOGLE_CALENDAR_TOKEN")

    result = run(engine, config, google)

    assert result.error is not None
    assert "no Google credential is set; set GOOGLE_CLIENT_ID" in result.error
    assert result.error.endswith(
        "; or, for a Workspace, set GOOGLE_APPLICATION_CREDENTIALS to the path of a "
        "service-account key with domain-wide delegation"
    )
    assert google.calls == []


def test_half_set_refresh_credentials_name_what_is_missing(
    engine: Engine, config: Config, google: Calendars, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("GOOGLE_CALENDAR_TOKEN")
    monkeypatch.setenv("GOOGLE_CLIENT_ID", "client-1")
    for name in ("GOOGLE_CLIENT_SECRET", "GOOGLE_REFRESH_TOKEN"):
        monkeypatch.delenv(name, raising=False)

    result = run(engine, config, google)

    assert result.error is not None
    assert (
        "GOOGLE_CLIENT_SECRET and GOOGLE_REFRESH_TOKEN not set, so the refresh "
        "token cannot be used"
    ) in result.error


def test_refused_token_without_refresh_fails_once(
    engine: Engine, config: Config, google: Calendars, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("GOOGLE_CALENDAR_TOKEN", "ya29.expired")

    result = run(engine, config, google)

    assert result.error is not None
    assert "(expired?) and no refresh token is set" in result.error
    assert len(google.listed(ANA)) == 1  # not retried


def test_rate_limits_outages_and_timeouts_are_retried(
    engine: Engine, config: Config, google: Calendars
) -> None:
    path = f"/calendar/v3/calendars/{ANA}/events"
    google.fail(
        path,
        httpx.Response(429, headers={"Retry-After": "1"}, json={"error": {}}),
        httpx.Response(503, text="backend error"),
    )
    google.fail(f"/calendar/v3/calendars/{BEN}/events", httpx.ReadTimeout("stalled"))

    result = run(engine, config, google)

    assert result.error is None, result.error
    assert len(google.listed(ANA)) == 5  # 2 faults, 3 pages
    assert len(google.listed(BEN)) == 2  # a timeout, 1 page
    assert counts(result)["meeting"] == {"new": 28, "rejected": 2}
    timeouts = [q["timeout"] for q in google.listed(ANA) + google.listed(BEN)]
    assert all(None not in t.values() for t in timeouts)  # B31: always finite


def test_outage_fails_the_source_and_keeps_the_cursor(
    engine: Engine, config: Config, google: Calendars
) -> None:
    run(engine, config, google)
    cursor = read_cursor(engine, "calendar")
    moved = google.find(BEN, "globex-call-1")
    moved["summary"] = "Globex renewal"
    google.put(BEN, moved)
    google.fail(f"/calendar/v3/calendars/{BEN}/events", *[httpx.Response(503)] * 3)

    result = run(engine, config, google)

    assert (
        result.error is not None and "failed 3 times (last: HTTP 503)" in result.error
    )
    assert read_cursor(engine, "calendar") == cursor
    result = run(engine, config, google)

    assert result.error is None
    assert meetings(engine)["globex-call-1"].title == "Globex renewal"


def test_repeated_page_token_stops_the_sync(
    engine: Engine, config: Config, google: Calendars
) -> None:
    google.ignore_page_token = True

    result = run(engine, config, google)

    assert result.error == (
        "source 'calendar': GET /calendar/v3/calendars/ana@ourco.test/events: the "
        "page after cursor 'page-10' repeats an earlier page; stopped instead of "
        "loading the same records again (the vendor ignored the cursor)"
    )
    assert read_cursor(engine, "calendar") is None


def test_logs_one_count_per_calendar(
    engine: Engine, config: Config, google: Calendars, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="integrations.google_calendar")

    run(engine, config, google)

    assert "calendar: 29 events listed in ana@ourco.test" in caplog.messages
    assert "calendar: 2 events listed in ben@ourco.test" in caplog.messages


def test_attendee_dropping_a_meeting_does_not_cancel_it(
    engine: Engine, config: Config, google: Calendars
) -> None:
    run(engine, config, google)
    dropped = google.find(BEN, SHARED)
    dropped.update(status="cancelled", updated=LEFT)  # Ben removed it; Ana did not
    google.put(BEN, dropped)
    google.put(BEN, {"id": "globex-call-1", "status": "cancelled"})

    result = run(engine, config, google)

    assert counts(result) == {"meeting": {"updated": 1}, "attendee": {"updated": 1}}
    assert stored(engine, SHARED) == (
        None,
        {ANA: None, BEN: LEFT_AT, "zoe@acme.test": None},
    )
    assert meetings(engine)["globex-call-1"].deleted_at == NOW  # only its id came


def test_organiser_cancelling_deletes_the_meeting_whatever_a_rep_copy_says(
    engine: Engine, config: Config, google: Calendars
) -> None:
    run(engine, config, google)
    cancelled = google.find(ANA, SHARED)
    cancelled.update(status="cancelled", updated=LEFT)  # Ana, its organiser
    google.put(ANA, cancelled)
    stale = google.find(BEN, SHARED)
    stale["summary"] = "Renamed"  # Ben's copy, not yet told, changed in between
    google.put(BEN, stale)

    result = run(engine, config, google)

    assert result.error is None, result.error
    assert stored(engine, SHARED) == (
        LEFT_AT,
        {ANA: None, BEN: None, "zoe@acme.test": None},
    )


BUYER = "buyer@acme.test"
LEFT = "2026-03-12T13:00:00.000Z"
LEFT_AT = datetime(2026, 3, 12, 13, 0, tzinfo=UTC)
CALLED_OFF = "2026-03-12T13:30:00.000Z"
CALLED_OFF_AT = datetime(2026, 3, 12, 13, 30, tzinfo=UTC)


def external_meeting(google: Calendars) -> dict[str, Any]:
    """evt123: organised by a buyer at Acme, both reps invited; in both calendars."""
    raw: dict[str, Any] = _event(
        "evt123", "Acme demo", {"dateTime": "2026-03-18T09:30:00"}, "Tokyo"
    )
    raw["organizer"] = {"email": BUYER}
    raw["attendees"] = [
        {"email": BUYER, "organizer": True, "responseStatus": "accepted"},
        {"email": BEN, "responseStatus": "accepted"},
        {"email": ANA, "responseStatus": "accepted"},
    ]
    google.put(ANA, raw)
    google.put(BEN, raw)
    return raw


def in_order(config: Config, path: Path, calendars: list[str]) -> Config:
    """The same config with the calendars read in another order."""
    text = path.read_text().replace(
        f"calendars: [{ANA}, {BEN}]", f"calendars: [{', '.join(calendars)}]"
    )
    path.write_text(text)
    return load_config(path)


def stored(
    engine: Engine, event_id: str
) -> tuple[datetime | None, dict[str, datetime | None]]:
    """A meeting's deleted_at and each attendee's, by lower-cased e-mail."""
    with engine.connect() as connection:
        meeting = connection.execute(
            select(Meeting.id, Meeting.deleted_at).where(Meeting.source_id == event_id)
        ).one()
        rows = connection.execute(
            select(MeetingAttendee.email, MeetingAttendee.deleted_at).where(
                MeetingAttendee.meeting_id == meeting.id
            )
        ).all()
    return _utc(meeting.deleted_at), {str(e).lower(): _utc(d) for e, d in rows}


def _utc(moment: datetime | None) -> datetime | None:
    """SQLite hands back naive UTC, PostgreSQL an aware time."""
    if moment is None or moment.tzinfo is not None:
        return moment
    return moment.replace(tzinfo=UTC)


@pytest.mark.parametrize(
    "order", [[BEN, ANA], [ANA, BEN]], ids=["ben-first", "ana-first"]
)
@pytest.mark.parametrize("ana", ["live", "unchanged"])
def test_rep_leaving_an_external_meeting_removes_only_that_rep(
    engine: Engine,
    config: Config,
    google: Calendars,
    tmp_path: Path,
    order: list[str],
    ana: str,
) -> None:
    config = in_order(config, tmp_path / "foresight.yml", order)
    raw = external_meeting(google)
    run(engine, config, google)
    google.put(BEN, {**raw, "status": "cancelled", "updated": LEFT})
    if ana == "live":  # Ana's copy changed too, so the sync token returns it
        google.put(ANA, {**raw, "summary": "Acme demo (agenda)"})
    google.calls.clear()

    result = run(engine, config, google)

    assert result.error is None, result.error
    assert all("syncToken" in q for q in google.listed(ANA) + google.listed(BEN))
    if ana == "live":  # Ana's copy lists Ben too; Ben's copy removes him after
        assert counts(result) == {
            "meeting": {"updated": 1},
            "attendee": {"unchanged": 3, "updated": 1},
        }
    else:
        assert counts(result) == {"attendee": {"updated": 1}}
    assert stored(engine, "evt123") == (
        None,
        {BUYER: None, ANA: None, BEN: LEFT_AT},
    )
    title = "Acme demo (agenda)" if ana == "live" else "Acme demo"
    assert meetings(engine)["evt123"].title == title


@pytest.mark.parametrize(
    "order", [[BEN, ANA], [ANA, BEN]], ids=["ben-first", "ana-first"]
)
def test_external_meeting_cancelled_for_every_rep_is_deleted(
    engine: Engine, config: Config, google: Calendars, tmp_path: Path, order: list[str]
) -> None:
    config = in_order(config, tmp_path / "foresight.yml", order)
    raw = external_meeting(google)
    run(engine, config, google)
    google.put(ANA, {**raw, "status": "cancelled", "updated": CALLED_OFF})
    google.put(BEN, {**raw, "status": "cancelled", "updated": LEFT})

    result = run(engine, config, google)

    assert result.error is None, result.error
    assert counts(result) == {"meeting": {"updated": 1}}
    assert stored(engine, "evt123") == (
        CALLED_OFF_AT,
        {BUYER: None, ANA: None, BEN: None},
    )


def test_external_meeting_cancelled_after_a_rep_left_it_is_deleted(
    engine: Engine, config: Config, google: Calendars
) -> None:
    raw = external_meeting(google)
    run(engine, config, google)
    google.put(BEN, {**raw, "status": "cancelled", "updated": LEFT})
    run(engine, config, google)
    declined = [
        {**a, "responseStatus": "declined"} if a["email"] == BEN else a
        for a in raw["attendees"]
    ]  # removing an invite declines it; Ben's copy is not returned again
    google.put(
        ANA,
        {**raw, "attendees": declined, "status": "cancelled", "updated": CALLED_OFF},
    )

    result = run(engine, config, google)

    assert result.error is None, result.error
    assert stored(engine, "evt123") == (
        CALLED_OFF_AT,
        {BUYER: None, ANA: None, BEN: LEFT_AT},
    )


def test_configured_domains_and_calendars_are_trimmed_and_lower_cased(
    engine: Engine, google: Calendars, tmp_path: Path, config: Config
) -> None:
    path = tmp_path / "foresight.yml"
    text = path.read_text().replace(
        f"calendars: [{ANA}, {BEN}]", f'calendars: [" Ana@OurCo.test ", {BEN}, {ANA}]'
    )
    path.write_text(text.replace("[ourco.test]", '[ourco.test, " OurCo.io "]'))
    (tmp_path / "accounts.csv").write_text(
        "name,domain\nAcme,acme.test\nOurCo,ourco.io\n"
    )
    config = load_config(path)
    source = config.source("calendar")
    assert isinstance(source, GoogleCalendarSource)
    assert (source.calendars, source.internal_domains) == (
        [ANA, BEN],
        ["ourco.test", "ourco.io"],
    )
    for who in ("sam@ourco.io", "Kim@EU.OurCo.io"):  # subdomains are ours too
        raw = _event(who, "Internal", {"dateTime": "2026-03-17T09:30:00"}, "Tokyo")
        raw["attendees"] = [{"email": ANA}, {"email": who}]
        google.put(ANA, raw)

    result = run(engine, config, google)

    assert result.error is None, result.error
    found = meetings(engine)
    assert found["sam@ourco.io"].account_id is None  # Sam is one of us
    assert found["Kim@EU.OurCo.io"].account_id is None
    cursor = read_cursor(engine, "calendar")
    assert cursor is not None and sorted(cursor["calendars"]) == [ANA, BEN]

    path.write_text(text.replace("[ourco.test]", '[ourco.test, " "]'))
    with pytest.raises(ConfigError, match="an empty domain"):
        load_config(path)


# A Google Workspace service account with domain-wide delegation. The key is made
# at test time; the stand-in verifies each JWT with its public half.

SA_EMAIL = "foresight@ourco-prod.iam.gserviceaccount.com"
SA_CLIENT_ID = "112233445566778899001"
SA_KEY_ID = "4f1c0a9e2b7d"
GOOGLE_TOKEN_URI = "https://oauth2.googleapis.com/token"


@pytest.fixture(scope="module")
def rsa_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def pem(key: rsa.RSAPrivateKey) -> str:
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()


def write_key(path: Path, key: rsa.RSAPrivateKey, **changes: str | None) -> Path:
    """A key file as Google's console downloads it; a ``None`` change drops a
    field."""
    raw: dict[str, str | None] = {
        "type": "service_account",
        "project_id": "ourco-prod",
        "private_key_id": SA_KEY_ID,
        "private_key": pem(key),
        "client_email": SA_EMAIL,
        "client_id": SA_CLIENT_ID,
        "auth_uri": "https://accounts.google.com/o/oauth2/auth",
        "token_uri": GOOGLE_TOKEN_URI,
        **changes,
    }
    path.write_text(json.dumps({k: v for k, v in raw.items() if v is not None}))
    return path


@pytest.fixture
def key_file(
    tmp_path: Path,
    rsa_key: rsa.RSAPrivateKey,
    google: Calendars,
    monkeypatch: pytest.MonkeyPatch,
) -> Path:
    """A key named by GOOGLE_APPLICATION_CREDENTIALS and trusted by the stand-in;
    the OAuth access token of ``config`` stays set and must not be used."""
    google.trust(SA_EMAIL, SA_KEY_ID, rsa_key.public_key())
    path = write_key(tmp_path / "service-account.json", rsa_key)
    monkeypatch.setenv("GOOGLE_APPLICATION_CREDENTIALS", str(path))
    return path


def grants(google: Calendars) -> list[dict[str, Any]]:
    """The claims of each JWT sent to the token endpoint, in order."""
    sent = [c[2] for c in google.calls if c[1] == TOKEN_URL]
    assert all(f["grant_type"] == JWT_BEARER for f in sent)
    return [
        jwt.decode(f["assertion"], options={"verify_signature": False}) for f in sent
    ]


def subjects(google: Calendars) -> list[tuple[str, str]]:
    """Each events request: the calendar read and whose token it carried."""
    return [(calendar, google.issued[t]) for calendar, t in google.bearers]


def test_service_account_reads_each_calendar_as_its_owner(
    engine: Engine, config: Config, google: Calendars, key_file: Path
) -> None:
    result = run(engine, config, google)

    assert result.error is None, result.error
    assert counts(result) == {
        "meeting": {"new": 28, "rejected": 2},
        "attendee": {"new": 6},
    }
    assert stored(engine, SHARED) == (
        None,
        {ANA: None, BEN: None, "zoe@acme.test": None},
    )
    assert stored(engine, "globex-call-1") == (
        None,
        {"buyer@globex.test": None, BEN: None},
    )
    claims = grants(google)
    assert [(c["sub"], c["iss"], c["aud"], c["scope"]) for c in claims] == [
        (ANA, SA_EMAIL, TOKEN_URL, SCOPE),  # the configured token_url goes first
        (BEN, SA_EMAIL, TOKEN_URL, SCOPE),
    ]
    assert all(c["exp"] - c["iat"] == 3600 for c in claims)
    assert subjects(google) == [(ANA, ANA)] * 3 + [(BEN, BEN)]
    assert TOKEN not in {t for _, t in google.bearers}  # OAuth is not used
    ana_token = google.bearers[0][1]
    crossed = httpx.Request(  # the stand-in's guard: Ana's token on Ben's calendar
        "GET",
        f"https://calendar.stand-in.test/calendar/v3/calendars/{BEN}/events",
        headers={"Authorization": f"Bearer {ana_token}"},
    )
    assert google(crossed).status_code == 403
    assert read_cursor(engine, "calendar") == {
        "calendars": {
            ANA: {
                "sync_token": "sync-ana@ourco.test-256-0",
                "until": "2026-04-11T12:00:00+00:00",
            },
            BEN: {
                "sync_token": "sync-ben@ourco.test-256-1",
                "until": "2026-04-11T12:00:00+00:00",
            },
        }
    }


def test_service_account_token_is_reused_across_pages(
    engine: Engine,
    config: Config,
    google: Calendars,
    key_file: Path,
    rsa_key: rsa.RSAPrivateKey,
    tmp_path: Path,
) -> None:
    write_key(key_file, rsa_key, token_uri=TOKEN_URL)
    path = tmp_path / "foresight.yml"
    path.write_text(path.read_text().replace(f"    token_url: {TOKEN_URL}\n", ""))
    config = load_config(path)  # no token_url: the key's token_uri is used

    result = run(engine, config, google)

    assert result.error is None, result.error
    assert [c["sub"] for c in grants(google)] == [ANA, BEN]
    ana = [t for calendar, t in google.bearers if calendar == ANA]
    assert len(ana) == 3 and len(set(ana)) == 1  # three pages, one token


def test_service_account_token_is_renewed_before_it_expires(
    engine: Engine, config: Config, google: Calendars, key_file: Path
) -> None:
    google.lifetime = 60  # inside the last minutes of a token: renewed before use

    result = run(engine, config, google)

    assert result.error is None, result.error
    assert [c["sub"] for c in grants(google)] == [ANA, ANA, ANA, BEN]
    ana = [t for calendar, t in google.bearers if calendar == ANA]
    assert len(set(ana)) == 3
    assert subjects(google) == [(ANA, ANA)] * 3 + [(BEN, BEN)]


def test_refused_service_account_token_is_fetched_again_once(
    engine: Engine, config: Config, google: Calendars, key_file: Path
) -> None:
    path = f"/calendar/v3/calendars/{BEN}/events"
    google.fail(path, httpx.Response(401, json={"error": {"message": "expired"}}))

    result = run(engine, config, google)

    assert result.error is None, result.error
    assert [c["sub"] for c in grants(google)] == [ANA, BEN, BEN]
    ben = [t for calendar, t in google.bearers if calendar == BEN]
    assert len(ben) == 2 and ben[0] != ben[1]

    google.fail(path, *[httpx.Response(401, json={"error": {}})] * 2)
    result = run(engine, config, google)

    assert result.error is not None
    assert result.error.startswith(
        "source 'calendar': the vendor refused the credential (HTTP 401 on GET "
        f"{path}: "
    )
    assert (
        f"check that client id {SA_CLIENT_ID} (service account {SA_EMAIL}) has "
        f"domain-wide delegation for the scope {SCOPE} in the Google Admin console"
    ) in result.error


def test_delegation_not_granted_names_the_client_id_and_scope(
    engine: Engine, config: Config, google: Calendars, key_file: Path
) -> None:
    google.delegated = False

    result = run(engine, config, google)

    assert result.error == (
        f"source 'calendar': Google would not let the service account {SA_EMAIL} "
        f"act as {ANA} (HTTP 401 from {TOKEN_URL}: unauthorized_client: Client is "
        "unauthorized to retrieve access tokens using this method, or client not "
        "authorized for any of the scopes requested.); domain-wide delegation is "
        "not granted: in the Google Admin console (Security › Access and data "
        "control › API controls › Manage domain-wide delegation) add client id "
        f"{SA_CLIENT_ID} (service account {SA_EMAIL}) with the scope {SCOPE}"
    )
    assert google.bearers == []
    assert read_cursor(engine, "calendar") is None


def test_calendar_that_is_not_a_workspace_user_is_named(
    engine: Engine, config: Config, google: Calendars, key_file: Path, tmp_path: Path
) -> None:
    config = in_order(config, tmp_path / "foresight.yml", [ANA, "team@ourco.test"])

    result = run(engine, config, google)

    assert result.error is not None
    assert result.error.startswith(
        f"source 'calendar': Google would not let the service account {SA_EMAIL} "
        "act as team@ourco.test (HTTP 400 from "
        f"{TOKEN_URL}: invalid_grant: Invalid email or User ID); check that "
        "team@ourco.test is a user of the Workspace"
    )
    assert str(key_file) in result.error


@pytest.mark.parametrize(
    ("content", "problem"),
    [
        (
            None,
            "cannot read the service-account key file {path} (named by "
            "GOOGLE_APPLICATION_CREDENTIALS): No such file or directory; set ",
        ),
        ("{not json", "{path} (named by GOOGLE_APPLICATION_CREDENTIALS) is not JSON "),
        (
            {"client_email": None, "private_key": None},
            "{path} (named by GOOGLE_APPLICATION_CREDENTIALS) lacks client_email "
            "and private_key; download a new JSON key",
        ),
        (
            {"private_key": "-----BEGIN PRIVATE KEY-----\nc2VjcmV0\n"},
            "the private_key in the service-account key file {path} (named by "
            "GOOGLE_APPLICATION_CREDENTIALS) is not an unencrypted PEM RSA key",
        ),
    ],
    ids=["missing", "not-json", "fields", "bad-key"],
)
def test_unusable_key_file_is_named_with_what_to_fix(
    engine: Engine,
    config: Config,
    google: Calendars,
    key_file: Path,
    rsa_key: rsa.RSAPrivateKey,
    content: str | dict[str, str | None] | None,
    problem: str,
) -> None:
    if content is None:
        key_file.unlink()
    elif isinstance(content, str):
        key_file.write_text(content)
    else:
        write_key(key_file, rsa_key, **content)

    result = run(engine, config, google)

    assert result.error is not None
    assert problem.format(path=key_file) in result.error
    assert "GOOGLE_APPLICATION_CREDENTIALS to" in result.error  # what to set
    assert "c2VjcmV0" not in result.error
    assert google.calls == []


def test_service_account_secrets_stay_out_of_logs_and_errors(
    engine: Engine,
    config: Config,
    google: Calendars,
    key_file: Path,
    rsa_key: rsa.RSAPrivateKey,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)

    first = run(engine, config, google)
    google.delegated = False
    refused = run(engine, config, google)

    assert first.error is None and refused.error is not None
    assert (
        "calendar: reading each calendar as its owner through the service account "
        f"{SA_EMAIL} (key from GOOGLE_APPLICATION_CREDENTIALS)"
    ) in caplog.messages
    assert f"calendar POST {TOKEN_URL} 401" in " ".join(caplog.messages)
    secrets = [
        *pem(rsa_key).splitlines()[1:-1],  # the key's base64 lines
        *google.issued,
        *(c[2]["assertion"] for c in google.calls if c[1] == TOKEN_URL),
    ]
    shown = caplog.text + refused.error
    assert google.issued and [s for s in secrets if s in shown] == []


def test_another_tools_login_in_the_default_variable_is_left_alone(
    engine: Engine,
    config: Config,
    google: Calendars,
    key_file: Path,
    rsa_key: rsa.RSAPrivateKey,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """gcloud keeps its own login in GOOGLE_APPLICATION_CREDENTIALS: that is not
    a key for Foresight, so OAuth is used; named in the config, it is an error."""
    write_key(key_file, rsa_key, type="authorized_user")

    result = run(engine, config, google)

    assert result.error is None, result.error
    assert {t for _, t in google.bearers} == {TOKEN}
    monkeypatch.delenv("GOOGLE_CALENDAR_TOKEN")
    without = run(engine, config, google)
    assert without.error is not None and without.error.endswith(
        "GOOGLE_APPLICATION_CREDENTIALS is set but holds another tool's login, not a "
        "service-account key, so it was left alone"
    )
    path = tmp_path / "named.yml"
    path.write_text(
        config.path.read_text().replace(
            "kind: google_calendar",
            "kind: google_calendar\n"
            "    service_account_env: GOOGLE_APPLICATION_CREDENTIALS",
        )
    )
    named = run(engine, load_config(path), google)
    assert named.error is not None
    assert (
        f"{key_file} (named by GOOGLE_APPLICATION_CREDENTIALS) holds a credential "
        "of type authorized_user, not a service-account key"
    ) in named.error

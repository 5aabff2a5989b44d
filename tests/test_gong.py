"""The Gong source end to end: real httpx clients against a stand-in Gong
(``tests/gong_stand_in.py``) built from the recorded users, the spec's example calls
and transcripts, loaded into a real store through ``sync``, with values, cursors and
faults checked exactly."""

from __future__ import annotations

import copy
import io
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from rich.console import Console
from sqlalchemy import Engine, delete, func, select

from context.clock import Clock
from context.models import (
    Account,
    Activity,
    Conversation,
    ConversationTurn,
    Person,
    Rep,
    SourceState,
)
from context.source_state import read_cursor
from integrations.config import Config, load_config
from integrations.errors import ConfigError
from integrations.sync import SourceResult, sync
from tests.gong_stand_in import (
    ACCESS_KEY,
    FIRST_CALL,
    SECRET,
    GongStandIn,
)

GONG = """
  - name: gong
    label: Gong
    kind: gong
    base_url: https://gong.test
    max_attempts: 3
    max_retry_wait: 0.01
    users_as_reps: true
    internal_domains: [Example.com]
    since_days: 90
"""
CONFIG = f"sources:{GONG}"
CRM = """
  - name: crm
    kind: files
    files:
      - path: accounts.csv
        kind: account
        id: id
        fields: {name: name, domain: domain}
      - path: people.csv
        kind: person
        id: email
        fields: {name: name, email: email}
        refs: {account: account}
"""
NOW = datetime(2026, 5, 1, tzinfo=UTC)
CALL = "7782342274025937000"  # the first call; the stand-in numbers them on
LAST_START = FIRST_CALL + timedelta(hours=5 * 24)
JORDAN = "jordan.ellery@example.com"


def call_id(index: int) -> str:
    return str(int(CALL) + index)


@pytest.fixture
def gong(shared_data: Path) -> GongStandIn:
    return GongStandIn(shared_data)


@pytest.fixture
def config(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Config:
    monkeypatch.setenv("GONG_ACCESS_KEY", ACCESS_KEY)
    monkeypatch.setenv("GONG_ACCESS_KEY_SECRET", SECRET)
    path = tmp_path / "foresight.yml"
    path.write_text(CONFIG)
    return load_config(path)


def run(engine: Engine, config: Config, gong: GongStandIn) -> list[SourceResult]:
    return sync(
        engine,
        config,
        Clock(NOW),
        console=Console(file=io.StringIO(), width=200),
        transport=httpx.MockTransport(gong),
    )


def counts(result: SourceResult) -> dict[str, dict[str, int]]:
    return {kind: dict(+c) for kind, c in result.counts.items()}


def cursors(bodies: list[Any]) -> list[Any]:
    return [body.get("cursor") for body in bodies]


def test_first_sync_loads_calls_turns_and_touches(
    engine: Engine, config: Config, gong: GongStandIn
) -> None:
    (result,) = run(engine, config, gong)

    assert result.error is None, result.error
    assert counts(result) == {
        "rep": {"new": 4},
        "activity": {"new": 25},
        "conversation": {"new": 25},
        "turn": {"new": 75},
    }
    assert read_cursor(engine, "gong") == {"started": LAST_START.isoformat()}
    with engine.connect() as connection:
        reps = connection.execute(select(Rep.name, Rep.email, Rep.source_id)).all()
        call = connection.execute(
            select(Conversation).where(Conversation.source_id == CALL)
        ).one()
        jordan = connection.scalar(select(Rep.id).where(Rep.email == JORDAN))
        turns = connection.execute(
            select(ConversationTurn)
            .where(ConversationTurn.conversation_id == call.id)
            .order_by(ConversationTurn.position)
        ).all()
        touches = connection.execute(select(Activity).order_by(Activity.source_id))
        touch = touches.first()
    assert sorted(reps)[0] == (
        "API Developer",
        "integration.bot@example.com",
        "1597409306735779049",
    )
    assert (call.title, call.started_at, call.duration_minutes) == (
        "Discovery call 0",
        FIRST_CALL,
        30,
    )
    assert call.participants == [
        "Jordan Ellery",
        "Sam Ops",
        "Dana O'Neil",
        "Unknown caller",
    ]
    assert (call.summary, call.key_points) == ("Brief of call 0.", ["Budget approved"])
    assert call.rep_id == jordan is not None
    assert [(t.position, t.speaker, t.text, t.start_ms, t.end_ms) for t in turns] == [
        (0, "Jordan Ellery", "Thanks for joining.", 0, 2100),
        (
            1,
            "Dana O'Neil",
            "We looked at it, and… No wait, I think we should check that out first.",
            2500,
            462343,
        ),
        (2, "Jordan Ellery", "Great.", 470000, 471500),
    ]
    assert touch is not None
    assert (touch.source_id, touch.kind, touch.subject, touch.occurred_at) == (
        f"{CALL}:p0-guest",
        "call",
        "Discovery call 0",
        FIRST_CALL,
    )


def test_each_listing_is_asked_the_way_gong_pages_it(
    engine: Engine, config: Config, gong: GongStandIn
) -> None:
    run(engine, config, gong)

    users = [p for m, path, p, _ in gong.requests if path == "/v2/users"]
    assert len(users) == 2 and "cursor" not in users[0]
    assert users[1]["cursor"]  # the users cursor goes in the query string
    calls = gong.bodies("/v2/calls/extensive")
    assert len(cursors(calls)) == 3 and cursors(calls)[0] is None
    assert len(set(cursors(calls)[1:])) == 2
    assert calls[0]["filter"] == {
        "fromDateTime": (NOW - timedelta(days=90)).isoformat()
    }
    assert calls[0]["contentSelector"]["exposedFields"]["parties"] is True
    queries = [p for _, path, p, _ in gong.requests if path.startswith("/v2/calls")]
    assert queries == [{}] * len(queries)  # never a cursor in the query of a POST
    transcripts = gong.bodies("/v2/calls/transcript")
    asked = [body["filter"]["callIds"] for body in transcripts]
    assert asked == [
        [call_id(i) for i in range(s, min(s + 10, 25))] for s in (0, 10, 20)
    ]


def test_stand_in_ignores_a_cursor_sent_in_the_query(gong: GongStandIn) -> None:
    """B22: what a caller that put the cursor in the query string would get."""
    auth = httpx.BasicAuth(ACCESS_KEY, SECRET)
    body = {"filter": {"fromDateTime": "2026-01-01T00:00:00Z"}}
    with httpx.Client(transport=httpx.MockTransport(gong), auth=auth) as client:
        first = client.post("https://gong.test/v2/calls/extensive", json=body).json()
        cursor = first["records"]["cursor"]
        again = client.post(
            "https://gong.test/v2/calls/extensive", json=body, params={"cursor": cursor}
        ).json()
        second = client.post(
            "https://gong.test/v2/calls/extensive", json={**body, "cursor": cursor}
        ).json()

    assert again["calls"] == first["calls"]
    assert second["calls"][0]["metaData"]["id"] == call_id(10)


def test_repeated_cursor_stops_the_sync_and_keeps_the_cursor(
    engine: Engine, config: Config, gong: GongStandIn
) -> None:
    gong.stuck_cursor = True

    (result,) = run(engine, config, gong)

    assert result.error is not None
    assert "POST /v2/calls/extensive: the cursor" in result.error
    assert "came back a second time" in result.error
    assert len(gong.bodies("/v2/calls/extensive")) == 2
    assert read_cursor(engine, "gong") is None


def test_call_listed_twice_is_loaded_once(
    engine: Engine, config: Config, gong: GongStandIn
) -> None:
    gong.calls.insert(12, copy.deepcopy(gong.calls[3]))  # moved while we paged

    (result,) = run(engine, config, gong)

    assert result.error is None, result.error
    assert counts(result)["conversation"] == {"new": 25}
    assert counts(result)["activity"] == {"new": 25}


def test_window_without_calls_is_an_empty_sync(
    engine: Engine, config: Config, gong: GongStandIn
) -> None:
    gong.calls.clear()

    (result,) = run(engine, config, gong)

    assert result.error is None, result.error
    assert counts(result) == {"rep": {"new": 4}}
    assert gong.bodies("/v2/calls/transcript") == []
    assert read_cursor(engine, "gong") is None


def test_second_sync_asks_only_from_the_cursor(
    engine: Engine, config: Config, gong: GongStandIn
) -> None:
    run(engine, config, gong)
    later = copy.deepcopy(gong.calls[0])
    later["metaData"].update(id="999", started="2026-03-08T10:15:00+01:00")
    gong.calls.append(later)
    gong.transcripts["999"] = []
    gong.requests.clear()

    (result,) = run(engine, config, gong)

    assert result.error is None, result.error
    since = gong.bodies("/v2/calls/extensive")[0]["filter"]["fromDateTime"]
    assert since == (LAST_START - timedelta(hours=24)).isoformat()
    assert counts(result)["conversation"] == {"unchanged": 5, "new": 1}
    asked = gong.bodies("/v2/calls/transcript")[0]["filter"]["callIds"]
    assert asked == [call_id(i) for i in range(20, 25)] + ["999"]
    assert read_cursor(engine, "gong") == {"started": "2026-03-08T09:15:00+00:00"}


def test_rate_limits_timeouts_and_outages_are_retried(
    engine: Engine, config: Config, gong: GongStandIn
) -> None:
    gong.fail(
        "/v2/calls/extensive",
        httpx.Response(429, headers={"Retry-After": "0"}),
        httpx.ReadTimeout("stalled"),
    )
    gong.fail("/v2/calls/transcript", httpx.Response(503))
    gong.fail("/v2/users", httpx.Response(500))

    (result,) = run(engine, config, gong)

    assert result.error is None, result.error
    assert counts(result)["turn"] == {"new": 75}
    assert len(gong.bodies("/v2/calls/extensive")) == 5  # 2 retries, 3 pages


def test_vendor_that_keeps_failing_leaves_the_cursor(
    engine: Engine, config: Config, gong: GongStandIn
) -> None:
    """B31: a stalled Gong ends in a bounded time with an error; nothing moves."""
    run(engine, config, gong)
    before = read_cursor(engine, "gong")
    gong.fail("/v2/calls/extensive", *[httpx.ReadTimeout("stalled")] * 3)

    (result,) = run(engine, config, gong)

    assert result.error is not None
    assert "POST /v2/calls/extensive failed 3 times (last: ReadTimeout" in result.error
    assert read_cursor(engine, "gong") == before


def test_timeouts_cannot_be_turned_off(tmp_path: Path) -> None:
    """B31: an empty timeout is refused rather than read as "wait forever"."""
    path = tmp_path / "foresight.yml"
    path.write_text(CONFIG + "    read_timeout: null\n")

    with pytest.raises(ConfigError, match="read_timeout"):
        load_config(path)


def test_refused_key_tells_the_admin_what_to_fix(
    engine: Engine, config: Config, gong: GongStandIn, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("GONG_ACCESS_KEY_SECRET", "wrong")

    (result,) = run(engine, config, gong)

    assert result.error == (
        "source 'gong': the vendor refused the credential (HTTP 401 on GET /v2/users: "
        '{"requestId":"stand-in","errors":["Unauthorized: bad access key"]}); check '
        "GONG_ACCESS_KEY and GONG_ACCESS_KEY_SECRET: a Gong technical administrator "
        "creates the access key and secret under Company settings › Ecosystem › API "
        "(an OAuth app needs the scopes api:users:read, api:calls:read:extensive, "
        "api:calls:read:transcript)"
    )
    assert len(gong.requests) == 1  # a refused key is not retried


def test_missing_secret_names_the_variable(
    engine: Engine, config: Config, gong: GongStandIn, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("GONG_ACCESS_KEY_SECRET")
    (result,) = run(engine, config, gong)
    monkeypatch.setenv("GONG_ACCESS_KEY_SECRET", " ")
    (blank,) = run(engine, config, gong)

    assert result.error is not None and blank.error is not None
    assert "the environment variable GONG_ACCESS_KEY_SECRET is not set" in result.error
    assert "the environment variable GONG_ACCESS_KEY_SECRET is empty" in blank.error
    assert gong.requests == []


def test_malformed_calls_are_rejected_and_the_rest_load(
    engine: Engine, config: Config, gong: GongStandIn
) -> None:
    gong.find(call_id(5))["metaData"]["started"] = "next tuesday"
    gong.find(call_id(6))["metaData"]["duration"] = "half an hour"
    gong.find(call_id(7))["parties"] = "garbled"
    gong.calls[8] = {"metaData": None, "parties": []}
    gong.transcripts[call_id(9)] = [{"speakerId": "x", "sentences": "garbled"}]

    (result,) = run(engine, config, gong)

    assert result.error is None, result.error
    assert sorted(str(r) for r in result.rejections) == [
        "call (no id): the call has no metaData object",
        f"call {call_id(5)}: started: cannot read 'next tuesday' as a time; write it "
        "like 2024-12-02T09:00:00-05:00 or set `format:`",
        f"call {call_id(6)}: duration: cannot read 'half an hour' as a number; write "
        "it like 1100.04, 1,100.04 or $5k",
        f"call {call_id(7)}: parties is a str, not a list",
        f"call {call_id(9)} transcript turn 0: the monologue's sentences are not a "
        "list",
    ]
    assert counts(result)["conversation"] == {"new": 21, "rejected": 4}
    assert counts(result)["turn"] == {"new": 20 * 3, "rejected": 1}
    asked = [
        i for b in gong.bodies("/v2/calls/transcript") for i in b["filter"]["callIds"]
    ]
    assert call_id(5) not in asked and call_id(9) in asked


def test_values_in_every_form_load(
    engine: Engine, config: Config, gong: GongStandIn
) -> None:
    """B27-like: offsets, epochs, numbers as strings, nulls, unknown fields, names."""
    title = 'Q3 "renewal" – Zoë\'s 100% plan_b \\ review'
    gong.find(call_id(1))["metaData"].update(
        started="2026-03-02T06:00:00-08:00", duration="61.5", title=title, newField={}
    )
    gong.find(call_id(2))["metaData"].update(started=1772470800000, duration=None)
    three = gong.find(call_id(3))
    three["metaData"].update(started="2026-03-02T23:59:59.123+05:30", title=None)
    three["parties"][2].update(name=None, futureFlag=True)
    three["parties"][1]["emailAddress"] = None

    (result,) = run(engine, config, gong)

    assert result.error is None, result.error
    with engine.connect() as connection:
        rows = connection.execute(
            select(
                Conversation.source_id,
                Conversation.title,
                Conversation.started_at,
                Conversation.duration_minutes,
                Conversation.participants,
            ).where(Conversation.source_id.in_([call_id(i) for i in (1, 2, 3)]))
        ).all()
        touch = connection.execute(
            select(Activity.subject, Activity.occurred_at).where(
                Activity.source_id == f"{call_id(1)}:p1-guest"
            )
        ).one()
    assert sorted(rows) == [
        (
            call_id(1),
            title,
            datetime(2026, 3, 2, 14, 0, tzinfo=UTC),
            1,
            ["Jordan Ellery", "Sam Ops", "Émile Straße", "Unknown caller"],
        ),
        (
            call_id(2),
            "Discovery call 2",
            datetime(2026, 3, 2, 17, 0, tzinfo=UTC),
            None,
            ["Jordan Ellery", "Sam Ops", "Dana O'Neil", "Unknown caller"],
        ),
        (
            call_id(3),
            None,
            datetime(2026, 3, 2, 18, 29, 59, 123000, tzinfo=UTC),
            30,
            ["Jordan Ellery", "Sam Ops", "emile@globex.example", "Unknown caller"],
        ),
    ]
    assert touch == (title, datetime(2026, 3, 2, 14, 0, tzinfo=UTC))


def test_parties_are_matched_to_crm_accounts_and_people(
    engine: Engine, tmp_path: Path, gong: GongStandIn, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("GONG_ACCESS_KEY", ACCESS_KEY)
    monkeypatch.setenv("GONG_ACCESS_KEY_SECRET", SECRET)
    (tmp_path / "accounts.csv").write_text("id,name,domain\nA1,Acme,acme.example\n")
    (tmp_path / "people.csv").write_text(
        "email,name,account\ndana@acme.example,Dana O'Neil,A1\n"
    )
    path = tmp_path / "foresight.yml"
    path.write_text(f"data_root: .\nsources:{CRM}{GONG}")
    config = load_config(path)

    crm, result = run(engine, config, gong)

    assert crm.error is None and result.error is None, (crm.error, result.error)
    with engine.connect() as connection:
        acme = connection.scalar(select(Account.id).where(Account.name == "Acme"))
        dana = connection.scalar(select(Person.id).where(Person.name == "Dana O'Neil"))
        call = connection.execute(
            select(Conversation.account_id).where(Conversation.source_id == CALL)
        ).one()
        touch = connection.execute(
            select(Activity.account_id, Activity.person_id).where(
                Activity.source_id == f"{CALL}:p0-guest"
            )
        ).one()
        globex = connection.execute(
            select(Conversation.account_id).where(Conversation.source_id == call_id(1))
        ).one()
    assert acme is not None and dana is not None
    assert tuple(call) == (acme,)
    assert tuple(touch) == (acme, dana)
    assert tuple(globex) == (None,)  # nobody at globex.example in the CRM


def test_a_windowed_read_never_marks_older_calls_deleted(
    engine: Engine, config: Config, gong: GongStandIn
) -> None:
    """Gong is read from a start time, never whole: a call outside the window
    (or gone from the listing) is not taken for deleted, even without a cursor."""
    run(engine, config, gong)
    gong.calls = gong.calls[:-3]
    with engine.begin() as connection:
        connection.execute(delete(SourceState))

    (result,) = run(engine, config, gong)

    assert result.error is None and result.missing == {}
    with engine.connect() as connection:
        marked = connection.scalar(
            select(func.count())
            .select_from(Conversation)
            .where(Conversation.deleted_at.is_not(None))
        )
    assert marked == 0

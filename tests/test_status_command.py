"""`/foresight status` through the real Bolt app: signed HTTP in, Slack stand-in out."""

from __future__ import annotations

import io
import re
import textwrap
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import yaml
from rich.console import Console
from sqlalchemy import Engine

from bot.access import AccessPolicy
from bot.blocks import MAX_BLOCKS, MAX_MESSAGE_TEXT, MAX_SECTION_TEXT, block_text_size
from bot.status_command import age
from context.clock import Clock
from context.source_state import record_failure, record_success
from integrations.config import DATA_ROOT_ENV, load_config
from integrations.status import source_status
from integrations.sync import sync
from tests.slack_app import RunningApp, all_text, running_app

ADMIN, DANA = "U0ADMIN001", "U0DANA0001"
ROOT = Path(__file__).resolve().parents[1]
CONFIG = """
    access: {admins: [revops@example.com]}
    sources:
      - name: crm
        label: Maven <CRM> & Co
        kind: files
        files:
          - path: accounts.csv
            kind: account
            id: account
            fields: {name: account}
      - name: billing
        kind: files
        files:
          - path: missing/invoices.csv
            kind: account
            id: id
            fields: {name: name}
      - name: hubspot
        label: HubSpot
        kind: hubspot
        base_url: https://hubspot.test
        token_env: HUBSPOT_TOKEN
"""


@pytest.fixture(autouse=True)
def no_data_root_override(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(DATA_ROOT_ENV, raising=False)


@pytest.fixture
def config_path(tmp_path: Path) -> Path:
    (tmp_path / "accounts.csv").write_text("account\nAcme\nGlobex\n")
    path = tmp_path / "foresight.yml"
    path.write_text(textwrap.dedent(CONFIG))
    return path


@pytest.fixture
def app(engine: Engine, config_path: Path) -> Iterator[RunningApp]:
    config = load_config(config_path)
    quiet = Console(file=io.StringIO())
    sync(engine, config, Clock(), only=["crm", "billing"], console=quiet)
    three_hours_ago = datetime.now(UTC) - timedelta(hours=3, minutes=5)
    cursor = {"since": "2024-12-01T00:00:00Z", "after": "a`b*c_d<e>"}
    record_success(engine, "hubspot", three_hours_ago, 42, cursor)
    access = AccessPolicy.from_config(config.access)
    with running_app(engine, now=Clock(), access=access) as running:
        running.runtime.config = config
        running.slack.add_user(ADMIN, "RevOps@Example.com")
        running.slack.add_user(DANA, "dana.reyes@example.com")
        yield running


def sections_of(blocks: list[dict[str, object]]) -> list[str]:
    return [b["text"]["text"] for b in blocks if b["type"] == "section"]  # type: ignore[index]


def test_admin_sees_every_source_failing_first(app: RunningApp) -> None:
    ack = app.command("status", ADMIN, command="/foresight")
    [reply] = app.replies(1)
    billing, crm, hubspot = sections_of(reply.blocks or [])

    assert (ack.status, ack.body) == (200, b"")
    assert (reply.via, reply.response_type, reply.user) == (
        "response_url",
        "ephemeral",
        ADMIN,
    )
    assert reply.text == "Sync status: 1 of 3 sources failing (billing)"
    assert reply.blocks is not None
    assert reply.blocks[0]["text"]["text"] == "Sync status"
    assert billing.startswith(":x: *failing* *billing* · `billing` · files\n")
    assert "Last success: never\n" in billing
    assert "Records seen: 0 · last run " in billing
    assert re.search(r"Last error \d{4}-\d\d-\d\d \d\d:\d\d UTC \(just now\):", billing)
    assert billing.endswith(
        "```source 'billing' files[0] (account from missing/invoices.csv): there is "
        "no file 'missing/invoices.csv' under "
        f"{app.runtime.config.data_root}; check the path, or point data_root (or "  # type: ignore[union-attr]
        "FORESIGHT_DATA_ROOT) at the folder that holds it```"
    )
    assert crm.startswith(":white_check_mark: ok *Maven &lt;CRM&gt; &amp; Co* · `crm`")
    assert re.search(r"Last success: \d{4}-\d\d-\d\d \d\d:\d\d UTC \(just now\)", crm)
    assert "Records seen: 2 · last run " in crm and ", changed 2" in crm
    assert "Cursor" not in crm and "Last error" not in crm
    assert "Records seen: 42 · last run never, changed none" in hubspot
    assert "(3 h ago)" in hubspot
    assert (
        'Cursor: `{"after":"a\'b*c_d&lt;e&gt;","since":"2024-12-01T00:00:00Z"}`'
        in hubspot
    )


def test_slack_shows_what_the_cli_reads(app: RunningApp) -> None:
    assert app.runtime.config is not None
    statuses = source_status(app.runtime.engine, app.runtime.config)
    app.command("status", ADMIN, command="/foresight")
    [reply] = app.replies(1)
    text = all_text(reply)
    for status in statuses:
        assert f"Records seen: {status.records_seen} " in text
    assert [s.name for s in statuses if s.failing] == ["billing"]


def test_non_admin_is_refused(app: RunningApp) -> None:
    app.command("status", DANA, command="/foresight")
    [reply] = app.replies(1)
    assert reply.text.startswith("Sorry, sync status is only for Foresight admins.")
    assert reply.blocks in (None, [])
    assert "billing" not in all_text(reply)


def test_empty_or_unknown_text_gets_help(app: RunningApp) -> None:
    empty = app.command("", DANA, command="/foresight")
    other = app.command("sync now", ADMIN, command="/foresight")
    assert empty.status == other.status == 200
    assert "`/foresight status`" in empty.text
    assert empty.text == other.text
    assert app.slack.messages == []


def test_ack_is_immediate_when_slack_is_slow(app: RunningApp) -> None:
    app.slack.delay("users.info", 3.2)  # past Slack's 3 s window
    ack = app.command("status", ADMIN, command="/foresight")
    assert (ack.status, ack.seconds < 1.0) == (200, True)
    [reply] = app.replies(1, timeout=15)
    assert reply.text.startswith("Sync status: 1 of 3 sources failing")


def test_huge_errors_and_many_sources_stay_within_limits(
    app: RunningApp, engine: Engine, tmp_path: Path
) -> None:
    many = "\n".join(
        f"  - {{name: s{i:03d}, label: {'L' * 300}, kind: synthetic}}"
        for i in range(120)
    )
    path = tmp_path / "many.yml"
    path.write_text(f"sources:\n{many}\n")
    app.runtime.config = load_config(path)
    huge = "Vendor said: <html> & `boom` " + "x" * 5000
    at = datetime.now(UTC)
    for i in range(120):
        record_failure(engine, f"s{i:03d}", at, huge)

    app.command("status", ADMIN, command="/foresight")
    replies = app.replies(3)
    blocks = [b for r in replies for b in (r.blocks or [])]
    texts = sections_of(blocks)

    assert all(r.via == "response_url" for r in replies)  # none refused by Slack
    assert all(len(r.blocks or []) <= MAX_BLOCKS for r in replies)
    assert all(
        sum(block_text_size(b) for b in r.blocks or []) <= MAX_MESSAGE_TEXT
        for r in replies
    )
    assert all(len(t) <= MAX_SECTION_TEXT for t in texts)
    assert "&lt;html&gt; &amp; 'boom'" in texts[0] and "<html>" not in texts[0]
    assert texts[0].endswith("…```")
    assert 0 < len(texts) < 120
    assert blocks[-1]["elements"][0]["text"] == (
        f"_{120 - len(texts)} more sources did not fit here: run `foresight status` "
        "on the server for all of them._"
    )


def test_age_reads_in_whole_units() -> None:
    now = datetime(2024, 12, 2, 14, 0, tzinfo=UTC)
    assert [
        age(now - timedelta(seconds=s), now) for s in (5, 61, 3599, 7300, 200000)
    ] == ["just now", "1 min ago", "59 min ago", "2 h ago", "2 d ago"]


def test_manifest_declares_the_command() -> None:
    manifest = yaml.safe_load((ROOT / "manifest.yml").read_text())
    [command] = [
        c
        for c in manifest["features"]["slash_commands"]
        if c["command"] == "/foresight"
    ]
    assert command["usage_hint"] == "status"

"""The `foresight` command as a user runs it: db, sync, ask, exit codes."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlalchemy import text

from bot.cli import EXIT_ROWS_REJECTED, EXIT_USAGE, main
from context.db import make_engine, upgrade

CONFIG = """
now: "2024-12-02T14:00:00Z"
data_root: data
access: {open_to_workspace: false, admins: []}
sources:
  - name: crm
    label: Tiny CRM
    kind: files
    files:
      - path: people.csv
        kind: rep
        id: email
        fields: {name: name, email: email}
      - path: accounts.csv
        kind: account
        id: name
        fields: {name: name, domain: domain}
      - path: deals.csv
        kind: deal
        id: id
        fields:
          stage: stage
          status: {column: stage, map: {Won: won, Lost: lost}, default: open}
          amount: amount
          close_date: close_date
        refs: {account: account, owner: owner}
"""


@pytest.fixture
def config(tmp_path: Path, database_url: str, monkeypatch: pytest.MonkeyPatch) -> Path:
    data = tmp_path / "data"
    data.mkdir()
    (data / "people.csv").write_text("name,email\nDana Reyes,Dana.Reyes@Example.com\n")
    (data / "accounts.csv").write_text("name,domain\nAcme Corporation,acme.com\n")
    (data / "deals.csv").write_text(
        "id,account,owner,stage,amount,close_date\n"
        "d1,Acme Corporation,Dana Reyes,Engaging,1200,2024-12-20\n"
        "d2,Acme Corporation,Dana Reyes,Won,not-a-number,2024-11-01\n"
    )
    path = tmp_path / "foresight.yml"
    path.write_text(CONFIG)
    monkeypatch.setenv("DATABASE_URL", database_url)
    return path


def test_sync_reports_rejections_in_its_exit_code(
    config: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["--config", str(config), "sync"]) == EXIT_ROWS_REJECTED
    out = capsys.readouterr().out
    assert "deals.csv:3" in out
    assert "not-a-number" in out
    assert main(["--config", str(config), "sync"]) == EXIT_ROWS_REJECTED
    assert "Nothing changed." in capsys.readouterr().out


def test_ask_prints_what_the_app_sent_as_json(
    config: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    main(["--config", str(config), "sync"])
    capsys.readouterr()
    code = main(
        [
            "--config",
            str(config),
            "ask",
            "/account acme",
            "--user",
            "dana.reyes@example.com",
            "--json",
        ]
    )
    replies = json.loads(capsys.readouterr().out)
    assert code == 0
    assert [r["via"] for r in replies] == ["ack", "response_url"]
    card = replies[1]
    assert card["response_type"] == "ephemeral"
    assert card["blocks"][0]["text"]["text"] == "Acme Corporation"
    assert card["text"] == "Acme Corporation: 1 open deals ($1,200), 0 stakeholders"


def test_ask_from_a_stranger_is_refused(
    config: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    main(["--config", str(config), "sync"])
    capsys.readouterr()
    main(
        [
            "--config",
            str(config),
            "ask",
            "/account acme",
            "--user",
            "x@else.example",
            "--json",
        ]
    )
    replies = json.loads(capsys.readouterr().out)
    assert replies[1]["text"].startswith("Sorry, account details are only shared")


def test_db_upgrade_then_current(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'new.db'}")
    assert main(["db", "current"]) == 1
    assert main(["db", "upgrade"]) == 0
    assert main(["db", "current"]) == 0
    assert capsys.readouterr().out.splitlines() == [
        "schema none (out of date)",
        "schema created",
        "schema 0003 (up to date)",
        "schema 0003 (up to date)",
    ]


def test_db_upgrade_from_first_schema(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    url = f"sqlite:///{tmp_path / 'old.db'}"
    engine = make_engine(url)
    upgrade(engine, "0001")
    monkeypatch.setenv("DATABASE_URL", url)
    assert main(["db", "current"]) == 1
    assert main(["db", "upgrade"]) == 0
    with engine.connect() as connection:
        assert connection.scalar(text("SELECT count(*) FROM source_states")) == 0
    engine.dispose()
    assert capsys.readouterr().out.splitlines() == [
        "schema 0001 (out of date)",
        "schema upgraded from 0001",
        "schema 0003 (up to date)",
    ]


def test_bad_as_of_is_a_usage_error(
    config: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["--config", str(config), "--as-of", "yesterday", "sync"]) == EXIT_USAGE
    assert "cannot read the fixed time 'yesterday'" in capsys.readouterr().out


def test_newer_schema_is_explained(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    url = f"sqlite:///{tmp_path / 'rolled-back.db'}"
    monkeypatch.setenv("DATABASE_URL", url)
    main(["db", "upgrade"])
    engine = make_engine(url)
    with engine.begin() as connection:
        connection.execute(text("UPDATE alembic_version SET version_num = '9999'"))
    engine.dispose()
    capsys.readouterr()
    assert main(["db", "upgrade"]) == EXIT_USAGE
    assert (
        "schema 9999, newer than this version of Foresight" in capsys.readouterr().out
    )


def test_rows_gone_from_the_export_are_marked_deleted(
    config: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    main(["--config", str(config), "sync"])
    deals = config.parent / "data" / "deals.csv"
    deals.write_text(deals.read_text().splitlines()[0] + "\n")
    capsys.readouterr()
    assert main(["--config", str(config), "sync"]) == 0
    out = " ".join(capsys.readouterr().out.split())
    assert "crm: no longer in the source, marked deleted: 1 deal" in out


@pytest.mark.parametrize(
    ("url", "said"),
    [
        ("sqlite:///{tmp}/no/such/folder/x.db", "cannot open the store at 'sqlite:///"),
        ("postgresql+psycopg://ana:s3cret@127.0.0.1:9/x", "cannot open the store at"),
        ("foresight.db", "the store URL 'foresight.db' cannot be used"),
        ("mysql://a@b/c", "No module named 'MySQLdb'"),
        ("sqlite:///{tmp}/notes.txt", "file is not a database"),
    ],
)
def test_a_store_that_cannot_be_opened_says_what_to_set(
    url: str,
    said: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("DATABASE_URL", url.format(tmp=tmp_path))
    (tmp_path / "notes.txt").write_text("call Ana about the renewal\n" * 200)

    assert main(["db", "current"]) == EXIT_USAGE

    out = " ".join(capsys.readouterr().out.split())
    assert said in out
    assert "set DATABASE_URL to a SQLAlchemy URL such as" in out
    assert "s3cret" not in out


def test_postgres_urls_as_hosts_hand_them_out_are_read() -> None:
    engine = make_engine("postgres://ana@db.example:5432/foresight")
    assert engine.url.drivername == "postgresql+psycopg"
    assert engine.url.host == "db.example"


@pytest.mark.parametrize(
    ("text", "said"),
    [
        ("sourcse: []\n", "unknown top-level key 'sourcse'; the config takes now, "),
        ("sources: [ {name: a\n  x: 1\n", "not valid YAML: line 2, column 4: expected"),
        ("sync: {every: 15x}\n", "sync.every: '15x' is neither an interval nor"),
        (
            "access: {admins: x}\n",
            "access.admins is 'x'; write a list of e-mail "
            "addresses, e.g. admins: [revops@example.com]",
        ),
    ],
)
def test_config_mistakes_are_told_with_the_file_before_anything_runs(
    text: str,
    said: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path}/store.db")
    config = tmp_path / "foresight.yml"
    config.write_text(text)

    assert main(["--config", str(config), "sync"]) == EXIT_USAGE

    out = " ".join(capsys.readouterr().out.split())
    assert out.startswith(f"foresight: {config}")
    assert said in out


def test_options_work_after_the_command_too(
    config: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["sync", "--config", str(config)]) == EXIT_ROWS_REJECTED  # d2
    capsys.readouterr()
    assert main(["sync", "--config", str(config), "-v"]) == EXIT_ROWS_REJECTED
    assert "Nothing changed." in capsys.readouterr().out


def test_ask_needs_the_config_the_app_runs_with(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'store.db'}")
    main(["db", "upgrade"])
    capsys.readouterr()

    assert main(["ask", "/foresight status", "--user", "revops@example.com"]) == 2

    out = " ".join(capsys.readouterr().out.split())
    assert out == (
        "foresight: ask needs the config the app runs with (its admins and sources): "
        "pass --config FILE or set FORESIGHT_CONFIG"
    )


def test_every_config_mistake_is_told_in_one_run(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path}/store.db")
    config = tmp_path / "foresight.yml"
    config.write_text(
        "acces: {}\nsync: {every: 15x}\naccess: {admins: x}\n"
        "sources:\n  - {name: crm, kind: hubspot, owner_as_reps: true}\n"
    )
    assert main(["--config", str(config), "status"]) == EXIT_USAGE
    first = " ".join(capsys.readouterr().out.split())
    config.write_text(
        config.read_text().replace("acces: {}\n", "").replace("owner_", "owners_")
    )
    assert main(["--config", str(config), "status"]) == EXIT_USAGE
    second = " ".join(capsys.readouterr().out.split())

    assert "unknown top-level key 'acces'" in first
    assert "sources[0] (crm): unknown key 'owner_as_reps'" in first
    assert "sync.every: '15x' is neither" in second
    assert "access.admins is 'x'" in second

"""The file source: reading values, mapping rows, reporting what could not load."""

from __future__ import annotations

import io
import json
import re
import textwrap
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from rich.console import Console
from sqlalchemy import Engine, select

from context.clock import Clock
from context.models import Account, Activity, Deal, Person, Rep, SyncRun
from integrations.config import DATA_ROOT_ENV, load_config
from integrations.errors import ConfigError
from integrations.files import values
from integrations.files.paths import PathError, compile_path, get_path
from integrations.files.values import BadValue
from integrations.registry import SOURCE_KINDS
from integrations.sync import SourceResult, sync

UTC_ZONE = ZoneInfo("UTC")
CHICAGO = ZoneInfo("America/Chicago")


def write(folder: Path, name: str, text: str) -> Path:
    path = folder / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(textwrap.dedent(text).lstrip(), encoding="utf-8")
    return path


def run(
    engine: Engine, config: Path, **kwargs: object
) -> tuple[list[SourceResult], str]:
    out = io.StringIO()
    loaded = load_config(config, **kwargs)  # type: ignore[arg-type]
    results = sync(engine, loaded, Clock(), console=Console(file=out, width=200))
    return results, out.getvalue()


@pytest.fixture(autouse=True)
def no_data_root_override(monkeypatch: pytest.MonkeyPatch) -> None:
    """The configs' own data_root, unless a test says otherwise."""
    monkeypatch.delenv(DATA_ROOT_ENV, raising=False)


DEALS_CONFIG = """
    data_root: data
    sources:
      - name: crm
        kind: files
        files:
          - path: accounts.csv
            kind: account
            id: account
            fields: {name: account}
          - path: deals.csv
            kind: deal
            id: id
            fields:
              stage: stage
              status: {column: stage, map: {Won: won, Lost: lost}, default: open}
              amount: amount
              close_date: {column: closed, format: "%m/%d/%Y"}
            refs:
              account: account
"""


@pytest.fixture
def deals_config(tmp_path: Path) -> Path:
    write(tmp_path, "data/accounts.csv", "account\nAcme\nGlobex\n")
    write(
        tmp_path,
        "data/deals.csv",
        """
        id,account,stage,amount,closed
        D1,Acme,Won,"1,100.04",03/01/2017
        D2,Acme,Engaging,12;5,
        D3,Globex,Lost,$5k,13/45/2017
        D4,,Prospecting,,
        D5,Initech,Won,10,03/02/2017
        """,
    )
    return write(tmp_path, "foresight.yml", DEALS_CONFIG)


# -- values -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("1100.04", Decimal("1100.04")),
        ("1,100.04", Decimal("1100.04")),
        ("$5k", Decimal("5000")),
        ("USD 1,200", Decimal("1200")),
        ("(12.50)", Decimal("-12.50")),
        ("-$3.5", Decimal("-3.5")),
        ("2.5M", Decimal("2500000")),
        (1054, Decimal("1054")),
        ("", None),
    ],
)
def test_amounts_in_common_forms(text: object, expected: Decimal | None) -> None:
    assert values.read_decimal(text) == expected


@pytest.mark.parametrize("text", ["12,34", "abc", "1.2.3", "1,00.5", True])
def test_unreadable_amounts_are_refused(text: object) -> None:
    with pytest.raises(BadValue, match=r"number|flag"):
        values.read_decimal(text)


def test_money_rounds_half_up_to_the_column() -> None:
    assert values.read_money("10.005", 2, 14) == Decimal("10.01")
    for huge in ("1e15", "1e30", "1e400"):
        with pytest.raises(BadValue, match="too large"):
            values.read_money(huge, 2, 14)


@pytest.mark.parametrize(
    ("text", "expected"),
    [("True", True), ("false", False), ("YES", True), ("0", False), ("", None)],
)
def test_flags(text: str, expected: bool | None) -> None:
    assert values.read_bool(text) is expected


def test_bad_flag_and_fraction_are_refused() -> None:
    with pytest.raises(BadValue, match="yes/no"):
        values.read_bool("maybe")
    with pytest.raises(BadValue, match="whole number"):
        values.read_int("12.5")
    assert values.read_int("12.0") == 12
    with pytest.raises(BadValue, match="out of range"):
        values.read_int("3000000000")


@pytest.mark.parametrize(
    ("text", "zone", "expected"),
    [
        ("2024-12-02T09:00:00-05:00", UTC_ZONE, datetime(2024, 12, 2, 14, tzinfo=UTC)),
        ("2024-12-02T14:00:00Z", CHICAGO, datetime(2024, 12, 2, 14, tzinfo=UTC)),
        ("2024-12-02 09:00:00", CHICAGO, datetime(2024, 12, 2, 15, tzinfo=UTC)),
        ("2024-12-02", UTC_ZONE, datetime(2024, 12, 2, tzinfo=UTC)),
        ("1733148000", UTC_ZONE, datetime(2024, 12, 2, 14, tzinfo=UTC)),
        ("1733148000000", UTC_ZONE, datetime(2024, 12, 2, 14, tzinfo=UTC)),
        (1733148000, UTC_ZONE, datetime(2024, 12, 2, 14, tzinfo=UTC)),
    ],
)
def test_timestamps_come_out_aware_utc(
    text: object, zone: ZoneInfo, expected: datetime
) -> None:
    moment = values.read_datetime(text, zone)
    assert moment == expected
    assert moment is not None and moment.utcoffset() is not None


def test_dates_by_iso_format_and_epoch() -> None:
    assert values.read_date("2024-02-29", UTC_ZONE) == date(2024, 2, 29)
    assert values.read_date("20241202", UTC_ZONE) == date(2024, 12, 2)
    assert values.read_date("03/01/2017", UTC_ZONE, ["%m/%d/%Y"]) == date(2017, 3, 1)
    assert values.read_date("1733148000000", UTC_ZONE) == date(2024, 12, 2)
    assert values.read_datetime("1733148", UTC_ZONE, ["epoch_s"]) is not None


@pytest.mark.parametrize("text", ["2017-13-01", "2024-02-30", "next tuesday"])
def test_unreadable_dates_are_refused(text: str) -> None:
    with pytest.raises(BadValue, match="cannot read"):
        values.read_date(text, UTC_ZONE)


def test_json_columns_get_plain_json_types() -> None:
    safe = values.json_safe(
        {
            "revenue": Decimal("1100.04"),
            "huge": Decimal("12345678901234567.89"),
            "signup": date(2024, 10, 16),
            "seen": datetime(2024, 12, 2, 9, tzinfo=ZoneInfo("America/New_York")),
        }
    )
    assert safe == {
        "revenue": 1100.04,
        "huge": "12345678901234567.89",
        "signup": "2024-10-16",
        "seen": "2024-12-02T14:00:00+00:00",
    }
    json.dumps(safe)


MEETING = {
    "topics": [{"topic": "Intro"}, {"topic": "Budget"}],
    "queries": [
        {"query": "Who?", "answer": "Ann"},
        {"query": "Summarize the whole meeting.", "answer": "Short."},
    ],
    "meta": {"id": 7},
}


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        ("meta.id", 7),
        ("meta.missing", None),
        ("topics[].topic", ["Intro", "Budget"]),
        ("topics[-1].topic", "Budget"),
        ("queries[query=Summarize the whole meeting.].answer", ["Short."]),
        ("nothing[].here", []),
    ],
)
def test_json_paths(path: str, expected: object) -> None:
    assert get_path(MEETING, compile_path(path)) == expected


def test_unreadable_path_says_how_to_write_one() -> None:
    with pytest.raises(PathError, match=r"use \[\], \[0\] or \[key=value\]"):
        compile_path("topics[first].topic")


# -- rows, files and configs ------------------------------------------------------


def test_bad_rows_are_reported_and_the_rest_loads(
    engine: Engine, deals_config: Path
) -> None:
    (result,), output = run(engine, deals_config)

    assert result.error is None
    assert dict(result.counts["deal"]) == {"new": 2, "rejected": 3}
    reasons = [str(r) for r in result.rejections]
    assert reasons[0].startswith("deals.csv:3 (D2): amount from column amount:")
    assert "cannot read '12;5' as a number" in reasons[0]
    assert reasons[1].startswith("deals.csv:4 (D3): close_date from column closed:")
    assert "'13/45/2017'" in reasons[1]
    assert reasons[2] == (
        "deals.csv:6 (D5): account 'Initech' is not in source 'crm'; load it first "
        "or add it to the crosswalk"
    )
    assert "deals.csv:3 (D2)" in output
    with engine.connect() as connection:
        rows = connection.execute(
            select(Deal.source_id, Deal.status, Deal.amount, Deal.close_date)
        ).all()
    assert sorted(rows) == [
        ("D1", "won", Decimal("1100.04"), date(2017, 3, 1)),
        ("D4", "open", None, None),
    ]


def test_loading_twice_says_nothing_changed(engine: Engine, deals_config: Path) -> None:
    run(engine, deals_config)
    (result,), output = run(engine, deals_config)

    assert result.changed() == 0
    assert dict(result.counts["deal"]) == {"unchanged": 2, "rejected": 3}
    assert "Nothing changed." in output
    with engine.connect() as connection:
        runs = connection.scalars(select(SyncRun.counts)).all()
    assert runs[-1] is not None
    assert runs[-1]["deal"] == {"new": 0, "updated": 0, "unchanged": 2, "rejected": 3}


def test_missing_file_fails_that_source_only(engine: Engine, tmp_path: Path) -> None:
    write(tmp_path, "accounts.csv", "account\nAcme\n")
    config = write(
        tmp_path,
        "foresight.yml",
        """
        sources:
          - name: gone
            kind: files
            files:
              - {path: exports/missing.csv, kind: account, id: a, fields: {name: a}}
          - name: crm
            kind: files
            files:
              - path: accounts.csv
                kind: account
                id: account
                fields: {name: account}
        """,
    )
    (gone, crm), output = run(engine, config)

    assert gone.error is not None
    assert "there is no file 'exports/missing.csv'" in gone.error
    assert crm.error is None and crm.counts["account"]["new"] == 1
    assert "gone failed" in output
    with engine.connect() as connection:
        errors = dict(connection.execute(select(SyncRun.source, SyncRun.error)).all())
    assert errors["crm"] is None and "missing.csv" in (errors["gone"] or "")


def test_unmapped_column_fails_before_loading(engine: Engine, tmp_path: Path) -> None:
    write(tmp_path, "accounts.csv", "account\nAcme\n")
    config = write(
        tmp_path,
        "foresight.yml",
        """
        sources:
          - name: crm
            kind: files
            files:
              - path: accounts.csv
                kind: account
                id: account
                fields: {name: company}
        """,
    )
    (result,), _ = run(engine, config)

    assert result.error is not None
    assert (
        "accounts.csv has no column 'company'; its columns are account" in result.error
    )
    with engine.connect() as connection:
        assert connection.scalar(select(Account.id)) is None


def test_config_errors_say_where_and_what(tmp_path: Path) -> None:
    config = write(
        tmp_path,
        "foresight.yml",
        """
        sources:
          - name: crm
            kind: files
            files:
              - path: deals.csv
                kind: deal
                id: opportunity_id
                fields:
                  amount: {colum: close_value}
          - name: usage
            kind: files
            files:
              - {path: usage.csv, kind: usage, id: u, fields: {day: d}}
          - {name: sf, kind: salesfroce}
        """,
    )
    with pytest.raises(ConfigError) as caught:
        load_config(config)

    message = str(caught.value)
    assert str(config) in message
    assert "sources[0] (crm) › files[0].fields.amount: unknown key 'colum'" in message
    assert "a usage record needs account, metric, value" in message
    assert "unknown source kind 'salesfroce'; use one of: files, gong," in message


def test_data_root_argument_beats_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for folder in ("configured", "from_env", "from_arg"):
        (tmp_path / folder).mkdir()
    config = write(tmp_path, "foresight.yml", "data_root: configured\nsources: []\n")

    assert load_config(config).data_root == tmp_path / "configured"
    monkeypatch.setenv(DATA_ROOT_ENV, str(tmp_path / "from_env"))
    assert load_config(config).data_root == tmp_path / "from_env"
    assert load_config(config, tmp_path / "from_arg").data_root == tmp_path / "from_arg"
    with pytest.raises(ConfigError, match="is not a folder"):
        load_config(config, tmp_path / "nowhere")


@pytest.mark.parametrize(
    "written",
    ['"2024-12-02T14:00:00Z"', "2024-12-02T09:00:00-05:00", "2024-12-02 14:00:00"],
)
def test_config_now_is_aware_utc(tmp_path: Path, written: str) -> None:
    config = write(tmp_path, "foresight.yml", f"now: {written}\nsources: []\n")
    assert load_config(config).now == datetime(2024, 12, 2, 14, tzinfo=UTC)


def test_repeated_ids_are_rejected_unless_distinct(
    engine: Engine, tmp_path: Path
) -> None:
    write(
        tmp_path,
        "teams.csv",
        """
        agent,manager,office
        Ann,Dustin,Central
        Bo,Dustin,Central
        Ann,Cara,East
        Cy,Cara,West
        """,
    )
    config = write(
        tmp_path,
        "foresight.yml",
        """
        sources:
          - name: crm
            kind: files
            files:
              - {path: teams.csv, kind: rep, id: agent, fields: {name: agent}}
              - path: teams.csv
                kind: rep
                distinct: true
                id: manager
                fields: {name: manager, role: {value: manager}, team: office}
        """,
    )
    (result,), _ = run(engine, config)

    assert dict(result.counts["rep"]) == {"new": 5, "rejected": 2}
    assert [str(r) for r in result.rejections] == [
        "teams.csv:4 (Ann): id 'Ann' was already read at teams.csv:2 (Ann); ids must "
        "be unique within a source (mark the entry `distinct: true` if its rows "
        "repeat the same record)",
        "teams.csv:5 (Cara): id 'Cara' was already read at teams.csv:4 (Cara) with "
        "other values; ids must be unique within a source (mark the entry "
        "`distinct: true` if its rows repeat the same record)",
    ]
    with engine.connect() as connection:
        managers = connection.execute(
            select(Rep.name, Rep.team).where(Rep.role == "manager")
        ).all()
    assert sorted(managers) == [("Cara", "East"), ("Dustin", "Central")]


def test_json_records_nested_lists_and_folded_lookups(
    engine: Engine, tmp_path: Path
) -> None:
    response = {
        "response": {
            "records": [
                {
                    "attributes": {"type": "Account", "url": "/sobjects/Account/001A"},
                    "Name": "GenePoint",
                    "Contacts": {
                        "records": [
                            {
                                "attributes": {"url": "/sobjects/Contact/003A"},
                                "LastName": "Frank",
                            }
                        ]
                    },
                },
                {"attributes": {"type": "Case", "url": "/sobjects/Case/500A"}},
            ]
        }
    }
    write(tmp_path, "soql.json", json.dumps(response))
    write(tmp_path, "tiers.csv", "tier,label\nGTX Pro,Top tier\n")
    write(
        tmp_path,
        "notes.csv",
        """
        id,account,tier,at
        N1,001A,GTXPro,2024-12-02T09:00:00-05:00
        N2,001A,gtx-pro,1733148000000
        """,
    )
    config = write(
        tmp_path,
        "foresight.yml",
        """
        sources:
          - name: sf
            kind: files
            lookups:
              tiers: {path: tiers.csv, key: tier}
            files:
              - path: soql.json
                kind: account
                records: response.records
                where: {attributes.type: account}
                id: {column: attributes.url, pattern: "[^/]+$"}
                fields: {name: Name}
              - path: soql.json
                kind: person
                records: response.records[].Contacts.records
                id: {column: attributes.url, pattern: "[^/]+$"}
                fields: {name: "{FirstName} {LastName}"}
                refs:
                  account: {column: $parent.attributes.url, pattern: "[^/]+$"}
              - path: notes.csv
                kind: activity
                id: id
                fields:
                  kind: {value: note}
                  subject: {lookup: tiers, key: tier, column: label, required: true}
                  occurred_at: at
                refs: {account: account}
        """,
    )
    (result,), _ = run(engine, config)

    assert result.rejections == []
    with engine.connect() as connection:
        person = connection.execute(
            select(Person.name, Account.name).join(Account)
        ).one()
        notes = connection.execute(
            select(Activity.subject, Activity.occurred_at).order_by(Activity.source_id)
        ).all()
    assert tuple(person) == ("Frank", "GenePoint")
    at = datetime(2024, 12, 2, 14, tzinfo=UTC)
    assert [tuple(n) for n in notes] == [("Top tier", at), ("Top tier", at)]


def test_lookup_miss_leaves_value_empty_and_warns(
    engine: Engine, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    write(tmp_path, "prices.csv", "product,price\nGTX Pro,4821\n")
    write(tmp_path, "deals.csv", "id,product\nD1,GTXPro\nD2,Unheard Of\n")
    config = write(
        tmp_path,
        "foresight.yml",
        """
        sources:
          - name: crm
            kind: files
            lookups:
              prices: {path: prices.csv, key: product}
            files:
              - path: deals.csv
                kind: deal
                id: id
                fields:
                  list_value: {lookup: prices, key: product, column: price}
        """,
    )
    run(engine, config)

    query = select(Deal.source_id, Deal.list_value).order_by(Deal.source_id)
    with engine.connect() as connection:
        assert connection.execute(query).all() == [
            ("D1", Decimal("4821")),
            ("D2", None),
        ]
    assert (
        "lookup prices (prices.csv): 1 look-ups of 1 keys found nothing, e.g. "
        "'Unheard Of'" in caplog.text
    )


def test_many_rejections_of_one_kind_are_summarised(
    engine: Engine, tmp_path: Path
) -> None:
    rows = "".join(f"A{n},not a number\n" for n in range(25))
    write(tmp_path, "accounts.csv", "account,employees\n" + rows)
    config = write(
        tmp_path,
        "foresight.yml",
        """
        sources:
          - name: crm
            kind: files
            files:
              - path: accounts.csv
                kind: account
                id: account
                fields: {name: account, employees: employees}
        """,
    )
    (result,), output = run(engine, config)

    assert result.total("rejected") == 25
    assert output.count("accounts.csv:") == 20
    assert "… and 5 more account rejected" in output


def test_both_built_in_kinds_are_registered() -> None:
    assert {"files", "synthetic"} <= set(SOURCE_KINDS)


def test_synthetic_source_runs_through_the_registry(
    engine: Engine, tmp_path: Path
) -> None:
    pytest.importorskip("integrations.synthetic")
    config = write(
        tmp_path,
        "foresight.yml",
        "sources:\n  - {name: demo, kind: synthetic, accounts: 3, seed: 11}\n",
    )
    (result,), _ = run(engine, config)

    assert result.error is None
    assert result.counts["account"]["new"] == 3


def test_a_terminal_sees_records_counted_as_they_are_read(
    engine: Engine, tmp_path: Path
) -> None:
    config = write(
        tmp_path,
        "foresight.yml",
        "sources:\n  - {name: demo, label: Demo CRM, kind: synthetic, accounts: 3}\n",
    )
    screen, pipe = io.StringIO(), io.StringIO()
    for output, terminal in ((screen, True), (pipe, False)):
        console = Console(file=output, force_terminal=terminal, width=100)
        sync(engine, load_config(config), Clock(), console=console)

    assert re.search(r"Demo CRM\s+\d[\d,]* records read", screen.getvalue())
    assert "records read" not in pipe.getvalue()


def test_a_row_rejected_for_a_bad_value_is_not_taken_for_deleted(
    engine: Engine, tmp_path: Path
) -> None:
    """The export still has the row, with a typo: it stays live (stale), while a
    row really gone from the export is marked deleted."""
    config = write(
        tmp_path,
        "foresight.yml",
        """
        sources:
          - name: crm
            kind: files
            files:
              - path: accounts.csv
                kind: account
                id: id
                fields: {name: name, employees: employees}
        """,
    )
    header = "id,name,employees\n"
    write(tmp_path, "accounts.csv", header + "A-1,Acme,10\nA-2,Beta,5\nA-3,Gamma,7\n")
    run(engine, config)
    write(tmp_path, "accounts.csv", header + "A-1,Acme,ten\nA-2,Beta,6\n")

    (result,), _ = run(engine, config)

    assert result.total("rejected") == 1
    assert result.missing == {"account": 1}
    with engine.connect() as connection:
        rows = connection.execute(
            select(
                Account.source_id, Account.employees, Account.deleted_at.is_(None)
            ).order_by(Account.source_id)
        ).all()
    assert [tuple(r) for r in rows] == [
        ("A-1", 10, True),
        ("A-2", 6, True),
        ("A-3", 7, False),
    ]

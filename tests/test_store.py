"""The store itself: timestamps, schema checks and bulk upserts, on either backend."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal

import pytest
from sqlalchemy import Engine, select

from context.db import SchemaError, check_schema, make_engine
from context.load import Loader
from context.models import (
    Account,
    Activity,
    ConversationTurn,
    Deal,
    DealChange,
    Person,
)
from context.records import Record, Ref, RepRef

PACIFIC = timezone(timedelta(hours=-8))


def test_aware_timestamp_reads_back_same_instant(engine: Engine) -> None:
    reply = datetime(2024, 11, 20, 13, 30, tzinfo=PACIFIC)
    Loader(engine).load(
        [
            Record("account", "crm", "a1", {"name": "Acme"}),
            Record(
                "activity",
                "crm",
                "e1",
                {"kind": "email", "occurred_at": reply},
                {"account": Ref("crm", "a1")},
            ),
        ]
    )
    with engine.connect() as connection:
        stored = connection.scalar(select(Activity.occurred_at))
        cutoff = datetime(2024, 11, 20, 21, 29, tzinfo=UTC)
        later = connection.scalars(
            select(Activity.id).where(Activity.occurred_at > cutoff)
        ).all()
    assert stored == datetime(2024, 11, 20, 21, 30, tzinfo=UTC)
    assert stored.tzinfo is not None
    assert len(later) == 1


def test_naive_timestamp_is_refused(engine: Engine) -> None:
    report = Loader(engine).load([Record("account", "crm", "a1", {"name": "Acme"})])
    assert report.changed() == 1
    with pytest.raises(Exception, match="naive datetime"):
        Loader(engine).load(
            [
                Record(
                    "activity",
                    "crm",
                    "e1",
                    {"kind": "note", "occurred_at": datetime(2024, 1, 1)},
                )
            ]
        )


def test_loading_twice_changes_nothing(engine: Engine) -> None:
    records = [
        Record("account", "crm", "a1", {"name": "Acme Corporation"}),
        Record(
            "person",
            "crm",
            "p1",
            {"name": "Jo", "email": " Jo@Acme.COM "},
            {"account": Ref("crm", "a1")},
        ),
    ]
    first = Loader(engine).load(records)
    second = Loader(engine).load(records)
    assert first.counts[("crm", "person")]["new"] == 1
    assert second.changed() == 0
    assert second.counts[("crm", "account")]["unchanged"] == 1
    with engine.connect() as connection:
        assert connection.scalar(select(Person.email_key)) == "jo@acme.com"
        assert connection.scalar(select(Account.name_key)) == "acme"


def test_unknown_reference_rejects_only_that_record(engine: Engine) -> None:
    report = Loader(engine).load(
        [
            Record("account", "crm", "a1", {"name": "Acme"}),
            Record(
                "deal",
                "crm",
                "d1",
                {"stage": "Won"},
                {"account": Ref("crm", "a1")},
                origin="deals.csv line 2",
            ),
            Record(
                "deal",
                "crm",
                "d2",
                {"stage": "Won"},
                {"account": Ref("crm", "zz")},
                origin="deals.csv line 3",
            ),
        ]
    )
    assert report.counts[("crm", "deal")] == {"new": 1, "rejected": 1}
    assert [str(r) for r in report.rejections] == [
        "deals.csv line 3: account 'zz' is not in source 'crm'; load it first "
        "or add it to the crosswalk"
    ]


def test_deal_change_is_recorded_with_history(engine: Engine) -> None:
    base = {
        "stage": "Engaging",
        "amount": Decimal("100.00"),
        "close_date": date(2024, 12, 1),
    }
    Loader(engine).load([Record("deal", "crm", "d1", base)])
    moved = {**base, "close_date": date(2025, 1, 15)}
    report = Loader(engine).load([Record("deal", "crm", "d1", moved)])
    assert report.counts[("crm", "deal")]["updated"] == 1
    with engine.connect() as connection:
        change = connection.execute(select(DealChange)).one()
        deal = connection.execute(select(Deal)).one()
    assert (change.field, change.old_value, change.new_value) == (
        "close_date",
        "2024-12-01",
        "2025-01-15",
    )
    assert deal.close_date == date(2025, 1, 15)


def test_crosswalk_ties_product_id_to_crm_account(engine: Engine) -> None:
    Loader(engine).load(
        [
            Record(
                "account_alias",
                "xw",
                "product:A-1",
                {
                    "alias_source": "product",
                    "alias_id": "A-1",
                    "target_source": "crm",
                    "target_id": "Acme",
                },
            ),
            Record("account", "crm", "Acme", {"name": "Acme"}),
            Record(
                "account", "product", "A-1", {"name": "Company_0", "industry": "EdTech"}
            ),
        ]
    )
    with engine.connect() as connection:
        rows = connection.execute(select(Account.name, Account.industry)).all()
    assert rows == [("Acme", "EdTech")]


def test_out_of_date_schema_is_refused(tmp_path: object) -> None:
    engine = make_engine(f"sqlite:///{tmp_path}/empty.db")
    with pytest.raises(SchemaError, match="run `foresight db upgrade`"):
        check_schema(engine)


def test_warehouse_values_are_stored_json_safe(engine: Engine) -> None:
    extra = {
        "arr": Decimal("33432.00"),
        "seats": Decimal("14"),
        "ratio": Decimal("0.1234567891"),
        "renews": date(2025, 1, 12),
        "seen": datetime(2024, 11, 20, 13, 30, tzinfo=PACIFIC),
        "nested": [Decimal("1.5"), {"when": date(2024, 1, 2)}],
    }
    report = Loader(engine).load(
        [Record("account", "warehouse", "a1", {"name": "Acme", "extra": extra})]
    )
    assert report.rejections == []
    with engine.connect() as connection:
        stored = connection.scalar(select(Account.extra))
    assert stored == {
        "arr": 33432,
        "seats": 14,
        "ratio": 0.123457,
        "renews": "2025-01-12",
        "seen": "2024-11-20T21:30:00+00:00",
        "nested": [1.5, {"when": "2024-01-02"}],
    }


def test_owner_matched_by_email_case_and_unmatched_reported(engine: Engine) -> None:
    report = Loader(engine).load(
        [
            Record(
                "rep",
                "org",
                "dana",
                {"name": "Dana Reyes", "email": "dana.reyes@example.com "},
            ),
            Record(
                "deal",
                "crm",
                "d1",
                {"stage": "Won"},
                {"owner": RepRef(email="Dana.Reyes@Example.com")},
            ),
            Record(
                "deal",
                "crm",
                "d2",
                {"stage": "Won"},
                {"owner": RepRef(name="Ghost Rep")},
            ),
            Record(
                "deal",
                "crm",
                "d3",
                {"stage": "Lost"},
                {"owner": RepRef(name="Ghost Rep")},
            ),
        ]
    )
    with engine.connect() as connection:
        owners = connection.execute(
            select(Deal.source_id, Deal.owner_rep_id).order_by(Deal.source_id)
        ).all()
    assert [o is not None for _, o in owners] == [True, False, False]
    assert report.counts[("crm", "deal")]["new"] == 3
    assert dict(report.unmatched_reps) == {("crm", "deal", "Ghost Rep"): 2}


def test_overlong_text_is_cut_and_overlong_id_rejected(engine: Engine) -> None:
    report = Loader(engine).load(
        [
            Record("account", "crm", "a1", {"name": "N" * 300, "industry": "I" * 200}),
            Record(
                "account",
                "crm",
                "x" * 256,
                {"name": "Too long an id"},
                origin="accounts.csv line 3",
            ),
        ]
    )
    assert [str(r) for r in report.rejections] == [
        "accounts.csv line 3: id is 256 characters; at most 255 fit"
    ]
    with engine.connect() as connection:
        name, industry = connection.execute(
            select(Account.name, Account.industry)
        ).one()
    assert (len(name), name[-1], len(industry)) == (255, "…", 128)


def test_values_the_database_refuses_reject_only_their_record(engine: Engine) -> None:
    report = Loader(engine).load(
        [
            Record("account", "crm", "ok1", {"name": "Fine One"}),
            Record("account", "crm", "nul", {"name": "Nul\x00Byte"}),
            Record(
                "account",
                "crm",
                "big",
                {"name": "Huge", "employees": 3_000_000_000},
                origin="a.csv line 4",
            ),
            Record(
                "account",
                "crm",
                "rev",
                {"name": "Rich", "revenue": Decimal("1e20")},
                origin="a.csv line 5",
            ),
            Record("account", "crm", "ok2", {"name": "Fine Two"}),
        ]
    )
    assert [str(r) for r in report.rejections] == [
        "a.csv line 4: employees 3000000000 is out of range for a whole-number field",
        "a.csv line 5: revenue 1E+20 is too large: at most 14 digits fit",
    ]
    assert report.counts[("crm", "account")] == {"new": 3, "rejected": 2}
    with engine.connect() as connection:
        names = sorted(connection.scalars(select(Account.name)))
    assert names == ["Fine One", "Fine Two", "NulByte"]


def test_database_refusal_is_isolated_to_the_record(engine: Engine) -> None:
    # No own check catches a turn pointing at a missing conversation row id: the
    # database's foreign key does, and only that record is lost.
    Loader(engine).load([Record("conversation", "calls", "c1", {"title": "Call"})])
    report = Loader(engine).load(
        [
            Record(
                "turn",
                "calls",
                "t1",
                {"position": 0, "text": "hi"},
                {"conversation": Ref("calls", "c1")},
            ),
            Record(
                "turn",
                "calls",
                "t2",
                {"position": 1, "text": "there", "conversation_id": 999_999},
                origin="turns.csv line 3",
            ),
        ]
    )
    assert report.counts[("calls", "turn")] == {"new": 1, "rejected": 1}
    assert report.rejections[0].origin == "turns.csv line 3"
    assert report.rejections[0].reason.startswith("the database refused it: ")


def test_a_transcript_read_again_shorter_retires_the_turns_it_lost(
    engine: Engine,
) -> None:
    def call(*texts: str) -> list[Record]:
        turns = [
            Record(
                "turn",
                "gong",
                f"c1:{i}",
                {"position": i, "text": text},
                {"conversation": Ref("gong", "c1")},
            )
            for i, text in enumerate(texts)
        ]
        return [Record("conversation", "gong", "c1", {"title": "QBR"}), *turns]

    Loader(engine).load(call("Hello", "Pricing?", "Bye"))
    Loader(engine).load(call("Hello", "Pricing? Bye"))
    bad = Loader(engine).load(
        [*call("Hello"), Record("turn", "gong", "c1:9", {"text": "?"}, {})]
    )

    with engine.connect() as connection:
        turns = connection.execute(
            select(ConversationTurn.source_id, ConversationTurn.text)
            .where(ConversationTurn.deleted_at.is_(None))
            .order_by(ConversationTurn.position)
        ).all()
    assert [tuple(t) for t in turns] == [("c1:0", "Hello"), ("c1:1", "Pricing? Bye")]
    assert bad.counts[("gong", "turn")]["rejected"] == 1  # kept the rest

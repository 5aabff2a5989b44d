"""The loader's bulk statements: one insert per chunk, history rows never twice."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from typing import Any

from sqlalchemy import Engine, event, select

from context.load import Loader
from context.models import Deal, DealChange, Meeting, Rep
from context.records import Record, Ref

EASTERN = timezone(timedelta(hours=-5))


def change(key: str, at: datetime, new: str = "Proposal") -> Record:
    fields = {"field": "stage", "old_value": "Discovery", "new_value": new}
    return Record(
        "deal_change",
        "crm",
        key,
        {**fields, "changed_at": at},
        {"deal": Ref("crm", "d1")},
    )


def test_deal_change_history_is_stored_once(engine: Engine) -> None:
    moved = datetime(2024, 3, 1, 15, 0, tzinfo=UTC)
    records = [
        Record("deal", "crm", "d1", {"stage": "Proposal"}),
        change("c1", moved),
        change("c1-again", moved.astimezone(EASTERN)),
        change("c2", moved + timedelta(days=3), "Negotiation"),
    ]
    first = Loader(engine).load(records)
    second = Loader(engine).load(records)

    assert first.counts[("crm", "deal_change")] == {"new": 2, "unchanged": 1}
    assert second.counts[("crm", "deal_change")] == {"unchanged": 3}
    with engine.connect() as connection:
        stored = connection.scalars(select(DealChange.new_value)).all()
    assert sorted(stored) == ["Negotiation", "Proposal"]


def test_missing_values_still_get_column_defaults(engine: Engine) -> None:
    Loader(engine).load(
        [
            Record("rep", "crm", "r1", {"name": "Jo", "role": None}),
            Record("deal", "crm", "d1", {"stage": "Discovery", "status": None}),
            Record("meeting", "cal", "m1", {"title": "Sync", "all_day": None}),
        ]
    )
    with engine.connect() as connection:
        assert connection.scalar(select(Rep.role)) == "rep"
        assert connection.scalar(select(Deal.status)) == "open"
        assert connection.scalar(select(Meeting.all_day)) is False


def test_chunk_with_scattered_nulls_is_one_insert(engine: Engine) -> None:
    people = [
        Record(
            "person",
            "crm",
            f"p{n}",
            {"name": f"Person {n}", "title": None if n % 2 else "CFO"},
            {"account": Ref("crm", "a1")},
        )
        for n in range(50)
    ]
    inserts: list[str] = []

    def seen(*args: Any) -> None:
        statement = args[2]
        if statement.startswith("INSERT INTO people"):
            inserts.append(statement)

    Loader(engine).load([Record("account", "crm", "a1", {"name": "Acme"})])
    event.listen(engine, "before_cursor_execute", seen)
    report = Loader(engine).load(people)
    event.remove(engine, "before_cursor_execute", seen)

    assert report.counts[("crm", "person")] == {"new": 50}
    assert len(inserts) == 1

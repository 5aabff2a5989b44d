"""Joining the same customer across sources: explicit links, e-mail, domain, and
a name only where the source allows it, through the real loader and store."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import Engine, select

from context.account_merge import IDENTITY_SOURCE
from context.clock import Clock
from context.load import Loader
from context.models import (
    Account,
    AccountAlias,
    Activity,
    Deal,
    Invoice,
    MeetingAttendee,
    Person,
    Subscription,
    UsageRecord,
)
from context.records import Match, Record, Ref

CLOCK = Clock(datetime(2026, 12, 1, 12, tzinfo=UTC))


def load(engine: Engine, *records: Record) -> Loader:
    loader = Loader(engine, CLOCK)
    loader.load(list(records))
    return loader


def crm(engine: Engine) -> None:
    load(
        engine,
        Record(
            "account", "crm", "c1", {"name": "Acme Corporation", "domain": "acme.com"}
        ),
        Record(
            "account",
            "crm",
            "c2",
            {"name": "Globex", "domain": "https://www.Globex.io/"},
        ),
        Record("account", "crm", "c3", {"name": "Initech", "industry": "Software"}),
        Record(
            "person",
            "crm",
            "p1",
            {"name": "Ana Ruiz", "email": " Ana.Ruiz@Acme.com "},
            {"account": Ref("crm", "c1")},
        ),
        Record("person", "crm", "p2", {"name": "Sole Trader", "email": "bo@gmail.com"}),
    )


def account_of(engine: Engine, table: Any, source_id: str) -> tuple[str, str]:
    with engine.connect() as connection:
        row = connection.execute(
            select(Account.source, Account.source_id)
            .join(table, table.account_id == Account.id)
            .where(table.source_id == source_id)
        ).one()
    return (row[0], row[1])


def test_an_explicit_link_joins_a_billing_customer_to_its_crm_account(
    engine: Engine,
) -> None:
    crm(engine)

    loader = load(
        engine,
        Record(
            "account",
            "billing",
            "cus_1",
            {"name": "ACME Inc (billing)", "domain": "acme-billing.example"},
            links=(Ref("crm", "c1"),),
        ),
        Record(
            "subscription",
            "billing",
            "sub_1",
            {"plan": "Pro", "mrr": Decimal("990.00")},
            {"account": Ref("billing", "cus_1")},
        ),
    )

    assert account_of(engine, Subscription, "sub_1") == ("crm", "c1")
    with engine.connect() as connection:
        names = connection.scalars(select(Account.name).order_by(Account.id)).all()
        alias = connection.execute(select(AccountAlias)).one()
    assert names == ["Acme Corporation", "Globex", "Initech"]
    assert (alias.source, alias.alias_source, alias.alias_id) == (
        IDENTITY_SOURCE,
        "billing",
        "cus_1",
    )
    assert (alias.target_source, alias.target_id) == ("crm", "c1")
    assert loader.report.counts[("billing", "account")]["rejected"] == 0


def test_a_shared_domain_joins_and_a_second_sync_changes_nothing(
    engine: Engine,
) -> None:
    crm(engine)
    customer = Record(
        "account",
        "billing",
        "cus_2",
        {"name": "Globex LLC", "domain": "globex.io", "industry": "Energy"},
    )

    load(engine, customer)
    again = load(engine, customer)

    with engine.connect() as connection:
        globex = connection.execute(
            select(Account).where(Account.source_id == "c2")
        ).one()
        count = len(connection.scalars(select(Account.id)).all())
    assert (globex.name, globex.domain, globex.industry) == (
        "Globex",
        "globex.io",
        "Energy",
    )
    assert count == 3
    assert again.report.counts[("billing", "account")]["unchanged"] == 1


def test_free_mail_domains_and_equal_names_do_not_join_by_themselves(
    engine: Engine,
) -> None:
    crm(engine)

    load(
        engine,
        Record("account", "billing", "cus_3", {"name": "Bo", "domain": "gmail.com"}),
        Record("account", "other_crm", "x1", {"name": "Initech Ltd."}),
    )

    with engine.connect() as connection:
        sources = connection.execute(
            select(Account.source, Account.source_id).order_by(Account.id)
        ).all()
    assert [tuple(s) for s in sources][-2:] == [
        ("billing", "cus_3"),
        ("other_crm", "x1"),
    ]


def test_a_name_joins_only_where_the_source_allows_and_only_if_unique(
    engine: Engine,
) -> None:
    crm(engine)
    load(engine, Record("account", "crm", "c4", {"name": "Globex"}))

    load(
        engine,
        Record(
            "account", "billing", "cus_4", {"name": "Initech, Inc."}, join_by_name=True
        ),
        Record("account", "billing", "cus_5", {"name": "GLOBEX"}, join_by_name=True),
        Record(
            "subscription", "billing", "s4", {}, {"account": Ref("billing", "cus_4")}
        ),
        Record(
            "subscription", "billing", "s5", {}, {"account": Ref("billing", "cus_5")}
        ),
    )

    assert account_of(engine, Subscription, "s4") == ("crm", "c3")
    # Two CRM accounts are called Globex: a name alone cannot tell which.
    assert account_of(engine, Subscription, "s5") == ("billing", "cus_5")


def test_matches_find_people_and_accounts_by_email_then_domain(
    engine: Engine,
) -> None:
    crm(engine)
    meeting = Record("meeting", "cal", "m1", {"title": "QBR"})
    attendees = [
        Record(
            "attendee",
            "cal",
            f"m1:{email}",
            {"email": email},
            {"meeting": Ref("cal", "m1"), "person": Match(emails=(email,))},
        )
        for email in ("ANA.RUIZ@acme.com", "someone@globex.io", "bo@gmail.com")
    ]
    touches = [
        Record(
            "activity",
            "calls",
            f"t-{email}",
            {"kind": "call"},
            {
                "person": Match(emails=(email,)),
                "account": Match(emails=(email,), domains=(email.split("@")[1],)),
            },
        )
        for email in ("ana.ruiz@acme.com", "new.person@globex.io", "x@gmail.com")
    ]

    load(engine, meeting, *attendees, *touches)

    with engine.connect() as connection:
        people = dict(
            connection.execute(
                select(MeetingAttendee.email, MeetingAttendee.person_id)
            ).all()
        )
        ids = dict(connection.execute(select(Person.source_id, Person.id)).all())
        accounts = dict(connection.execute(select(Account.source_id, Account.id)).all())
        activity = {
            row.source_id: (row.person_id, row.account_id)
            for row in connection.execute(select(Activity))
        }
    assert people == {
        "ANA.RUIZ@acme.com": ids["p1"],
        "someone@globex.io": None,
        "bo@gmail.com": ids["p2"],
    }
    assert activity == {
        "t-ana.ruiz@acme.com": (ids["p1"], accounts["c1"]),
        "t-new.person@globex.io": (None, accounts["c2"]),
        "t-x@gmail.com": (None, None),
    }


GONE = datetime(2026, 11, 1, 12, tzinfo=UTC)


def usage(source_id: str, account: Ref) -> Record:
    fields = {"day": date(2026, 11, 2), "metric": "seats", "value": 3.0}
    return Record("usage", "dwh", source_id, fields, {"account": account})


def test_a_reference_to_a_merged_record_lands_on_its_survivor(engine: Engine) -> None:
    """Salesforce marks X merged into Y; the warehouse still names X."""
    load(
        engine,
        Record("account", "sf", "001X", {"name": "Acme Old"}),
        Record("account", "sf", "001Y", {"name": "Acme"}),
        Record("person", "sf", "003A", {"name": "Ana"}, {"account": Ref("sf", "001X")}),
    )
    load(
        engine,
        Record("account", "sf", "001X", {"deleted_at": GONE, "merged_into": "001Y"}),
        Record("person", "sf", "003B", {"name": "Ana R."}),
        Record("person", "sf", "003A", {"deleted_at": GONE, "merged_into": "003B"}),
    )

    loader = load(
        engine,
        usage("u1", Ref("sf", "001X")),
        Record(
            "activity", "mail", "e1", {"kind": "email"}, {"person": Ref("sf", "003A")}
        ),
    )

    assert loader.report.rejections == []
    assert account_of(engine, UsageRecord, "u1") == ("sf", "001Y")
    with engine.connect() as connection:
        touched = connection.scalar(
            select(Person.source_id)
            .join(Activity, Activity.person_id == Person.id)
            .where(Activity.source_id == "e1")
        )
        old = connection.execute(
            select(Account.name, Account.deleted_at, Account.merged_into).where(
                Account.source_id == "001X"
            )
        ).one()
    assert touched == "003B"
    # The tombstone marked the old row and kept its name (it carried none).
    assert (old.name, old.deleted_at is not None, old.merged_into) == (
        "Acme Old",
        True,
        "001Y",
    )


def test_merges_in_a_row_are_followed_to_the_last_survivor(engine: Engine) -> None:
    def alias(old: str, new: str) -> Record:
        fields = {
            "alias_source": "hs",
            "alias_id": old,
            "target_source": "hs",
            "target_id": new,
        }
        return Record("account_alias", "hs", f"merged:{old}", fields)

    load(engine, *(Record("account", "hs", k, {"name": f"Acme {k}"}) for k in "ABC"))
    load(engine, alias("A", "B"))
    load(engine, alias("B", "C"))
    load(engine, Record("account", "hs", "B", {"deleted_at": GONE, "merged_into": "C"}))

    loader = load(engine, usage("u2", Ref("hs", "A")))

    assert loader.report.rejections == []
    assert account_of(engine, UsageRecord, "u2") == ("hs", "C")


def test_a_tombstone_for_a_record_never_stored_adds_nothing(engine: Engine) -> None:
    loader = load(
        engine, Record("deal", "crm", "d-9", {"deleted_at": GONE, "merged_into": "d-1"})
    )

    assert loader.report.counts[("crm", "deal")] == {"unchanged": 1}
    with engine.connect() as connection:
        assert connection.scalars(select(Deal.id)).all() == []


def test_names_in_other_scripts_are_told_apart(engine: Engine) -> None:
    load(
        engine,
        Record("account", "crm", "ru", {"name": "Газпром"}),
        Record("account", "crm", "jp", {"name": "ソニー株式会社"}),
    )
    load(
        engine,
        Record("account", "billing", "b1", {"name": "Яндекс"}, join_by_name=True),
        Record(
            "account", "billing", "b2", {"name": "株式会社トヨタ"}, join_by_name=True
        ),
        Record("account", "billing", "b3", {"name": "ГАЗПРОМ"}, join_by_name=True),
    )

    with engine.connect() as connection:
        stored = connection.execute(
            select(Account.source_id, Account.name_key).order_by(Account.id)
        ).all()
    assert [tuple(row) for row in stored] == [
        ("ru", "газпром"),
        ("jp", "ソニー株式会社"),
        ("b1", "яндекс"),
        ("b2", "株式会社トヨタ"),
    ]  # b3 joined ru by its name


@pytest.mark.parametrize(
    ("stored", "given"),
    [
        ("acme.com", "https://www.ACME.com./"),
        ("acme.com", "https://acme.com?utm_source=x#top"),
        ("bücher.de", "xn--bcher-kva.de"),
        ("xn--bcher-kva.de", "https://www.Bücher.de/shop"),
    ],
)
def test_one_domain_however_written_joins(
    engine: Engine, stored: str, given: str
) -> None:
    load(engine, Record("account", "crm", "c1", {"name": "One", "domain": stored}))
    load(engine, Record("account", "billing", "b1", {"name": "Two", "domain": given}))

    with engine.connect() as connection:
        assert connection.scalars(select(Account.source_id)).all() == ["c1"]


def test_a_lone_surrogate_is_replaced_and_the_chunk_loads(engine: Engine) -> None:
    loader = load(
        engine,
        Record("account", "crm", "a", {"name": "Alpha"}),
        Record("account", "crm", "b", {"name": "Bravo \ud83d"}),
        Record("account", "crm", "c", {"name": "Charlie"}),
    )

    assert loader.report.counts[("crm", "account")] == {"new": 3}
    with engine.connect() as connection:
        names = connection.scalars(select(Account.name).order_by(Account.id)).all()
    assert names == ["Alpha", "Bravo ?", "Charlie"]


def billing(**fields: object) -> Record:
    values = {"name": "ACME INC (billing)", "domain": "acme.com", "secondary": True}
    return Record("account", "billing", "cus_1", values | fields)


def test_a_crm_account_arriving_after_billing_takes_it_over(engine: Engine) -> None:
    """Stripe synced before the CRM: the CRM account survives with its own values
    and later edits, and the billing customer's rows move onto it."""
    load(
        engine,
        billing(),
        Record(
            "subscription", "billing", "sub_1", {}, {"account": Ref("billing", "cus_1")}
        ),
    )
    crm = {"name": "Acme Corporation", "domain": "acme.com", "industry": "Software"}
    load(engine, Record("account", "crm", "c1", crm))
    load(engine, Record("account", "crm", "c1", crm | {"industry": "Hardware"}))
    again = load(
        engine,
        billing(employees=120),
        usage("u1", Ref("billing", "cus_1")),
    )

    with engine.connect() as connection:
        live = connection.execute(
            select(
                Account.source, Account.name, Account.industry, Account.employees
            ).where(Account.deleted_at.is_(None))
        ).all()
    assert [tuple(row) for row in live] == [
        ("crm", "Acme Corporation", "Hardware", 120)
    ]
    assert account_of(engine, Subscription, "sub_1") == ("crm", "c1")
    assert account_of(engine, UsageRecord, "u1") == ("crm", "c1")
    assert again.report.counts[("billing", "account")] == {"updated": 1}


def test_a_link_to_a_crm_account_not_stored_yet_is_kept_for_it(engine: Engine) -> None:
    linked = billing(domain=None)
    linked.links = (Ref("crm", "c9"),)
    load(
        engine,
        linked,
        Record(
            "invoice",
            "billing",
            "in_1",
            {"status": "open"},
            {"account": Ref("billing", "cus_1")},
        ),
    )

    load(engine, Record("account", "crm", "c9", {"name": "Acme Corporation"}))

    assert account_of(engine, Invoice, "in_1") == ("crm", "c9")
    with engine.connect() as connection:
        live = connection.scalars(
            select(Account.source_id).where(Account.deleted_at.is_(None))
        ).all()
    assert live == ["c9"]


def test_a_crm_account_never_joins_a_billing_one_by_name(engine: Engine) -> None:
    load(engine, billing(domain=None, name="Initech"))
    load(engine, Record("account", "crm", "c3", {"name": "Initech"}))

    with engine.connect() as connection:
        live = connection.scalars(
            select(Account.source_id)
            .where(Account.deleted_at.is_(None))
            .order_by(Account.id)
        ).all()
    assert live == ["cus_1", "c3"]

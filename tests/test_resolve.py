"""Sloppy names find the right account, on either backend."""

from __future__ import annotations

import pytest
from sqlalchemy import Engine

from context.db import session_factory
from context.load import Loader
from context.records import Record
from context.resolve import resolve_account

ACCOUNTS = [
    ("Acme Corporation", "acme.com"),
    ("Betatech", None),
    ("Betasoloin", None),
    ("Café Société", "cafesociete.fr"),
    ("O'Malley Freight & Co", None),
    ("Green-Plus", None),
    ("Initech", "initech.io"),
    ("Zumgoity", None),
]


@pytest.fixture
def store(engine: Engine) -> Engine:
    Loader(engine).load(
        Record("account", "crm", name, {"name": name, "domain": domain})
        for name, domain in ACCOUNTS
    )
    return engine


def names(store: Engine, query: str) -> tuple[str, list[str]]:
    with session_factory(store)() as session:
        found = resolve_account(session, query)
    return found.status, [c.name for c in found.candidates]


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("Acme Corporation", "Acme Corporation"),
        ("ACME", "Acme Corporation"),
        ("acme corp.", "Acme Corporation"),
        ("acme.com", "Acme Corporation"),
        ("https://www.acme.com/pricing", "Acme Corporation"),
        ("cafe societe", "Café Société"),
        ("omalley freight", "O'Malley Freight & Co"),
        ("O'Malley", "O'Malley Freight & Co"),
        ("green plus", "Green-Plus"),
        ("betatec", "Betatech"),
        ("Betatehc", "Betatech"),
        ("Intech", "Initech"),
        ("initech.com", "Initech"),
        ("acmecorp", "Acme Corporation"),
        ("acmecorporation.com", "Acme Corporation"),
    ],
)
def test_one_clear_match(store: Engine, query: str, expected: str) -> None:
    assert names(store, query) == ("one", [expected])


def test_shared_prefix_offers_a_choice(store: Engine) -> None:
    assert names(store, "beta") == ("several", ["Betatech", "Betasoloin"])


def test_nothing_close_names_the_nearest(store: Engine) -> None:
    status, nearest = names(store, "Quixotic Holdings")
    assert status == "none"
    assert 1 <= len(nearest) <= 3


def test_blank_query_finds_nothing(store: Engine) -> None:
    assert names(store, "  ...  ") == ("none", [])


def test_new_account_is_found_after_a_sync(store: Engine) -> None:
    assert names(store, "Umbrella Corportion")[0] == "none"
    Loader(store).load(
        [Record("account", "crm", "u", {"name": "Umbrella Corporation"})]
    )
    assert names(store, "Umbrella Corportion") == ("one", ["Umbrella Corporation"])


def test_same_name_in_two_sources_says_where_each_is_from(store: Engine) -> None:
    Loader(store).load(
        [Record("account", "sf", "001A", {"name": "Betatech", "location": "Kenya"})]
    )
    with session_factory(store)() as session:
        found = resolve_account(session, "betatech")
    assert found.status == "several"
    assert sorted((c.name, c.source, c.place) for c in found.candidates) == [
        ("Betatech", "crm", ""),
        ("Betatech", "sf", "Kenya"),
    ]

"""Finding the same account or person across sources.

Each system names a customer its own way: the CRM by its id, Stripe by a customer
id (with the CRM id, at best, in its metadata), the calendar and the call recorder
only by e-mail addresses. The store keeps one account per customer, so records are
joined by what identifies them anywhere, strongest first: an explicit id, then an
e-mail address, then the web domain, and the exact normalised name only as the
last resort (two firms can share a name; only a unique match counts).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from context.models import Account, Person
from context.names import domain_of, email_key, name_key
from context.records import Match

# Mail providers: a shared address domain says nothing about the employer.
FREE_MAIL = frozenset(
    {
        "aol.com",
        "fastmail.com",
        "gmail.com",
        "gmx.com",
        "gmx.de",
        "googlemail.com",
        "hey.com",
        "hotmail.com",
        "icloud.com",
        "live.com",
        "mac.com",
        "mail.com",
        "me.com",
        "msn.com",
        "outlook.com",
        "proton.me",
        "protonmail.com",
        "qq.com",
        "yahoo.com",
        "yandex.ru",
        "zoho.com",
    }
)
BATCH = 500


def company_domain(text: str | None) -> str | None:
    """The domain of a site or an address, unless it is a mail provider's."""
    domain = domain_of(text)
    return None if domain is None or domain in FREE_MAIL else domain


def resolve_matches(
    session: Session, name: str, matches: Iterable[Match]
) -> dict[Match, int | None]:
    """Row ids for ``Match`` references of ``name`` (``account`` or ``person``)."""
    matches = set(matches)
    emails = {k for m in matches for e in m.emails if (k := email_key(e))}
    people = _people_by_email(session, emails)
    if name == "person":
        return {m: _first(people, m.emails, 0) for m in matches}

    domains = {d for m in matches for x in m.domains if (d := company_domain(x))}
    names = {k for m in matches for n in m.names if (k := name_key(n))}
    by_domain = accounts_by_domain(session, domains)
    by_name = accounts_by_name(session, names)
    found: dict[Match, int | None] = {}
    for match in matches:
        found[match] = (
            _first(people, match.emails, 1)
            or _first_of(by_domain, (company_domain(d) for d in match.domains))
            or _first_of(by_name, (name_key(n) for n in match.names))
        )
    return found


def accounts_by_domain(
    session: Session,
    domains: set[str],
    exclude_source: str | None = None,
    primary_only: bool = False,
) -> dict[str, int]:
    """The oldest live account for each domain (the one others were merged into)."""
    found: dict[str, int] = {}
    for part in _batches(sorted(domains)):
        query = (
            select(Account.domain, Account.id)
            .where(
                Account.domain.in_(part),
                Account.deleted_at.is_(None),
                Account.merged_into.is_(None),
            )
            .order_by(Account.id)
        )
        if exclude_source is not None:
            query = query.where(Account.source != exclude_source)
        if primary_only:
            query = query.where(Account.secondary.is_(False))
        for domain, account_id in session.execute(query):
            found.setdefault(str(domain), account_id)
    return found


def accounts_by_name(
    session: Session,
    keys: set[str],
    exclude_source: str | None = None,
    primary_only: bool = False,
) -> dict[str, int]:
    """The live account with each name key, where exactly one has it."""
    hits: dict[str, set[int]] = defaultdict(set)
    for part in _batches(sorted(keys)):
        query = select(Account.name_key, Account.id).where(
            Account.name_key.in_(part),
            Account.deleted_at.is_(None),
            Account.merged_into.is_(None),
        )
        if exclude_source is not None:
            query = query.where(Account.source != exclude_source)
        if primary_only:
            query = query.where(Account.secondary.is_(False))
        for key, account_id in session.execute(query):
            hits[key].add(account_id)
    return {key: ids.pop() for key, ids in hits.items() if len(ids) == 1}


def _people_by_email(
    session: Session, emails: set[str]
) -> dict[str, tuple[int, int | None]]:
    """(person id, account id) per e-mail key; a person with an account first."""
    found: dict[str, tuple[int, int | None]] = {}
    for part in _batches(sorted(emails)):
        query = (
            select(Person.email_key, Person.id, Person.account_id)
            .where(
                Person.email_key.in_(part),
                Person.deleted_at.is_(None),
                Person.merged_into.is_(None),
            )
            .order_by(Person.account_id.is_(None), Person.id)
        )
        for key, person_id, account_id in session.execute(query):
            found.setdefault(str(key), (person_id, account_id))
    return found


def _first(
    people: dict[str, tuple[int, int | None]], emails: Iterable[str], slot: int
) -> int | None:
    for email in emails:
        hit = people.get(email_key(email) or "")
        if hit is not None and hit[slot] is not None:
            return hit[slot]
    return None


def _first_of(found: dict[str, int], keys: Iterable[str | None]) -> int | None:
    for key in keys:
        if key and key in found:
            return found[key]
    return None


def _batches(items: list[Any]) -> Iterable[list[Any]]:
    for start in range(0, len(items), BATCH):
        yield items[start : start + BATCH]

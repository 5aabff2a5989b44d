"""Finding the account a rep means from what they typed.

Reps type sloppy names: wrong case, no accents, punctuation, typos, a domain, the
first word only. Indexed lookups go first (domain, exact key, key prefix); only what
they leave unresolved is fuzzed, against a per-process list of names that is re-read
whenever the accounts table changes, so every replica answers the same.

Accounts their source deleted or merged away are kept for the rows that point at
them but never offered: a merge's survivor normally carries the same name, so a
query for the old name still finds it.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, replace
from typing import Literal

from rapidfuzz import fuzz, process
from sqlalchemy import ColumnElement, Engine, func, select
from sqlalchemy.orm import Session

from context.models import Account
from context.names import LEGAL_SUFFIXES, domain_of, name_key, name_words

Status = Literal["one", "several", "none"]

SURE = 85.0  # a fuzzy score this high, clearly ahead of the next, is the account
CLOSE = 72.0  # scores this high are worth offering as choices
AHEAD = 8.0  # how far the best must lead the second to be taken without asking
PREFIX_LIMIT = 25
# Legal suffixes long enough to strip when typed without a space ("acmecorp").
GLUED_SUFFIXES = ("corporation", "incorporated", "company", "limited", "corp", "gmbh")
# Accounts still live at their source: the only ones worth offering.
SHOWN = Account.deleted_at.is_(None) & Account.merged_into.is_(None)


@dataclass(frozen=True)
class Candidate:
    account_id: int
    name: str
    score: float
    why: str  # domain, exact, prefix or fuzzy
    source: str = ""  # where the account came from, to tell same names apart
    place: str = ""  # its domain or location, likewise


@dataclass(frozen=True)
class Resolution:
    query: str
    status: Status
    candidates: tuple[Candidate, ...]
    total: int = 0  # how many matched, when more than the candidates shown

    @property
    def account_id(self) -> int | None:
        return self.candidates[0].account_id if self.status == "one" else None


def resolve_account(session: Session, query: str, limit: int = 5) -> Resolution:
    """One clear match, several close ones, or none with the nearest names."""
    found = _resolve(session, query, limit)
    if found.status != "several":
        return found
    return replace(found, candidates=_described(session, found.candidates))


def _described(
    session: Session, candidates: tuple[Candidate, ...]
) -> tuple[Candidate, ...]:
    """Add each choice's source and domain or location, in one query."""
    rows = session.execute(
        select(Account.id, Account.source, Account.domain, Account.location).where(
            Account.id.in_([c.account_id for c in candidates])
        )
    )
    about = {
        i: (source, domain or location or "") for i, source, domain, location in rows
    }
    return tuple(
        replace(c, source=about[c.account_id][0], place=about[c.account_id][1])
        if c.account_id in about
        else c
        for c in candidates
    )


def _resolve(session: Session, query: str, limit: int) -> Resolution:
    text = " ".join(query.split())
    domain = domain_of(text) if "." in text or "@" in text else None
    if domain:
        hits = _by_domain(session, domain)
        if hits:
            return _decide(text, hits, limit)
        text = domain.split(".")[0]

    words = _query_words(text)
    key = "".join(words)
    if not key:
        return Resolution(query, "none", ())
    for probe in _keys(key):
        exact = _named(session, Account.name_key == probe, "exact", 100.0)
        if exact:
            return _decide(query, exact, limit)
    for probe in _keys(key):
        prefixed = _by_prefix(session, probe)
        if prefixed:
            return _decide(query, prefixed, limit)
    return _fuzzy(session, query, words, limit)


def _keys(key: str) -> list[str]:
    """The key, and the key without a legal suffix run into it ("acmecorp")."""
    keys = [key]
    for suffix in GLUED_SUFFIXES:
        if key.endswith(suffix) and len(key) - len(suffix) >= 3:
            keys.append(key[: -len(suffix)])
            break
    return keys


def _decide(query: str, hits: list[Candidate], limit: int) -> Resolution:
    if len(hits) == 1:
        return Resolution(query, "one", tuple(hits), 1)
    ranked = sorted(hits, key=lambda c: (-c.score, len(c.name), c.name))
    return Resolution(query, "several", tuple(ranked[:limit]), len(hits))


def _named(
    session: Session, where: ColumnElement[bool], why: str, score: float
) -> list[Candidate]:
    rows = session.execute(
        select(Account.id, Account.name).where(where, SHOWN).limit(PREFIX_LIMIT)
    )
    return [Candidate(i, n, score, why) for i, n in rows]


def _by_domain(session: Session, domain: str) -> list[Candidate]:
    return _named(session, Account.domain == domain, "domain", 100.0)


def _by_prefix(session: Session, key: str) -> list[Candidate]:
    # A range on the indexed key instead of LIKE: SQLite's LIKE ignores the index.
    where = (Account.name_key > key) & (Account.name_key < key + "\uffff")
    hits = _named(session, where, "prefix", 0.0)
    return [
        Candidate(c.account_id, c.name, 100.0 * len(key) / len(name_key(c.name)), c.why)
        for c in hits
    ]


def _query_words(text: str) -> list[str]:
    """Name words of the query; a misspelt legal suffix ("Corportion") goes too."""
    words = name_words(text)
    while len(words) > 1 and len(words[-1]) >= 5 and _like_suffix(words[-1]):
        words.pop()
    return words


def _like_suffix(word: str) -> bool:
    long_suffixes = (s for s in LEGAL_SUFFIXES if len(s) >= 5)
    return any(fuzz.ratio(word, s) >= 85 for s in long_suffixes)


def _fuzzy(session: Session, query: str, words: list[str], limit: int) -> Resolution:
    names = _NAMES.get(session)
    key, folded = "".join(words), " ".join(words)
    scores: dict[int, float] = {}
    for choices, probe in ((names.keys, key), (names.folded, folded)):
        for _, score, index in process.extract(
            probe, choices, scorer=fuzz.ratio, limit=limit * 2
        ):
            scores[index] = max(scores.get(index, 0.0), float(score))
    ranked = sorted(scores.items(), key=lambda item: -item[1])
    found = [
        Candidate(names.ids[i], names.names[i], round(s, 1), "fuzzy") for i, s in ranked
    ]
    if not found:
        return Resolution(query, "none", ())
    best = found[0].score
    runner_up = found[1].score if len(found) > 1 else 0.0
    if best >= SURE and best - runner_up >= AHEAD:
        return Resolution(query, "one", (found[0],))
    close = [c for c in found if c.score >= CLOSE]
    if close:
        return Resolution(query, "several", tuple(close[:limit]))
    return Resolution(query, "none", tuple(found[:3]))


@dataclass(frozen=True)
class _NameList:
    signature: tuple[object, ...]
    ids: list[int]
    names: list[str]
    keys: list[str]
    folded: list[str]


class _NameCache:
    """All shown account names, per engine, re-read when the accounts table changes.

    The signature counts deleted and merged rows too: marking an account deleted
    leaves the row count alone, and two updates may share one ``updated_at``.
    """

    def __init__(self) -> None:
        self._lists: dict[str, _NameList] = {}
        self._lock = threading.Lock()

    def get(self, session: Session) -> _NameList:
        bind = session.get_bind()
        where = str(bind.url) if isinstance(bind, Engine) else str(bind.engine.url)
        signature = tuple(
            session.execute(
                select(
                    func.count(Account.id),
                    func.count(Account.deleted_at),
                    func.count(Account.merged_into),
                    func.max(Account.updated_at),
                )
            ).one()
        )
        cached = self._lists.get(where)
        if cached is not None and cached.signature == signature:
            return cached
        rows = session.execute(
            select(Account.id, Account.name, Account.name_key).where(SHOWN)
        ).all()
        fresh = _NameList(
            signature=signature,
            ids=[r[0] for r in rows],
            names=[r[1] for r in rows],
            keys=[r[2] for r in rows],
            folded=[" ".join(name_words(r[1])) for r in rows],
        )
        with self._lock:
            self._lists[where] = fresh
        return fresh


_NAMES = _NameCache()

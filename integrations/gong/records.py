"""Gong users and calls as store records: reps, conversations, turns and touches.

Gong knows a call's parties by e-mail address, not by CRM id, so a call points at
its account with a ``Match`` on the external parties' addresses and domains, and
each external party with an address becomes a "call" activity matched to that
person. Parties are ours when Gong marks them internal, when they are Gong users,
or when their domain is one of the config's ``internal_domains``.

Times arrive as ISO text with an offset (``2026-03-02T09:30:00-08:00``), sometimes
as epochs; durations in seconds, as numbers or strings. A call that cannot be read
(no id, an unreadable start or duration) becomes a ``Rejection`` naming the call;
the rest still load.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal
from typing import Any
from zoneinfo import ZoneInfo

from context.records import AnyRef, Match, Record, Ref, Rejection, RepRef
from integrations.files.values import BadValue, read_datetime, read_decimal, read_int
from integrations.vendor_values import Malformed

UTC_ZONE = ZoneInfo("UTC")
TITLE_LIMIT = 500  # the store's String(500) for conversation titles and subjects


@dataclass(frozen=True)
class Org:
    """Who is on our side of a call: Gong's users and our own e-mail domains."""

    users: Mapping[str, Mapping[str, Any]]
    internal_domains: frozenset[str] = frozenset()

    def is_internal(self, party: Mapping[str, Any]) -> bool:
        if str(party.get("affiliation") or "").lower() == "internal":
            return True
        if _text(party.get("userId")) in self.users:
            return True
        domain = _domain(_text(party.get("emailAddress")))
        return domain is not None and any(
            domain == ours or domain.endswith(f".{ours}")
            for ours in self.internal_domains
        )


@dataclass
class Call:
    """One call's records and what its transcript needs: speaker names by id."""

    call_id: str
    started: datetime | None
    activities: list[Record] = field(default_factory=list)
    conversation: Record | None = None
    speakers: dict[str, str] = field(default_factory=dict)


def user_rep(source: str, user: Mapping[str, Any]) -> Record:
    """A Gong user as one of our reps (``users_as_reps``)."""
    email = _text(user.get("emailAddress"))
    name = _user_name(user) or email or f"Gong user {user.get('id')}"
    return Record(
        "rep",
        source,
        str(user.get("id")),
        {"name": name, "email": email, "role": "rep"},
        origin=f"user {user.get('id')}",
    )


def call(source: str, raw: Any, org: Org) -> Call | Rejection:
    """A call from ``/v2/calls/extensive`` as its conversation and touches."""
    meta = raw.get("metaData") if isinstance(raw, dict) else None
    call_id = _text(meta.get("id")) if isinstance(meta, dict) else None
    origin = f"call {call_id or '(no id)'}"
    try:
        if not isinstance(meta, dict):
            raise Malformed("the call has no metaData object")
        if call_id is None:
            raise Malformed("the call has no id")
        parties = raw.get("parties")
        if parties is None:
            parties = []
        if not isinstance(parties, list):
            raise Malformed(f"parties is a {type(parties).__name__}, not a list")
        return _call(source, call_id, meta, raw, parties, org, origin)
    except (Malformed, BadValue) as error:
        return Rejection(source, "conversation", origin, str(error))


def turns(source: str, found: Call, monologues: Any) -> Iterator[Record | Rejection]:
    """A transcript's monologues as turns, in order; one speaker's run is one turn."""
    origin = f"call {found.call_id} transcript"
    if monologues is None:
        return
    if not isinstance(monologues, list):
        reason = f"the transcript is a {type(monologues).__name__}, not a list"
        yield Rejection(source, "turn", origin, reason)
        return
    position = 0
    for monologue in monologues:
        try:
            fields = _turn(monologue, found.speakers)
        except (Malformed, BadValue) as error:
            yield Rejection(source, "turn", f"{origin} turn {position}", str(error))
            continue
        if fields is None:
            continue
        fields["position"] = position
        yield Record(
            "turn",
            source,
            f"{found.call_id}:{position}",
            fields,
            {"conversation": Ref(source, found.call_id)},
            origin=f"{origin} turn {position}",
        )
        position += 1


def _call(
    source: str,
    call_id: str,
    meta: Mapping[str, Any],
    raw: Mapping[str, Any],
    parties: Sequence[Any],
    org: Org,
    origin: str,
) -> Call:
    started = _time(meta.get("started"), "started")
    title = _title(meta.get("title"))
    people = [p for p in parties if isinstance(p, dict)]
    external = [p for p in people if not org.is_internal(p)]
    found = Call(call_id, started, speakers=_speakers(people))
    for party in external:
        touch = _touch(source, call_id, party, started, title, origin)
        if touch is not None:
            found.activities.append(touch)

    fields = {
        "title": title,
        "started_at": started,
        "duration_minutes": _minutes(meta.get("duration")),
        "participants": [n for n in (_party_name(p) for p in people) if n] or None,
        **_content(raw.get("content")),
    }
    refs: dict[str, AnyRef] = {}
    host = _host(meta, people, org)
    if host is not None:
        refs["rep"] = host
    account = _account(external)
    if account is not None:
        refs["account"] = account
    found.conversation = Record(
        "conversation", source, call_id, fields, refs, origin=origin
    )
    return found


def _touch(
    source: str,
    call_id: str,
    party: Mapping[str, Any],
    started: datetime | None,
    title: str | None,
    origin: str,
) -> Record | None:
    """An external party with an address: a "call" touch with that person."""
    email = _text(party.get("emailAddress"))
    domain = _domain(email)
    if email is None or domain is None:
        return None
    party_id = _text(party.get("id")) or email.lower()
    fields = {"kind": "call", "occurred_at": started, "subject": title}
    refs: dict[str, AnyRef] = {
        "person": Match(emails=(email,)),
        "account": Match(emails=(email,), domains=(domain,)),
    }
    return Record(
        "activity",
        source,
        f"{call_id}:{party_id}",
        fields,
        refs,
        origin=f"{origin} party {party_id}",
    )


def _host(
    meta: Mapping[str, Any], people: Sequence[Mapping[str, Any]], org: Org
) -> RepRef | None:
    """The call's primary user (its host), from the users list or its party."""
    host_id = _text(meta.get("primaryUserId"))
    if host_id is None:
        return None
    user = org.users.get(host_id)
    if user is not None:
        email, name = _text(user.get("emailAddress")), _user_name(user)
    else:
        party = next((p for p in people if _text(p.get("userId")) == host_id), {})
        email, name = _text(party.get("emailAddress")), _text(party.get("name"))
    if email is None and name is None:
        return RepRef(name=f"Gong user {host_id}")
    return RepRef(email=email, name=name)


def _account(external: Sequence[Mapping[str, Any]]) -> Match | None:
    emails = _unique(_text(p.get("emailAddress")) for p in external)
    emails = tuple(e for e in emails if _domain(e) is not None)
    domains = _unique(_domain(e) for e in emails)
    if not emails:
        return None
    return Match(emails=emails, domains=domains)


def _turn(monologue: Any, speakers: Mapping[str, str]) -> dict[str, Any] | None:
    if not isinstance(monologue, dict):
        raise Malformed(f"a monologue is a {type(monologue).__name__}, not an object")
    sentences = monologue.get("sentences") or []
    if not isinstance(sentences, list):
        raise Malformed("the monologue's sentences are not a list")
    said = [s for s in sentences if isinstance(s, dict) and _text(s.get("text"))]
    if not said:
        return None
    return {
        "speaker": speakers.get(_text(monologue.get("speakerId")) or ""),
        "text": " ".join(str(_text(s.get("text"))) for s in said),
        "start_ms": read_int(said[0].get("start")),
        "end_ms": read_int(said[-1].get("end")),
    }


def _content(content: Any) -> dict[str, Any]:
    """Gong's AI brief and key points, when the account has them."""
    if not isinstance(content, dict):
        return {}
    points = content.get("keyPoints")
    texts = [
        text
        for text in (_text(p.get("text")) for p in points or [] if isinstance(p, dict))
        if text
    ]
    return {"summary": _text(content.get("brief")), "key_points": texts or None}


def _speakers(people: Sequence[Mapping[str, Any]]) -> dict[str, str]:
    names = {}
    for party in people:
        speaker, name = _text(party.get("speakerId")), _party_name(party)
        if speaker is not None and name is not None:
            names[speaker] = name
    return names


def _minutes(value: Any) -> int | None:
    """Gong's duration in seconds, rounded to whole minutes."""
    try:
        seconds = read_decimal(value)
    except BadValue as error:
        raise Malformed(f"duration: {error}") from None
    if seconds is None:
        return None
    if seconds < 0:
        raise Malformed(f"duration: {value!r} seconds is negative")
    minutes = (seconds / 60).quantize(Decimal(1), rounding=ROUND_HALF_UP)
    return int(minutes)


def _time(value: Any, name: str) -> datetime | None:
    try:
        return read_datetime(value, UTC_ZONE)
    except BadValue as error:
        raise Malformed(f"{name}: {error}") from None


def _title(value: Any) -> str | None:
    title = _text(value)
    if title is not None and len(title) > TITLE_LIMIT:
        raise Malformed(
            f"the title is {len(title)} characters long; at most {TITLE_LIMIT} fit"
        )
    return title


def _party_name(party: Mapping[str, Any]) -> str | None:
    return _text(party.get("name")) or _text(party.get("emailAddress"))


def _user_name(user: Mapping[str, Any]) -> str | None:
    parts = [_text(user.get("firstName")), _text(user.get("lastName"))]
    return " ".join(p for p in parts if p) or None


def _domain(email: str | None) -> str | None:
    if email is None or "@" not in email:
        return None
    domain = email.rsplit("@", 1)[1].strip().lower()
    return domain or None


def _unique(values: Iterator[str | None]) -> tuple[str, ...]:
    seen: dict[str, None] = {}
    for value in values:
        if value is not None:
            seen.setdefault(value, None)
    return tuple(seen)


def _text(value: Any) -> str | None:
    if value is None or isinstance(value, dict | list):
        return None
    text = str(value).strip()
    return text or None

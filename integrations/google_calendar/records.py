"""Google Calendar events as store records: a meeting and its attendees.

A meeting's id is Google's event id, not the iCalUID. The same event in two reps'
calendars has the same event id (Google's own events share it; an invite from
another system gets an id that encodes its iCalUID, ``_`` and base32hex), so it is
one meeting. The iCalUID would merge every instance of a recurring series
(``singleEvents`` expands them and all keep the series' iCalUID), and a deleted
event is only guaranteed to carry its id.

Times come as ``dateTime`` with an offset, or, for all-day events, a bare
``date`` (CASES B29): that is the day's midnight in the event's (else the
calendar's) time zone, and the end date is exclusive. Both are stored in UTC.

Cancellations. Each rep's calendar holds its own copy of a shared event, and a
copy comes back ``cancelled`` both when the event was called off and when only
that rep removed it (deleted or declined and deleted an invite). So a cancelled
copy is held until the sync has read every calendar (``settle``), and then:

- the organiser's own copy, when the organiser is one of the calendars read, is
  the event itself: cancelled there, the meeting is marked deleted (whatever a
  rep's not yet updated copy says);
- otherwise a live copy seen in the same sync wins, whichever calendar came
  first: the meeting stays and each calendar whose copy was cancelled loses only
  its owner's attendee row (marked deleted);
- with no live copy, the meeting is marked deleted only when every one of our
  calendars that holds the event came back cancelled in this sync. Holding it:
  the calendars that returned it, the organiser when it is one of our calendars,
  and our calendars among the invitees of the cancelled copies, except those who
  declined (removing an invite declines it). One of these that did not return
  the event in this sync is taken to hold it still (a sync token returns only
  what changed), so the meeting stays and only the cancelled calendars' owners
  are removed. An external organiser who calls the meeting off cancels every
  rep's copy at once: all of them come back cancelled and the meeting is marked
  deleted.

Google guarantees only the id on a cancelled event. A bare-id copy names no
organiser and no invitees, so only the calendars that returned it count: with
no live copy in the same sync the meeting is marked deleted. A rep removed from
a meeting comes back, with the response Google lists, when a later change to the
event lists them again.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from context.records import AnyRef, Match, Record, Ref, Rejection, RepRef
from integrations.files.values import BadValue, read_datetime
from integrations.vendor_values import Malformed

logger = logging.getLogger(__name__)

UTC_ZONE = ZoneInfo("UTC")
# Calendars that are not people: rooms and equipment, shared and holiday calendars.
NOT_PEOPLE = (
    "resource.calendar.google.com",
    "group.calendar.google.com",
    "group.v.calendar.google.com",
    "import.calendar.google.com",
)
# Event types that are not meetings (a rep's office/home day, blocked focus time).
NOT_MEETINGS = frozenset({"workingLocation", "focusTime"})


@dataclass(frozen=True)
class Directory:
    """Who is one of us: the calendars read (reps, in config order) and our
    company's domains, subdomains included; both as the settings normalise them
    (``address``, ``domain``)."""

    calendars: tuple[str, ...]
    domains: frozenset[str]

    @classmethod
    def of(cls, calendars: Sequence[str], domains: Sequence[str]) -> Directory:
        """Our domains are the configured ones plus those of the reps' calendars."""
        own = {_domain(c) for c in calendars if not _is_room(c)} - {""}
        return cls(tuple(calendars), frozenset(domains) | own)

    def is_internal(self, email: str) -> bool:
        domain = _domain(email)
        return any(domain == d or domain.endswith(f".{d}") for d in self.domains)

    def is_external(self, email: str) -> bool:
        return (
            bool(_domain(email)) and not _is_room(email) and not self.is_internal(email)
        )


@dataclass(frozen=True)
class Cancelled:
    """One calendar's cancelled copy of an event, held until every calendar of
    the sync is read (``settle``)."""

    calendar: str
    organizer: str | None  # lower-cased
    invited: frozenset[str]  # invitees who did not decline, lower-cased
    updated: datetime | None
    origin: str
    mark_deleted: bool  # the calendar was read before: there may be rows to mark


@dataclass
class Converted:
    """What one event becomes: a meeting (or its rejection) and attendees, or a
    cancelled copy to settle; nothing for an event that is not a meeting."""

    meeting: Record | Rejection | None = None
    attendees: list[Record | Rejection] = field(default_factory=list)
    cancelled: Cancelled | None = None


def event(
    source: str,
    raw: Any,
    calendar: str,
    zone: str | None,
    directory: Directory,
    mark_deleted: bool,
) -> Converted:
    """The records of one listed event of ``calendar`` (whose time zone is ``zone``).

    ``mark_deleted``: the calendar was read before, so a cancelled copy may mark
    stored rows deleted (on a first read there is nothing stored to mark).
    """
    event_id = raw.get("id") if isinstance(raw, dict) else None
    origin = f"event {event_id if event_id else '(no id)'} in {calendar}"
    try:
        if not isinstance(raw, dict):
            raise Malformed(f"expected an object, got {type(raw).__name__}")
        if not isinstance(event_id, str) or not event_id:
            raise Malformed("the event has no id")
        if raw.get("eventType") in NOT_MEETINGS:
            return Converted()
        if raw.get("status") == "cancelled":
            return Converted(cancelled=_cancelled(raw, calendar, mark_deleted, origin))
        meeting = _meeting(source, raw, calendar, zone, directory)
    except (Malformed, BadValue) as error:
        return Converted(Rejection(source, "meeting", origin, str(error)))
    meeting.origin = origin
    return Converted(meeting, _attendees(source, raw, event_id, calendar))


def _meeting(
    source: str,
    raw: Mapping[str, Any],
    calendar: str,
    zone: str | None,
    directory: Directory,
) -> Record:
    starts_at, all_day = _moment(raw.get("start"), zone, "start")
    ends_at, _ = _moment(raw.get("end"), zone, "end")
    organizer = _email(raw.get("organizer"))
    fields = {
        "title": _text(raw.get("summary")),
        "starts_at": starts_at,
        "ends_at": ends_at,
        "all_day": all_day,
        "organizer_email": organizer,
        "deleted_at": None,
    }
    refs: dict[str, AnyRef] = {}
    rep = _rep(raw, organizer, calendar, directory)
    if rep is not None:
        refs["rep"] = RepRef(email=rep)
    account = _account(raw, organizer, directory)
    if account is not None:
        refs["account"] = account
    return Record("meeting", source, str(raw["id"]), fields, refs)


def _cancelled(
    raw: Mapping[str, Any], calendar: str, mark_deleted: bool, origin: str
) -> Cancelled:
    """What a cancelled copy tells: who organised it, who else was invited."""
    organizer = _email(raw.get("organizer"))
    listed = raw.get("attendees")
    invited = frozenset(
        email.lower()
        for person in (listed if isinstance(listed, list) else [])
        if isinstance(person, dict)
        and person.get("responseStatus") != "declined"
        and (email := _email(person))
    )
    updated = read_datetime(raw["updated"], UTC_ZONE) if raw.get("updated") else None
    return Cancelled(
        calendar,
        organizer.lower() if organizer else None,
        invited,
        updated,
        origin,
        mark_deleted,
    )


def settle(
    source: str,
    event_id: str,
    copies: Sequence[Cancelled],
    live: bool,
    directory: Directory,
    now: datetime,
) -> tuple[Record | None, list[Record]]:
    """The meeting's deletion mark, or the attendee rows the cancelled copies
    remove, once every calendar of the sync is read (the rule: module docstring).

    ``live``: a copy of the event that is not cancelled was seen in this sync.
    Google guarantees only the id on a cancelled event, so only ``deleted_at`` is
    set: what was stored stays as it was.
    """
    ours = set(directory.calendars)
    cancelled = {c.calendar for c in copies}
    organizer = next((c.organizer for c in copies if c.organizer), None)
    holders = cancelled | (ours & {i for c in copies for i in c.invited})
    if organizer in ours:
        holders.add(organizer)
    if (organizer in ours and organizer in cancelled) or (
        not live and holders <= cancelled
    ):
        if not any(c.mark_deleted for c in copies):
            return None, []
        whens = [c.updated for c in copies if c.updated is not None]
        fields = {"deleted_at": max(whens) if whens else now}
        origin = copies[0].origin
        return Record("meeting", source, event_id, fields, origin=origin), []
    removed = []
    for copy in copies:
        if copy.mark_deleted and copy.calendar != organizer:
            fields = {"deleted_at": copy.updated or now}
            refs: dict[str, AnyRef] = {"meeting": Ref(source, event_id)}
            record_id = _attendee_id(event_id, copy.calendar)
            removed.append(
                Record("attendee", source, record_id, fields, refs, copy.origin)
            )
    return None, removed


def _attendees(
    source: str, raw: Mapping[str, Any], event_id: str, calendar: str
) -> list[Record | Rejection]:
    found: list[Record | Rejection] = []
    listed = raw.get("attendees")
    for index, person in enumerate(listed if isinstance(listed, list) else []):
        email = _email(person)
        origin = f"attendee {email or index + 1} of event {event_id} in {calendar}"
        if email is None:
            reason = "the attendee has no e-mail address"
            found.append(Rejection(source, "attendee", origin, reason))
            continue
        if person.get("resource") is True or _is_room(email):
            continue  # a room or equipment, not a person
        fields = {
            "email": email,
            "name": _text(person.get("displayName")),
            "response": _text(person.get("responseStatus")),
        }
        refs: dict[str, AnyRef] = {
            "meeting": Ref(source, event_id),
            "person": Match(emails=(email,)),
        }
        record_id = _attendee_id(event_id, email)
        found.append(Record("attendee", source, record_id, fields, refs, origin))
    return found


def _attendee_id(event_id: str, email: str) -> str:
    return f"{event_id}/{email.lower()}"


def _rep(
    raw: Mapping[str, Any], organizer: str | None, calendar: str, directory: Directory
) -> str | None:
    """Our organiser; else the first rep (in config order) invited; else the
    calendar's owner. The same answer whichever rep's calendar the event is read
    from, so a meeting shared by two reps does not change hands between syncs."""
    if organizer and directory.is_internal(organizer):
        return organizer
    invited = {e.lower() for e in _emails(raw.get("attendees"))}
    for rep in directory.calendars:
        if rep in invited:
            return rep
    return calendar if directory.is_internal(calendar) else None


def _account(
    raw: Mapping[str, Any], organizer: str | None, directory: Directory
) -> Match | None:
    """The customer: whoever came from outside our domains, rooms left out."""
    people = [
        a
        for a in raw.get("attendees") or []
        if isinstance(a, dict) and a.get("resource") is not True
    ]
    emails = [*_emails(people), *([organizer] if organizer else [])]
    external = sorted({e for e in emails if directory.is_external(e)}, key=str.lower)
    if not external:
        return None
    domains = tuple(sorted({_domain(e) for e in external}))
    return Match(emails=tuple(external), domains=domains)


def _moment(value: Any, zone: str | None, which: str) -> tuple[datetime, bool]:
    """A start or end as an aware UTC time, and whether it is a whole day."""
    if not isinstance(value, dict):
        raise Malformed(f"the event has no {which}")
    local = _zone(value.get("timeZone"), zone)
    if isinstance(value.get("dateTime"), str):
        moment = read_datetime(value["dateTime"], local)
        if moment is None:
            raise Malformed(f"the event's {which} is empty")
        return moment, False
    if isinstance(value.get("date"), str):
        try:
            day = date.fromisoformat(value["date"])
        except ValueError:
            raise Malformed(
                f"cannot read {value['date']!r} as the {which} date"
            ) from None
        return datetime.combine(day, time(), local).astimezone(UTC_ZONE), True
    raise Malformed(f"the event's {which} has neither dateTime nor date")


def _zone(*names: Any) -> ZoneInfo:
    """The first readable zone name: the event's, then the calendar's, else UTC."""
    for name in names:
        if isinstance(name, str) and name:
            try:
                return ZoneInfo(name)
            except (ZoneInfoNotFoundError, ValueError):
                logger.warning("unknown time zone %r in a calendar event", name)
    return UTC_ZONE


def _emails(people: Any) -> list[str]:
    found = [_email(p) for p in people] if isinstance(people, list) else []
    return [e for e in found if e]


def _email(person: Any) -> str | None:
    if not isinstance(person, dict):
        return None
    return _text(person.get("email"))


def _text(value: Any) -> str | None:
    if not isinstance(value, str):
        return None
    return value.strip() or None


def address(value: str) -> str:
    """A configured calendar id as events name it: ``" Ana@OurCo.io "`` is
    ``ana@ourco.io``."""
    return value.strip().lower()


def domain(value: str) -> str:
    """A configured domain as ``Directory`` compares it: ``" @OurCo.io "`` is
    ``ourco.io`` (its subdomains count too)."""
    return value.strip().lower().lstrip("@").strip()


def _domain(email: str) -> str:
    return email.rpartition("@")[2].strip().lower() if "@" in email else ""


def _is_room(email: str) -> bool:
    domain = _domain(email)
    return any(domain == d or domain.endswith(f".{d}") for d in NOT_PEOPLE)

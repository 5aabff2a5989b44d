"""HubSpot engagements (e-mails, meetings, calls, notes, tasks) as ``activity``
records.

Each engagement type is its own CRM object with its own property names; ``TYPES``
says which property holds the subject and the body of each. ``hs_timestamp`` is
when it happened (an e-mail sent, a meeting held, a task due); it comes as an ISO
time or a millisecond epoch (CASES B27), and when it is missing or unreadable the
creation time stands in. Links to companies, contacts and deals come from the
association reads: the first of each becomes the account, person and deal.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from context.records import AnyRef, Record, Ref, Rejection
from integrations.hubspot.bodies import first_line, plain_text
from integrations.hubspot.records import convert
from integrations.vendor_values import moment
from integrations.vendor_values import text as clean_text

logger = logging.getLogger(__name__)

COMMON = ("hs_timestamp", "hs_createdate", "hs_lastmodifieddate", "hubspot_owner_id")


@dataclass(frozen=True)
class EngagementType:
    """Where one engagement type keeps what an activity needs."""

    kind: str
    subject: str | None  # notes have none: their first line stands in
    bodies: tuple[str, ...]  # the first one set wins; `_text` ones are plain text
    extra: tuple[str, ...] = ()

    def properties(self) -> tuple[str, ...]:
        own = (self.subject,) if self.subject else ()
        return COMMON + own + self.bodies + self.extra


TYPES = {
    "emails": EngagementType(
        "email",
        "hs_email_subject",
        ("hs_email_text", "hs_email_html"),
        (
            "hs_email_direction",
            "hs_email_from_email",
            "hs_email_to_email",
            "hs_email_cc_email",
        ),
    ),
    "meetings": EngagementType(
        "meeting",
        "hs_meeting_title",
        ("hs_meeting_body",),
        ("hs_attendee_owner_ids",),
    ),
    "calls": EngagementType(
        "call", "hs_call_title", ("hs_call_body",), ("hs_call_direction",)
    ),
    "notes": EngagementType("note", None, ("hs_note_body",)),
    "tasks": EngagementType("task", "hs_task_subject", ("hs_task_body",)),
}
# INCOMING_EMAIL, EMAIL (sent), FORWARDED_EMAIL; calls say INBOUND or OUTBOUND.
DIRECTIONS = {
    "INCOMING_EMAIL": "inbound",
    "INCOMING": "inbound",
    "INBOUND": "inbound",
    "EMAIL": "outbound",
    "FORWARDED_EMAIL": "outbound",
    "OUTGOING_EMAIL": "outbound",
    "OUTGOING": "outbound",
    "OUTBOUND": "outbound",
}


@dataclass(frozen=True)
class Links:
    """The records an engagement is associated with, by object type, in order."""

    companies: Sequence[str] = ()
    contacts: Sequence[str] = ()
    deals: Sequence[str] = ()


def activity(
    source: str,
    object_type: str,
    raw: Any,
    links: Links,
    owners: Mapping[str, Mapping[str, Any]],
) -> Record | Rejection:
    spec = TYPES[object_type]

    def build(record_id: str, props: Mapping[str, Any]) -> Record:
        where = f"{object_type} {record_id}"
        body = _body(spec, props)
        subject = clean_text(props.get(spec.subject)) if spec.subject else None
        fields = {
            "kind": spec.kind,
            "direction": _direction(props),
            "subject": subject or (None if spec.subject else first_line(body)),
            "body": body,
            "occurred_at": _occurred_at(props, raw, where),
            "participants": _participants(props, owners),
            "deleted_at": None,
            "merged_into": None,
        }
        return Record("activity", source, record_id, fields, _refs(source, links))

    return convert(source, "activity", object_type, raw, build)


def _occurred_at(
    props: Mapping[str, Any], raw: Mapping[str, Any], where: str
) -> datetime | None:
    """``hs_timestamp``; the creation time when it is missing or unreadable (a
    task without a due date, say)."""
    at = moment(props.get("hs_timestamp"), where, "hs_timestamp")
    if at is None:
        created = props.get("hs_createdate") or raw.get("createdAt")
        at = moment(created, where, "hs_createdate")
    return at


def _body(spec: EngagementType, props: Mapping[str, Any]) -> str | None:
    for name in spec.bodies:
        text = plain_text(clean_text(props.get(name)), html=not name.endswith("_text"))
        if text:
            return text
    return None


def _direction(props: Mapping[str, Any]) -> str | None:
    for name in ("hs_email_direction", "hs_call_direction"):
        value = clean_text(props.get(name))
        if value is not None:
            return DIRECTIONS.get(value.upper())
    return None


def _participants(
    props: Mapping[str, Any], owners: Mapping[str, Mapping[str, Any]]
) -> list[str] | None:
    """E-mail addresses of who took part, where HubSpot says: an e-mail's sender
    and recipients, a meeting's attendees from our side. Values list several
    addresses or owner ids separated by ";"."""
    found: list[str] = []
    for name in ("hs_email_from_email", "hs_email_to_email", "hs_email_cc_email"):
        found += _split(props.get(name))
    for owner_id in _split(props.get("hs_attendee_owner_ids")):
        email = clean_text((owners.get(owner_id) or {}).get("email"))
        if email is not None:
            found.append(email)
    unique = list(dict.fromkeys(found))
    return unique or None


def _split(value: Any) -> list[str]:
    text = clean_text(value)
    if text is None:
        return []
    return [part.strip() for part in text.replace(",", ";").split(";") if part.strip()]


def _refs(source: str, links: Links) -> dict[str, AnyRef]:
    refs: dict[str, AnyRef] = {}
    for name, ids in (
        ("account", links.companies),
        ("person", links.contacts),
        ("deal", links.deals),
    ):
        if ids:
            refs[name] = Ref(source, ids[0])
    return refs

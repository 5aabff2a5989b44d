"""Salesforce records as store records: users, accounts, contacts, opportunities,
opportunity field history, tasks and events.

Salesforce sends JSON values typed: numbers as numbers, dates as ``2026-03-08``,
date-times as ``2026-03-05T14:22:10.000+0000``, lookups as 15/18-character ids and
relationship fields as nested objects (``Owner: {"attributes": …, "Email": …}``)
or null. Dates are still read leniently (CASES B27): an unreadable one is logged
and left empty. A record that cannot be read at all (no id, an amount that is not a
number) becomes a ``Rejection`` naming it; the rest still load. Fields we do not
use, ``attributes`` included, are ignored.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from context.records import AnyRef, Record, Ref, Rejection, RepRef
from integrations.files.values import BadValue, read_datetime
from integrations.vendor_values import Malformed
from integrations.vendor_values import day as _day
from integrations.vendor_values import moment as _moment
from integrations.vendor_values import money as _money
from integrations.vendor_values import text as _text
from integrations.vendor_values import whole as _whole

logger = logging.getLogger(__name__)

UTC_ZONE = ZoneInfo("UTC")
# Key prefixes of Salesforce ids: what a polymorphic WhatId / WhoId points at.
ACCOUNT_PREFIX, CONTACT_PREFIX, OPPORTUNITY_PREFIX = "001", "003", "006"
HISTORY_FIELDS = {"StageName": "stage", "Amount": "amount", "CloseDate": "close_date"}
# Task subtypes and types (picklist values) to our activity kinds.
ACTIVITY_KINDS = {
    "email": "email",
    "listemail": "email",
    "call": "call",
    "meeting": "meeting",
}


Builder = Callable[[str, Mapping[str, Any]], Record]


def user(source: str, raw: Any) -> Record | Rejection:
    def build(record_id: str, row: Mapping[str, Any]) -> Record:
        name = _name(row) or _text(row.get("Email"))
        if name is None:
            raise Malformed("the user has neither a name nor an e-mail")
        fields = {"name": name, "email": _text(row.get("Email")), "role": "rep"}
        return Record("rep", source, record_id, fields)

    return convert(source, "rep", "User", raw, build)


def account(source: str, raw: Any) -> Record | Rejection:
    def build(record_id: str, row: Mapping[str, Any]) -> Record:
        name = _text(row.get("Name"))
        if name is None:
            raise Malformed("the account has no name")
        place = [_text(row.get(f"Billing{k}")) for k in ("City", "State", "Country")]
        fields = {
            "name": name,
            "domain": _text(row.get("Website")),
            "industry": _text(row.get("Industry")),
            "employees": _whole(row.get("NumberOfEmployees"), "NumberOfEmployees"),
            "revenue": _money(row.get("AnnualRevenue"), "AnnualRevenue"),
            "location": ", ".join(p for p in place if p) or None,
            "parent_name": _text(_related(row, "Parent").get("Name")),
            **_removal(row, record_id),
        }
        return Record("account", source, record_id, fields, _owner(row))

    return convert(source, "account", "Account", raw, build)


def contact(source: str, raw: Any) -> Record | Rejection:
    def build(record_id: str, row: Mapping[str, Any]) -> Record:
        email = _text(row.get("Email"))
        name = _text(row.get("Name")) or _name(row) or email
        if name is None:
            raise Malformed("the contact has neither a name nor an e-mail")
        fields = {
            "name": name,
            "email": email,
            "title": _text(row.get("Title")),
            **_removal(row, record_id),
        }
        return Record("person", source, record_id, fields, _account(source, row))

    return convert(source, "person", "Contact", raw, build)


def opportunity(source: str, raw: Any) -> Record | Rejection:
    def build(record_id: str, row: Mapping[str, Any]) -> Record:
        where = f"Opportunity {record_id}"
        status = "open"
        if row.get("IsClosed") is True:
            status = "won" if row.get("IsWon") is True else "lost"
        fields = {
            "name": _text(row.get("Name")),
            "stage": _text(row.get("StageName")),
            "status": status,
            "amount": _money(row.get("Amount"), "Amount"),
            "currency": _text(row.get("CurrencyIsoCode")),
            "close_date": _day(row.get("CloseDate"), where, "CloseDate"),
            "created_on": _day(row.get("CreatedDate"), where, "CreatedDate"),
            **_removal(row, record_id),
        }
        refs = {**_owner(row), **_account(source, row)}
        return Record("deal", source, record_id, fields, refs)

    return convert(source, "deal", "Opportunity", raw, build)


def field_change(source: str, raw: Any) -> Record | Rejection:
    """One OpportunityFieldHistory row: a stage, amount or close-date change."""

    def build(record_id: str, row: Mapping[str, Any]) -> Record:
        name = HISTORY_FIELDS.get(str(row.get("Field")))
        deal_id = _text(row.get("OpportunityId"))
        where = f"OpportunityFieldHistory {record_id}"
        changed_at = _moment(row.get("CreatedDate"), where, "CreatedDate")
        if name is None or deal_id is None or changed_at is None:
            raise Malformed("the change lacks its field, opportunity or time")
        fields = {
            "field": name,
            "old_value": _history_value(name, row.get("OldValue")),
            "new_value": _history_value(name, row.get("NewValue")),
            "changed_at": changed_at,
        }
        return Record(
            "deal_change", source, record_id, fields, {"deal": Ref(source, deal_id)}
        )

    return convert(source, "deal_change", "OpportunityFieldHistory", raw, build)


def task(source: str, raw: Any) -> Record | Rejection:
    def build(record_id: str, row: Mapping[str, Any]) -> Record:
        where = f"Task {record_id}"
        due = _day(row.get("ActivityDate"), where, "ActivityDate")
        kind = _activity_kind(row.get("TaskSubtype"), row.get("Type"), "task")
        fields = {
            **_activity(row),
            "kind": kind,
            "occurred_at": (
                _at_midnight(due)
                if due is not None
                else _moment(row.get("CreatedDate"), where, "CreatedDate")
            ),
            **_removal(row, record_id),
        }
        return Record(
            "activity", source, record_id, fields, _activity_refs(source, row)
        )

    return convert(source, "activity", "Task", raw, build)


def event(source: str, raw: Any) -> Record | Rejection:
    def build(record_id: str, row: Mapping[str, Any]) -> Record:
        where = f"Event {record_id}"
        day = _day(row.get("ActivityDate"), where, "ActivityDate")
        start = _moment(
            row.get("ActivityDateTime") or row.get("StartDateTime"), where, "start"
        )
        kind = _activity_kind(row.get("EventSubtype"), row.get("Type"), "meeting")
        fields = {
            **_activity(row),
            "kind": "meeting" if kind == "task" else kind,
            "occurred_at": start or (_at_midnight(day) if day else None),
            **_removal(row, record_id),
        }
        return Record(
            "activity", source, record_id, fields, _activity_refs(source, row)
        )

    return convert(source, "activity", "Event", raw, build)


def convert(
    source: str, kind: str, sobject: str, raw: Any, build: Builder
) -> Record | Rejection:
    """``build``'s record, or a rejection that names the object and its id."""
    record_id = raw.get("Id") if isinstance(raw, dict) else None
    origin = f"{sobject} {record_id if record_id is not None else '(no id)'}"
    try:
        if not isinstance(raw, dict):
            raise Malformed(f"expected an object, got {type(raw).__name__}")
        if not isinstance(record_id, str) or not record_id.strip():
            raise Malformed("the record has no Id")
        record = build(record_id.strip(), raw)
    except (Malformed, BadValue) as error:
        return Rejection(source, kind, origin, str(error), _text(record_id))
    record.origin = origin
    return record


def stamp(raw: Any, field: str = "SystemModstamp") -> datetime | None:
    """When the record last changed, for the cursor; None if it does not say."""
    if not isinstance(raw, dict):
        return None
    try:
        return read_datetime(raw.get(field), UTC_ZONE)
    except BadValue:
        return None


def _removal(row: Mapping[str, Any], record_id: str) -> dict[str, Any]:
    """A record from the recycle bin: when it went, and the survivor of a merge."""
    if row.get("IsDeleted") is not True:
        return {}
    fields: dict[str, Any] = {
        "deleted_at": _moment(
            row.get("SystemModstamp"), f"deleted {record_id}", "SystemModstamp"
        )
    }
    if fields["deleted_at"] is None:
        raise Malformed("the deleted record does not say when it was deleted")
    survivor = _text(row.get("MasterRecordId"))
    if survivor is not None and survivor != record_id:
        fields["merged_into"] = survivor
    return fields


def _activity(row: Mapping[str, Any]) -> dict[str, Any]:
    return {
        "subject": _text(row.get("Subject")),
        "body": _text(row.get("Description")),
    }


def _activity_kind(subtype: Any, type_: Any, default: str) -> str:
    for value in (subtype, type_):
        kind = ACTIVITY_KINDS.get(str(value or "").replace(" ", "").casefold())
        if kind is not None:
            return kind
    return default


def _activity_refs(source: str, row: Mapping[str, Any]) -> dict[str, AnyRef]:
    """``WhatId`` points at an account, an opportunity or anything else; ``WhoId``
    at a contact or a lead (not in the store): only the known kinds are kept."""
    what, who = _text(row.get("WhatId")) or "", _text(row.get("WhoId")) or ""
    refs: dict[str, AnyRef] = {}
    account_id = _text(row.get("AccountId"))
    if what.startswith(ACCOUNT_PREFIX):
        account_id = what
    if account_id is not None:
        refs["account"] = Ref(source, account_id)
    if what.startswith(OPPORTUNITY_PREFIX):
        refs["deal"] = Ref(source, what)
    if who.startswith(CONTACT_PREFIX):
        refs["person"] = Ref(source, who)
    return refs


def _owner(row: Mapping[str, Any]) -> dict[str, AnyRef]:
    owner = _related(row, "Owner")
    email, name = _text(owner.get("Email")), _text(owner.get("Name"))
    if email is None and name is None:
        owner_id = _text(row.get("OwnerId"))
        return {"owner": RepRef(name=f"Salesforce user {owner_id}")} if owner_id else {}
    return {"owner": RepRef(email=email, name=name)}


def _account(source: str, row: Mapping[str, Any]) -> dict[str, AnyRef]:
    account_id = _text(row.get("AccountId"))
    return {} if account_id is None else {"account": Ref(source, account_id)}


def _related(row: Mapping[str, Any], name: str) -> Mapping[str, Any]:
    """A relationship field: a nested object, or null when the lookup is empty."""
    value = row.get(name)
    return value if isinstance(value, dict) else {}


def _name(row: Mapping[str, Any]) -> str | None:
    parts = [_text(row.get("FirstName")), _text(row.get("LastName"))]
    return " ".join(p for p in parts if p) or None


def _history_value(name: str, value: Any) -> str | None:
    """Old and new values as the loader writes its own changes: 15000.00, ISO dates."""
    if value is None:
        return None
    if name == "amount":
        amount = _money(value, "amount")
        return None if amount is None else str(amount)
    if name == "close_date":
        day = _day(value, "OpportunityFieldHistory", "close date")
        return None if day is None else day.isoformat()
    return _text(value)


def _at_midnight(day: date) -> datetime:
    return datetime(day.year, day.month, day.day, tzinfo=UTC_ZONE)

"""HubSpot objects as store records: owners, companies, contacts, deals.

Property values arrive as strings, or null. Dates come as ISO times, bare dates
or, for some properties, millisecond epochs (CASES B27): all are read as aware UTC,
and one unreadable date is logged and left empty rather than failing the record.
A record that cannot be read at all (no id, a non-numeric amount) becomes a
``Rejection`` with its id and the reason; the rest still load.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from typing import Any

from context.records import AnyRef, Record, Ref, Rejection, RepRef
from integrations.files.values import (
    BadValue,
)
from integrations.hubspot.client import Stage
from integrations.vendor_values import Malformed
from integrations.vendor_values import day as _day
from integrations.vendor_values import money as _money
from integrations.vendor_values import text as clean_text
from integrations.vendor_values import whole as _whole

logger = logging.getLogger(__name__)


COMPANY_PROPERTIES = (
    "name",
    "domain",
    "industry",
    "city",
    "state",
    "country",
    "numberofemployees",
    "annualrevenue",
    "hubspot_owner_id",
    "hs_lastmodifieddate",
    "hs_merged_object_ids",
)
CONTACT_PROPERTIES = (
    "firstname",
    "lastname",
    "email",
    "jobtitle",
    "lastmodifieddate",
    "hs_merged_object_ids",
)
DEAL_PROPERTIES = (
    "dealname",
    "amount",
    "deal_currency_code",
    "closedate",
    "createdate",
    "dealstage",
    "pipeline",
    "hubspot_owner_id",
    "hs_lastmodifieddate",
    "hs_merged_object_ids",
)


def owner_rep(source: str, owner: Mapping[str, Any]) -> Record:
    """A HubSpot user as one of our reps (``owners_as_reps``)."""
    name = _owner_name(owner) or str(owner.get("email") or owner.get("id"))
    return Record(
        "rep",
        source,
        str(owner.get("id")),
        {"name": name, "email": owner.get("email"), "role": "rep"},
        origin=f"owners {owner.get('id')}",
    )


def company(
    source: str, raw: Any, owners: Mapping[str, Mapping[str, Any]]
) -> Record | Rejection:
    def build(record_id: str, props: Mapping[str, Any]) -> Record:
        name = clean_text(props.get("name")) or clean_text(props.get("domain"))
        if name is None:
            raise Malformed("the company has neither a name nor a domain")
        place = [clean_text(props.get(k)) for k in ("city", "state", "country")]
        fields: dict[str, Any] = {
            "name": name,
            "domain": clean_text(props.get("domain")),
            "industry": clean_text(props.get("industry")),
            "location": ", ".join(p for p in place if p) or None,
            "employees": _whole(props.get("numberofemployees"), "numberofemployees"),
            "revenue": _money(props.get("annualrevenue")),
        }
        refs = _owner_ref(props, owners)
        return Record("account", source, record_id, fields, refs)

    return convert(source, "account", "companies", raw, build)


def contact(source: str, raw: Any, company_id: str | None) -> Record | Rejection:
    def build(record_id: str, props: Mapping[str, Any]) -> Record:
        first, last = (
            clean_text(props.get("firstname")),
            clean_text(props.get("lastname")),
        )
        email = clean_text(props.get("email"))
        name = " ".join(p for p in (first, last) if p) or email
        if name is None:
            raise Malformed("the contact has neither a name nor an e-mail")
        fields = {
            "name": name,
            "email": email,
            "title": clean_text(props.get("jobtitle")),
        }
        refs: dict[str, AnyRef] = {}
        if company_id is not None:
            refs["account"] = Ref(source, company_id)
        return Record("person", source, record_id, fields, refs)

    return convert(source, "person", "contacts", raw, build)


def deal(
    source: str,
    raw: Any,
    company_id: str | None,
    stages: Mapping[str, Stage],
    owners: Mapping[str, Mapping[str, Any]],
) -> Record | Rejection:
    def build(record_id: str, props: Mapping[str, Any]) -> Record:
        stage_id = clean_text(props.get("dealstage"))
        stage = stages.get(stage_id or "")
        where = f"deals {record_id}"
        fields = {
            "name": clean_text(props.get("dealname")),
            "amount": _money(props.get("amount")),
            "currency": clean_text(props.get("deal_currency_code")),
            "stage": stage.label if stage else stage_id,
            "status": stage.status if stage else "open",
            "close_date": _day(props.get("closedate"), where, "closedate"),
            "created_on": _day(props.get("createdate"), where, "createdate"),
        }
        refs = _owner_ref(props, owners)
        if company_id is not None:
            refs["account"] = Ref(source, company_id)
        return Record("deal", source, record_id, fields, refs)

    return convert(source, "deal", "deals", raw, build)


def convert(
    source: str,
    kind: str,
    object_type: str,
    raw: Any,
    build: Callable[[str, Mapping[str, Any]], Record],
) -> Record | Rejection:
    record_id = raw.get("id") if isinstance(raw, dict) else None
    origin = f"{object_type} {record_id if record_id is not None else '(no id)'}"
    try:
        if not isinstance(raw, dict):
            raise Malformed(f"expected an object, got {type(raw).__name__}")
        if record_id in (None, ""):
            raise Malformed("the object has no id")
        props = raw.get("properties")
        if not isinstance(props, dict):
            raise Malformed("the object has no properties")
        record = build(str(record_id), props)
    except (Malformed, BadValue) as error:
        return Rejection(source, kind, origin, str(error), clean_text(record_id))
    record.origin = origin
    return record


def _owner_ref(
    props: Mapping[str, Any], owners: Mapping[str, Mapping[str, Any]]
) -> dict[str, AnyRef]:
    owner_id = clean_text(props.get("hubspot_owner_id"))
    if owner_id is None:
        return {}
    owner = owners.get(owner_id)
    if owner is None:
        return {"owner": RepRef(name=f"HubSpot owner {owner_id}")}
    return {"owner": RepRef(email=owner.get("email"), name=_owner_name(owner))}


def _owner_name(owner: Mapping[str, Any]) -> str | None:
    parts = [clean_text(owner.get("firstName")), clean_text(owner.get("lastName"))]
    return " ".join(p for p in parts if p) or None

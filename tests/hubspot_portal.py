"""A HubSpot portal stand-in for ``httpx.MockTransport``, filled from the recorded
CRM v3 responses in ``../shared/data/api_shapes`` and answering as HubSpot does:
``after`` paging on listings, search with GTE/LT filters and a ``total``, batch
association reads, batch reads with ``propertiesWithHistory``, archived listings,
401 for a wrong token. Tests change records and inject faults.

Listings asked with ``associations=companies,contacts`` carry each object's
associations inline, as the recorded ones do: ``"associations": {"contacts":
{"results": [{"id": ..., "type": "task_to_contact"}]}}``, only the types that have
some, and no ``associations`` at all when none has. More than ``association_cap``
(HubSpot's 100) of one type come cut off, with a ``paging.next`` of their own.
A record's companies list its primary one typed ``<kind>_to_company`` and any other
``<kind>_to_company_unlabeled``, in id order, as HubSpot sorts them.

Tasks are the recorded ones; HubSpot's e-mails, meetings, calls and notes have the
same envelope (id, properties, createdAt, updatedAt, archived), so they are made
from the first recorded tasks with each type's own property names.
"""

from __future__ import annotations

import copy
import json
from collections import deque
from datetime import datetime
from pathlib import Path
from typing import Any

import httpx

TOKEN = "test-token"
RECORDED = Path("api_shapes/recorded_responses_nango_elv2/hubspot")
STAMPS = {
    "companies": "hs_lastmodifieddate",
    "contacts": "lastmodifieddate",
    "deals": "hs_lastmodifieddate",
    "emails": "hs_lastmodifieddate",
    "meetings": "hs_lastmodifieddate",
    "calls": "hs_lastmodifieddate",
    "notes": "hs_lastmodifieddate",
    "tasks": "hs_lastmodifieddate",
}
RECORDED_TYPES = ("companies", "contacts", "deals", "tasks")
SEARCH_CAP = 10_000
HISTORY_BATCH = 50  # HubSpot refuses more inputs when history is asked for
HISTORY = ("dealstage", "amount", "closedate")
# What each made-up engagement type says, in HubSpot's property names.
SHAPES: dict[str, dict[str, str]] = {
    "emails": {
        "hs_email_subject": "Pricing for {n} seats",
        "hs_email_text": "Hi,\nhere is the quote for {n} seats.\n-- Taylor",
        "hs_email_direction": "EMAIL",
        "hs_email_from_email": "taylor.quinn@example.com",
        "hs_email_to_email": "buyer{n}@testcompany.com",
    },
    "meetings": {
        "hs_meeting_title": "Discovery call {n}",
        "hs_meeting_body": "<p>Agenda:</p><ul><li>Goals</li><li>Timeline</li></ul>",
    },
    "calls": {
        "hs_call_title": "Check-in {n}",
        "hs_call_body": "<div>Left a voicemail</div>",
        "hs_call_direction": "OUTBOUND",
    },
    "notes": {"hs_note_body": "<p>Renewal risk {n}</p><p>Budget is frozen.</p>"},
}
ENGAGEMENTS_EACH = 3
# HubSpot: more than 100 associations of one type come paged (developer changelog,
# "Announcing a change to how v3 CRM APIs return association data").
ASSOCIATION_CAP = 100


def recorded(data: Path, name: str) -> Any:
    return json.loads((data / RECORDED / f"{name}.json").read_text())[0]["response"]


class Portal:
    """Records by type, associations to companies, and a log of every request."""

    def __init__(self, data: Path, page_size: int = 10) -> None:
        self.objects: dict[str, list[dict[str, Any]]] = {
            kind: copy.deepcopy(recorded(data, kind)["results"])
            for kind in RECORDED_TYPES
        }
        for kind, shape in SHAPES.items():
            self.objects[kind] = _shaped(self.objects["tasks"], kind, shape)
        self.owners = recorded(data, "owners")
        self.pipelines = recorded(data, "fetch-pipelines")
        self.archived: dict[str, list[dict[str, Any]]] = {kind: [] for kind in STAMPS}
        # (from type, from id) → its primary company
        self.companies_of: dict[tuple[str, str], str] = {}
        # (from type, from id, to type) → associated ids; for companies, the ones
        # besides the primary
        self.links: dict[tuple[str, str, str], list[str]] = {}
        # (deal id, property) → its values, newest first, as HubSpot lists them
        self.history: dict[tuple[str, str], list[dict[str, Any]]] = {}
        for kind in self.objects:
            for record in self.objects[kind]:
                self._take_associations(kind, record)
        self.page_size = page_size
        self.association_cap = ASSOCIATION_CAP  # inline, per object and type
        self.search_scale = 1  # `total` is the match count times this (a big portal)
        self.ignore_after = False  # answer every page request with the first page
        self.faults: dict[str, deque[httpx.Response | Exception]] = {}
        self.calls: list[tuple[str, str, Any]] = []

    def find(self, kind: str, record_id: str) -> dict[str, Any]:
        return next(r for r in self.objects[kind] if r["id"] == record_id)

    def touch(self, kind: str, record_id: str, at: datetime, **props: Any) -> None:
        """Change a record as a HubSpot user would, at ``at``; a deal's tracked
        properties keep their history."""
        record = self.find(kind, record_id)
        stamp = at.isoformat().replace("+00:00", "Z")
        if kind == "deals":
            for name in set(props) & set(HISTORY):
                self.values(record_id, name).insert(
                    0,
                    {"value": props[name], "timestamp": stamp, "sourceType": "CRM_UI"},
                )
        record["properties"].update(props)
        record["properties"][STAMPS[kind]] = stamp
        record["updatedAt"] = stamp

    def values(self, deal_id: str, name: str) -> list[dict[str, Any]]:
        """A deal property's history; at first its current value since creation."""
        if (deal_id, name) not in self.history:
            deal = self.find("deals", deal_id)
            first = {
                "value": deal["properties"].get(name),
                "timestamp": deal["createdAt"],
                "sourceType": "CRM_UI",
            }
            self.history[(deal_id, name)] = [first]
        return self.history[(deal_id, name)]

    def associate(self, kind: str, record_id: str, to: str, *ids: str) -> None:
        """Associate a record with ``ids``; of companies, the first is primary."""
        if to == "companies":
            self.companies_of[(kind, record_id)] = ids[0]
            self.links[(kind, record_id, to)] = list(ids[1:])
        else:
            self.links[(kind, record_id, to)] = list(ids)

    def targets(self, kind: str, record_id: str, to: str) -> list[dict[str, Any]]:
        """A record's associations to ``to`` records, as HubSpot lists them."""
        label = f"{_singular(kind)}_to_{_singular(to)}"
        others = self.links.get((kind, record_id, to), [])
        if to != "companies":
            return [{"id": i, "type": label} for i in others]
        primary = self.companies_of.get((kind, record_id))
        if not others:  # the usual case: the primary company alone
            return [] if primary is None else [{"id": primary, "type": label}]
        found = [{"id": i, "type": f"{label}_unlabeled"} for i in others]
        if primary is not None:
            found.append({"id": primary, "type": label})
        return sorted(found, key=lambda t: int(t["id"]))

    def fail(self, path: str, *answers: httpx.Response | Exception) -> None:
        self.faults.setdefault(path, deque()).extend(answers)

    def paths(self, method: str = "") -> list[str]:
        return [path for m, path, _ in self.calls if not method or m == method]

    def __call__(self, request: httpx.Request) -> httpx.Response:
        path = request.url.path
        body = json.loads(request.content) if request.content else None
        self.calls.append((request.method, path, body or dict(request.url.params)))
        if request.headers.get("authorization") != f"Bearer {TOKEN}":
            return httpx.Response(401, json=_error("INVALID_AUTHENTICATION"))
        queue = self.faults.get(path)
        if queue:
            fault = queue.popleft()
            if isinstance(fault, Exception):
                raise fault
            return fault
        return self._answer(request.method, path, request.url.params, body)

    def _answer(self, method: str, path: str, params: Any, body: Any) -> httpx.Response:
        parts = path.strip("/").split("/")
        if path == "/crm/v3/owners":
            return httpx.Response(200, json=self.owners)
        if path == "/crm/v3/pipelines/deals":
            return httpx.Response(200, json=self.pipelines)
        if parts[:2] == ["crm", "v3"] and parts[2] == "associations":
            return httpx.Response(
                200, json=self._associations(parts[3], parts[4], body)
            )
        if method == "POST" and path.endswith("/batch/read"):
            return self._batch_read(parts[3], body)
        if method == "GET" and parts[:3] == ["crm", "v3", "objects"]:
            archived = params.get("archived") == "true"
            records = (self.archived if archived else self.objects)[parts[3]]
            page = self._page(records, params.get("after"))
            wanted = [t for t in params.get("associations", "").split(",") if t]
            if wanted:
                page["results"] = [
                    self._inline(parts[3], r, wanted) for r in page["results"]
                ]
            return httpx.Response(200, json=page)
        if path.endswith("/search"):
            return self._search(parts[3], body)
        return httpx.Response(404, json=_error("OBJECT_NOT_FOUND"))

    def _page(
        self, records: list[dict[str, Any]], after: str | None, total: int = 0
    ) -> dict[str, Any]:
        start = 0 if after is None or self.ignore_after else int(after)
        page: dict[str, Any] = {"results": records[start : start + self.page_size]}
        if total:
            page["total"] = total
        if start + self.page_size < len(records):
            page["paging"] = {"next": {"after": str(start + self.page_size)}}
        return page

    def _search(self, kind: str, body: dict[str, Any]) -> httpx.Response:
        after = body.get("after")
        if after is not None and int(after) >= SEARCH_CAP:
            return httpx.Response(400, json=_error("VALIDATION_ERROR"))
        filters = body["filterGroups"][0]["filters"]
        low = next(int(f["value"]) for f in filters if f["operator"] == "GTE")
        high = next(int(f["value"]) for f in filters if f["operator"] == "LT")
        stamp = STAMPS[kind]
        matches = sorted(
            (r for r in self.objects[kind] if low <= _ms(r, stamp) < high),
            key=lambda r: _ms(r, stamp),
        )
        page = self._page(matches, after, total=len(matches) * self.search_scale)
        page.setdefault("total", 0)
        return httpx.Response(200, json=page)

    def _inline(self, kind: str, record: Any, wanted: list[str]) -> Any:
        """``record`` with its associations to the ``wanted`` types, as a listing
        asked with ``associations=`` sends it."""
        if not isinstance(record, dict):
            return record
        found: dict[str, Any] = {}
        for to in wanted:
            targets = self.targets(kind, record["id"], to)
            if not targets:
                continue
            cap = self.association_cap
            found[to] = {"results": targets[:cap]}
            if len(targets) > cap:
                link = (
                    f"https://api.hubapi.com/crm/v3/objects/{kind}/{record['id']}"
                    f"/associations/{to}?after={cap}"
                )
                found[to]["paging"] = {"next": {"after": str(cap), "link": link}}
        return {**record, "associations": found} if found else record

    def _associations(self, kind: str, to: str, body: dict[str, Any]) -> dict[str, Any]:
        results = []
        for item in body["inputs"]:
            targets = self.targets(kind, item["id"], to)
            if targets:
                results.append({"from": {"id": item["id"]}, "to": targets})
        return {"status": "COMPLETE", "results": results}

    def _batch_read(self, kind: str, body: dict[str, Any]) -> httpx.Response:
        wanted = body.get("propertiesWithHistory") or []
        if wanted and len(body["inputs"]) > HISTORY_BATCH:
            return httpx.Response(400, json=_error("VALIDATION_ERROR"))
        live = {r["id"]: r for r in self.objects[kind]}
        results = []
        for item in body["inputs"]:
            record = live.get(item["id"])
            if record is None:
                continue
            props = {n: record["properties"].get(n) for n in body.get("properties", [])}
            results.append(
                {
                    "id": record["id"],
                    "properties": props,
                    "propertiesWithHistory": {
                        n: self.values(record["id"], n) for n in wanted
                    },
                    "createdAt": record["createdAt"],
                    "updatedAt": record["updatedAt"],
                    "archived": False,
                }
            )
        return httpx.Response(200, json={"status": "COMPLETE", "results": results})

    def _take_associations(self, kind: str, record: dict[str, Any]) -> None:
        """Recorded inline associations (asked for with ``associations=``) become
        the stand-in's association table; the listings leave them out."""
        for to, found in (record.pop("associations", None) or {}).items():
            ids = [str(a["id"]) for a in found.get("results", [])]
            if ids:
                self.associate(kind, record["id"], to, *ids)


def _shaped(
    tasks: list[dict[str, Any]], kind: str, shape: dict[str, str]
) -> list[dict[str, Any]]:
    """Engagements of ``kind`` on the envelope of the first recorded tasks."""
    made = []
    for n, task in enumerate(tasks[:ENGAGEMENTS_EACH], start=1):
        record = copy.deepcopy(task)
        record["id"] = f"{90 + list(SHAPES).index(kind)}{n}{task['id'][3:]}"
        props = {
            k: v for k, v in record["properties"].items() if not k.startswith("hs_task")
        }
        props.update({k: v.format(n=n) for k, v in shape.items()})
        props["hs_object_id"] = record["id"]
        record["properties"] = props
        record["url"] = record["url"].replace("task", kind[:-1])
        record.pop("associations", None)
        made.append(record)
    return made


def _singular(kind: str) -> str:
    return "company" if kind == "companies" else kind[:-1]


def _ms(record: dict[str, Any], stamp: str) -> int:
    text = record["properties"][stamp].replace("Z", "+00:00")
    return int(datetime.fromisoformat(text).timestamp() * 1000)


def _error(category: str) -> dict[str, Any]:
    return {
        "status": "error",
        "message": f"{category.replace('_', ' ').lower()} (stand-in)",
        "category": category,
    }

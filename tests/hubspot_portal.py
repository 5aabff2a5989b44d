"""A HubSpot portal stand-in for ``httpx.MockTransport``, filled from the recorded
CRM v3 responses in ``../shared/data/api_shapes`` and answering as HubSpot does:
``after`` paging on listings, search with GTE/LT filters and a ``total``, batch
association reads, 401 for a wrong token. Tests change records and inject faults.
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
}
SEARCH_CAP = 10_000


def recorded(data: Path, name: str) -> Any:
    return json.loads((data / RECORDED / f"{name}.json").read_text())[0]["response"]


class Portal:
    """Records by type, associations to companies, and a log of every request."""

    def __init__(self, data: Path, page_size: int = 10) -> None:
        self.objects: dict[str, list[dict[str, Any]]] = {
            kind: copy.deepcopy(recorded(data, kind)["results"]) for kind in STAMPS
        }
        self.owners = recorded(data, "owners")
        self.pipelines = recorded(data, "fetch-pipelines")
        self.archived: dict[str, list[dict[str, Any]]] = {kind: [] for kind in STAMPS}
        self.companies_of: dict[tuple[str, str], str] = {}
        self.page_size = page_size
        self.search_scale = 1  # `total` is the match count times this (a big portal)
        self.ignore_after = False  # answer every page request with the first page
        self.faults: dict[str, deque[httpx.Response | Exception]] = {}
        self.calls: list[tuple[str, str, Any]] = []

    def find(self, kind: str, record_id: str) -> dict[str, Any]:
        return next(r for r in self.objects[kind] if r["id"] == record_id)

    def touch(self, kind: str, record_id: str, at: datetime, **props: Any) -> None:
        """Change a record as a HubSpot user would, at ``at``."""
        record = self.find(kind, record_id)
        record["properties"].update(props)
        record["properties"][STAMPS[kind]] = at.isoformat().replace("+00:00", "Z")

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
            return httpx.Response(200, json=self._associations(parts[3], body))
        if method == "GET" and parts[:3] == ["crm", "v3", "objects"]:
            archived = params.get("archived") == "true"
            records = (self.archived if archived else self.objects)[parts[3]]
            return httpx.Response(200, json=self._page(records, params.get("after")))
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

    def _associations(self, kind: str, body: dict[str, Any]) -> dict[str, Any]:
        results = []
        for item in body["inputs"]:
            company = self.companies_of.get((kind, item["id"]))
            if company is not None:
                to = [{"id": company, "type": f"{kind[:-1]}_to_company"}]
                results.append({"from": {"id": item["id"]}, "to": to})
        return {"status": "COMPLETE", "results": results}


def _ms(record: dict[str, Any], stamp: str) -> int:
    text = record["properties"][stamp].replace("Z", "+00:00")
    return int(datetime.fromisoformat(text).timestamp() * 1000)


def _error(category: str) -> dict[str, Any]:
    return {
        "status": "error",
        "message": f"{category.replace('_', ' ').lower()} (stand-in)",
        "category": category,
    }

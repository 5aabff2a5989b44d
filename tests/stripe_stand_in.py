"""A Stripe account stand-in for ``httpx.MockTransport``, filled from the recorded
list responses and Stripe's own example objects in ``../shared/data/api_shapes``
and answering as Stripe does: ``limit``/``starting_after``/``has_more`` paging,
newest first, ``status=all`` for canceled subscriptions, the Events API with
``types[]`` and ``created[gte]``, Stripe's error bodies, and the shape of the
``Stripe-Version`` asked for (CASES B28: the current period is on the items from
2025-03-31 on, on the subscription before). Tests change objects, emit events and
inject faults.
"""

from __future__ import annotations

import copy
import itertools
import json
from collections import deque
from pathlib import Path
from typing import Any

import httpx

KEY = "sk_test_stand_in_key"
ACCOUNT_VERSION = "2024-06-20"  # what an unpinned request gets: the old shape
NEW_SHAPE_FROM = "2025-03-31"
RECORDED = Path("api_shapes/recorded_responses_nango_elv2/stripe")
FIXTURES = Path("api_shapes/stripe/openapi_fixtures")
LISTS = {
    "/v1/customers": "customers",
    "/v1/subscriptions": "subscriptions",
    "/v1/invoices": "invoices",
    "/v1/products": "products",
    "/v1/events": "events",
    "/v1/subscription_items": "subscription_items",
}


def recorded(data: Path, name: str) -> list[dict[str, Any]]:
    answer = json.loads((data / RECORDED / f"{name}.json").read_text())[0]
    return copy.deepcopy(answer["response"]["data"])


def example(data: Path, name: str) -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads((data / FIXTURES / f"{name}.json").read_text())
    return loaded


class StandIn:
    """Objects by list, newest first, and a log of every request."""

    def __init__(self, data: Path, page_size: int = 4) -> None:
        self.data = data
        self.objects: dict[str, list[dict[str, Any]]] = {
            name: recorded(data, name)
            for name in ("customers", "subscriptions", "invoices")
        }
        product = example(data, "product")
        self.objects["products"] = [product]
        self.objects["events"] = []
        self.deleted: dict[str, dict[str, Any]] = {}
        self.page_size = page_size
        self.ignore_starting_after = False
        self.faults: dict[str, deque[httpx.Response | Exception]] = {}
        self.calls: list[tuple[str, str, dict[str, list[str]]]] = []
        self.versions: list[str | None] = []
        self._ids = itertools.count(1)

    # -- changing the account, as its users would --------------------------------

    def find(self, kind: str, object_id: str) -> dict[str, Any]:
        return next(o for o in self.objects[kind] if o["id"] == object_id)

    def add(self, kind: str, obj: dict[str, Any]) -> dict[str, Any]:
        self.objects[kind].insert(0, obj)  # lists are newest first
        return obj

    def emit(self, event_type: str, obj: dict[str, Any], at: int) -> None:
        event = example(self.data, "event")
        event.update(
            id=f"evt_stand_in_{next(self._ids)}",
            created=at,
            type=event_type,
            api_version=ACCOUNT_VERSION,
            data={"object": copy.deepcopy(obj)},
        )
        self.objects["events"].insert(0, event)

    def delete_customer(self, customer_id: str, at: int) -> None:
        gone = self.find("customers", customer_id)
        self.objects["customers"].remove(gone)
        self.deleted[customer_id] = gone
        self.emit("customer.deleted", gone, at)

    def fail(self, path: str, *answers: httpx.Response | Exception) -> None:
        self.faults.setdefault(path, deque()).extend(answers)

    def paths(self) -> list[str]:
        return [path for _, path, _ in self.calls]

    def params(self, path: str) -> list[dict[str, list[str]]]:
        return [params for _, p, params in self.calls if p == path]

    # -- answering --------------------------------------------------------------

    def __call__(self, request: httpx.Request) -> httpx.Response:
        path = request.url.path
        params: dict[str, list[str]] = {}
        for name, value in request.url.params.multi_items():
            params.setdefault(name, []).append(value)
        self.calls.append((request.method, path, params))
        self.versions.append(request.headers.get("stripe-version"))
        if request.headers.get("authorization") != f"Bearer {KEY}":
            given = request.headers.get("authorization", "").removeprefix("Bearer ")
            return _error(401, f"Invalid API Key provided: {_masked(given)}")
        version = request.headers.get("stripe-version") or ACCOUNT_VERSION
        if not version[:10].replace("-", "").isdigit():
            return _error(400, f"Invalid Stripe API version: {version}")
        queue = self.faults.get(path)
        if queue:
            fault = queue.popleft()
            if isinstance(fault, Exception):
                raise fault
            return fault
        return self._answer(path, params, version)

    def _answer(
        self, path: str, params: dict[str, list[str]], version: str
    ) -> httpx.Response:
        if path in LISTS:
            listed = self._list(LISTS[path], params)
            if listed is None:
                return _error(400, "No such object for starting_after", "missing")
            page = {**listed, "data": [_shape(o, version) for o in listed["data"]]}
            return httpx.Response(200, json=page)
        parts = path.strip("/").split("/")
        kind = f"{parts[1]}" if len(parts) == 3 else ""
        if kind in ("customers", "subscriptions", "invoices"):
            found = [o for o in self.objects[kind] if o["id"] == parts[2]]
            if found:
                return httpx.Response(200, json=_shape(found[0], version))
            if parts[2] in self.deleted:
                gone = {"id": parts[2], "object": "customer", "deleted": True}
                return httpx.Response(200, json=gone)
            return _error(404, f"No such {kind[:-1]}: '{parts[2]}'", "resource_missing")
        return _error(404, f"Unrecognized request URL (GET: {path})")

    def _list(self, kind: str, params: dict[str, list[str]]) -> dict[str, Any] | None:
        objects = self._matching(kind, params)
        start = 0
        after = params.get("starting_after", [None])[0]
        if after is not None and not self.ignore_starting_after:
            ids = [o.get("id") if isinstance(o, dict) else None for o in objects]
            if after not in ids:
                return None
            start = ids.index(after) + 1
        size = min(int(params.get("limit", ["10"])[0]), self.page_size)
        return {
            "object": "list",
            "data": objects[start : start + size],
            "has_more": start + size < len(objects),
            "url": f"/v1/{kind}",
        }

    def _matching(self, kind: str, params: dict[str, list[str]]) -> list[Any]:
        objects: list[Any] = self.objects.get(kind, [])
        if kind == "subscriptions" and params.get("status") != ["all"]:
            objects = [o for o in objects if o.get("status") != "canceled"]
        if kind == "subscription_items":
            sub = self.find("subscriptions", params["subscription"][0])
            objects = sub["items"]["all"]
        if kind == "events":
            types = set(params.get("types[]", []))
            since = int(params.get("created[gte]", ["0"])[0])
            objects = [
                e
                for e in objects
                if (not types or e["type"] in types) and e["created"] >= since
            ]
        return objects


def _shape(obj: Any, version: str) -> Any:
    """The object as ``version`` renders it: before 2025-03-31 a subscription has
    its current period itself, not on its items, and an invoice its subscription
    at the top instead of under ``parent``."""
    if not isinstance(obj, dict):
        return obj
    shaped = copy.deepcopy(obj)
    items = shaped.get("items")
    if isinstance(items, dict):
        items.pop("all", None)
    if version[:10] >= NEW_SHAPE_FROM:
        return shaped
    if shaped.get("object") == "subscription" and isinstance(items, dict):
        for item in items.get("data", []):
            for name in ("current_period_start", "current_period_end"):
                value = item.pop(name, None)
                shaped.setdefault(name, value)
    if shaped.get("object") == "invoice":
        parent = shaped.pop("parent", None) or {}
        details = parent.get("subscription_details") or {}
        shaped["subscription"] = details.get("subscription")
    return shaped


def _masked(key: str) -> str:
    return f"{key[:8]}{'*' * 12}{key[-4:]}" if len(key) > 12 else "****"


def _error(status: int, message: str, code: str | None = None) -> httpx.Response:
    body: dict[str, Any] = {
        "error": {"message": message, "type": "invalid_request_error"}
    }
    if code is not None:
        body["error"]["code"] = code
    return httpx.Response(status, json=body, headers={"Request-Id": "req_stand_in"})

"""The HubSpot CRM v3 endpoints a sync uses, with HubSpot's paging rules.

Listings page with an ``after`` cursor. Search pages the same way but stops at
10,000 results per query (CASES B21): asking past that is an error, so a window of
modification times that holds more is split in halves until each fits, and a
window too narrow to split is reported instead of silently truncated.

Associations: a listing asked with ``associations=`` carries each object's
associations inline, up to ``INLINE_CAP`` per object and type; a longer list comes
cut off, with a ``paging`` of its own. Search carries none. So an object from a
listing is read from its inline lists, and only one whose list was cut off (or
came malformed) is read again through the batch association read, as are all the
objects search returns.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from integrations.errors import SourceError
from integrations.http import SourceClient
from integrations.paging import Page, pages

logger = logging.getLogger(__name__)

# HubSpot: "the search endpoints are limited to 10,000 total results for any given
# query" (developers.hubspot.com/docs/api/crm/search, Limitations).
SEARCH_CAP = 10_000
SEARCH_PAGE = 200  # the largest `limit` search takes
LIST_PAGE = 100  # the largest `limit` the object listings take
MIN_WINDOW = timedelta(milliseconds=1)  # modification times are in milliseconds
# HubSpot: batch reads that ask for propertiesWithHistory take at most 50 inputs.
HISTORY_BATCH = 50
# HubSpot: "if your request returns more than 100 associations, you will need to
# use the value of the after field" (changelog, "Announcing a change to how v3 CRM
# APIs return association data", 2020): 100 per object and type come inline.
INLINE_CAP = 100


@dataclass(frozen=True)
class Stage:
    """A deal stage's label and what it means for the deal."""

    label: str
    status: str  # open, won or lost


class HubSpotApi:
    """Typed access to the few endpoints a sync needs; JSON in, dicts out."""

    def __init__(self, http: SourceClient) -> None:
        self.http = http
        self.source = http.source

    def owners(self) -> dict[str, dict[str, Any]]:
        """Every owner (HubSpot user) by id, for deal and company owners."""
        owners: dict[str, dict[str, Any]] = {}
        for page in self._list("/crm/v3/owners", {"limit": LIST_PAGE}):
            owners.update((str(item.get("id")), item) for item in page.items)
        return owners

    def stages(self) -> dict[str, Stage]:
        """Deal stages of every pipeline by stage id (ids are unique per portal)."""
        body = self.http.get("/crm/v3/pipelines/deals")
        stages: dict[str, Stage] = {}
        for pipeline in _list_of(body, "results"):
            for stage in pipeline.get("stages") or []:
                stages[str(stage.get("id"))] = Stage(
                    str(stage.get("label") or stage.get("id")),
                    _stage_status(stage.get("metadata") or {}),
                )
        return stages

    def listing(
        self,
        object_type: str,
        properties: Sequence[str],
        archived: bool = False,
        associations: Sequence[str] = (),
    ) -> Iterator[Page]:
        """Every record of ``object_type``, page by page: the live ones, or only the
        archived ones (HubSpot lists those apart, for 90 days after archiving);
        each with its ``associations`` to those object types inline."""
        params = {"limit": LIST_PAGE, "properties": ",".join(properties)}
        if archived:
            params["archived"] = "true"
        if associations:
            params["associations"] = ",".join(associations)
        return self._list(f"/crm/v3/objects/{object_type}", params)

    def changed(
        self,
        object_type: str,
        properties: Sequence[str],
        stamp: str,
        since: datetime,
        until: datetime,
    ) -> Iterator[Page]:
        """Records whose ``stamp`` property is in [since, until), page by page."""
        first = self._search(object_type, properties, stamp, since, until, None)
        total = _int(first.get("total"))
        if total > SEARCH_CAP:
            yield from self._split(object_type, properties, stamp, since, until, total)
            return

        def fetch(after: str | None) -> Page:
            if after is None:
                return _page(first)
            body = self._search(object_type, properties, stamp, since, until, after)
            return _page(body)

        what = f"source {self.source!r}: search of {object_type}"
        yield from pages(fetch, what)

    def companies_of(
        self, object_type: str, items: Sequence[Any], inline: bool = False
    ) -> dict[str, str]:
        """The company each record is associated with (its primary one if marked).
        ``inline``: the items come from a listing asked for their companies."""
        found: dict[str, str] = {}
        targets_of = self._targets(object_type, "companies", items, inline)
        for record_id, targets in targets_of.items():
            primary = [t for t in targets if str(t.get("type", "")).endswith("company")]
            found[record_id] = str((primary or targets)[0]["id"])
        return found

    def associated(
        self, object_type: str, to_type: str, items: Sequence[Any], inline: bool = False
    ) -> dict[str, list[str]]:
        """The ids of ``to_type`` records each record is associated with, in
        HubSpot's order. ``inline``: as for ``companies_of``."""
        return {
            record_id: [str(t["id"]) for t in targets]
            for record_id, targets in self._targets(
                object_type, to_type, items, inline
            ).items()
        }

    def with_history(
        self, object_type: str, ids: Sequence[str], properties: Sequence[str]
    ) -> Iterator[dict[str, Any]]:
        """Records with every past value of ``properties``, in batches of
        ``HISTORY_BATCH``; ids HubSpot no longer has are left out."""
        for start in range(0, len(ids), HISTORY_BATCH):
            body = self.http.post(
                f"/crm/v3/objects/{object_type}/batch/read",
                {
                    "inputs": [{"id": i} for i in ids[start : start + HISTORY_BATCH]],
                    "properties": list(properties),
                    "propertiesWithHistory": list(properties),
                },
            )
            yield from _list_of(body, "results")

    def _targets(
        self, object_type: str, to_type: str, items: Sequence[Any], inline: bool
    ) -> dict[str, list[dict[str, Any]]]:
        """Each item's associations to ``to_type`` records, by item id; items
        without any are left out."""
        ids = record_ids(items)
        if not inline:
            return self._read_targets(object_type, to_type, ids)
        found: dict[str, list[dict[str, Any]]] = {}
        cut: list[str] = []
        for item, record_id in zip(_with_id(items), ids, strict=True):
            targets = _inline(item, to_type)
            if targets is None:
                cut.append(record_id)
            elif targets:
                found[record_id] = targets
        if cut:
            found.update(self._read_targets(object_type, to_type, cut))
        return found

    def _read_targets(
        self, object_type: str, to_type: str, ids: Sequence[str]
    ) -> dict[str, list[dict[str, Any]]]:
        """The batch association read: one request for up to a page of ids."""
        if not ids:
            return {}
        body = self.http.post(
            f"/crm/v3/associations/{object_type}/{to_type}/batch/read",
            {"inputs": [{"id": record_id} for record_id in ids]},
        )
        found: dict[str, list[dict[str, Any]]] = {}
        for result in _list_of(body, "results"):
            targets = _usable(result.get("to"))
            if targets:
                found[str((result.get("from") or {}).get("id"))] = targets
        return found

    def _split(
        self,
        object_type: str,
        properties: Sequence[str],
        stamp: str,
        since: datetime,
        until: datetime,
        total: int,
    ) -> Iterator[Page]:
        if until - since <= MIN_WINDOW:
            raise SourceError(
                f"source {self.source!r}: {total} {object_type} changed at "
                f"{since.isoformat()}, more than HubSpot search can return "
                f"({SEARCH_CAP}); remove the source's cursor (`foresight status` "
                "shows it) to read everything through the listing instead"
            )
        middle = since + (until - since) / 2
        logger.info(
            "%s: %d %s changed in %s – %s, over the search cap; splitting the window",
            self.source,
            total,
            object_type,
            since.isoformat(),
            until.isoformat(),
        )
        yield from self.changed(object_type, properties, stamp, since, middle)
        yield from self.changed(object_type, properties, stamp, middle, until)

    def _search(
        self,
        object_type: str,
        properties: Sequence[str],
        stamp: str,
        since: datetime,
        until: datetime,
        after: str | None,
    ) -> dict[str, Any]:
        body: dict[str, Any] = {
            "filterGroups": [
                {
                    "filters": [
                        {"propertyName": stamp, "operator": "GTE", "value": _ms(since)},
                        {"propertyName": stamp, "operator": "LT", "value": _ms(until)},
                    ]
                }
            ],
            "sorts": [{"propertyName": stamp, "direction": "ASCENDING"}],
            "properties": list(properties),
            "limit": SEARCH_PAGE,
        }
        if after is not None:
            body["after"] = after
        answer = self.http.post(f"/crm/v3/objects/{object_type}/search", body)
        return answer if isinstance(answer, dict) else {}

    def _list(self, path: str, params: dict[str, Any]) -> Iterator[Page]:
        def fetch(after: str | None) -> Page:
            query = params if after is None else {**params, "after": after}
            body = self.http.get(path, query)
            return _page(body if isinstance(body, dict) else {})

        return pages(fetch, f"source {self.source!r}: GET {path}")


def _page(body: dict[str, Any]) -> Page:
    """Items are kept as sent, malformed ones too: the converter rejects those."""
    items = body.get("results")
    items = items if isinstance(items, list) else []
    after = ((body.get("paging") or {}).get("next") or {}).get("after")
    ids = tuple(str(i.get("id") if isinstance(i, dict) else i) for i in items)
    return Page(items, ids, None if after in (None, "") else str(after))


def record_ids(items: Sequence[Any]) -> list[str]:
    """The ids of the items that have one, in order."""
    return [str(item["id"]) for item in _with_id(items)]


def _with_id(items: Sequence[Any]) -> list[dict[str, Any]]:
    return [item for item in items if isinstance(item, dict) and item.get("id")]


def _inline(item: dict[str, Any], to_type: str) -> list[dict[str, Any]] | None:
    """An item's inline associations to ``to_type``; None when they have to be
    read apart: cut off at ``INLINE_CAP`` (their own ``paging.next``) or not in a
    shape this reads. HubSpot leaves out ``associations``, and each type in it,
    when there are none."""
    associations = item.get("associations")
    if associations is None:
        return []
    if not isinstance(associations, dict):
        return None
    found = associations.get(to_type)
    if found is None:
        return []
    if not isinstance(found, dict) or not isinstance(found.get("results"), list):
        return None
    paging = found.get("paging")
    if paging is not None and (not isinstance(paging, dict) or paging.get("next")):
        return None
    return _usable(found["results"])


def _usable(targets: Any) -> list[dict[str, Any]]:
    return [t for t in targets or [] if isinstance(t, dict) and t.get("id") is not None]


def _list_of(body: Any, key: str) -> list[dict[str, Any]]:
    items = body.get(key) if isinstance(body, dict) else None
    return [item for item in items or [] if isinstance(item, dict)]


def _stage_status(metadata: dict[str, Any]) -> str:
    """NOTE: HubSpot sends these as strings: isClosed "true", probability "1.0"."""
    if str(metadata.get("isClosed", "")).lower() != "true":
        return "open"
    try:
        probability = float(metadata.get("probability") or 0)
    except ValueError:
        probability = 0.0
    return "won" if probability >= 1 else "lost"


def _int(value: Any) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        return 0


def _ms(moment: datetime) -> str:
    return str(int(moment.timestamp() * 1000))

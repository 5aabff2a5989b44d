"""The Gong v2 endpoints a sync uses, each paged the way Gong expects.

NOTE: Gong puts the paging cursor in a different place per endpoint: the query
string for ``GET /v2/users``, the JSON body for ``POST /v2/calls/extensive`` and
``POST /v2/calls/transcript``. A cursor sent in the wrong place is ignored and the
first page comes back again (CASES B22); ``pages`` stops that with an error, and
calls are also de-duplicated by id in case one moves between pages while we read.
Gong answers 404 "No calls found" for a window without calls: that is an empty
listing, not a failure.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator, Sequence
from datetime import datetime
from typing import Any

from integrations.http import SourceClient
from integrations.paging import Page, pages

logger = logging.getLogger(__name__)

NOT_FOUND = 404  # Gong's answer for "No calls found corresponding to the filters"
# Gong pages calls and transcripts 100 at a time; one transcript request per page of
# calls keeps each batch of call ids within one of Gong's own pages.
TRANSCRIPT_BATCH = 100
CALL_FIELDS = {
    "parties": True,
    "content": {"brief": True, "keyPoints": True},
}


class GongApi:
    """Typed access to the few endpoints a sync needs; JSON in, dicts out."""

    def __init__(self, http: SourceClient) -> None:
        self.http = http
        self.source = http.source

    def users(self) -> dict[str, dict[str, Any]]:
        """Every Gong user by id: the hosts and internal parties of calls."""

        def fetch(cursor: str | None) -> Page:
            params = {} if cursor is None else {"cursor": cursor}
            body = self.http.get("/v2/users", params)
            return _page(body, "users", _user_id)

        users: dict[str, dict[str, Any]] = {}
        for page in pages(fetch, f"source {self.source!r}: GET /v2/users"):
            users.update((_user_id(u), u) for u in page.items if isinstance(u, dict))
        logger.info("%s: %d users read", self.source, len(users))
        return users

    def calls(self, since: datetime) -> Iterator[list[Any]]:
        """Calls that started at or after ``since``, a page at a time, each call
        once. Malformed calls are kept as sent: the converter rejects those."""
        request: dict[str, Any] = {
            "filter": {"fromDateTime": since.isoformat()},
            "contentSelector": {"exposedFields": CALL_FIELDS},
        }

        def fetch(cursor: str | None) -> Page:
            body = request if cursor is None else {**request, "cursor": cursor}
            return self._post_page("/v2/calls/extensive", body, "calls", _call_id)

        seen: set[str] = set()
        count = 0
        what = f"source {self.source!r}: POST /v2/calls/extensive"
        for page in pages(fetch, what):
            fresh = []
            for call, call_id in zip(page.items, page.ids, strict=True):
                if call_id and call_id in seen:
                    continue
                seen.add(call_id)
                fresh.append(call)
            count += len(fresh)
            yield fresh
        logger.info("%s: %d calls read since %s", self.source, count, since)

    def transcripts(self, call_ids: Sequence[str]) -> dict[str, Any]:
        """Each call's transcript (a list of monologues) by call id."""
        found: dict[str, Any] = {}
        for start in range(0, len(call_ids), TRANSCRIPT_BATCH):
            batch = list(call_ids[start : start + TRANSCRIPT_BATCH])
            found.update(self._transcripts(batch))
        return found

    def _transcripts(self, call_ids: list[str]) -> dict[str, Any]:
        request: dict[str, Any] = {"filter": {"callIds": call_ids}}

        def fetch(cursor: str | None) -> Page:
            body = request if cursor is None else {**request, "cursor": cursor}
            return self._post_page(
                "/v2/calls/transcript", body, "callTranscripts", _transcript_id
            )

        found: dict[str, Any] = {}
        what = f"source {self.source!r}: POST /v2/calls/transcript"
        for page in pages(fetch, what):
            for item, call_id in zip(page.items, page.ids, strict=True):
                if isinstance(item, dict) and call_id:
                    found[call_id] = item.get("transcript")
        logger.info(
            "%s: %d transcripts read for %d calls",
            self.source,
            len(found),
            len(call_ids),
        )
        return found

    def _post_page(self, path: str, body: Any, key: str, ids: Any) -> Page:
        status, answer = self.http.answer("POST", path, json=body, accept=(NOT_FOUND,))
        if status == NOT_FOUND:
            return Page((), (), None)
        return _page(answer, key, ids)


def _page(body: Any, key: str, item_id: Any) -> Page:
    body = body if isinstance(body, dict) else {}
    items = body.get(key)
    items = items if isinstance(items, list) else []
    cursor = (body.get("records") or {}).get("cursor")
    ids = tuple(item_id(item) for item in items)
    return Page(items, ids, None if cursor in (None, "") else str(cursor))


def _user_id(user: Any) -> str:
    return str(user.get("id") or "") if isinstance(user, dict) else ""


def _call_id(call: Any) -> str:
    meta = call.get("metaData") if isinstance(call, dict) else None
    return str(meta.get("id") or "") if isinstance(meta, dict) else ""


def _transcript_id(item: Any) -> str:
    return str(item.get("callId") or "") if isinstance(item, dict) else ""

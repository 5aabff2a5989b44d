"""The Stripe endpoints a sync uses, with Stripe's paging rules.

Every list answers ``{"data": [...], "has_more": bool}``, newest first; the next
page is asked for with ``starting_after`` set to the last id of the page before.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from integrations.errors import SourceError
from integrations.http import SourceClient
from integrations.paging import Page, pages

LIST_PAGE = 100  # the largest `limit` Stripe's lists take


class StripeApi:
    """Typed access to the few endpoints a sync needs; JSON in, dicts out."""

    def __init__(self, http: SourceClient) -> None:
        self.http = http
        self.source = http.source

    def listing(
        self, path: str, params: Mapping[str, Any] | None = None
    ) -> Iterator[Page]:
        """Every object of a list endpoint, page by page."""
        what = f"source {self.source!r}: GET {path}"

        def fetch(after: str | None) -> Page:
            query = {**(params or {}), "limit": LIST_PAGE}
            if after is not None:
                query["starting_after"] = after
            return _page(self.http.get(path, query), what)

        return pages(fetch, what)

    def retrieve(self, path: str) -> dict[str, Any] | None:
        """One object; None when Stripe no longer has it (404)."""
        status, body = self.http.answer("GET", path, accept=(404,))
        if status == 404 or not isinstance(body, dict):
            return None
        return body

    def items_of(self, subscription: Mapping[str, Any]) -> list[Any]:
        """All items of a subscription: those it came with, and the rest when its
        embedded list says there are more."""
        embedded = subscription.get("items")
        if not isinstance(embedded, dict) or not isinstance(embedded.get("data"), list):
            return []
        items: list[Any] = embedded["data"]
        if not embedded.get("has_more"):
            return items
        params = {"subscription": str(subscription.get("id"))}
        return [
            i
            for page in self.listing("/v1/subscription_items", params)
            for i in page.items
        ]


def _page(body: Any, what: str) -> Page:
    """Items are kept as sent, malformed ones too: the converter rejects those."""
    items = body.get("data") if isinstance(body, dict) else None
    if not isinstance(items, list):
        raise SourceError(
            f"{what}: the answer has no `data` list; is base_url Stripe's?"
        )
    ids = tuple(str(i.get("id") if isinstance(i, dict) else i) for i in items)
    if not body.get("has_more"):
        return Page(items, ids, None)
    last = items[-1] if items else None
    if not isinstance(last, dict) or not isinstance(last.get("id"), str):
        raise SourceError(
            f"{what}: Stripe says there are more objects but the page does not end "
            "with one that has an id to continue after; stopped"
        )
    return Page(items, ids, last["id"])

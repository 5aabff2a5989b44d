"""The one Salesforce endpoint a sync needs: SOQL through ``/query``.

A query answers up to 2,000 records a page; when ``done`` is false the rest is at
``nextRecordsUrl`` (a query locator), followed through ``paging.pages`` so that a
locator or a page coming back twice stops the sync (CASES B22). ``/queryAll`` is
the same query over the recycle bin too: the only way to see deleted and merged
records.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from integrations.errors import SourceError
from integrations.http import SourceClient
from integrations.paging import Page, pages


class SalesforceApi:
    """SOQL queries of one org, page by page; JSON records in, dicts out."""

    def __init__(self, http: SourceClient, api_version: str) -> None:
        self.http = http
        self.source = http.source
        self.root = f"/services/data/{api_version}"

    def query(self, soql: str, *, with_deleted: bool = False) -> Iterator[Page]:
        """Every record ``soql`` selects; ``with_deleted`` reads the recycle bin too."""
        endpoint = f"{self.root}/{'queryAll' if with_deleted else 'query'}"

        def fetch(locator: str | None) -> Page:
            if locator is None:
                body = self.http.get(endpoint, {"q": soql})
            else:
                body = self.http.get(locator)
            return self._page(body, endpoint)

        return pages(fetch, f"source {self.source!r}: GET {endpoint}")

    def _page(self, body: Any, endpoint: str) -> Page:
        """Records are kept as sent, malformed ones too: the converter rejects those."""
        if not isinstance(body, dict) or not isinstance(body.get("records"), list):
            raise SourceError(
                f"source {self.source!r}: GET {endpoint} answered without a list of "
                "records; is base_url the org's instance URL "
                "(https://<domain>.my.salesforce.com)?"
            )
        items = body["records"]
        ids = tuple(str(i.get("Id") if isinstance(i, dict) else i) for i in items)
        locator = body.get("nextRecordsUrl")
        if body.get("done") is False and not locator:
            raise SourceError(
                f"source {self.source!r}: GET {endpoint} said more records follow "
                "but gave no nextRecordsUrl; stopped instead of loading part of them"
            )
        return Page(items, ids, str(locator) if locator and not body["done"] else None)

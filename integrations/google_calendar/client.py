"""The one Google Calendar endpoint a sync uses: a calendar's events, paged.

``GET /calendar/v3/calendars/{id}/events`` pages with ``pageToken`` and ends with a
``nextSyncToken`` on its last page; sent back as ``syncToken``, it lists only what
changed since. Google refuses ``timeMin``/``timeMax`` beside a sync token, and
answers 410 Gone when the token has expired: the caller then reads the calendar in
full again.

Each page is sent with the calendar's own Authorization header, asked for just
before: a service account's token is per calendar (its owner's) and is renewed
shortly before it expires, which a long calendar may outlive.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any
from urllib.parse import quote

from integrations.errors import SourceError
from integrations.google_calendar.auth import Credential
from integrations.http import SourceClient
from integrations.paging import Page, pages


class SyncTokenExpired(Exception):
    """Google answered 410 Gone to a sync token: the calendar must be read in full."""


class EventListing:
    """One calendar's events, page by page; ``zone`` and ``sync_token`` are known
    once the pages are read (the calendar's time zone and Google's next token)."""

    def __init__(
        self,
        http: SourceClient,
        credential: Credential,
        calendar: str,
        params: Mapping[str, Any],
    ) -> None:
        self.http = http
        self.credential = credential
        self.calendar = calendar
        self.params = dict(params)
        # NOTE: ids are e-mails, or contain '#' (holiday calendars): quote them.
        self.path = f"/calendar/v3/calendars/{quote(calendar, safe='@')}/events"
        self.zone: str | None = None
        self.sync_token: str | None = None

    def __iter__(self) -> Iterator[Page]:
        return pages(self._fetch, f"source {self.http.source!r}: GET {self.path}")

    def _fetch(self, page_token: str | None) -> Page:
        query = dict(self.params)
        if page_token is not None:
            query["pageToken"] = page_token
        self.http.client.headers.update(self.credential.headers(self.calendar))
        status, body = self.http.answer("GET", self.path, params=query, accept=(410,))
        if status == 410:
            if "syncToken" in self.params:
                raise SyncTokenExpired(self.calendar)
            raise SourceError(
                f"source {self.http.source!r}: GET {self.path} answered 410 Gone "
                "without a sync token; check the calendar id in the config"
            )
        body = body if isinstance(body, dict) else {}
        self.zone = _text(body.get("timeZone")) or self.zone
        self.sync_token = _text(body.get("nextSyncToken")) or self.sync_token
        items = body.get("items")
        items = items if isinstance(items, list) else []
        ids = tuple(str(i.get("id") if isinstance(i, dict) else i) for i in items)
        return Page(items, ids, _text(body.get("nextPageToken")))


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None

"""``kind: google_calendar``: the config keys and the sync of reps' calendars.

A calendar's first sync lists its events from ``past_days`` ago to ``future_days``
ahead and keeps Google's ``nextSyncToken``; later syncs send it back and get only
what changed. Google forgets tokens (410 Gone): that calendar is read in full
again. A sync token never widens its window, so a meeting booked long ahead would
never come into view: once half of the window ahead has passed, the calendar is
read in full again to move it.

The cursor is per calendar: ``{"calendars": {id: {"sync_token", "until"}}}``.

Credentials: a service account's key file when its variable
(``service_account_env``) is set, acting as each calendar's owner; else OAuth (an
access token, or refresh credentials), one token for every calendar.
"""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Callable, Generator, Iterator, Mapping
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, Literal

import httpx
from pydantic import Field, field_validator

from context.clock import Clock
from context.records import Record, Rejection
from integrations.google_calendar import records
from integrations.google_calendar.auth import Credential, OAuth, TokenEndpoint
from integrations.google_calendar.client import EventListing, SyncTokenExpired
from integrations.google_calendar.service_account import ServiceAccount, read_key
from integrations.http import HttpSource, RetryPolicy, SourceClient, make_client
from integrations.source import SyncState

logger = logging.getLogger(__name__)

DEFAULT_BASE_URL = "https://www.googleapis.com"
DEFAULT_TOKEN_URL = "https://oauth2.googleapis.com/token"
ENV_NAME = r"^[A-Za-z_][A-Za-z0-9_]*$"

Produced = Generator[Record | Rejection, None, "dict[str, str] | None"]


class GoogleCalendarSource(HttpSource):
    """Reps' Google calendars, read with a service account's key or OAuth
    credentials, both named by environment variables."""

    kind: Literal["google_calendar"]
    base_url: str = Field(DEFAULT_BASE_URL, min_length=1)
    token_url: str = Field(DEFAULT_TOKEN_URL, min_length=1)
    token_env: str = Field("GOOGLE_CALENDAR_TOKEN", pattern=ENV_NAME)
    client_id_env: str = Field("GOOGLE_CLIENT_ID", pattern=ENV_NAME)
    client_secret_env: str = Field("GOOGLE_CLIENT_SECRET", pattern=ENV_NAME)
    refresh_token_env: str = Field("GOOGLE_REFRESH_TOKEN", pattern=ENV_NAME)
    # The variable holding the path of a service account's JSON key; when it is
    # set, the service account is used and the OAuth variables are not.
    service_account_env: str = Field("GOOGLE_APPLICATION_CREDENTIALS", pattern=ENV_NAME)
    calendars: list[str] = Field(min_length=1)
    internal_domains: list[str] = Field(default_factory=list)
    past_days: int = Field(90, ge=0, le=3650)
    future_days: int = Field(30, ge=1, le=3650)
    # Google's default page is 250 events and its largest 2500.
    page_size: int = Field(250, ge=1, le=2500)

    @field_validator("calendars")
    @classmethod
    def _calendar_ids(cls, value: list[str]) -> list[str]:
        """Trimmed and lower-cased, as events name their attendees; once each."""
        return _normalised(value, records.address, "calendar id")

    @field_validator("internal_domains")
    @classmethod
    def _domains(cls, value: list[str]) -> list[str]:
        return _normalised(value, records.domain, "domain")


def _normalised(
    values: list[str], normal: Callable[[str], str], what: str
) -> list[str]:
    found: list[str] = []
    for value in values:
        clean = normal(value)
        if not clean:
            raise ValueError(f"an empty {what}")
        if clean not in found:
            found.append(clean)
    return found


def read_google_calendar(
    source: GoogleCalendarSource, state: SyncState, clock: Clock
) -> Iterator[Record | Rejection]:
    """Each calendar's meetings, then their attendees, page by page;
    ``state.next_cursor`` is set once every calendar is handed over."""
    saved = _saved(state.cursor)
    directory = records.Directory.of(source.calendars, source.internal_domains)
    policy = RetryPolicy(source.max_attempts, max_wait=source.max_retry_wait)
    headers = {"Accept": "application/json"}
    tokens: dict[str, Any] = {}
    with make_client(source, headers, state.transport) as http:
        credential = _credential(source, http)
        sync = CalendarSync(source, http, policy, credential, directory, clock.now())
        for calendar in source.calendars:
            token = yield from sync.calendar(calendar, saved.get(calendar))
            if token is not None:
                tokens[calendar] = token
        yield from sync.settle()
    state.next_cursor = {"calendars": tokens}


def _credential(source: GoogleCalendarSource, http: httpx.Client) -> Credential:
    """The service account when its variable is set, else OAuth as configured."""
    path = os.environ.get(source.service_account_env, "").strip()
    chosen = "service_account_env" in source.model_fields_set
    note = (
        f"; or, for a Workspace, set {source.service_account_env} to the path of a "
        "service-account key with domain-wide delegation"
    )
    if path and not chosen and not _service_account_key(path):
        note = (
            f"; {source.service_account_env} is set but holds another tool's login, "
            "not a service-account key, so it was left alone"
        )
        # GOOGLE_APPLICATION_CREDENTIALS often holds another tool's login (gcloud's
        # authorized_user file): not meant for Foresight unless the config says so.
        logger.info(
            "%s: %s is not a service-account key; using OAuth",
            source.name,
            source.service_account_env,
        )
        path = ""
    if not path:
        return OAuth(
            source.name,
            TokenEndpoint(source.name, http, source.token_url),
            source.token_env,
            (source.client_id_env, source.client_secret_env, source.refresh_token_env),
            note,
        )
    key = read_key(source.name, source.service_account_env, path)
    # The key names Google's endpoint; a configured token_url (a proxy, a
    # stand-in) goes first.
    url = source.token_url
    if "token_url" not in source.model_fields_set and key.token_uri:
        url = key.token_uri
    logger.info(
        "%s: reading each calendar as its owner through the service account %s "
        "(key from %s)",
        source.name,
        key.client_email,
        source.service_account_env,
    )
    return ServiceAccount(source.name, key, TokenEndpoint(source.name, http, url))


def _service_account_key(path: str) -> bool:
    try:
        raw = json.loads(Path(path).expanduser().read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return True  # let the key reader say what is wrong with it
    return isinstance(raw, dict) and raw.get("type") == "service_account"


class CalendarSync:
    """One sync's reading of calendars; a meeting seen in an earlier calendar of
    the same sync (a meeting of two reps) is handed over once. Cancelled copies
    wait for ``settle``, after the last calendar: whether the meeting is gone or
    only some reps left it depends on every calendar's copy."""

    def __init__(
        self,
        source: GoogleCalendarSource,
        http: httpx.Client,
        policy: RetryPolicy,
        credential: Credential,
        directory: records.Directory,
        now: datetime,
    ) -> None:
        self.source = source
        self.http = http
        self.policy = policy
        self.credential = credential
        self.directory = directory
        self.now = now
        self.seen: set[str] = set()
        self.cancelled: dict[str, list[records.Cancelled]] = {}

    def calendar(self, calendar: str, saved: Mapping[str, Any] | None) -> Produced:
        """Read one calendar from its saved state; its next state."""
        token = saved.get("sync_token") if saved else None
        until = _time(saved.get("until")) if saved else None
        ahead = timedelta(days=self.source.future_days)
        if token and until is not None and until - self.now < ahead / 2:
            logger.info(
                "%s: calendar %s was read up to %s; reading it in full to look "
                "further ahead",
                self.source.name,
                calendar,
                until.isoformat(),
            )
        elif isinstance(token, str) and token and until is not None:
            try:
                return (yield from self._read(calendar, {"syncToken": token}, until))
            except SyncTokenExpired:
                logger.warning(
                    "%s: Google expired the sync token of calendar %s (HTTP 410); "
                    "reading it in full again",
                    self.source.name,
                    calendar,
                )
        return (yield from self._full(calendar, first=saved is None))

    def _full(self, calendar: str, first: bool) -> Produced:
        since = self.now - timedelta(days=self.source.past_days)
        until = self.now + timedelta(days=self.source.future_days)
        window = {"timeMin": _rfc3339(since), "timeMax": _rfc3339(until)}
        return (yield from self._read(calendar, window, until, first))

    def _read(
        self,
        calendar: str,
        params: Mapping[str, str],
        until: datetime,
        first: bool = False,
    ) -> Produced:
        query = {
            "singleEvents": "true",
            "showDeleted": "true",
            "maxResults": str(self.source.page_size),
            **params,
        }
        api = SourceClient(
            self.source.name,
            self.http,
            self.policy,
            self.credential.hint(),
            refresh=lambda: self.credential.refresh(calendar),
        )
        listing = EventListing(api, self.credential, calendar, query)
        count = 0
        for page in listing:
            yield from self._page(calendar, page.items, listing.zone, not first)
            count += len(page.items)
        how = "changed" if "syncToken" in params else "listed"
        logger.info("%s: %d events %s in %s", self.source.name, count, how, calendar)
        if listing.sync_token is None:
            logger.warning(
                "%s: Google sent no sync token for calendar %s; the next sync reads "
                "it in full",
                self.source.name,
                calendar,
            )
            return None
        return {"sync_token": listing.sync_token, "until": until.isoformat()}

    def _page(
        self, calendar: str, items: Any, zone: str | None, mark_deleted: bool
    ) -> Iterator[Record | Rejection]:
        """Meetings first, then their attendees: the loader needs them in order."""
        attendees: list[Record | Rejection] = []
        for raw in items:
            converted = records.event(
                self.source.name, raw, calendar, zone, self.directory, mark_deleted
            )
            if converted.cancelled is not None:
                event_id = str(raw["id"])
                self.cancelled.setdefault(event_id, []).append(converted.cancelled)
                continue
            meeting = converted.meeting
            if isinstance(meeting, Record):
                if meeting.source_id in self.seen:
                    continue
                self.seen.add(meeting.source_id)
            if meeting is not None:
                yield meeting
            attendees += converted.attendees
        yield from attendees

    def settle(self) -> Iterator[Record]:
        """The cancelled copies' meaning, once every calendar is read: deleted
        meetings first, then the attendee rows of reps who left a meeting."""
        removed: list[Record] = []
        for event_id, copies in self.cancelled.items():
            live = event_id in self.seen
            meeting, left = records.settle(
                self.source.name, event_id, copies, live, self.directory, self.now
            )
            if meeting is not None:
                yield meeting
            removed += left
        yield from removed


def _saved(cursor: dict[str, Any] | None) -> dict[str, dict[str, Any]]:
    """Each calendar's saved state; anything unreadable means read it in full."""
    calendars = (cursor or {}).get("calendars")
    if not isinstance(calendars, dict):
        return {}
    return {k: v for k, v in calendars.items() if isinstance(v, dict)}


def _time(value: Any) -> datetime | None:
    if not isinstance(value, str):
        return None
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _rfc3339(moment: datetime) -> str:
    """Google wants an offset on timeMin/timeMax; whole seconds are plenty."""
    return (
        moment.astimezone(UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z")
    )


SETTINGS = GoogleCalendarSource
read = read_google_calendar

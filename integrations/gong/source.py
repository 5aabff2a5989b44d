"""``kind: gong``: the config keys and the sync of one Gong company.

The first sync reads the calls that started in the last ``since_days`` (counted from
the clock's "now", so a demo fixed in the past reads that past). The cursor is the
start time of the newest call seen; the next sync asks from that time less
``overlap_hours``, because Gong adds a call only once its recording is processed,
after calls that started later may already be listed. Calls read twice are
upserted unchanged.
"""

from __future__ import annotations

import base64
import logging
from collections.abc import Iterator, Sequence
from datetime import datetime, timedelta
from typing import Any, Literal

from pydantic import Field

from context.clock import Clock
from context.records import Record, Rejection
from integrations.gong import records
from integrations.gong.client import GongApi
from integrations.http import (
    HttpSource,
    RetryPolicy,
    SourceClient,
    make_client,
    read_secret,
)
from integrations.source import SyncState
from integrations.vendor_values import cursor_time

logger = logging.getLogger(__name__)

DEFAULT_BASE_URL = "https://api.gong.io"
ENV_NAME = r"^[A-Za-z_][A-Za-z0-9_]*$"
SCOPES = "api:users:read, api:calls:read:extensive, api:calls:read:transcript"


class GongSource(HttpSource):
    """A Gong company, read with an API access key and its secret (HTTP Basic)."""

    kind: Literal["gong"]
    base_url: str = Field(DEFAULT_BASE_URL, min_length=1)
    access_key_env: str = Field("GONG_ACCESS_KEY", pattern=ENV_NAME)
    access_key_secret_env: str = Field("GONG_ACCESS_KEY_SECRET", pattern=ENV_NAME)
    users_as_reps: bool = False
    internal_domains: tuple[str, ...] = ()
    since_days: int = Field(365, ge=1, le=3650)
    overlap_hours: float = Field(24.0, ge=0, le=24 * 30)
    transcripts: bool = True


def read_gong(
    source: GongSource, state: SyncState, clock: Clock
) -> Iterator[Record | Rejection]:
    """Users (as reps if asked), then page by page each call's touches, its
    conversation and its transcript; ``state.next_cursor`` is set at the end."""
    headers = {"Authorization": _basic(source), "Accept": "application/json"}
    policy = RetryPolicy(source.max_attempts, max_wait=source.max_retry_wait)
    hint = (
        f"check {source.access_key_env} and {source.access_key_secret_env}: a Gong "
        "technical administrator creates the access key and secret under Company "
        "settings › Ecosystem › API (an OAuth app needs the scopes "
        f"{SCOPES})"
    )
    previous = _started(state.cursor)
    since = _since(source, previous, clock)
    newest = previous
    with make_client(source, headers, state.transport) as http:
        api = GongApi(SourceClient(source.name, http, policy, hint))
        users = api.users()
        if source.users_as_reps:
            yield from (records.user_rep(source.name, u) for u in users.values())
        domains = frozenset(d.strip().lower() for d in source.internal_domains)
        org = records.Org(users, domains)
        for page in api.calls(since):
            found = [records.call(source.name, raw, org) for raw in page]
            calls = [c for c in found if isinstance(c, records.Call)]
            yield from (c for c in found if isinstance(c, Rejection))
            yield from _page_records(source, api, calls)
            newest = _latest(newest, calls)
    if newest is not None:
        state.next_cursor = {"started": newest.isoformat()}


def _page_records(
    source: GongSource, api: GongApi, calls: Sequence[records.Call]
) -> Iterator[Record | Rejection]:
    """Touches, then conversations, then turns: each kind before those that need it."""
    for found in calls:
        yield from found.activities
    yield from (c.conversation for c in calls if c.conversation is not None)
    if not source.transcripts or not calls:
        return
    transcripts = api.transcripts([c.call_id for c in calls])
    for found in calls:
        yield from records.turns(source.name, found, transcripts.get(found.call_id))


def _basic(source: GongSource) -> str:
    key = read_secret(source.name, source.access_key_env, "access_key_env")
    secret = read_secret(
        source.name, source.access_key_secret_env, "access_key_secret_env"
    )
    token = base64.b64encode(f"{key}:{secret}".encode()).decode("ascii")
    return f"Basic {token}"


def _since(source: GongSource, previous: datetime | None, clock: Clock) -> datetime:
    if previous is None:
        return clock.now() - timedelta(days=source.since_days)
    return previous - timedelta(hours=source.overlap_hours)


def _latest(newest: datetime | None, calls: Sequence[records.Call]) -> datetime | None:
    starts = [c.started for c in calls if c.started is not None]
    if newest is not None:
        starts.append(newest)
    return max(starts, default=None)


def _started(cursor: dict[str, Any] | None) -> datetime | None:
    """The stored cursor; anything unreadable means a first sync."""
    return cursor_time((cursor or {}).get("started"), "Gong")


SETTINGS = GongSource
read = read_gong

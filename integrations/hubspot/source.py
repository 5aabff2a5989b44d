"""``kind: hubspot``: the config keys and the sync of one HubSpot portal.

The first sync lists every owner, company, contact, deal and engagement (e-mail,
meeting, call, note, task), with their associations inline. Later syncs ask the
search endpoint only for what changed since the stored cursor, per object type,
through ``hs_lastmodifieddate`` (``lastmodifieddate`` on contacts), and read the
associations of what it returns in batches. The new cursor is the time the sync
began, less ``INDEX_LAG``: HubSpot's search index trails its writes, and a record
changed just before the sync may not be searchable yet, so the next sync looks a
little further back and upserts those again unchanged.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any, Literal

from pydantic import Field

from context.clock import Clock
from context.records import Record, Rejection
from integrations.http import (
    HttpSource,
    RetryPolicy,
    SourceClient,
    make_client,
    read_secret,
)
from integrations.hubspot import engagements, records
from integrations.hubspot.client import HubSpotApi
from integrations.hubspot.reading import PortalRead
from integrations.source import SyncState
from integrations.vendor_values import cursor_time

logger = logging.getLogger(__name__)

DEFAULT_BASE_URL = "https://api.hubapi.com"
INDEX_LAG = timedelta(minutes=5)
# (object type, the property holding its last change, its properties)
OBJECTS = (
    ("companies", "hs_lastmodifieddate", records.COMPANY_PROPERTIES),
    ("contacts", "lastmodifieddate", records.CONTACT_PROPERTIES),
    ("deals", "hs_lastmodifieddate", records.DEAL_PROPERTIES),
)
# Engagements (e-mails, meetings, calls, notes, tasks) are read under
# crm.objects.contacts.read; an e-mail's subject and text also need sales-email-read.
SCOPES = (
    "crm.objects.companies.read, crm.objects.contacts.read, "
    "crm.objects.deals.read, crm.objects.owners.read, sales-email-read"
)


class HubSpotSource(HttpSource):
    """A HubSpot portal, read with a private-app token from ``token_env``."""

    kind: Literal["hubspot"]
    base_url: str = Field(DEFAULT_BASE_URL, min_length=1)
    token_env: str = Field("HUBSPOT_TOKEN", pattern=r"^[A-Za-z_][A-Za-z0-9_]*$")
    owners_as_reps: bool = False


def read_hubspot(
    source: HubSpotSource, state: SyncState, clock: Clock
) -> Iterator[Record | Rejection]:
    """Owners (as reps if asked), companies, contacts, deals, deal history and
    engagements, in the order the loader needs; ``state.next_cursor`` is set once
    all are handed over."""
    del clock  # HubSpot's times are real times, whatever "now" the config fixes
    token = read_secret(source.name, source.token_env)
    headers = {"Authorization": f"Bearer {token}", "Accept": "application/json"}
    policy = RetryPolicy(source.max_attempts, max_wait=source.max_retry_wait)
    hint = (
        f"create a private-app token in HubSpot (Settings › Integrations › Private "
        f"apps) with the scopes {SCOPES}, and put it in {source.token_env}"
    )
    started = datetime.now(UTC)
    with make_client(source, headers, state.transport) as http:
        api = HubSpotApi(SourceClient(source.name, http, policy, hint))
        owners = api.owners()
        if source.owners_as_reps:
            yield from (records.owner_rep(source.name, o) for o in owners.values())
        portal = PortalRead(source.name, api, owners, api.stages(), started)
        cursor = dict(state.cursor or {})
        listed = []
        for object_type, stamp, properties in OBJECTS:
            since = _since(cursor.get(object_type))
            listed.append(since is None)
            yield from portal.crm_objects(object_type, stamp, properties, since)
            cursor[object_type] = (started - INDEX_LAG).isoformat()
        yield from portal.deal_history()
        for object_type, spec in engagements.TYPES.items():
            since = _since(cursor.get(object_type))
            listed.append(since is None)
            yield from portal.activities(object_type, spec.properties(), since)
            cursor[object_type] = (started - INDEX_LAG).isoformat()
    state.next_cursor = cursor
    state.complete = all(listed)


def _since(value: Any) -> datetime | None:
    return cursor_time(value, "HubSpot")


SETTINGS = HubSpotSource
read = read_hubspot

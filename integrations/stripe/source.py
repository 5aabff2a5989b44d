"""``kind: stripe``: the config keys and the sync of one Stripe account.

Stripe's lists filter by creation time only, so a listing "since the last sync"
would miss every update. The first sync therefore lists every customer,
subscription (of any status) and invoice; later syncs read the Events API from the
cursor and fetch each object an event names again, in the pinned API version.
Stripe keeps events for 30 days: a cursor older than that (a source left unsynced
for a month) means a full listing again.

The cursor is ``{"events_from": <epoch seconds>, "seen": [event ids]}``: the time
of the newest event handed over (or when the full listing began) and the events
of that very second already read. Events are asked for from that second on, not
after it, because more can arrive within the same second.
"""

from __future__ import annotations

import logging
from collections.abc import Generator, Iterator, Mapping
from dataclasses import dataclass
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
from integrations.paging import Page
from integrations.source import SyncState
from integrations.stripe import records
from integrations.stripe.client import StripeApi

logger = logging.getLogger(__name__)

DEFAULT_BASE_URL = "https://api.stripe.com"
# Pinned so that a change of the account's default version cannot change the shapes
# we read (CASES B28); records.py reads this version and the ones before it.
DEFAULT_API_VERSION = "2025-03-31.basil"
# docs.stripe.com/api/events: "events going back 30 days"; a day's margin.
EVENTS_KEPT = timedelta(days=29)
# The events that change what we store; the Events API takes at most 20 types.
EVENT_TYPES = (
    "customer.created",
    "customer.updated",
    "customer.deleted",
    "customer.subscription.created",
    "customer.subscription.updated",
    "customer.subscription.deleted",
    "customer.subscription.paused",
    "customer.subscription.resumed",
    "customer.subscription.pending_update_applied",
    "invoice.created",
    "invoice.updated",
    "invoice.deleted",
    "invoice.finalized",
    "invoice.paid",
    "invoice.payment_failed",
    "invoice.payment_succeeded",
    "invoice.voided",
    "invoice.marked_uncollectible",
    "invoice.overdue",
)
# object type of an event's object → the path it is fetched from again
PATHS = {
    "customer": "/v1/customers",
    "subscription": "/v1/subscriptions",
    "invoice": "/v1/invoices",
}
PERMISSIONS = "Customers, Subscriptions, Invoices, Products and Events: Read"


class StripeSource(HttpSource):
    """A Stripe account, read with a secret or restricted key from ``api_key_env``.

    ``links`` maps a customer metadata key to the name of another source: a
    customer whose metadata holds ``hubspot_company_id: 123`` is the same account
    as record 123 of that source.
    """

    kind: Literal["stripe"]
    base_url: str = Field(DEFAULT_BASE_URL, min_length=1)
    api_key_env: str = Field("STRIPE_API_KEY", pattern=r"^[A-Za-z_][A-Za-z0-9_]*$")
    api_version: str = Field(
        DEFAULT_API_VERSION, pattern=r"^\d{4}-\d{2}-\d{2}(\.[a-z_]+)?$"
    )
    links: dict[str, str] = Field(default_factory=dict)

    def sources_named(self) -> set[str]:
        return set(self.links.values())


@dataclass
class Changed:
    """The newest event about one object: what happened to it and when."""

    kind: str
    deleted: bool
    at: datetime
    last_state: Any


def read_stripe(
    source: StripeSource, state: SyncState, clock: Clock
) -> Iterator[Record | Rejection]:
    """Customers, subscriptions and invoices, all of them or those changed since
    the cursor; ``state.next_cursor`` is set once all are handed over."""
    del clock  # Stripe's times are real times, whatever "now" the config fixes
    key = read_secret(source.name, source.api_key_env, "api_key_env")
    headers = {
        "Authorization": f"Bearer {key}",
        "Stripe-Version": source.api_version,
        "Accept": "application/json",
    }
    policy = RetryPolicy(source.max_attempts, max_wait=source.max_retry_wait)
    hint = (
        "create a restricted key in the Stripe Dashboard (Developers › API keys) "
        f"with {PERMISSIONS}, and put it in {source.api_key_env}"
    )
    started = datetime.now(UTC)
    with make_client(source, headers, state.transport) as http:
        api = StripeApi(SourceClient(source.name, http, policy, hint))
        since, seen = _since(state.cursor, started)
        if since is None:
            yield from _everything(source, api)
            cursor = {"events_from": int(started.timestamp()), "seen": []}
        else:
            cursor = yield from _changes(source, api, since, seen)
    state.next_cursor = cursor
    state.complete = since is None


def _everything(source: StripeSource, api: StripeApi) -> Iterator[Record | Rejection]:
    name = source.name
    for page in _counted(name, "customers", api.listing("/v1/customers")):
        yield from (records.customer(name, raw, source.links) for raw in page.items)
    products = _products(name, api)
    listing = api.listing("/v1/subscriptions", {"status": "all"})
    for page in _counted(name, "subscriptions", listing):
        yield from (_subscription(name, api, raw, products) for raw in page.items)
    for page in _counted(name, "invoices", api.listing("/v1/invoices")):
        yield from (records.invoice(name, raw) for raw in page.items)


def _changes(
    source: StripeSource, api: StripeApi, since: int, seen: set[str]
) -> Generator[Record | Rejection, None, dict[str, Any]]:
    """Records of the objects events name since ``since``; returns the next cursor."""
    changed, newest, at_newest = _events(source.name, api, since, seen)
    name = source.name
    by_kind = {
        kind: {i: c for i, c in changed.items() if c.kind == kind} for kind in PATHS
    }
    for record_id, change in by_kind["customer"].items():
        if change.deleted:
            yield records.customer(name, change.last_state, source.links, change.at)
        elif (raw := _fetch(api, "customer", record_id)) is not None:
            yield records.customer(name, raw, source.links)
    products = _products(name, api) if by_kind["subscription"] else {}
    for record_id in by_kind["subscription"]:
        if (raw := _fetch(api, "subscription", record_id)) is not None:
            yield _subscription(name, api, raw, products)
    for record_id, change in by_kind["invoice"].items():
        if change.deleted:
            yield records.invoice(name, change.last_state, change.at)
        elif (raw := _fetch(api, "invoice", record_id)) is not None:
            yield records.invoice(name, raw)
    if newest == since:
        at_newest |= seen
    return {"events_from": newest, "seen": sorted(at_newest)}


def _events(
    source: str, api: StripeApi, since: int, seen: set[str]
) -> tuple[dict[str, Changed], int, set[str]]:
    """The newest event per object (events come newest first), the newest event
    time, and the ids of the events at that time."""
    params = {"types[]": list(EVENT_TYPES), "created[gte]": since}
    changed: dict[str, Changed] = {}
    newest, count = since, 0
    at_newest: set[str] = set()
    for page in api.listing("/v1/events", params):
        for event in page.items:
            if not isinstance(event, dict) or event.get("id") in seen:
                continue
            count += 1
            created = event.get("created")
            created = created if isinstance(created, int) else since
            if created > newest:
                newest, at_newest = created, set()
            if created == newest:
                at_newest.add(str(event.get("id")))
            _note(changed, event, created)
    logger.info("%s: %d events since %d read", source, count, since)
    return changed, newest, at_newest


def _note(changed: dict[str, Changed], event: dict[str, Any], created: int) -> None:
    obj = (event.get("data") or {}).get("object")
    if not isinstance(obj, dict) or not isinstance(obj.get("id"), str):
        logger.warning("Stripe event %s names no object; skipped", event.get("id"))
        return
    kind = str(obj.get("object"))
    if kind not in PATHS or obj["id"] in changed:
        return
    deleted = str(event.get("type")).endswith(".deleted") and kind != "subscription"
    changed[obj["id"]] = Changed(
        kind, deleted, datetime.fromtimestamp(created, UTC), obj
    )


def _fetch(api: StripeApi, kind: str, record_id: str) -> dict[str, Any] | None:
    """The object as it is now; None if it is gone (its deletion event will come)."""
    raw = api.retrieve(f"{PATHS[kind]}/{record_id}")
    if raw is None or raw.get("deleted") is True:
        logger.info(
            "Stripe %s %s is gone; its deletion comes next sync", kind, record_id
        )
        return None
    return raw


def _subscription(
    source: str, api: StripeApi, raw: Any, products: Mapping[str, str]
) -> Record | Rejection:
    items = api.items_of(raw) if isinstance(raw, dict) else []
    return records.subscription(source, raw, items, products)


def _products(source: str, api: StripeApi) -> dict[str, str]:
    """Product names by id, for plans whose price has no nickname."""
    names: dict[str, str] = {}
    for page in _counted(source, "products", api.listing("/v1/products")):
        for product in page.items:
            if isinstance(product, dict) and product.get("name"):
                names[str(product.get("id"))] = str(product["name"])
    return names


def _counted(source: str, what: str, listing: Iterator[Page]) -> Iterator[Page]:
    count = 0
    for page in listing:
        count += len(page.items)
        yield page
    logger.info("%s: %d %s read", source, count, what)


def _since(
    cursor: Mapping[str, Any] | None, now: datetime
) -> tuple[int | None, set[str]]:
    """Where the events pick up, or None to list everything: no cursor, an
    unreadable one, or one older than Stripe keeps events."""
    if not cursor:
        return None, set()
    since, seen = cursor.get("events_from"), cursor.get("seen") or []
    if not isinstance(since, int) or not isinstance(seen, list):
        logger.warning("unreadable Stripe cursor %r; listing everything", cursor)
        return None, set()
    if now - datetime.fromtimestamp(since, UTC) > EVENTS_KEPT:
        logger.warning(
            "Stripe cursor from %s is older than the events Stripe keeps; "
            "listing everything",
            datetime.fromtimestamp(since, UTC).isoformat(),
        )
        return None, set()
    return since, {str(s) for s in seen}


SETTINGS = StripeSource
read = read_stripe

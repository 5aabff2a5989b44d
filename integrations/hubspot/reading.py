"""One sync's reading of a HubSpot portal, object type by object type.

What one step learns, a later one needs: the merges seen among companies point
contacts, deals and engagements at the survivor, and the deals read are the ones
whose history is fetched. ``PortalRead`` keeps that between steps.

A first sync lists each type with its associations inline (a contact's or deal's
companies, an engagement's companies, contacts and deals), so it makes a batch
association read only for the few objects whose inline list was cut off; an
incremental sync searches, which carries no associations, and reads them in a batch
per page.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator, Mapping, Sequence
from datetime import datetime
from typing import Any

from context.records import Record, Rejection
from integrations.hubspot import engagements, history, records
from integrations.hubspot.client import HubSpotApi, Stage
from integrations.hubspot.merges import Merges, archived, live
from integrations.paging import Page

logger = logging.getLogger(__name__)

Owners = Mapping[str, Mapping[str, Any]]
# The object types an engagement links to (account, person, deal), in that order.
LINKED = ("companies", "contacts", "deals")


class PortalRead:
    """Reads one portal for one sync and hands over records in ``KINDS`` order."""

    def __init__(
        self,
        source: str,
        api: HubSpotApi,
        owners: Owners,
        stages: Mapping[str, Stage],
        started: datetime,
    ) -> None:
        self.source = source
        self.api = api
        self.owners = owners
        self.stages = stages
        self.started = started
        self.merges = Merges(source)
        self.deal_ids: list[str] = []

    def crm_objects(
        self,
        object_type: str,
        stamp: str,
        properties: Sequence[str],
        since: datetime | None,
    ) -> Iterator[Record | Rejection]:
        """Companies, contacts or deals: what changed, the ids merged into them,
        then the archived ones (which search never returns)."""
        marked: list[Record] = []
        count = 0
        wanted = () if object_type == "companies" else ("companies",)
        for page in self._pages(object_type, stamp, properties, since, wanted):
            companies = self._companies(object_type, page.items, since is None)
            for raw in page.items:
                record = live(self._one(object_type, raw, companies))
                if isinstance(record, Record):
                    marked += self.merges.absorbed(object_type, record, raw)
                    if record.kind == "deal":
                        self.deal_ids.append(record.source_id)
                yield record
            count += len(page.items)
        logger.info("%s: %d %s read", self.source, count, object_type)
        yield from marked
        yield from self._archived(object_type, properties)
        if object_type == "companies":
            # After the marked companies: a company whose id is aliased when it
            # first loads is merged into the alias target instead of stored.
            yield from self.merges.aliases()

    def deal_history(self) -> Iterator[Record]:
        """Stage, amount and close-date changes of the deals this sync read."""
        count = 0
        for raw in self.api.with_history("deals", self.deal_ids, list(history.TRACKED)):
            for change in history.deal_changes(self.source, raw, self.stages):
                count += 1
                yield change
        if self.deal_ids:
            logger.info(
                "%s: %d deal changes in the history of %d deals",
                self.source,
                count,
                len(self.deal_ids),
            )

    def activities(
        self, object_type: str, properties: Sequence[str], since: datetime | None
    ) -> Iterator[Record | Rejection]:
        """E-mails, meetings, calls, notes or tasks, with their associations."""
        count = 0
        stamp = "hs_lastmodifieddate"
        for page in self._pages(object_type, stamp, properties, since, LINKED):
            linked = {
                to_type: self.api.associated(
                    object_type, to_type, page.items, inline=since is None
                )
                for to_type in LINKED
            }
            for raw in page.items:
                links = self._links(raw, linked)
                yield engagements.activity(
                    self.source, object_type, raw, links, self.owners
                )
            count += len(page.items)
        logger.info("%s: %d %s read", self.source, count, object_type)

    def _pages(
        self,
        object_type: str,
        stamp: str,
        properties: Sequence[str],
        since: datetime | None,
        associations: Sequence[str],
    ) -> Iterator[Page]:
        """The listing, with ``associations`` inline, or the search since
        ``since``, without."""
        if since is None:
            return self.api.listing(object_type, properties, associations=associations)
        return self.api.changed(object_type, properties, stamp, since, self.started)

    def _archived(
        self, object_type: str, properties: Sequence[str]
    ) -> Iterator[Record | Rejection]:
        """Archived records, listed on every sync, marked with ``deleted_at``.
        Their associations are not read: archiving keeps the row's links."""
        count = 0
        for page in self.api.listing(object_type, properties, archived=True):
            for raw in page.items:
                yield archived(self._one(object_type, raw, {}), raw, self.started)
            count += len(page.items)
        if count:
            logger.info("%s: %d archived %s read", self.source, count, object_type)

    def _companies(
        self, object_type: str, items: Sequence[Any], inline: bool
    ) -> dict[str, str]:
        if object_type == "companies":
            return {}
        found = self.api.companies_of(object_type, items, inline)
        return {k: self.merges.follow("companies", v) for k, v in found.items()}

    def _one(
        self, object_type: str, raw: Any, companies: Mapping[str, str]
    ) -> Record | Rejection:
        if object_type == "companies":
            return records.company(self.source, raw, self.owners)
        company_id = (
            companies.get(str(raw.get("id"))) if isinstance(raw, dict) else None
        )
        if object_type == "contacts":
            return records.contact(self.source, raw, company_id)
        return records.deal(self.source, raw, company_id, self.stages, self.owners)

    def _links(
        self, raw: Any, linked: Mapping[str, Mapping[str, list[str]]]
    ) -> engagements.Links:
        record_id = str(raw.get("id")) if isinstance(raw, dict) else ""

        def ids(to_type: str) -> list[str]:
            found = linked[to_type].get(record_id, [])
            return list(dict.fromkeys(self.merges.follow(to_type, i) for i in found))

        return engagements.Links(ids("companies"), ids("contacts"), ids("deals"))

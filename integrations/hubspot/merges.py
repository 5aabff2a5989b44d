"""Archived and merged HubSpot records, marked the way the store keeps them.

Search never returns archived records, so they come from the archived listing
(HubSpot keeps them there for 90 days) and load with ``deleted_at`` set to their
``archivedAt``.

A merge leaves one survivor whose ``hs_merged_object_ids`` lists the ids it took in,
separated by ";"; those ids vanish from every listing. Each becomes a record of the
same kind with ``merged_into`` (the survivor) and ``deleted_at`` (the survivor's
``updatedAt``: HubSpot keeps no merge time), so a row stored earlier under the old
id is marked and leads to the survivor. A merged company also gets an
``account_alias``, so that whatever still names the old company id, here or in
another source, resolves to the survivor.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator, Mapping
from datetime import datetime
from typing import Any

from context.records import Record, Rejection
from integrations.vendor_values import moment
from integrations.vendor_values import text as clean_text

# Kinds whose rows need a name even when only marked (the store requires one).
NAMED = ("account", "person")


def archived(record: Record | Rejection, raw: Any, now: datetime) -> Record | Rejection:
    """``record`` marked as deleted when HubSpot archived it; the sync's start
    stands in for a missing ``archivedAt``."""
    if isinstance(record, Record) and isinstance(raw, dict):
        at = moment(raw.get("archivedAt"), record.origin, "archivedAt")
        record.fields["deleted_at"] = at or now
    return record


def live(record: Record | Rejection) -> Record | Rejection:
    """A record HubSpot lists as live is not deleted or merged (anymore: an
    archived record can be restored within 90 days)."""
    if isinstance(record, Record):
        record.fields.setdefault("deleted_at", None)
        record.fields.setdefault("merged_into", None)
    return record


class Merges:
    """The merges one sync has seen, by object type: old id → survivor id.

    Kept so that what this sync reads after the survivor (a deal's company, an
    e-mail's contact) is pointed at the survivor straight away.
    """

    def __init__(self, source: str) -> None:
        self.source = source
        self.survivors: dict[str, dict[str, str]] = defaultdict(dict)

    def follow(self, object_type: str, record_id: str) -> str:
        return self.survivors[object_type].get(record_id, record_id)

    def absorbed(
        self, object_type: str, survivor: Record, raw: Mapping[str, Any]
    ) -> list[Record]:
        """A marked record for each id merged into ``survivor``."""
        props = raw.get("properties") or {}
        old_ids = _ids(props.get("hs_merged_object_ids"), survivor.source_id)
        if not old_ids:
            return []
        where = survivor.origin
        at = moment(raw.get("updatedAt"), where, "updatedAt") or moment(
            props.get("hs_lastmodifieddate") or props.get("lastmodifieddate"),
            where,
            "lastmodifieddate",
        )
        marked = []
        for old_id in old_ids:
            self.survivors[object_type][old_id] = survivor.source_id
            fields: dict[str, Any] = {
                "merged_into": survivor.source_id,
                "deleted_at": at,
            }
            if survivor.kind in NAMED:
                fields["name"] = survivor.fields.get("name")
            origin = f"{object_type} {old_id} (merged into {survivor.source_id})"
            marked.append(
                Record(survivor.kind, self.source, old_id, fields, origin=origin)
            )
        return marked

    def aliases(self) -> Iterator[Record]:
        """An ``account_alias`` per merged company: old id → survivor."""
        for old_id, survivor_id in self.survivors["companies"].items():
            yield Record(
                "account_alias",
                self.source,
                f"merged:{old_id}",
                {
                    "alias_source": self.source,
                    "alias_id": old_id,
                    "target_source": self.source,
                    "target_id": survivor_id,
                },
                origin=f"companies {old_id} (merged into {survivor_id})",
            )


def _ids(value: Any, survivor_id: str) -> list[str]:
    text = clean_text(value) or ""
    parts = (part.strip() for part in text.split(";"))
    return list(dict.fromkeys(p for p in parts if p and p != survivor_id))

"""Deal history from HubSpot's ``propertiesWithHistory``: each stage, amount and
close-date change with the time HubSpot recorded it, as ``deal_change`` records.

HubSpot lists a property's values newest first, the first value ever set last. Each
pair of consecutive values is one change; the first value is how the deal began,
not a change. Stage ids become the labels the deal rows show. The loader skips a
change it already has (same deal, field and time), so reading a deal's history
again on a later sync adds only what is new.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator, Mapping
from datetime import datetime
from itertools import pairwise
from typing import Any

from context.records import Record, Ref
from integrations.files.values import BadValue, read_date, read_money
from integrations.hubspot.client import Stage
from integrations.vendor_values import MONEY_DIGITS, MONEY_PLACES, UTC_ZONE, moment
from integrations.vendor_values import text as clean_text

logger = logging.getLogger(__name__)

# HubSpot property → the deal_change field the loader and the views know.
TRACKED = {"dealstage": "stage", "amount": "amount", "closedate": "close_date"}


def deal_changes(
    source: str, raw: Mapping[str, Any], stages: Mapping[str, Stage]
) -> Iterator[Record]:
    """The changes in one deal's history, oldest first."""
    deal_id = str(raw.get("id"))
    history = raw.get("propertiesWithHistory")
    history = history if isinstance(history, dict) else {}
    for name, field in TRACKED.items():
        values = _timeline(history.get(name), f"deals {deal_id}", name)
        for (_, old), (at, new) in pairwise(values):
            old_value, new_value = (
                _shown(field, old, stages),
                _shown(field, new, stages),
            )
            if old_value == new_value:
                continue
            yield Record(
                "deal_change",
                source,
                f"{deal_id}:{field}:{int(at.timestamp() * 1000)}",
                {
                    "field": field,
                    "old_value": old_value,
                    "new_value": new_value,
                    "changed_at": at,
                },
                {"deal": Ref(source, deal_id)},
                origin=f"deals {deal_id} {name} history",
            )


def _timeline(entries: Any, where: str, name: str) -> list[tuple[datetime, Any]]:
    """(time, value) oldest first; an entry without a readable time is left out,
    since a change cannot be placed without one."""
    timeline = []
    for entry in entries if isinstance(entries, list) else []:
        if not isinstance(entry, dict):
            continue
        at = moment(entry.get("timestamp"), where, f"{name} history time")
        if at is not None:
            timeline.append((at, entry.get("value")))
    return sorted(timeline, key=lambda pair: pair[0])


def _shown(field: str, value: Any, stages: Mapping[str, Stage]) -> str | None:
    """The value as the deal row would show it; a value that does not read is
    kept as HubSpot sent it rather than losing the change."""
    text = clean_text(value)
    if text is None:
        return None
    try:
        if field == "stage":
            stage = stages.get(text)
            return stage.label if stage else text
        if field == "amount":
            return str(read_money(text, MONEY_PLACES, MONEY_DIGITS))
        day = read_date(text, UTC_ZONE)
        return None if day is None else day.isoformat()
    except BadValue:
        return text

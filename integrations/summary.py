"""What a sync prints: counts per source and kind, every rejection, and failures.

Rejections are grouped by the shape of their reason (the reason with its quoted
values blanked), so a thousand rows rejected for one cause read as the first
``SHOWN`` of them and a count, while every distinct cause is still shown.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Sequence
from typing import TYPE_CHECKING

from rich.console import Console
from rich.table import Table
from rich.text import Text

from context.records import Rejection

if TYPE_CHECKING:
    from integrations.sync import SourceResult

SHOWN = 20
_QUOTED = re.compile(r"'[^']*'|\"[^\"]*\"|\d+")


def print_summary(console: Console, results: Sequence[SourceResult]) -> None:
    """The counts table, the rejections, failures, or "Nothing changed."."""
    if not results:
        console.print("No sources to sync.")
        return
    console.print(_table(results))
    for result in results:
        _print_rejections(console, result.name, result.rejections)
        _print_unmatched(console, result.name, result.unmatched_reps)
        _print_missing(console, result.name, result.missing)
    failed = [result for result in results if result.error]
    for result in failed:
        failure = Text(f"✗ {result.name} failed: {result.error}", style="bold red")
        console.print(failure, soft_wrap=True)
    if failed:
        console.print(f"{len(failed)} of {len(results)} sources failed.")
    elif not any(result.changed() for result in results):
        console.print("Nothing changed.")


def _table(results: Sequence[SourceResult]) -> Table:
    table = Table(title="Sync", title_justify="left")
    table.add_column("Source")
    table.add_column("Kind")
    for outcome in ("New", "Updated", "Unchanged", "Rejected"):
        table.add_column(outcome, justify="right")
    for result in results:
        if not result.counts:
            note = "failed" if result.error else "no records"
            table.add_row(Text(result.label), Text(note), "", "", "", "")
        for kind, counts in result.counts.items():
            table.add_row(
                Text(result.label),
                Text(kind),
                *(str(counts[o]) for o in ("new", "updated", "unchanged", "rejected")),
            )
    return table


def _print_missing(console: Console, source: str, missing: dict[str, int]) -> None:
    if not missing:
        return
    counts = ", ".join(f"{n} {kind}" for kind, n in missing.items())
    console.print(
        Text(
            f"{source}: no longer in the source, marked deleted: {counts} "
            "(kept in the store, left out of cards; back if they reappear)",
            style="yellow",
        ),
        soft_wrap=True,
    )


def _print_unmatched(
    console: Console, source: str, who: dict[tuple[str, str], int]
) -> None:
    """Owners no rep matches still load, but an admin must hear about them."""
    if not who:
        return
    console.print(
        Text(
            f"{source}: {len(who)} sales-org name(s) match no rep in the directory "
            "(records kept without an owner link; add them to the org source):",
            style="bold yellow",
        ),
        soft_wrap=True,
    )
    ranked = sorted(who.items(), key=lambda item: -item[1])
    for (kind, name), count in ranked[:SHOWN]:
        console.print(Text(f"  {name} ({count} {kind} records)"), soft_wrap=True)
    if len(ranked) > SHOWN:
        console.print(Text(f"  … and {len(ranked) - SHOWN} more"))


def _print_rejections(console: Console, source: str, items: list[Rejection]) -> None:
    if not items:
        return
    console.print(Text(f"Rejected by {source}:", style="bold"))
    groups: dict[tuple[str, str], list[Rejection]] = defaultdict(list)
    for item in items:
        groups[(item.kind, _QUOTED.sub("…", item.reason))].append(item)
    for (kind, shape), group in groups.items():
        for item in group[:SHOWN]:
            console.print(Text(f"  {kind} {item}"), soft_wrap=True)
        if len(group) > SHOWN:
            console.print(
                Text(f"  … and {len(group) - SHOWN} more {kind} rejected: {shape}"),
                soft_wrap=True,
            )

"""Cursor paging that cannot loop (CASES B22).

A vendor that ignores the cursor we send answers with the first page again and
again; a caller that trusts it loads the same records forever, or a fixed number of
times without a word. ``pages`` follows any cursor scheme and stops with an error
as soon as a cursor or a whole page comes back a second time.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from integrations.errors import SourceError


@dataclass(frozen=True)
class Page:
    """One page: its items, their ids (to spot a repeat) and the next cursor."""

    items: Sequence[Any]
    ids: tuple[str, ...]
    next: str | None


def pages(fetch: Callable[[str | None], Page], what: str) -> Iterator[Page]:
    """Every page from ``fetch(None)`` on, each cursor followed once.

    ``what`` names the listing in the error (``source 'crm': GET /crm/v3/owners``).
    """
    cursors: set[str] = set()
    seen: set[tuple[str, ...]] = set()
    cursor: str | None = None
    while True:
        page = fetch(cursor)
        if page.ids and page.ids in seen:
            raise SourceError(
                f"{what}: the page after cursor {cursor!r} repeats an earlier page; "
                "stopped instead of loading the same records again (the vendor "
                "ignored the cursor)"
            )
        seen.add(page.ids)
        yield page
        if page.next is None:
            return
        if page.next in cursors or page.next == cursor:
            raise SourceError(
                f"{what}: the cursor {page.next!r} came back a second time; stopped "
                "instead of paging in a circle"
            )
        cursors.add(page.next)
        cursor = page.next

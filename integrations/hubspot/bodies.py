"""Engagement bodies as plain text: HubSpot keeps notes, meeting and call bodies
(and e-mails, when there is no text part) as the HTML its editor wrote."""

from __future__ import annotations

import re
from html.parser import HTMLParser

BODY_LIMIT = 4000  # characters kept of a body: enough for a brief, not a mailbox
SUBJECT_LIMIT = 200  # a note's subject is its first line, cut to this
# Tags that end a line of text where they open or close.
BREAKS = frozenset(
    {"br", "p", "div", "li", "tr", "h1", "h2", "h3", "h4", "h5", "h6", "ul", "ol"}
    | {"table", "blockquote", "pre", "hr"}
)
SKIPPED = frozenset({"script", "style", "head", "title"})
SPACES = re.compile(r"[ \t\r\f\v\u00a0]+")


def plain_text(value: str | None, html: bool = True) -> str | None:
    """The text of a body with one line per paragraph, cut to ``BODY_LIMIT``
    characters with an ellipsis; None when nothing is left. ``html=False`` for
    text that is already plain (an e-mail's text part, where ``<a@b.com>`` is an
    address, not a tag)."""
    if value is None:
        return None
    if html:
        parser = _TextParser()
        parser.feed(value)
        parser.close()
        value = "".join(parser.parts)
    lines = (SPACES.sub(" ", line).strip() for line in value.split("\n"))
    return clip("\n".join(line for line in lines if line), BODY_LIMIT)


def first_line(text: str | None, limit: int = SUBJECT_LIMIT) -> str | None:
    """A subject for what has none (a note): the first line of its text."""
    if not text:
        return None
    return clip(text.split("\n", 1)[0], limit)


def clip(text: str, limit: int) -> str | None:
    text = text.strip()
    if not text:
        return None
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


class _TextParser(HTMLParser):
    """Collects text; character references are decoded by ``convert_charrefs``."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self._skipping = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in SKIPPED:
            self._skipping += 1
        elif tag in BREAKS:
            self.parts.append("\n")

    def handle_endtag(self, tag: str) -> None:
        if tag in SKIPPED:
            self._skipping = max(0, self._skipping - 1)
        elif tag in BREAKS:
            self.parts.append("\n")

    def handle_data(self, data: str) -> None:
        if not self._skipping:
            self.parts.append(data)

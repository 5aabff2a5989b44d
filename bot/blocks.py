"""Every Block Kit structure Foresight sends is built here, within Slack's limits.

Limits are from Slack's Block Kit reference (see SLACK.md §5). A value that would
break one is cut with a visible ellipsis instead of letting Slack reject the whole
message with ``invalid_blocks``; text too long for one section is split over several.
Every value that comes from data goes through ``escape`` first.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

Block = dict[str, Any]

MAX_BLOCKS = 50  # blocks per message
MAX_SECTION_TEXT = 3000
MAX_FIELD_TEXT = 2000
MAX_HEADER_TEXT = 150
MAX_CONTEXT_ELEMENTS = 10
MAX_ACTIONS = 25
MAX_BUTTON_TEXT = 75
MAX_BUTTON_VALUE = 2000
MAX_ID = 255  # action_id and block_id
MAX_FALLBACK_TEXT = 4000  # Slack's advice for a message's top-level text
# Slack rejects messages whose blocks hold more than about 12-13k characters in all
# (msg_blocks_too_long, undocumented); stay clear of it.
MAX_MESSAGE_TEXT = 11000

ELLIPSIS = "…"


def escape(text: object) -> str:
    """Escape the three characters Slack treats as markup: & < >."""
    return str(text).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def clip(text: str, limit: int) -> str:
    """Cut ``text`` to ``limit`` characters, marking the cut, never inside an entity."""
    if len(text) <= limit:
        return text
    cut = text[: limit - 1]
    amp = cut.rfind("&")
    if amp != -1 and ";" not in cut[amp:]:
        cut = cut[:amp]
    return cut + ELLIPSIS


def header(text: str) -> Block:
    return {
        "type": "header",
        "text": {"type": "plain_text", "text": clip(text, MAX_HEADER_TEXT)},
    }


def divider() -> Block:
    return {"type": "divider"}


def sections(text: str) -> list[Block]:
    """One mrkdwn section, or several when the text is longer than one may hold."""
    return [
        {"type": "section", "text": {"type": "mrkdwn", "text": part}}
        for part in split_text(text, MAX_SECTION_TEXT)
    ]


def context(*texts: str) -> Block:
    """A context line; Slack refuses one with no elements, so that is an error here."""
    if not any(texts):
        raise ValueError("a context block needs at least one non-empty text")
    elements = [
        {"type": "mrkdwn", "text": clip(t, MAX_FIELD_TEXT)}
        for t in texts[:MAX_CONTEXT_ELEMENTS]
        if t
    ]
    return {"type": "context", "elements": elements}


def button(text: str, action_id: str, value: str, *, style: str | None = None) -> Block:
    element: Block = {
        "type": "button",
        "text": {"type": "plain_text", "text": clip(text, MAX_BUTTON_TEXT)},
        "action_id": action_id[:MAX_ID],
        "value": value[:MAX_BUTTON_VALUE],
    }
    if style:
        element["style"] = style
    return element


def actions(buttons: Iterable[Block], block_id: str | None = None) -> Block:
    block: Block = {"type": "actions", "elements": list(buttons)[:MAX_ACTIONS]}
    if block_id:
        block["block_id"] = block_id[:MAX_ID]
    return block


def split_text(text: str, limit: int) -> list[str]:
    """Split on line breaks where possible, hard-cut lines longer than ``limit``,
    never inside an escaped entity such as ``&amp;``."""
    parts: list[str] = []
    current = ""
    for line in text.split("\n"):
        while len(line) > limit:
            if current:
                parts.append(current)
                current = ""
            cut = _entity_safe(line, limit)
            parts.append(line[:cut])
            line = line[cut:]
        candidate = f"{current}\n{line}" if current else line
        if len(candidate) > limit:
            parts.append(current)
            current = line
        else:
            current = candidate
    if current or not parts:
        parts.append(current or " ")
    return parts


def _entity_safe(text: str, at: int) -> int:
    """Move a cut at ``at`` back to before an entity it would split."""
    amp = text.rfind("&", max(0, at - 8), at)
    if amp > 0 and ";" not in text[amp:at]:
        return amp
    return at


def clip_lines(text: str, limit: int, note: str) -> str:
    """Keep whole lines up to ``limit`` characters, then say that more was cut."""
    if len(text) <= limit:
        return text
    kept: list[str] = []
    size = len(note) + 1
    for line in text.split("\n"):
        if size + len(line) + 1 > limit:
            break
        kept.append(line)
        size += len(line) + 1
    if not kept:
        kept = [clip(text.split("\n", 1)[0], limit - len(note) - 1)]
    return "\n".join([*kept, note])


def fallback_text(text: str) -> str:
    """The notification and screen-reader text that goes with blocks."""
    return clip(text, MAX_FALLBACK_TEXT)


def block_text_size(block: Block) -> int:
    """Characters of text a block carries, as Slack counts toward its message limit."""
    size = 0
    stack: list[Any] = [block]
    while stack:
        item = stack.pop()
        if isinstance(item, dict):
            if item.get("type") in ("mrkdwn", "plain_text"):
                size += len(str(item.get("text", "")))
            stack.extend(v for v in item.values() if isinstance(v, dict | list))
        elif isinstance(item, list):
            stack.extend(item)
    return size


def paginate(blocks: list[Block]) -> list[list[Block]]:
    """Split blocks into messages that each stay within the block and text limits."""
    pages: list[list[Block]] = [[]]
    size = 0
    for block in blocks:
        weight = block_text_size(block)
        if pages[-1] and (
            len(pages[-1]) >= MAX_BLOCKS or size + weight > MAX_MESSAGE_TEXT
        ):
            pages.append([])
            size = 0
        pages[-1].append(block)
        size += weight
    return pages

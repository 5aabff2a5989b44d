"""Slack messages drawn in a terminal, close to how Slack shows them."""

from __future__ import annotations

import html
import re
from typing import Any

from rich.console import Console, Group, RenderableType
from rich.markup import escape as markup_escape
from rich.panel import Panel
from rich.rule import Rule
from rich.text import Text

_BOLD = re.compile(r"(?<![\w*])\*(?!\s)([^*\n]+?)\*(?![\w*])")
_ITALIC = re.compile(r"(?<![\w_])_(?!\s)([^_\n]+?)_(?![\w_])")
_CODE = re.compile(r"`([^`\n]+)`")
_MENTION = re.compile(r"<@([A-Z0-9]+)>")
_LINK = re.compile(r"<(https?://[^|>]+)\|([^>]+)>")
EMOJI = {
    ":warning:": "⚠",
    ":x:": "✗",
    ":zzz:": "💤",
    ":chart_with_downwards_trend:": "↘",
    ":chart_with_upwards_trend:": "↗",
}


def mrkdwn(text: str) -> Text:
    """Slack mrkdwn to rich Text: bold, italic, code, mentions, links, entities."""
    marked = markup_escape(text)
    for code, symbol in EMOJI.items():
        marked = marked.replace(code, symbol)
    marked = _MENTION.sub(r"@\1", marked)
    marked = _LINK.sub(r"\2 (\1)", marked)
    marked = _CODE.sub(r"[cyan]\1[/cyan]", marked)
    marked = _BOLD.sub(r"[bold]\1[/bold]", marked)
    marked = _ITALIC.sub(r"[italic]\1[/italic]", marked)
    return Text.from_markup(html.unescape(marked))


def render_block(block: dict[str, Any]) -> RenderableType | None:
    kind = block.get("type")
    if kind == "header":
        return Text(html.unescape(block["text"]["text"]), style="bold underline")
    if kind == "divider":
        return Rule(style="dim")
    if kind == "section":
        parts = [mrkdwn(block["text"]["text"])] if "text" in block else []
        parts += [mrkdwn(f["text"]) for f in block.get("fields", [])]
        return Group(*parts)
    if kind == "context":
        line = "  ".join(e.get("text", "") for e in block.get("elements", []))
        text = mrkdwn(line)
        text.stylize("dim")
        return text
    if kind == "actions":
        labels = [
            f"[ {html.unescape(e['text']['text'])} ]"
            for e in block.get("elements", [])
            if "text" in e
        ]
        return Text("  ".join(labels), style="bold cyan")
    return None


def render_message(message: dict[str, Any]) -> Panel:
    blocks = message.get("blocks") or []
    body: list[RenderableType] = [
        r for r in (render_block(b) for b in blocks) if r is not None
    ]
    if not body:
        body = [mrkdwn(message.get("text") or "(empty)")]
    where = message.get("via", "?")
    if message.get("response_type"):
        where += f", {message['response_type']}"
    return Panel(Group(*body), title=where, title_align="left", expand=False)


def print_messages(console: Console, messages: list[dict[str, Any]]) -> None:
    shown = [m for m in messages if m.get("text") or m.get("blocks")]
    if not shown:
        console.print("[dim](the app sent nothing back)[/dim]")
    for message in shown:
        console.print(render_message(message))

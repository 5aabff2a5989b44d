"""Block Kit building: escaping and cutting that never breaks Slack's rules."""

from __future__ import annotations

import pytest

from bot.blocks import clip, clip_lines, escape, paginate, sections, split_text


@pytest.mark.parametrize(
    ("raw", "escaped"),
    [
        ("AT&T", "AT&amp;T"),
        ("<@U123> <!channel>", "&lt;@U123&gt; &lt;!channel&gt;"),
        ("a > b & c < d", "a &gt; b &amp; c &lt; d"),
        ("plain", "plain"),
    ],
)
def test_escape_only_the_three_markup_characters(raw: str, escaped: str) -> None:
    assert escape(raw) == escaped


def test_clip_never_splits_an_entity() -> None:
    assert clip("abc &amp; def", 7) == "abc …"
    assert clip("abcdef", 4) == "abc…"


def test_split_text_keeps_entities_whole() -> None:
    line = "x" * 2998 + "&amp;" + "y" * 10
    parts = split_text(line, 3000)
    assert [len(p) for p in parts] == [2998, 15]
    assert parts[1].startswith("&amp;")


def test_long_text_becomes_several_sections() -> None:
    blocks = sections("\n".join(["z" * 1000] * 7))
    assert [len(b["text"]["text"]) for b in blocks] == [2001, 2001, 2001, 1000]


def test_clip_lines_says_what_was_cut() -> None:
    text = "\n".join(f"line {i}" for i in range(100))
    assert clip_lines(text, 30, "…more") == "line 0\nline 1\nline 2\n…more"


def test_paginate_respects_block_count() -> None:
    pages = paginate([{"type": "divider"}] * 120)
    assert [len(p) for p in pages] == [50, 50, 20]

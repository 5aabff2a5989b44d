"""The account picker: every button can be told from the others."""

from __future__ import annotations

from bot.card import picker
from context.resolve import Candidate, Resolution


def buttons(*choices: Candidate) -> list[str]:
    blocks, _ = picker(
        Resolution("edge", "several", choices, len(choices)),
        {"sf": "Salesforce", "stripe": "Stripe"},
    )
    return [b["text"]["text"] for b in blocks[-1]["elements"]]


def test_namesakes_are_told_apart_by_place_then_source_then_number() -> None:
    assert buttons(
        Candidate(1, "Edge Communications", 1, "exact", "sf", ""),
        Candidate(2, "Edge Communications", 1, "exact", "stripe", ""),
        Candidate(3, "Edge", 0.9, "prefix", "sf", ""),
    ) == ["Edge Communications (Salesforce)", "Edge Communications (Stripe)", "Edge"]
    assert buttons(
        Candidate(7, "Test Customer", 1, "exact", "stripe", "example.com"),
        Candidate(8, "Test Customer", 1, "exact", "stripe", "example.com"),
        Candidate(9, "Test Customer", 1, "exact", "stripe", "acme.com"),
    ) == [
        "Test Customer (example.com, #7)",
        "Test Customer (example.com, #8)",
        "Test Customer (acme.com)",
    ]

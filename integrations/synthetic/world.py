"""What every part of the synthetic world shares: its size, seed, "today" and ids.

Nothing is kept between accounts. Each fact is a pure function of (seed, account
index, topic), so any pass over the accounts can recompute what an earlier pass made
and streaming stays flat in memory.
"""

from __future__ import annotations

import random
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from context.names import fold
from context.records import Record, Ref, RepRef

DEFAULT_TODAY = date(2026, 11, 30)


@dataclass(frozen=True)
class World:
    """The parameters of one generated world; every part takes it first."""

    accounts: int
    seed: int
    today: date
    source: str

    def rng(self, *topic: object) -> random.Random:
        """A generator for one topic of one account, the same on every run."""
        return random.Random(":".join(map(str, (self.seed, *topic))))

    def record(
        self,
        kind: str,
        key: str,
        fields: dict[str, Any],
        refs: Mapping[str, Ref | RepRef] | None = None,
    ) -> Record:
        return Record(
            kind, self.source, key, fields, dict(refs or {}), f"synthetic {key}"
        )

    def ref(self, key: str) -> Ref:
        return Ref(self.source, key)

    @property
    def midnight(self) -> datetime:
        """The start of ``today`` in UTC: everything that happened is before it."""
        return datetime.combine(self.today, time(), UTC)

    def days_ago(self, days: int) -> date:
        return self.today - timedelta(days=days)

    def moment(self, rng: random.Random, days_ago: int) -> datetime:
        """A working-hours instant (13:00–22:00 UTC) ``days_ago`` days before today."""
        minutes = rng.randrange(13 * 60, 22 * 60)
        return (
            self.midnight
            - timedelta(days=max(days_ago, 1))
            + timedelta(minutes=minutes)
        )


def permute(index: int, size: int, key: int) -> int:
    """A keyed bijection of ``range(size)``: unique picks without a taken-set.

    A four-round Feistel network over the next power of four, walking the cycle until
    the value falls inside ``range(size)``.
    """
    half = max(1, ((size - 1).bit_length() + 1) // 2)
    mask = (1 << half) - 1
    value = index
    while True:
        left, right = value >> half, value & mask
        for round_ in range(4):
            left, right = right, left ^ (_mix(right, key, round_) & mask)
        value = (left << half) | right
        if value < size:
            return value


def _mix(value: int, key: int, round_: int) -> int:
    """A small integer hash (splitmix64 finaliser); stable across Python runs."""
    z = (value + key * 0x9E3779B97F4A7C15 + round_ * 0xBF58476D1CE4E5B9) & (2**64 - 1)
    z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & (2**64 - 1)
    z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & (2**64 - 1)
    return z ^ (z >> 31)


def slug(text: str) -> str:
    """``Müller & Söhne`` → ``mullersohne``: letters and digits only, for e-mails."""
    return fold(text).replace(" ", "")

"""What every listener needs: the store, the clock, the access policy, source names."""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import Engine

from bot.access import AccessPolicy
from context.clock import Clock


@dataclass
class Runtime:
    engine: Engine
    clock: Clock = field(default_factory=Clock)
    access: AccessPolicy = field(default_factory=AccessPolicy)
    labels: dict[str, str] = field(default_factory=dict)

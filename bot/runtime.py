"""What every listener needs: store, clock, access policy, sources, workers."""

from __future__ import annotations

from concurrent.futures import Executor, ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from sqlalchemy import Engine

from bot.access import AccessPolicy
from context.clock import Clock

if TYPE_CHECKING:  # the config module loads every source kind; listeners need few
    from integrations.config import Config

WORKERS = 16


@dataclass
class Runtime:
    engine: Engine
    clock: Clock = field(default_factory=Clock)
    access: AccessPolicy = field(default_factory=AccessPolicy)
    labels: dict[str, str] = field(default_factory=dict)
    # The loaded config, when there is one: /foresight status and the sync schedule.
    config: Config | None = None
    # Slow work (store, Slack lookups, sending cards) runs here, never on Bolt's own
    # listener pool, so a burst of slow answers cannot delay the next command's ack.
    work: Executor = field(
        default_factory=lambda: ThreadPoolExecutor(
            max_workers=WORKERS, thread_name_prefix="foresight-work"
        )
    )

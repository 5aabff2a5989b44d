"""``foresight demo``: a generated company in a throwaway store, asked a few times.

Needs neither Slack nor any data files: the store is built by the seeded generator,
and each ask goes through the real app and the local Slack stand-in.
"""

from __future__ import annotations

import tempfile
from datetime import UTC, datetime, time
from pathlib import Path

from rich.console import Console

from bot.ask import ask
from bot.runtime import Runtime
from bot.terminal import print_messages
from context.clock import Clock
from context.db import make_engine, upgrade
from context.load import Loader

SEED = 7
STRANGER = "visitor@elsewhere.example"


def run_demo(console: Console, *, accounts: int = 200) -> int:
    from integrations.synthetic import (
        DEMO_ASKS,
        DEMO_TODAY,
        DEMO_USER_EMAIL,
        generate,
    )

    clock = Clock(datetime.combine(DEMO_TODAY, time(15, 0), UTC))
    with tempfile.TemporaryDirectory(prefix="foresight-demo-") as folder:
        engine = make_engine(f"sqlite:///{Path(folder) / 'demo.db'}")
        upgrade(engine)
        with console.status(f"Generating a company with {accounts} accounts…"):
            report = Loader(engine, clock).load(
                generate(accounts, seed=SEED, today=DEMO_TODAY)
            )
        loaded = sum(c["new"] for c in report.counts.values())
        console.print(
            f"Built a demo store: {loaded:,} records, as of {clock.now():%Y-%m-%d}.\n"
        )
        runtime = Runtime(engine=engine, clock=clock, labels={"demo": "Demo data"})
        for query in DEMO_ASKS:
            _show(console, runtime, f"/account {query}", DEMO_USER_EMAIL)
        _show(console, runtime, f"/account {DEMO_ASKS[0]}", STRANGER)
        engine.dispose()
    console.print(
        "Next: `make test` runs the suite; README.md shows how to load your own "
        "exports and connect a Slack workspace."
    )
    return 0


def _show(console: Console, runtime: Runtime, text: str, email: str) -> None:
    console.rule(f"[bold]{text}[/bold]  [dim]asked by {email}[/dim]")
    print_messages(console, ask(runtime, text, email))
    console.print()

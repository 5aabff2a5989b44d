"""`/account` end to end: signed request in, card out, on generated stores.

    .venv/bin/python bench/bench_account.py --accounts 1000 50000 --asks 200

For each size: builds (or reuses, under bench/out/) a generated store, serves the real
app over loopback HTTP against the local Slack stand-in, sends signed `/account`
commands for random account names (exact, and with one typo), and reports p50 / p95 of
the time from the request to the card arriving at the response_url, plus the SQL
statements each ask ran.
"""

from __future__ import annotations

import argparse
import random
import secrets
import statistics
import time
from datetime import UTC, datetime
from datetime import time as clock_time
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table
from sqlalchemy import Engine, event, select

from bot.app import build_app
from bot.local_slack import LocalSlack, post_to_app, slash_command_body
from bot.runtime import Runtime
from bot.server import HttpServer
from context.clock import Clock
from context.db import make_engine, upgrade
from context.load import Loader
from context.models import Account
from integrations.synthetic import DEMO_USER_EMAIL, generate
from integrations.synthetic.world import DEFAULT_TODAY

OUT = Path(__file__).resolve().parent / "out"
NOW = datetime.combine(DEFAULT_TODAY, clock_time(15, 0), UTC)


def store(accounts: int, console: Console) -> Engine:
    OUT.mkdir(exist_ok=True)
    path = OUT / f"store-{accounts}.db"
    ready = OUT / f"store-{accounts}.ready"
    engine = make_engine(f"sqlite:///{path}")
    if ready.exists():
        return engine
    path.unlink(missing_ok=True)
    engine = make_engine(f"sqlite:///{path}")
    upgrade(engine)
    started = time.monotonic()
    with console.status(f"generating {accounts:,} accounts"):
        report = Loader(engine, Clock(NOW)).load(
            generate(accounts, today=DEFAULT_TODAY)
        )
    total = sum(c["new"] for c in report.counts.values())
    console.print(
        f"{accounts:,} accounts: {total:,} records "
        f"in {time.monotonic() - started:.0f} s"
    )
    ready.touch()
    return engine


def typo(name: str, rng: random.Random) -> str:
    letters = [i for i, c in enumerate(name) if c.isalpha()]
    if len(letters) < 6:
        return name
    i = rng.choice(letters[2:-1])
    return name[:i] + name[i + 1] + name[i] + name[i + 2 :]


class StatementCounter:
    def __init__(self, engine: Engine) -> None:
        self.count = 0
        event.listen(engine, "before_cursor_execute", self._seen)

    def _seen(self, *_: Any) -> None:
        self.count += 1


def measure(engine: Engine, asks: int, mode: str) -> dict[str, float]:
    rng = random.Random(11)
    with engine.connect() as connection:
        names = list(connection.scalars(select(Account.name)))
    queries = [rng.choice(names) for _ in range(asks)]
    if mode == "typo":
        queries = [typo(q, rng) for q in queries]
    counter = StatementCounter(engine)
    secret = secrets.token_hex(8)
    with LocalSlack() as slack:
        slack.add_user("U0BENCH001", DEMO_USER_EMAIL)
        runtime = Runtime(engine=engine, clock=Clock(NOW))
        app = build_app(
            runtime, token=slack.bot_token, signing_secret=secret, api_url=slack.api_url
        )
        server = HttpServer(app, "127.0.0.1", 0, lambda: {"ok": True}).start()
        timings, statements = [], []
        for n, query in enumerate(queries, start=1):
            body = slash_command_body(
                "/account",
                query,
                "U0BENCH001",
                response_url=slack.response_url_for("commands"),
            )
            before = counter.count
            started = time.perf_counter()
            status, _, _ = post_to_app(server.url, body, secret)
            slack.wait_for_messages(n, timeout=10)
            timings.append((time.perf_counter() - started) * 1000)
            statements.append(counter.count - before)
            assert status == 200
        server.stop()
    timings.sort()
    return {
        "p50": statistics.median(timings),
        "p95": timings[int(len(timings) * 0.95) - 1],
        "max_statements": max(statements[1:]),
        "median_statements": statistics.median(statements),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--accounts", type=int, nargs="+", default=[1000, 50000])
    parser.add_argument("--asks", type=int, default=200)
    args = parser.parse_args()
    console = Console()
    table = Table("accounts", "names", "p50 ms", "p95 ms", "SQL / ask (median, max)")
    for size in args.accounts:
        engine = store(size, console)
        for mode in ("exact", "typo"):
            result = measure(engine, args.asks, mode)
            table.add_row(
                f"{size:,}",
                mode,
                f"{result['p50']:.1f}",
                f"{result['p95']:.1f}",
                f"{result['median_statements']:.0f}, {result['max_statements']:.0f}",
            )
        engine.dispose()
    console.print(table)


if __name__ == "__main__":
    main()

"""The ``foresight`` command."""

from __future__ import annotations

import argparse
import json
import logging
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from pydantic import ValidationError
from rich.console import Console

from bot.access import AccessPolicy
from bot.runtime import Runtime
from bot.settings import Settings
from context.clock import Clock, ClockError
from context.db import SchemaError, make_engine

logger = logging.getLogger("foresight")

EXIT_SOURCE_FAILED = 1  # a whole source could not be read
EXIT_USAGE = 2  # bad command, config or setup
EXIT_ROWS_REJECTED = 3  # every source ran, but some rows were rejected

QUIET_LOGGERS = (
    "slack_bolt",
    "slack_sdk",
    "urllib3",
    "waitress",
    "httpx",
    "alembic",
    "apscheduler",  # bot.schedule logs each run itself
)


def parser() -> argparse.ArgumentParser:
    top = argparse.ArgumentParser(
        prog="foresight",
        description="Every account's whole context, in Slack.",
    )
    top.add_argument("--config", help="config file (default: $FORESIGHT_CONFIG)")
    top.add_argument(
        "--as-of",
        help="fix 'now' for the whole program, e.g. 2024-12-02 (or $FORESIGHT_NOW)",
    )
    top.add_argument(
        "--data-root", help="read file sources from this folder instead of data_root"
    )
    top.add_argument("-v", "--verbose", action="store_true", help="log at INFO")
    commands = top.add_subparsers(dest="command", required=True, metavar="COMMAND")

    db = commands.add_parser("db", help="manage the store's schema")
    db.add_argument("action", choices=["upgrade", "current"])

    sync = commands.add_parser("sync", help="load every source in the config")
    sync.add_argument("sources", nargs="*", help="only these sources")

    commands.add_parser(
        "status", help="per source: last success, last error, records, cursor"
    )

    ask = commands.add_parser("ask", help="send a slash command to the app locally")
    ask.add_argument("text", help='the command, e.g. "/account acme"')
    ask.add_argument("--user", required=True, help="the asker's Slack e-mail")
    ask.add_argument("--json", action="store_true", help="print the replies as JSON")

    serve = commands.add_parser("serve", help="connect to Slack and answer")
    serve.add_argument("--port", type=int, help="HTTP port (default: $PORT or 3000)")

    demo = commands.add_parser("demo", help="a generated company, asked a few times")
    demo.add_argument("--accounts", type=int, default=200)
    return top


def main(argv: Sequence[str] | None = None) -> int:
    args = parser().parse_args(argv)
    # A sync nobody watches (cron, CI) logs a line per request instead of the
    # progress display a terminal gets.
    unwatched = args.command == "sync" and not sys.stderr.isatty()
    _logging(args.verbose or args.command == "serve" or unwatched)
    console = Console()
    try:
        return _run(args, Settings(), console)
    except (SchemaError, ClockError, ValueError, RuntimeError, OSError) as error:
        console.print(f"[red]foresight: {_plain(error)}[/red]", highlight=False)
        return EXIT_USAGE


def _run(args: argparse.Namespace, settings: Settings, console: Console) -> int:
    if args.command == "demo":
        from bot.demo import run_demo

        return run_demo(console, accounts=args.accounts)
    runtime, config = _runtime(args, settings)
    try:
        if args.command == "db":
            return _db(args.action, runtime, console)
        if args.command == "sync":
            return _sync(args.sources, runtime, config, console)
        if args.command == "status":
            return _status(runtime, config, console)
        if args.command == "ask":
            return _ask(args, runtime, console)
        if args.command == "serve":
            from bot.serve import serve

            return serve(runtime, settings, port=args.port or settings.port)
        raise AssertionError(args.command)
    finally:
        runtime.engine.dispose()


def _runtime(args: argparse.Namespace, settings: Settings) -> tuple[Runtime, Any]:
    config = None
    path = args.config or settings.foresight_config
    if path:
        from integrations.config import load_config

        config = load_config(
            Path(path), data_root=args.data_root or settings.foresight_data_root
        )
    now = args.as_of or settings.foresight_now or (config.now if config else None)
    clock = Clock.parse(str(now) if now is not None else None)
    runtime = Runtime(
        engine=make_engine(settings.database_url),
        clock=clock,
        access=AccessPolicy.from_config(config.access if config else None),
        labels={s.name: s.label or s.name for s in config.sources} if config else {},
        config=config,
    )
    return runtime, config


def _db(action: str, runtime: Runtime, console: Console) -> int:
    from context.db import (
        current_revision,
        head_revision,
        is_known_revision,
        upgrade,
    )

    current, head = current_revision(runtime.engine), head_revision()
    if current is not None and not is_known_revision(current):
        raise SchemaError(
            f"the store is at schema {current}, newer than this version of Foresight "
            f"knows (its newest is {head}): run a newer Foresight against it"
        )
    if action == "upgrade":
        upgrade(runtime.engine)
        current = current_revision(runtime.engine)
    state = "up to date" if current == head else "out of date"
    console.print(f"schema {current or 'none'} ({state})")
    return 0 if current == head else EXIT_SOURCE_FAILED


def _sync(sources: list[str], runtime: Runtime, config: Any, console: Console) -> int:
    if config is None:
        raise ValueError("sync needs a config: pass --config FILE (see examples/)")
    from context.db import check_schema
    from integrations.sync import sync

    check_schema(runtime.engine)
    results = sync(
        runtime.engine, config, runtime.clock, only=sources or None, console=console
    )
    if any(r.error for r in results):
        return EXIT_SOURCE_FAILED
    if any(r.total("rejected") for r in results):
        return EXIT_ROWS_REJECTED
    return 0


def _status(runtime: Runtime, config: Any, console: Console) -> int:
    """Exit 1 when a source's newest sync failed, so a monitor can alert on it."""
    if config is None:
        raise ValueError("status needs a config: pass --config FILE (see examples/)")
    from context.db import check_schema
    from integrations.status import print_status, source_status

    check_schema(runtime.engine)
    statuses = source_status(runtime.engine, config)
    print_status(console, statuses)
    return EXIT_SOURCE_FAILED if any(s.failing for s in statuses) else 0


def _ask(args: argparse.Namespace, runtime: Runtime, console: Console) -> int:
    from bot.ask import ask
    from bot.terminal import print_messages

    replies = ask(runtime, args.text, args.user)
    if args.json:
        print(json.dumps(replies, indent=2, default=str))
    else:
        print_messages(console, replies)
    return 0


def _logging(verbose: bool) -> None:
    logging.basicConfig(
        level=logging.INFO if verbose else logging.WARNING,
        format="%(asctime)s %(levelname)s %(name)s %(message)s",
        stream=sys.stderr,
    )
    for name in QUIET_LOGGERS:
        logging.getLogger(name).setLevel(logging.WARNING)


def _plain(error: BaseException) -> str:
    if isinstance(error, ValidationError):
        return str(error)
    return str(error) or type(error).__name__

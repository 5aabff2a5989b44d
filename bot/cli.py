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
from rich.text import Text
from sqlalchemy.exc import DatabaseError, InterfaceError

from bot.access import AccessPolicy
from bot.runtime import Runtime
from bot.settings import Settings
from context.clock import Clock, ClockError
from context.db import SchemaError, make_engine, unreachable

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
        parents=[_global_options(argparse.SUPPRESS)],
    )
    top.set_defaults(config=None, as_of=None, data_root=None, verbose=False)
    # The same options after the command (`foresight sync --config X`) work too.
    anywhere = _global_options(argparse.SUPPRESS)
    commands = top.add_subparsers(dest="command", required=True, metavar="COMMAND")

    db = commands.add_parser("db", help="manage the store's schema", parents=[anywhere])
    db.add_argument("action", choices=["upgrade", "current"])

    sync = commands.add_parser(
        "sync", help="load every source in the config", parents=[anywhere]
    )
    sync.add_argument("sources", nargs="*", help="only these sources")

    commands.add_parser(
        "status",
        help="per source: last success, last error, records, cursor",
        parents=[anywhere],
    )

    ask = commands.add_parser(
        "ask", help="send a slash command to the app locally", parents=[anywhere]
    )
    ask.add_argument("text", help='the command, e.g. "/account acme"')
    ask.add_argument("--user", required=True, help="the asker's Slack e-mail")
    ask.add_argument("--json", action="store_true", help="print the replies as JSON")

    serve = commands.add_parser(
        "serve", help="connect to Slack and answer", parents=[anywhere]
    )
    serve.add_argument("--port", type=int, help="HTTP port (default: $PORT or 3000)")

    demo = commands.add_parser("demo", help="a generated company, asked a few times")
    demo.add_argument("--accounts", type=int, default=200)
    return top


def _global_options(default: Any) -> argparse.ArgumentParser:
    options = argparse.ArgumentParser(add_help=False)
    options.add_argument(
        "--config", default=default, help="config file (default: $FORESIGHT_CONFIG)"
    )
    options.add_argument(
        "--as-of",
        default=default,
        help="fix 'now' for the whole program, e.g. 2024-12-02 (or $FORESIGHT_NOW)",
    )
    options.add_argument(
        "--data-root",
        default=default,
        help="read file sources from this folder instead of data_root",
    )
    options.add_argument(
        "-v", "--verbose", action="store_true", default=default, help="log at INFO"
    )
    return options


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
        console.print(Text(f"foresight: {_plain(error)}", style="red"))
        return EXIT_USAGE


def _run(args: argparse.Namespace, settings: Settings, console: Console) -> int:
    if args.command == "demo":
        from bot.demo import run_demo

        return run_demo(console, accounts=args.accounts)
    runtime, config = _runtime(args, settings)
    try:
        return _command(args, settings, runtime, config, console)
    except (DatabaseError, InterfaceError) as error:
        raise unreachable(runtime.engine, error) from None
    finally:
        runtime.engine.dispose()


def _command(
    args: argparse.Namespace,
    settings: Settings,
    runtime: Runtime,
    config: Any,
    console: Console,
) -> int:
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


def _runtime(args: argparse.Namespace, settings: Settings) -> tuple[Runtime, Any]:
    config = None
    path = args.config or settings.foresight_config
    if path:
        from integrations.config import load_config

        config = load_config(
            Path(path), data_root=args.data_root or settings.foresight_data_root
        )
    access = _sections_checked(config)
    now = args.as_of or settings.foresight_now or (config.now if config else None)
    clock = Clock.parse(str(now) if now is not None else None)
    runtime = Runtime(
        engine=make_engine(settings.database_url),
        clock=clock,
        access=access,
        labels={s.name: s.label or s.name for s in config.sources} if config else {},
        config=config,
    )
    return runtime, config


def _sections_checked(config: Any) -> AccessPolicy:
    """The access policy, once the access and sync sections are both checked: a
    wrong schedule is told now, not when `serve` starts, and with everything else."""
    if config is None:
        return AccessPolicy()
    from bot.schedule import read_schedule

    problems = []
    try:
        read_schedule(config)
    except ValueError as error:
        problems.append(str(error))
    policy = AccessPolicy()
    try:
        policy = AccessPolicy.from_config(config.access)
    except ValueError as error:
        problems.append(f"{config.path}: {error}")
    if problems:
        raise ValueError("\n".join(problems))
    return policy


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
        before = current
        upgrade(runtime.engine)
        current = current_revision(runtime.engine)
        if before != current:
            done = "created" if before is None else f"upgraded from {before}"
            console.print(f"schema {done}")
    state = "up to date" if current == head else "out of date"
    console.print(f"schema {current or 'none'} ({state})")
    return 0 if current == head else EXIT_SOURCE_FAILED


def _sync(sources: list[str], runtime: Runtime, config: Any, console: Console) -> int:
    if config is None:
        raise ValueError(
            "sync needs a config: pass --config FILE or set FORESIGHT_CONFIG "
            "(see examples/)"
        )
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
        raise ValueError(
            "status needs a config: pass --config FILE or set FORESIGHT_CONFIG "
            "(see examples/)"
        )
    from context.db import check_schema
    from integrations.status import print_status, source_status

    check_schema(runtime.engine)
    statuses = source_status(runtime.engine, config)
    print_status(console, statuses)
    return EXIT_SOURCE_FAILED if any(s.failing for s in statuses) else 0


def _ask(args: argparse.Namespace, runtime: Runtime, console: Console) -> int:
    from bot.ask import ask
    from bot.terminal import print_messages

    if runtime.config is None:
        raise ValueError(
            "ask needs the config the app runs with (its admins and sources): pass "
            "--config FILE or set FORESIGHT_CONFIG"
        )
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

"""Bulk load: how fast ``context.load.Loader`` fills a store, against plain inserts.

    .venv/bin/python bench/bench_load.py --accounts 1000 20000
    .venv/bin/python bench/bench_load.py --accounts 1000 \\
        --database-url postgresql+psycopg://postgres@127.0.0.1:5432/test

For each size it runs three jobs, each in a process of its own so that each peak
memory figure (ru_maxrss) is that job's alone:

- ``gen``: the synthetic generator by itself, kind by kind;
- ``load``: ``Loader.load`` into an empty store, one call per kind (the time includes
  generating the records, so ``gen`` is subtracted to get the store's share);
- ``plain``: the same rows of reps, accounts, people, deals and usage, built in
  advance with their foreign keys, inserted with executemany through SQLAlchemy Core
  in chunks of ``CHUNK`` with a commit after each; only the inserts are timed.

Without ``--database-url`` every job gets a new SQLite file in a temporary folder. A
SQLite URL names a file that must not exist yet; each job uses a sibling of it and
removes it afterwards. A PostgreSQL URL is only used to reach the server: the jobs run
in a database ``foresight_bench`` that this script creates and marks with a comment,
and it resets only a database carrying that mark.
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from datetime import time as clock_time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run from a checkout

from rich.console import Console
from rich.table import Table
from sqlalchemy import Engine, insert, make_url, text
from sqlalchemy.engine import URL

from context.clock import Clock
from context.db import make_engine, upgrade
from context.load import CHUNK, TABLES, Loader
from context.names import email_key, name_key
from context.records import KINDS, Record, Ref, RepRef
from integrations.synthetic import generate_kind
from integrations.synthetic.world import DEFAULT_TODAY

BENCH_DATABASE = "foresight_bench"
MARK = "scratch store of bench/bench_load.py; safe to drop"
NOW = datetime.combine(DEFAULT_TODAY, clock_time(15), UTC)
PLAIN_KINDS = ("rep", "account", "person", "deal", "usage")
COMPARED = ("person", "deal", "usage")


# -- jobs (run in a child process) --------------------------------------------------


def job_gen(size: int, _url: str | None) -> dict[str, list[float]]:
    timings = {}
    for kind in KINDS:
        started = time.perf_counter()
        count = sum(1 for _ in generate_kind(kind, size))
        timings[kind] = [count, time.perf_counter() - started]
    return timings


def job_load(size: int, url: str | None) -> dict[str, list[float]]:
    engine = fresh_store(url)
    timings = {}
    for kind in KINDS:
        started = time.perf_counter()
        report = Loader(engine, Clock(NOW)).load(generate_kind(kind, size))
        elapsed = time.perf_counter() - started
        if report.rejections:
            raise SystemExit(f"{kind}: {report.rejections[0]}")
        timings[kind] = [sum(c["new"] for c in report.counts.values()), elapsed]
    engine.dispose()
    return timings


def job_plain(size: int, url: str | None) -> dict[str, list[float]]:
    """executemany of ready rows; ids are assigned here so references need no query."""
    engine = fresh_store(url)
    ids: dict[str, dict[str, int]] = {"rep": {}, "account": {}}
    timings = {}
    for kind in PLAIN_KINDS:
        count, elapsed = 0, 0.0
        for rows in chunked(plain_rows(kind, size, ids)):
            started = time.perf_counter()
            with engine.begin() as connection:
                connection.execute(insert(TABLES[kind]), rows)
            elapsed += time.perf_counter() - started
            count += len(rows)
        timings[kind] = [count, elapsed]
    engine.dispose()
    return timings


def plain_rows(
    kind: str, size: int, ids: dict[str, dict[str, int]]
) -> Iterator[dict[str, Any]]:
    """The row the loader would write for each record, references already resolved."""
    for record in generate_kind(kind, size):
        row = dict(record.fields)
        for name, ref in record.refs.items():
            if isinstance(ref, RepRef):
                column = "owner_rep_id" if name == "owner" else f"{name}_rep_id"
                row[column] = ids["rep"].get(email_key(ref.email) or "")
            elif isinstance(ref, Ref):
                row[f"{name}_id"] = ids["account"][ref.id]
        if kind in ids:
            row["id"] = len(ids[kind]) + 1
            key = email_key(row.get("email")) if kind == "rep" else record.source_id
            ids[kind][key or ""] = row["id"]
        yield with_keys(record, row)


def with_keys(record: Record, row: dict[str, Any]) -> dict[str, Any]:
    columns = TABLES[record.kind].__table__.columns
    if "name_key" in columns and row.get("name") is not None:
        row["name_key"] = name_key(row["name"])
    if "email_key" in columns and "email" in row:
        row["email_key"] = email_key(row["email"])
    row.update(
        source=record.source,
        source_id=record.source_id,
        last_seen_at=NOW,
        updated_at=NOW,
    )
    return row


def chunked(rows: Iterator[dict[str, Any]]) -> Iterator[list[dict[str, Any]]]:
    chunk: list[dict[str, Any]] = []
    for row in rows:
        chunk.append(row)
        if len(chunk) == CHUNK:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


JOBS = {"gen": job_gen, "load": job_load, "plain": job_plain}


# -- stores --------------------------------------------------------------------------


def fresh_store(url: str | None) -> Engine:
    if url is None:
        raise SystemExit("a job needs --database-url")
    engine = make_engine(url)
    if engine.dialect.name == "postgresql":
        reset_bench_database(engine)
    upgrade(engine)
    return engine


def bench_database(server: URL) -> URL:
    """Create ``foresight_bench`` with its mark unless it exists; refuse an unmarked
    one."""
    engine = make_engine(server.render_as_string(hide_password=False))
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        found = conn.execute(
            text(
                "SELECT shobj_description(oid, 'pg_database') FROM pg_database "
                "WHERE datname = :name"
            ),
            {"name": BENCH_DATABASE},
        ).first()
        if found is None:
            conn.execute(text(f"CREATE DATABASE {BENCH_DATABASE}"))
            conn.execute(text(f"COMMENT ON DATABASE {BENCH_DATABASE} IS '{MARK}'"))
        elif found[0] != MARK:
            raise SystemExit(
                f"database {BENCH_DATABASE} exists but was not made by this script; "
                "drop or rename it first"
            )
    engine.dispose()
    return server.set(database=BENCH_DATABASE)


def reset_bench_database(engine: Engine) -> None:
    with engine.begin() as conn:
        mark = conn.scalar(
            text(
                "SELECT shobj_description(oid, 'pg_database') FROM pg_database "
                "WHERE datname = current_database()"
            )
        )
        if conn.scalar(text("SELECT current_database()")) != BENCH_DATABASE or (
            mark != MARK
        ):
            raise SystemExit("refusing to reset a database this script did not make")
        conn.execute(text("DROP SCHEMA public CASCADE"))
        conn.execute(text("CREATE SCHEMA public"))


def job_urls(url: str | None, folder: Path) -> Iterator[tuple[str | None, Path | None]]:
    """Endless (URL, file to remove afterwards) pairs, one per job."""
    number = 0
    parsed = make_url(url) if url else None
    if parsed is not None and parsed.get_backend_name() == "postgresql":
        target = bench_database(parsed).render_as_string(hide_password=False)
        while True:
            yield target, None
    if parsed is not None and parsed.database and Path(parsed.database).exists():
        raise SystemExit(f"{parsed.database} exists; name a new file")
    base = Path(parsed.database) if parsed and parsed.database else folder / "bench.db"
    while True:
        number += 1
        path = base.with_name(f"{base.stem}-{number}{base.suffix}")
        yield f"sqlite:///{path}", path


# -- the parent ---------------------------------------------------------------------


def run_job(job: str, size: int, url: str | None) -> dict[str, Any]:
    command = [sys.executable, __file__, "--job", job, "--accounts", str(size)]
    if url:
        command += ["--database-url", url]
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise SystemExit(f"job {job} at {size:,} failed:\n{done.stderr}")
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def measure(
    size: int, repeat: int, urls: Iterator[tuple[str | None, Path | None]]
) -> dict[str, Any]:
    """Each job ``repeat`` times, interleaved; per kind the fastest run counts
    (other work on the machine only ever adds time), memory the largest."""
    results: dict[str, Any] = {}
    for _ in range(repeat):
        for job in JOBS:
            url, path = next(urls)
            run = run_job(job, size, url)
            if path is not None:
                for leftover in (path, *path.parent.glob(f"{path.name}-*")):
                    leftover.unlink(missing_ok=True)
            results[job] = best(results[job], run) if job in results else run
    return results


def best(one: dict[str, Any], other: dict[str, Any]) -> dict[str, Any]:
    timings = {
        kind: min(count_time, other["timings"][kind], key=lambda ct: ct[1])
        for kind, count_time in one["timings"].items()
    }
    return {"timings": timings, "rss_kb": max(one["rss_kb"], other["rss_kb"])}


def rate(count: float, seconds: float) -> str:
    return f"{count / seconds:,.0f}" if seconds > 0 else "–"


def speed_rows(results: dict[str, Any]) -> list[list[str]]:
    """One row per kind, then all kinds, then the people + deals + usage comparison."""
    gen, load, plain = (results[job]["timings"] for job in JOBS)
    rows = []
    for kind in KINDS:
        count, loaded = load[kind]
        if count:
            rows.append(speed_row(kind, count, gen[kind][1], loaded, plain.get(kind)))

    loaded_kinds = [k for k in KINDS if load[k][0]]
    total = sum(load[k][0] for k in loaded_kinds)
    made = sum(gen[k][1] for k in loaded_kinds)
    rows.append(speed_row("all kinds", total, made, sum(load[k][1] for k in KINDS)))

    count = sum(load[k][0] for k in COMPARED)
    made = sum(gen[k][1] for k in COMPARED)
    loaded = sum(load[k][1] for k in COMPARED)
    inserted = sum(plain[k][1] for k in COMPARED)
    rows.append(speed_row("people+deals+usage", count, made, loaded, [count, inserted]))
    return rows


def speed_row(
    label: str,
    count: float,
    made: float,
    loaded: float,
    plain: list[float] | None = None,
) -> list[str]:
    store = max(loaded - made, 1e-9)
    row = [label, f"{count:,.0f}", rate(count, made), rate(count, loaded)]
    row.append(rate(count, store))
    if plain is None:
        return [*row, "", ""]
    return [*row, rate(*plain), f"{plain[1] / store:.2f}"]


SPEED_HEADER = [
    "kind",
    "records",
    "generator rec/s",
    "Loader rec/s (with generation)",
    "Loader rec/s (store only)",
    "executemany rec/s",
    "Loader ÷ executemany",
]


def show(console: Console, backend: str, sizes: dict[int, dict[str, Any]]) -> None:
    for size, results in sizes.items():
        table = Table(*SPEED_HEADER, title=f"{backend}, {size:,} accounts")
        for row in speed_rows(results):
            table.add_row(*row)
        console.print(table)
    memory = Table("accounts", "records", "peak RSS, gen (MB)", "peak RSS, load (MB)")
    for size, results in sizes.items():
        count = sum(c for c, _ in results["load"]["timings"].values())
        memory.add_row(
            f"{size:,}",
            f"{count:,.0f}",
            f"{results['gen']['rss_kb'] / 1024:.0f}",
            f"{results['load']['rss_kb'] / 1024:.0f}",
        )
    console.print(memory)


def markdown(backend: str, sizes: dict[int, dict[str, Any]]) -> str:
    lines = []
    for size, results in sizes.items():
        lines += [f"\n{backend}, {size:,} accounts:\n", _md_row(SPEED_HEADER)]
        lines.append(_md_row(["---"] * len(SPEED_HEADER)))
        lines += [_md_row(row) for row in speed_rows(results)]
    lines += ["\n| accounts | records | peak RSS, gen | peak RSS, load |"]
    lines.append("| --- | --- | --- | --- |")
    for size, results in sizes.items():
        count = sum(c for c, _ in results["load"]["timings"].values())
        lines.append(
            f"| {size:,} | {count:,.0f} | {results['gen']['rss_kb'] / 1024:.0f} MB "
            f"| {results['load']['rss_kb'] / 1024:.0f} MB |"
        )
    return "\n".join(lines)


def _md_row(cells: list[str]) -> str:
    return "| " + " | ".join(cells) + " |"


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--accounts", type=int, nargs="+", default=[1000])
    parser.add_argument("--database-url")
    parser.add_argument("--repeat", type=int, default=1, help="runs of each job")
    parser.add_argument("--markdown", action="store_true", help="also print markdown")
    parser.add_argument("--job", choices=sorted(JOBS), help=argparse.SUPPRESS)
    args = parser.parse_args()

    if args.job:
        timings = JOBS[args.job](args.accounts[0], args.database_url)
        rss_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        print(json.dumps({"timings": timings, "rss_kb": rss_kb}))
        return

    console = Console()
    backend = (
        make_url(args.database_url).get_backend_name()
        if args.database_url
        else "sqlite"
    )
    sizes = {}
    with tempfile.TemporaryDirectory(prefix="foresight-bench-") as folder:
        urls = job_urls(args.database_url, Path(folder))
        for size in args.accounts:
            started = time.monotonic()
            with console.status(f"{backend}: {size:,} accounts"):
                sizes[size] = measure(size, args.repeat, urls)
            console.print(f"{size:,} accounts: {time.monotonic() - started:.0f} s")
    show(console, backend, sizes)
    if args.markdown:
        print(markdown(backend, sizes))


if __name__ == "__main__":
    main()

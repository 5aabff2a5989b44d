"""Live sync: ``integrations.sync.sync`` of a large HubSpot portal into a real store.

    .venv/bin/python bench/bench_sync.py --sizes 25000 50000 100000
    .venv/bin/python bench/bench_sync.py --sizes 25000 --transport http
    .venv/bin/python bench/bench_sync.py --sizes 25000 \\
        --database-url postgresql+psycopg://postgres@127.0.0.1:5432/bench_sync

The portal is a stand-in generated here, deterministically, with N objects: 10 %
companies, 40 % contacts, 15 % deals and 35 % engagements (7 % each of e-mails,
meetings, calls, notes and tasks). Contacts and deals are associated with a company,
each engagement with a company, a contact and a deal; each deal has two stage changes
in its history. Owners and deal pipelines are the recorded ones
(``../shared/data/api_shapes``). It answers as HubSpot does: listings 100 a page with
an ``after`` cursor and, asked with ``associations=``, each object's associations
inline (at most 100 per object and type, then cut off with a ``paging`` of their own),
search with GTE/LT filters, ascending sort, ``total`` and the 10,000-result cap and
no associations, batch association reads, batch reads with ``propertiesWithHistory``
(at most 50 inputs), archived listings. Objects are made from their index when asked
for, so the stand-in holds only the changed ones and adds nothing to peak memory.

``--transport mock`` (the default) answers through ``httpx.MockTransport`` in the
syncing process: the stand-in's own time (building and encoding JSON) is measured
and reported apart. ``--transport http`` serves it from a child process on a loopback
port, so the sync goes through the real network stack (sockets, HTTP parsing).

Each size runs in a process of its own (so ru_maxrss is that size's alone):

1. ``full``: the first sync of an empty store, through the listings;
2. ``same``: a second sync with nothing changed (search, nothing found);
3. ``1%``: a sync after 1 % of the objects of every type changed (a new name or
   subject; a deal also moves to its next stage, adding one history entry).

Without ``--database-url`` each size uses a new SQLite file in a temporary folder.
With a PostgreSQL URL the script uses that database, and resets its ``public`` schema
before each size only if the database is empty or carries this script's mark (which
it then sets); never point it at a database that holds anything else.
"""

from __future__ import annotations

import argparse
import cProfile
import io
import json
import os
import pstats
import resource
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run from a checkout

import httpx
from rich.console import Console
from rich.table import Table
from sqlalchemy import Engine, make_url, text

from context.clock import Clock
from context.db import make_engine, upgrade
from integrations.config import load_config
from integrations.sync import SourceResult, sync

DATA = Path(__file__).resolve().parents[2] / "shared" / "data"
RECORDED = Path("api_shapes/recorded_responses_nango_elv2/hubspot")
TOKEN = "bench-token"
MARK = "scratch store of bench/bench_sync.py; safe to drop"
REFUSED = ("postgres", "root", "test", "template0", "template1")

# Object type → (share of N, id prefix, the property holding its last change).
TYPES: dict[str, tuple[float, int, str]] = {
    "companies": (0.10, 1, "hs_lastmodifieddate"),
    "contacts": (0.40, 2, "lastmodifieddate"),
    "deals": (0.15, 3, "hs_lastmodifieddate"),
    "emails": (0.07, 4, "hs_lastmodifieddate"),
    "meetings": (0.07, 5, "hs_lastmodifieddate"),
    "calls": (0.07, 6, "hs_lastmodifieddate"),
    "notes": (0.07, 7, "hs_lastmodifieddate"),
    "tasks": (0.07, 8, "hs_lastmodifieddate"),
}
ID_BASE = 10**11  # ids are prefix * ID_BASE + index: 12 digits, as HubSpot's
LIST_LIMIT = 100  # HubSpot: at most 100 a page on the object listings
SEARCH_LIMIT = 200  # and 200 on search
SEARCH_CAP = 10_000
HISTORY_BATCH = 50
INLINE_CAP = 100  # associations per object and type inline in a listing
T0 = int(datetime(2025, 1, 1, tzinfo=UTC).timestamp() * 1000)
STEP = 37_000  # ms between the base modification times of consecutive objects
DAY = 86_400_000
CHANGED_EVERY = 100  # 1 %: objects whose index is 37 modulo 100
CHANGED_AT = 37
INDUSTRIES = ("COMPUTER_SOFTWARE", "FINANCIAL_SERVICES", "RETAIL", "HOSPITAL", None)
PLACES = (
    ("San Francisco", "CA", "United States"),
    ("Berlin", None, "Germany"),
    ("London", None, "United Kingdom"),
    (None, None, None),
)
FIRST = ("Ada", "Brook", "Chen", "Dana", "Eli", "Femi", "Gus", "Hana", "Ivo", "Jo")
LAST = ("Ashdown", "Baker", "Costa", "Dietz", "Evans", "Fujita", "Garcia", "Horvat")
TITLES = ("VP Sales", "CFO", "Head of IT", None, "Procurement Lead", "Engineer")


def iso(ms: int) -> str:
    moment = datetime.fromtimestamp(ms / 1000, UTC)
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")


class BigPortal:
    """A HubSpot portal of ``size`` generated objects, answering CRM v3 requests.

    Unchanged objects are computed from their index; ``changes`` holds, per type,
    the index of each changed object and its (new modification time, revision).
    """

    def __init__(self, size: int, data: Path) -> None:
        self.counts = {t: max(1, round(size * s)) for t, (s, _, _) in TYPES.items()}
        self.owners = self._recorded(data, "owners")
        self.pipelines = self._recorded(data, "fetch-pipelines")
        self.owner_ids = [str(o["id"]) for o in self.owners["results"]]
        self.stages = [
            str(s["id"]) for p in self.pipelines["results"] for s in p["stages"]
        ]
        self.changes: dict[str, dict[int, tuple[int, int]]] = {t: {} for t in TYPES}
        self.lock = threading.Lock()
        self.requests = 0
        self.seconds = 0.0  # time spent answering, for --transport mock

    @staticmethod
    def _recorded(data: Path, name: str) -> Any:
        return json.loads((data / RECORDED / f"{name}.json").read_text())[0]["response"]

    # -- changes -----------------------------------------------------------------

    def change(self, fraction_every: int = CHANGED_EVERY) -> int:
        """Change every ``fraction_every``-th object of each type, now."""
        now = int(time.time() * 1000)
        changed = 0
        with self.lock:
            for object_type, count in self.counts.items():
                own = self.changes[object_type]
                for index in range(CHANGED_AT % fraction_every, count, fraction_every):
                    revision = own.get(index, (0, 0))[1] + 1
                    own[index] = (now, revision)
                    changed += 1
        return changed

    # -- objects -----------------------------------------------------------------

    def stamp(self, object_type: str, index: int) -> int:
        found = self.changes[object_type].get(index)
        return found[0] if found else T0 + index * STEP

    def revision(self, object_type: str, index: int) -> int:
        found = self.changes[object_type].get(index)
        return found[1] if found else 0

    def object_id(self, object_type: str, index: int) -> str:
        return str(TYPES[object_type][1] * ID_BASE + index)

    def index_of(self, object_type: str, record_id: Any) -> int | None:
        try:
            number = int(record_id)
        except (TypeError, ValueError):
            return None
        prefix, index = divmod(number, ID_BASE)
        if prefix != TYPES[object_type][1] or index >= self.counts[object_type]:
            return None
        return index

    def company_of(self, object_type: str, index: int) -> int:
        return index * self.counts["companies"] // self.counts[object_type]

    def properties(self, object_type: str, index: int) -> dict[str, Any]:
        stamp = self.stamp(object_type, index)
        revision = self.revision(object_type, index)
        created = T0 - DAY * (30 + index % 300)
        suffix = f" (rev {revision})" if revision else ""
        owner = self.owner_ids[index % len(self.owner_ids)] if index % 3 else None
        props: dict[str, Any] = {
            "createdate": iso(created),
            "hs_object_id": self.object_id(object_type, index),
        }
        if object_type == "companies":
            city, state, country = PLACES[index % len(PLACES)]
            props.update(
                name=f"Company {index:06d}{suffix}",
                domain=f"company{index}.example.com",
                industry=INDUSTRIES[index % len(INDUSTRIES)],
                city=city,
                state=state,
                country=country,
                numberofemployees=str(5 + index % 4000),
                annualrevenue=str(100_000 + index * 37 % 9_000_000),
                hubspot_owner_id=owner,
                hs_lastmodifieddate=iso(stamp),
                hs_merged_object_ids=None,
            )
        elif object_type == "contacts":
            first, last = FIRST[index % len(FIRST)], LAST[index // 10 % len(LAST)]
            company = self.company_of("contacts", index)
            props.update(
                firstname=first,
                lastname=f"{last}{suffix}",
                email=f"{first}.{last}.{index}@company{company}.example.com".lower(),
                jobtitle=TITLES[index % len(TITLES)],
                lastmodifieddate=iso(stamp),
                hs_merged_object_ids=None,
            )
        elif object_type == "deals":
            props.update(
                dealname=f"Deal {index:06d}{suffix}",
                amount=f"{1000 + index * 7 % 90_000}.00",
                deal_currency_code="USD",
                closedate=iso(T0 + DAY * (index % 400)),
                createdate=iso(created),
                dealstage=self.deal_stages(index)[-1][1],
                pipeline="default",
                hubspot_owner_id=owner,
                hs_lastmodifieddate=iso(stamp),
                hs_merged_object_ids=None,
            )
        else:
            props.update(self.engagement(object_type, index, suffix))
            props.update(
                hs_timestamp=iso(created + DAY),
                hs_createdate=iso(created),
                hs_lastmodifieddate=iso(stamp),
                hubspot_owner_id=owner,
            )
        return props

    @staticmethod
    def engagement(object_type: str, n: int, suffix: str) -> dict[str, Any]:
        if object_type == "emails":
            return {
                "hs_email_subject": f"Pricing for {n} seats{suffix}",
                "hs_email_text": f"Hi,\nhere is the quote for {n} seats.\n-- Taylor",
                "hs_email_direction": "EMAIL" if n % 2 else "INCOMING_EMAIL",
                "hs_email_from_email": "taylor.quinn@example.com",
                "hs_email_to_email": f"buyer{n}@example.com",
            }
        if object_type == "meetings":
            return {
                "hs_meeting_title": f"Discovery call {n}{suffix}",
                "hs_meeting_body": "<p>Agenda:</p><ul><li>Goals</li><li>Timeline</li>"
                "</ul>",
            }
        if object_type == "calls":
            return {
                "hs_call_title": f"Check-in {n}{suffix}",
                "hs_call_body": "<div>Left a voicemail</div>",
                "hs_call_direction": "OUTBOUND",
            }
        if object_type == "notes":
            return {"hs_note_body": f"<p>Renewal risk {n}{suffix}</p><p>Budget.</p>"}
        return {
            "hs_task_subject": f"Follow up {n}{suffix}",
            "hs_task_body": "Send the proposal",
            "hs_task_priority": "HIGH",
        }

    def deal_stages(self, index: int) -> list[tuple[int, str]]:
        """(time, stage id) oldest first: two stages, then one more per revision."""
        created = T0 - DAY * (30 + index % 300)
        first = index % max(1, len(self.stages) - 3)
        timeline = [
            (created, self.stages[first]),
            (created + 5 * DAY, self.stages[first + 1]),
            (created + 12 * DAY, self.stages[first + 2]),
        ]
        stamp = self.stamp("deals", index)
        for revision in range(1, self.revision("deals", index) + 1):
            stage = self.stages[(first + 2 + revision) % len(self.stages)]
            timeline.append((stamp - (self.revision("deals", index) - revision), stage))
        return timeline

    def item(self, object_type: str, index: int, wanted: list[str]) -> dict[str, Any]:
        props = self.properties(object_type, index)
        always = ("createdate", "hs_object_id", TYPES[object_type][2])
        chosen = {name: props.get(name) for name in (*wanted, *always)}
        record_id = self.object_id(object_type, index)
        return {
            "id": record_id,
            "properties": chosen,
            "createdAt": props.get("createdate") or props.get("hs_createdate"),
            "updatedAt": iso(self.stamp(object_type, index)),
            "archived": False,
            "url": f"https://app.hubspot.com/contacts/1/record/{record_id}",
        }

    # -- requests ----------------------------------------------------------------

    def answer(
        self, method: str, path: str, params: Mapping[str, str], body: Any
    ) -> tuple[int, Any]:
        with self.lock:
            self.requests += 1
        parts = path.strip("/").split("/")
        if path == "/crm/v3/owners":
            return 200, self.owners
        if path == "/crm/v3/pipelines/deals":
            return 200, self.pipelines
        if parts[:3] == ["crm", "v3", "associations"]:
            return self._associations(parts[3], parts[4], body)
        if parts[:3] != ["crm", "v3", "objects"] or parts[3] not in TYPES:
            return 404, _error("OBJECT_NOT_FOUND")
        if method == "GET" and len(parts) == 4:
            return self._listing(parts[3], params)
        if method == "POST" and parts[4:] == ["search"]:
            return self._search(parts[3], body)
        if method == "POST" and parts[4:] == ["batch", "read"]:
            return self._batch_read(parts[3], body)
        return 404, _error("OBJECT_NOT_FOUND")

    def _listing(self, object_type: str, params: Mapping[str, str]) -> tuple[int, Any]:
        limit = int(params.get("limit") or 10)
        if limit > LIST_LIMIT:
            return 400, _error("VALIDATION_ERROR")
        if params.get("archived") == "true":
            return 200, {"results": []}
        wanted = [p for p in (params.get("properties") or "").split(",") if p]
        linked = [t for t in (params.get("associations") or "").split(",") if t]
        start = int(params.get("after") or 0)
        end = min(start + limit, self.counts[object_type])
        results = []
        for index in range(start, end):
            item = self.item(object_type, index, wanted)
            inline = self._inline(object_type, index, linked)
            if inline:
                item["associations"] = inline
            results.append(item)
        page: dict[str, Any] = {"results": results}
        if end < self.counts[object_type]:
            page["paging"] = {"next": {"after": str(end), "link": "(stand-in)"}}
        return 200, page

    def _search(self, object_type: str, body: dict[str, Any]) -> tuple[int, Any]:
        after = int(body.get("after") or 0)
        limit = int(body.get("limit") or 10)
        if after >= SEARCH_CAP or limit > SEARCH_LIMIT:
            return 400, _error("VALIDATION_ERROR")
        filters = body["filterGroups"][0]["filters"]
        low = next(int(f["value"]) for f in filters if f["operator"] == "GTE")
        high = next(int(f["value"]) for f in filters if f["operator"] == "LT")
        with self.lock:
            changed = dict(self.changes[object_type])
        count = self.counts[object_type]
        # Unchanged objects: base times T0 + i * STEP, increasing with i.
        first = max(0, -(-(low - T0) // STEP))
        last = min(count, -(-(high - T0) // STEP))
        matches = [(T0 + i * STEP, i) for i in range(first, last) if i not in changed]
        matches += [(at, i) for i, (at, _) in changed.items() if low <= at < high]
        matches.sort()
        wanted = list(body.get("properties") or [])
        chosen = matches[after : after + limit]
        page: dict[str, Any] = {
            "total": len(matches),
            "results": [self.item(object_type, i, wanted) for _, i in chosen],
        }
        if after + limit < len(matches):
            page["paging"] = {"next": {"after": str(after + limit)}}
        return 200, page

    def targets(
        self, object_type: str, index: int, to_type: str
    ) -> list[dict[str, Any]]:
        """An object's associations to ``to_type`` objects, as HubSpot lists them."""
        if object_type == to_type or to_type not in TYPES:
            return []
        if object_type in ("contacts", "deals") and to_type == "companies":
            target = self.company_of(object_type, index)
        elif object_type in ("contacts", "deals", "companies"):
            return []  # only engagements link elsewhere in this portal
        elif to_type == "companies":
            target = index * self.counts["companies"] // self.counts[object_type]
        else:
            target = index * 7 % self.counts[to_type]
        label = f"{_singular(object_type)}_to_{_singular(to_type)}"
        return [{"id": self.object_id(to_type, target), "type": label}]

    def _inline(
        self, object_type: str, index: int, linked: list[str]
    ) -> dict[str, Any]:
        """An object's ``associations`` in a listing asked for ``linked`` types:
        only the types it has some of, each cut off at ``INLINE_CAP``."""
        found: dict[str, Any] = {}
        for to_type in linked:
            targets = self.targets(object_type, index, to_type)
            if not targets:
                continue
            found[to_type] = {"results": targets[:INLINE_CAP]}
            if len(targets) > INLINE_CAP:
                after = {"after": str(INLINE_CAP), "link": "(stand-in)"}
                found[to_type]["paging"] = {"next": after}
        return found

    def _associations(
        self, object_type: str, to_type: str, body: dict[str, Any]
    ) -> tuple[int, Any]:
        results = []
        for entry in body.get("inputs") or []:
            index = self.index_of(object_type, entry.get("id"))
            targets = [] if index is None else self.targets(object_type, index, to_type)
            if targets:
                results.append({"from": {"id": entry["id"]}, "to": targets})
        return 200, {"status": "COMPLETE", "results": results}

    def _batch_read(self, object_type: str, body: dict[str, Any]) -> tuple[int, Any]:
        wanted = list(body.get("propertiesWithHistory") or [])
        if wanted and len(body.get("inputs") or []) > HISTORY_BATCH:
            return 400, _error("VALIDATION_ERROR")
        results = []
        for entry in body.get("inputs") or []:
            index = self.index_of(object_type, entry.get("id"))
            if index is None:
                continue
            item = self.item(object_type, index, list(body.get("properties") or []))
            if object_type == "deals":
                item["propertiesWithHistory"] = self._history(index, wanted)
            results.append(item)
        return 200, {"status": "COMPLETE", "results": results}

    def _history(self, index: int, wanted: list[str]) -> dict[str, Any]:
        props = self.properties("deals", index)
        history: dict[str, Any] = {}
        for name in wanted:
            timeline: list[tuple[int, Any]]
            if name == "dealstage":
                timeline = list(self.deal_stages(index))
            else:
                timeline = [(T0 - DAY * (30 + index % 300), props.get(name))]
            history[name] = [
                {"value": value, "timestamp": iso(at), "sourceType": "CRM_UI"}
                for at, value in reversed(timeline)
            ]
        return history

    # -- transports --------------------------------------------------------------

    def mock(self, request: httpx.Request) -> httpx.Response:
        started = time.perf_counter()
        if request.headers.get("authorization") != f"Bearer {TOKEN}":
            return httpx.Response(401, json=_error("INVALID_AUTHENTICATION"))
        body = json.loads(request.content) if request.content else None
        params = dict(request.url.params)
        status, answer = self.answer(request.method, request.url.path, params, body)
        response = httpx.Response(
            status,
            content=json.dumps(answer).encode(),
            headers={"content-type": "application/json"},
        )
        self.seconds += time.perf_counter() - started
        return response


def _singular(object_type: str) -> str:
    return "company" if object_type == "companies" else object_type[:-1]


def _error(category: str) -> dict[str, Any]:
    return {
        "status": "error",
        "message": f"{category} (stand-in)",
        "category": category,
    }


# -- the loopback server (--transport http) ------------------------------------------


def serve(size: int, data: Path) -> None:
    """Serve a portal on a free loopback port; print the port, then serve forever.
    ``POST /_bench/change`` changes 1 % of it."""
    portal = BigPortal(size, data)

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        # Headers and body go out in two writes; with Nagle on, the body waits for
        # the client's delayed ACK (40 ms a request). HubSpot's servers do not.
        disable_nagle_algorithm = True

        def log_message(self, format: str, *args: Any) -> None:
            del format, args

        def do_GET(self) -> None:
            self._handle()

        def do_POST(self) -> None:
            self._handle()

        def _handle(self) -> None:
            url = urlsplit(self.path)
            length = int(self.headers.get("content-length") or 0)
            raw = self.rfile.read(length) if length else b""
            body = json.loads(raw) if raw else None
            params = {k: v[0] for k, v in parse_qs(url.query).items()}
            started = time.perf_counter()
            answer: Any
            if url.path == "/_bench/change":
                status, answer = 200, {"changed": portal.change()}
            elif url.path == "/_bench/stats":
                with portal.lock:
                    status = 200
                    answer = {"seconds": portal.seconds, "requests": portal.requests}
                    portal.seconds, portal.requests = 0.0, 0
            elif self.headers.get("authorization") != f"Bearer {TOKEN}":
                status, answer = 401, _error("INVALID_AUTHENTICATION")
            else:
                status, answer = portal.answer(self.command, url.path, params, body)
            content = json.dumps(answer).encode()
            self.send_response(status)
            self.send_header("content-type", "application/json")
            self.send_header("content-length", str(len(content)))
            self.end_headers()
            self.wfile.write(content)
            if not url.path.startswith("/_bench/"):
                with portal.lock:
                    portal.seconds += time.perf_counter() - started

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    print(server.server_address[1], flush=True)
    server.serve_forever()


# -- one size (run in a child process) -----------------------------------------------


CONFIG = """
sources:
  - name: hubspot
    label: HubSpot
    kind: hubspot
    base_url: {base_url}
    token_env: BENCH_HUBSPOT_TOKEN
    max_attempts: 3
    max_retry_wait: 0.5
    owners_as_reps: true
"""


def run_size(
    size: int, url: str, transport: str, data: Path, profile: str | None
) -> dict[str, Any]:
    engine = fresh_store(url)
    os.environ["BENCH_HUBSPOT_TOKEN"] = TOKEN
    portal = BigPortal(size, data)
    server: subprocess.Popen[str] | None = None
    with tempfile.TemporaryDirectory(prefix="foresight-bench-sync-") as folder:
        if transport == "http":
            server, base_url = start_server(size, data)
            mock = None
        else:
            base_url, mock = "https://hubspot.bench", httpx.MockTransport(portal.mock)
        path = Path(folder) / "foresight.yml"
        path.write_text(CONFIG.format(base_url=base_url))
        config = load_config(path)
        try:
            phases: dict[str, Any] = {"rss_start_kb": rss_kb()}

            def one(name: str, before: Callable[[], Any] | None = None) -> None:
                if before is not None:
                    before()
                portal.seconds, portal.requests = 0.0, 0
                if server is not None:
                    httpx.get(f"{base_url}/_bench/stats").raise_for_status()
                profiler = cProfile.Profile() if profile and name == "full" else None
                started = time.perf_counter()
                if profiler:
                    profiler.enable()
                results = sync(
                    engine,
                    config,
                    Clock(),
                    console=Console(file=io.StringIO()),
                    transport=mock,
                )
                elapsed = time.perf_counter() - started
                if profiler and profile:
                    profiler.disable()
                    profiler.dump_stats(profile)
                if server is not None:  # the stand-in's own figures, from its process
                    stats = httpx.get(f"{base_url}/_bench/stats").json()
                    portal.seconds, portal.requests = (
                        stats["seconds"],
                        stats["requests"],
                    )
                phases[name] = summary(results[0], elapsed, portal, rss_kb())

            def change() -> None:
                if server is None:
                    portal.change()
                else:
                    httpx.post(f"{base_url}/_bench/change").raise_for_status()

            one("full")
            one("same")
            one("1%", change)
        finally:
            if server is not None:
                server.terminate()
                server.wait()
    engine.dispose()
    return phases


def start_server(size: int, data: Path) -> tuple[subprocess.Popen[str], str]:
    command = [sys.executable, __file__, "--serve", "--sizes", str(size)]
    command += ["--data", str(data)]
    server = subprocess.Popen(command, stdout=subprocess.PIPE, text=True)
    assert server.stdout is not None
    port = int(server.stdout.readline())
    return server, f"http://127.0.0.1:{port}"


def summary(
    result: SourceResult, elapsed: float, portal: BigPortal, rss: int
) -> dict[str, Any]:
    if result.error:
        raise SystemExit(f"sync failed: {result.error}")
    counts = {k: {o: n for o, n in c.items() if n} for k, c in result.counts.items()}
    return {
        "seconds": elapsed,
        "stand_in_seconds": portal.seconds,
        "requests": portal.requests,
        "records": sum(sum(c.values()) for c in counts.values()),
        "changed": result.changed(),
        "counts": counts,
        "rss_kb": rss,
    }


def rss_kb() -> int:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


# -- stores --------------------------------------------------------------------------


def fresh_store(url: str) -> Engine:
    engine = make_engine(url)
    if engine.dialect.name == "postgresql":
        reset_marked(engine)
    upgrade(engine)
    return engine


def reset_marked(engine: Engine) -> None:
    """Empty the database's ``public`` schema if it is empty already or carries the
    mark; refuse anything else."""
    with engine.begin() as conn:
        name = conn.scalar(text("SELECT current_database()"))
        mark = conn.scalar(
            text(
                "SELECT shobj_description(oid, 'pg_database') FROM pg_database "
                "WHERE datname = current_database()"
            )
        )
        tables = conn.scalar(
            text("SELECT count(*) FROM pg_tables WHERE schemaname = 'public'")
        )
        if name in REFUSED or (mark != MARK and tables):
            raise SystemExit(
                f"refusing to reset database {name!r}: it holds tables and was not "
                "made by this script; create an empty one (createdb bench_sync)"
            )
        conn.execute(text(f"COMMENT ON DATABASE \"{name}\" IS '{MARK}'"))
        conn.execute(text("DROP SCHEMA public CASCADE"))
        conn.execute(text("CREATE SCHEMA public"))


def store_urls(url: str | None, folder: Path) -> Iterator[str]:
    if url is not None and make_url(url).get_backend_name() == "postgresql":
        while True:
            yield url
    number = 0
    while True:
        number += 1
        yield f"sqlite:///{folder / f'sync-{number}.db'}"


# -- the parent ---------------------------------------------------------------------


def run_child(
    size: int, url: str, transport: str, data: Path, profile: str | None
) -> dict[str, Any]:
    command = [sys.executable, __file__, "--child", "--sizes", str(size)]
    command += ["--database-url", url, "--transport", transport, "--data", str(data)]
    if profile:
        command += ["--profile", f"{profile}.{size}"]
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise SystemExit(f"size {size:,} failed:\n{done.stderr}")
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


HEADER = [
    "objects",
    "records",
    "full sync",
    "rec/s",
    "stand-in share",
    "requests",
    "peak RSS",
    "unchanged re-sync",
    "÷ full",
    "1 % changed",
    "÷ full",
]


def rows(sizes: dict[int, dict[str, Any]]) -> list[list[str]]:
    table = []
    for size, phases in sizes.items():
        full, same, some = phases["full"], phases["same"], phases["1%"]
        table.append(
            [
                f"{size:,}",
                f"{full['records']:,}",
                f"{full['seconds']:.1f} s",
                f"{full['records'] / full['seconds']:,.0f}",
                f"{full['stand_in_seconds'] / full['seconds']:.0%}",
                f"{full['requests']:,}",
                f"{full['rss_kb'] / 1024:.0f} MB",
                f"{same['seconds']:.2f} s",
                f"{same['seconds'] / full['seconds']:.1%}",
                f"{some['seconds']:.1f} s ({some['records']:,} rec)",
                f"{some['seconds'] / full['seconds']:.1%}",
            ]
        )
    return table


def show(console: Console, title: str, sizes: dict[int, dict[str, Any]]) -> None:
    table = Table(*HEADER, title=title)
    for row in rows(sizes):
        table.add_row(*row)
    console.print(table)


def markdown(sizes: dict[int, dict[str, Any]]) -> str:
    lines = [_md_row(HEADER), _md_row(["---"] * len(HEADER))]
    lines += [_md_row(row) for row in rows(sizes)]
    return "\n".join(lines)


def _md_row(cells: list[str]) -> str:
    return "| " + " | ".join(cells) + " |"


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--sizes", type=int, nargs="+", default=[25_000])
    parser.add_argument("--database-url")
    parser.add_argument("--transport", choices=("mock", "http"), default="mock")
    parser.add_argument("--data", type=Path, default=DATA, help="shared data folder")
    parser.add_argument("--markdown", action="store_true", help="also print markdown")
    parser.add_argument("--json", action="store_true", help="also print the raw JSON")
    parser.add_argument(
        "--profile", help="cProfile each full sync into PROFILE.<size> (pstats)"
    )
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--serve", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()

    if args.serve:
        serve(args.sizes[0], args.data)
        return
    if args.child:
        phases = run_size(
            args.sizes[0], args.database_url, args.transport, args.data, args.profile
        )
        print(json.dumps(phases))
        return

    console = Console(width=max(Console().width, 180))
    backend = (
        make_url(args.database_url).get_backend_name()
        if args.database_url
        else "sqlite"
    )
    sizes = {}
    with tempfile.TemporaryDirectory(prefix="foresight-bench-sync-") as folder:
        urls = store_urls(args.database_url, Path(folder))
        for size in args.sizes:
            started = time.monotonic()
            with console.status(f"{backend}: {size:,} objects"):
                sizes[size] = run_child(
                    size, next(urls), args.transport, args.data, args.profile
                )
            console.print(f"{size:,} objects: {time.monotonic() - started:.0f} s")
    show(console, f"{backend}, {args.transport} transport", sizes)
    if args.profile:
        for size in sizes:
            stats = pstats.Stats(f"{args.profile}.{size}")
            stats.sort_stats("cumulative").print_stats(25)
    if args.markdown:
        print(markdown(sizes))
    if args.json:
        print(json.dumps(sizes, indent=1))


if __name__ == "__main__":
    main()

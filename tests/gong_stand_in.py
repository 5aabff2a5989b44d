"""A Gong stand-in for ``httpx.MockTransport``, filled at test time from the shapes
in ``../shared/data/api_shapes``: the real recorded users and "No calls found"
answers, and calls and transcripts grown from the spec's examples into many calls
with distinct ids. It answers as Gong does: HTTP Basic or 401, the users cursor in
the query string, the calls and transcript cursors in the JSON body (a cursor sent
anywhere else is ignored and the first page comes back, CASES B22), and 404 for a
window without calls. Tests change calls and inject faults.
"""

from __future__ import annotations

import base64
import copy
import json
from collections import deque
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx

ACCESS_KEY, SECRET = "test-key", "test-secret"
SHAPES = Path("api_shapes/gong")
RECORDED = Path("api_shapes/recorded_responses_nango_elv2/gong")
FIRST_CALL = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
CALL_SPACING = timedelta(hours=5)
CUSTOMERS = (
    ("Dana O'Neil", "dana@acme.example"),
    ("Émile Straße", "emile@globex.example"),
)
HOST = "413440499764841252"  # Jordan Ellery in the recorded users
COLLEAGUE = "sam.ops@example.com"  # ours by domain only: not a Gong user


def recorded(data: Path, name: str) -> Any:
    return json.loads((data / RECORDED / f"{name}.json").read_text())[0]


def example(data: Path, endpoint: str) -> Any:
    shapes = json.loads(
        (data / SHAPES / "gong_response_examples_derived_from_spec.json").read_text()
    )
    return copy.deepcopy(shapes["examples"][endpoint])


class GongStandIn:
    """Users, calls and transcripts, and a log of every request."""

    def __init__(self, data: Path, calls: int = 25, page_size: int = 10) -> None:
        self.users: list[dict[str, Any]] = recorded(data, "users")["response"]["users"]
        self.no_calls = recorded(data, "calls")
        self.no_transcripts = recorded(data, "call-transcripts")
        call = example(data, "POST /v2/calls/extensive")["calls"][0]
        monologue = example(data, "POST /v2/calls/transcript")["callTranscripts"][0]
        self.calls = [_grow_call(call, index) for index in range(calls)]
        self.transcripts = {
            _id(c): _grow_transcript(monologue["transcript"][0], c) for c in self.calls
        }
        self.page_size = page_size
        self.user_page_size = 3
        self.stuck_cursor = False  # every page names the same next cursor
        self.faults: dict[str, deque[httpx.Response | Exception]] = {}
        self.requests: list[tuple[str, str, dict[str, str], Any]] = []

    def find(self, call_id: str) -> dict[str, Any]:
        return next(c for c in self.calls if _id(c) == call_id)

    def fail(self, path: str, *answers: httpx.Response | Exception) -> None:
        self.faults.setdefault(path, deque()).extend(answers)

    def bodies(self, path: str) -> list[Any]:
        return [body for _, p, _, body in self.requests if p == path]

    def __call__(self, request: httpx.Request) -> httpx.Response:
        path = request.url.path
        body = json.loads(request.content) if request.content else {}
        self.requests.append((request.method, path, dict(request.url.params), body))
        if request.headers.get("authorization") != _basic(ACCESS_KEY, SECRET):
            return httpx.Response(401, json=_errors("Unauthorized: bad access key"))
        queue = self.faults.get(path)
        if queue:
            fault = queue.popleft()
            if isinstance(fault, Exception):
                raise fault
            return fault
        if (request.method, path) == ("GET", "/v2/users"):
            cursor = request.url.params.get("cursor")
            return self._page("users", self.users, cursor, self.user_page_size)
        if (request.method, path) == ("POST", "/v2/calls/extensive"):
            return self._calls(body)
        if (request.method, path) == ("POST", "/v2/calls/transcript"):
            return self._transcripts(body)
        return httpx.Response(404, json=_errors("No such endpoint (stand-in)"))

    def _calls(self, body: dict[str, Any]) -> httpx.Response:
        since = _moment(body["filter"]["fromDateTime"])
        matches = [c for c in self.calls if (_started(c) or since) >= since]
        if not matches:
            return httpx.Response(404, json=self.no_calls["response"])
        return self._page("calls", matches, body.get("cursor"), self.page_size)

    def _transcripts(self, body: dict[str, Any]) -> httpx.Response:
        wanted = body["filter"]["callIds"]
        found = [
            {"callId": call_id, "transcript": self.transcripts[call_id]}
            for call_id in wanted
            if call_id in self.transcripts
        ]
        if not found:
            return httpx.Response(404, json=self.no_transcripts["response"])
        return self._page("callTranscripts", found, body.get("cursor"), self.page_size)

    def _page(
        self, key: str, items: list[Any], cursor: str | None, size: int
    ) -> httpx.Response:
        start = 0 if cursor is None else _offset(cursor)
        end = start + size
        records: dict[str, Any] = {
            "totalRecords": len(items),
            "currentPageSize": len(items[start:end]),
            "currentPageNumber": start // size,
        }
        if end < len(items):
            records["cursor"] = _cursor(size if self.stuck_cursor else end)
        body = {"requestId": "stand-in", "records": records, key: items[start:end]}
        return httpx.Response(200, json=body)


def _grow_call(template: dict[str, Any], index: int) -> dict[str, Any]:
    """The spec's example call as call ``index``: a host, a colleague and a customer."""
    call = copy.deepcopy(template)
    call_id = str(7782342274025937000 + index)
    started = FIRST_CALL + index * CALL_SPACING
    call["metaData"].update(
        id=call_id,
        url=f"https://app.gong.io/call?id={call_id}",
        title=f"Discovery call {index}",
        started=started.isoformat().replace("+00:00", "Z"),
        scheduled=started.isoformat(),
        duration=1800 + index,
        primaryUserId=HOST,
    )
    host = call["parties"][0]
    name, email = CUSTOMERS[index % 2]
    call["parties"] = [
        {
            **host,
            "id": f"p{index}-host",
            "emailAddress": "jordan.ellery@example.com",
            "name": "Jordan Ellery",
            "userId": HOST,
            "speakerId": f"s{index}-host",
            "affiliation": "Unknown",
        },
        {
            "id": f"p{index}-ops",
            "emailAddress": COLLEAGUE,
            "name": "Sam Ops",
            "speakerId": f"s{index}-ops",
            "affiliation": "Unknown",
            "methods": ["Invitee"],
        },
        {
            "id": f"p{index}-guest",
            "emailAddress": email,
            "name": name,
            "title": "VP Operations",
            "speakerId": f"s{index}-guest",
            "affiliation": "External",
            "context": [],
            "methods": ["Attendee"],
        },
        {
            "id": f"p{index}-phone",
            "name": "Unknown caller",
            "phoneNumber": "+1 555 0100",
            "affiliation": "Unknown",
        },
    ]
    call["content"]["brief"] = f"Brief of call {index}."
    call["content"]["keyPoints"] = [{"text": "Budget approved"}, {"text": ""}]
    return call


def _grow_transcript(template: dict[str, Any], call: dict[str, Any]) -> list[Any]:
    """Three monologues from the example: host, customer, then host again."""
    speakers = {p.get("speakerId") for p in call["parties"]}
    host = next(s for s in speakers if s and s.endswith("-host"))
    guest = next(s for s in speakers if s and s.endswith("-guest"))
    first = copy.deepcopy(template)
    first.update(
        speakerId=host,
        sentences=[{"start": 0, "end": 2100, "text": "Thanks for joining."}],
    )
    second = copy.deepcopy(template)
    second["speakerId"] = guest
    second["sentences"] = [
        {"start": 2500, "end": 4000, "text": "We looked at it, and…"},
        second["sentences"][0],
    ]
    third = copy.deepcopy(template)
    third.update(
        speakerId=host, sentences=[{"start": 470000, "end": 471500, "text": "Great."}]
    )
    return [first, second, third]


def _id(call: dict[str, Any]) -> str:
    return str(call["metaData"]["id"])


def _started(call: dict[str, Any]) -> datetime | None:
    meta = call.get("metaData") if isinstance(call, dict) else None
    value = meta.get("started") if isinstance(meta, dict) else None
    try:
        return _moment(value) if value is not None else None
    except (TypeError, ValueError):
        return None


def _moment(value: Any) -> datetime:
    if isinstance(value, int | float) or str(value).isdigit():
        number = float(value)
        return datetime.fromtimestamp(number / 1000 if number > 1e11 else number, UTC)
    moment = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _cursor(offset: int) -> str:
    return base64.urlsafe_b64encode(json.dumps({"offset": offset}).encode()).decode()


def _offset(cursor: str) -> int:
    return int(json.loads(base64.urlsafe_b64decode(cursor.encode()))["offset"])


def _basic(key: str, secret: str) -> str:
    return "Basic " + base64.b64encode(f"{key}:{secret}".encode()).decode()


def _errors(message: str) -> dict[str, Any]:
    return {"requestId": "stand-in", "errors": [message]}

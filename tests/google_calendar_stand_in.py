"""A Google Calendar stand-in for ``httpx.MockTransport``, filled from the recorded
Calendar v3 responses in ``../shared/data/api_shapes`` and answering as Google
does: events listed in a time window with ``pageToken`` paging and a
``nextSyncToken`` on the last page; a ``syncToken`` lists only what changed since
(410 Gone once expired, 400 beside timeMin/timeMax); 401 for an unknown access
token; an OAuth token endpoint that renews it. Tests change events and inject
faults.

The token endpoint also answers a service account's JWT (``trust`` its public key):
it verifies the RS256 signature and the claims as Google does and issues a token
per impersonated user (``sub``); the events endpoint then lets a token read only
its own user's calendar (403 otherwise), so a request sent with another rep's token
fails.
"""

from __future__ import annotations

import copy
import json
from collections import deque
from datetime import UTC, date, datetime, time
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs
from zoneinfo import ZoneInfo

import httpx
import jwt
from cryptography.hazmat.primitives.asymmetric.rsa import RSAPublicKey

TOKEN = "ya29.stand-in-access"
FRESH = "ya29.stand-in-renewed"
CLIENT_ID, CLIENT_SECRET = "stand-in-client.apps.googleusercontent.com", "GOCSPX-x"
REFRESH = "1//stand-in-refresh"
TOKEN_URL = "https://oauth2.stand-in.test/token"
SCOPE = "https://www.googleapis.com/auth/calendar.readonly"
JWT_BEARER = "urn:ietf:params:oauth:grant-type:jwt-bearer"
UNAUTHORIZED = (
    "Client is unauthorized to retrieve access tokens using this method, or client "
    "not authorized for any of the scopes requested."
)
RECORDED = Path("api_shapes/recorded_responses_nango_elv2/google_calendar")


def recorded(data: Path, name: str) -> Any:
    return json.loads((data / RECORDED / f"{name}.json").read_text())[0]["response"]


class Calendars:
    """Events per calendar, a change log for sync tokens, a log of every request."""

    def __init__(self) -> None:
        self.events: dict[str, list[Any]] = {}
        self.zones: dict[str, str] = {}
        self.version = 0
        self.changed_at: dict[tuple[str, str], int] = {}  # (calendar, id) → version
        self.tokens: dict[str, tuple[str, int]] = {}  # sync token → (calendar, version)
        self.expired: set[str] = set()
        self.access = {TOKEN}
        self.ignore_page_token = False
        self.faults: dict[str, deque[httpx.Response | Exception]] = {}
        self.calls: list[tuple[str, str, dict[str, Any]]] = []
        # A service account: its e-mail, key id and public key (``trust``).
        self.trusted: tuple[str, str, RSAPublicKey] | None = None
        self.delegated = True  # domain-wide delegation granted in the Admin console
        self.lifetime = 3599  # seconds, the ``expires_in`` of issued tokens
        self.issued: dict[str, str] = {}  # service-account token → its user
        self.bearers: list[tuple[str, str]] = []  # (calendar, token) per request

    def trust(self, email: str, key_id: str, public_key: RSAPublicKey) -> None:
        self.trusted = (email, key_id, public_key)

    def add(self, calendar: str, zone: str, events: list[Any]) -> None:
        self.zones[calendar] = zone
        self.events[calendar] = []
        for raw in events:
            self.put(calendar, raw)

    def put(self, calendar: str, raw: Any) -> None:
        """Add or change an event, as a user would in Google Calendar."""
        raw = copy.deepcopy(raw)
        events = self.events[calendar]
        index = next((i for i, e in enumerate(events) if _key(e) == _key(raw)), -1)
        if index < 0:
            events.append(raw)
        else:
            events[index] = raw
        self.version += 1
        self.changed_at[(calendar, _key(raw))] = self.version

    def find(self, calendar: str, event_id: str) -> dict[str, Any]:
        return copy.deepcopy(
            next(e for e in self.events[calendar] if _key(e) == event_id)
        )

    def expire(self, calendar: str) -> None:
        self.expired |= {t for t, (c, _) in self.tokens.items() if c == calendar}

    def fail(self, path: str, *answers: httpx.Response | Exception) -> None:
        self.faults.setdefault(path, deque()).extend(answers)

    def listed(self, calendar: str) -> list[dict[str, Any]]:
        """The query of every events request to ``calendar``."""
        path = f"/calendar/v3/calendars/{calendar}/events"
        return [params for _, p, params in self.calls if p == path]

    def __call__(self, request: httpx.Request) -> httpx.Response:
        path = request.url.path
        if request.url.host == httpx.URL(TOKEN_URL).host:
            form = {k: v[0] for k, v in parse_qs(request.content.decode()).items()}
            self.calls.append((request.method, str(request.url), form))
            if form.get("grant_type") == JWT_BEARER:
                return self._impersonate(form, str(request.url))
            return self._token(form)
        self.calls.append((request.method, path, dict(request.url.params)))
        self.calls[-1][2]["timeout"] = request.extensions.get("timeout")
        header = request.headers.get("authorization", "")
        sent = header.removeprefix("Bearer ") if header.startswith("Bearer ") else ""
        parts = path.strip("/").split("/")
        calendar = "/".join(parts[3:-1])
        self.bearers.append((calendar, sent))
        if sent in self.issued and self.issued[sent] != calendar:
            return _error(403, "The caller does not have permission")
        if sent not in self.access and sent not in self.issued:
            return _error(401, "Request had invalid authentication credentials.")
        queue = self.faults.get(path)
        if queue:
            fault = queue.popleft()
            if isinstance(fault, Exception):
                raise fault
            return fault
        if parts[:3] == ["calendar", "v3", "calendars"] and parts[-1] == "events":
            return self._events(calendar, request.url.params)
        return _error(404, "Not Found")

    def _events(self, calendar: str, params: httpx.QueryParams) -> httpx.Response:
        if calendar not in self.events:
            return _error(404, "Not Found")
        token = params.get("syncToken")
        if token is not None:
            if "timeMin" in params or "timeMax" in params:
                return _error(400, "Sync token cannot be used with timeMin.")
            if token in self.expired or token not in self.tokens:
                return _error(
                    410, "Sync token is no longer valid, a full sync is required."
                )
            since = self.tokens[token][1]
            chosen = [
                e
                for e in self.events[calendar]
                if self.changed_at[(calendar, _key(e))] > since
            ]
        else:
            chosen = [e for e in self.events[calendar] if _in_window(e, params)]
        return httpx.Response(200, json=self._page(calendar, chosen, params))

    def _page(
        self, calendar: str, events: list[dict[str, Any]], params: httpx.QueryParams
    ) -> dict[str, Any]:
        size = int(params.get("maxResults", 250))
        offset = 0
        if params.get("pageToken") and not self.ignore_page_token:
            offset = int(params["pageToken"].removeprefix("page-"))
        page: dict[str, Any] = {
            "kind": "calendar#events",
            "summary": calendar,
            "timeZone": self.zones[calendar],
            "items": events[offset : offset + size],
        }
        if offset + size < len(events):
            page["nextPageToken"] = f"page-{offset + size}"
        else:
            token = f"sync-{calendar}-{self.version}-{len(self.tokens)}"
            self.tokens[token] = (calendar, self.version)
            page["nextSyncToken"] = token
        return page

    def _token(self, form: dict[str, str]) -> httpx.Response:
        good = (CLIENT_ID, CLIENT_SECRET, REFRESH, "refresh_token")
        sent = tuple(
            form.get(k)
            for k in ("client_id", "client_secret", "refresh_token", "grant_type")
        )
        if sent != good:
            return httpx.Response(
                400,
                json={
                    "error": "invalid_grant",
                    "error_description": "Token has been expired or revoked.",
                },
            )
        self.access.add(FRESH)
        return httpx.Response(
            200,
            json={"access_token": FRESH, "expires_in": 3599, "token_type": "Bearer"},
        )

    def _impersonate(self, form: dict[str, str], url: str) -> httpx.Response:
        """Google's JWT bearer grant: a token for the user named by ``sub``."""
        assert self.trusted is not None, "trust() the service account first"
        email, key_id, public_key = self.trusted
        assertion = form.get("assertion", "")
        try:
            header = jwt.get_unverified_header(assertion)
            claims = jwt.decode(
                assertion,
                public_key,
                algorithms=["RS256"],
                audience=url,
                issuer=email,
                options={"require": ["iss", "sub", "aud", "iat", "exp", "scope"]},
            )
        except jwt.InvalidTokenError as error:
            return _refusal(400, "invalid_grant", f"Invalid JWT: {error}")
        if header.get("kid") != key_id or claims["exp"] - claims["iat"] > 3600:
            return _refusal(400, "invalid_grant", "Invalid JWT Signature.")
        if claims["scope"] != SCOPE:
            return _refusal(400, "invalid_scope", "Invalid OAuth scope.")
        if not self.delegated:
            return _refusal(401, "unauthorized_client", UNAUTHORIZED)
        if claims["sub"] not in self.events:
            return _refusal(400, "invalid_grant", "Invalid email or User ID")
        token = f"ya29.c.as-{claims['sub']}-{len(self.issued)}"
        self.issued[token] = claims["sub"]
        return httpx.Response(
            200,
            json={
                "access_token": token,
                "expires_in": self.lifetime,
                "token_type": "Bearer",
            },
        )


def _refusal(status: int, error: str, description: str) -> httpx.Response:
    return httpx.Response(
        status, json={"error": error, "error_description": description}
    )


def _key(raw: Any) -> str:
    """An event's id; a malformed item (not an object) is known by its text."""
    return str(raw.get("id")) if isinstance(raw, dict) else repr(raw)


def _in_window(raw: dict[str, Any], params: httpx.QueryParams) -> bool:
    """Google's window: the event ends after timeMin and starts before timeMax."""
    if not isinstance(raw, dict):
        return True
    start, end = _instant(raw.get("start")), _instant(raw.get("end"))
    low = _instant({"dateTime": params.get("timeMin")})
    high = _instant({"dateTime": params.get("timeMax")})
    if start is None or end is None:
        return True  # the stand-in lists what it cannot read; the source judges
    return (low is None or end > low) and (high is None or start < high)


def _instant(value: Any) -> datetime | None:
    if not isinstance(value, dict):
        return None
    try:
        if isinstance(value.get("dateTime"), str):
            moment = datetime.fromisoformat(value["dateTime"])
            zone = ZoneInfo(value.get("timeZone") or "UTC")
            return moment if moment.tzinfo else moment.replace(tzinfo=zone)
        if isinstance(value.get("date"), str):
            return datetime.combine(date.fromisoformat(value["date"]), time(), UTC)
    except (ValueError, KeyError):  # KeyError: an unknown time zone
        return None
    return None


def _error(status: int, message: str) -> httpx.Response:
    return httpx.Response(
        status, json={"error": {"code": status, "message": message, "errors": []}}
    )

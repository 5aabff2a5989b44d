"""One ``httpx`` client per live source, with the limits every vendor needs.

Every request has a finite timeout (CASES B31: ``None`` would turn timeouts off and
a stalled vendor would hang the sync forever), goes to the base URL from the config
(so a stand-in can answer instead of the vendor) and is retried a bounded number
of times: 429 after the wait the vendor asks for, 5xx, timeouts and broken
connections with exponential backoff. A refused credential (401/403) is not
retried: it stops that source with a message an admin can act on. Each request
logs one INFO line (source, method, path without the query, status, duration);
headers, and so tokens, are never logged.
"""

from __future__ import annotations

import logging
import math
import os
import re
import time
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any

import httpx
from pydantic import Field, field_validator

from integrations.errors import CredentialError, SourceError
from integrations.source import SourceConfig

logger = logging.getLogger(__name__)

BODY_SHOWN = 200  # characters of a vendor's error body quoted in our messages
# Salesforce answers 403 with this code when the org's daily API calls are used up:
# a limit to wait for, not a credential to replace.
LIMIT_EXHAUSTED = "REQUEST_LIMIT_EXCEEDED"
# Google's reasons for a 403 that is a rate limit to back off from, not a refusal.
GOOGLE_RATE_LIMITS = ('"rateLimitExceeded"', '"userRateLimitExceeded"')


class HttpSource(SourceConfig):
    """Config keys every live source has: where it is and how long to wait."""

    base_url: str = Field(min_length=1)
    connect_timeout: float = Field(5.0, gt=0, le=300)
    read_timeout: float = Field(30.0, gt=0, le=600)
    max_attempts: int = Field(5, ge=1, le=20)
    max_retry_wait: float = Field(60.0, ge=0, le=600)

    @field_validator("base_url", "token_url", check_fields=False)
    @classmethod
    def _web_address(cls, value: str) -> str:
        if not re.match(r"^https?://[^/\s]+", value):
            raise ValueError(
                f"{value!r} is not a web address: write it with https:// (or "
                "http:// for a local stand-in), e.g. https://api.example.com"
            )
        return value.rstrip("/")


@dataclass(frozen=True)
class RetryPolicy:
    """How often and how long to retry. ``backoff`` doubles after each failure."""

    max_attempts: int = 5
    backoff: float = 0.5
    max_wait: float = 60.0

    def wait(self, attempt: int) -> float:
        return float(min(self.backoff * 2 ** (attempt - 1), self.max_wait))


def read_secret(source: str, env: str, key: str = "token_env") -> str:
    """The credential in the environment variable the config's ``key`` names."""
    value = os.environ.get(env, "").strip()
    if not value:
        state = "is empty" if env in os.environ else "is not set"
        raise CredentialError(
            f"source {source!r}: the environment variable {env} {state}; set it to "
            f"the source's credential (the config's `{key}` names the variable)"
        )
    return value


def make_client(
    source: HttpSource,
    headers: Mapping[str, str],
    transport: httpx.BaseTransport | None = None,
) -> httpx.Client:
    """An ``httpx.Client`` for ``source``; ``transport`` lets tests answer locally."""
    timeout = httpx.Timeout(
        connect=source.connect_timeout,
        read=source.read_timeout,
        write=source.read_timeout,
        pool=source.connect_timeout,
    )
    return httpx.Client(
        base_url=source.base_url,
        headers=dict(headers),
        timeout=timeout,
        transport=transport,
        follow_redirects=False,
    )


class SourceClient:
    """JSON requests to one vendor with bounded retries and one log line each.

    ``credential_hint`` ends the message of a refused credential: what the admin
    should change (which variable, which scopes).
    """

    def __init__(
        self,
        source: str,
        client: httpx.Client,
        policy: RetryPolicy,
        credential_hint: str,
        sleep: Callable[[float], None] = time.sleep,
        refresh: Callable[[], Mapping[str, str]] | None = None,
    ) -> None:
        self.source = source
        self.client = client
        self.policy = policy
        self.credential_hint = credential_hint
        self.sleep = sleep
        # Called on a 401 to get fresh auth headers (an expired OAuth access
        # token); once per expiry: a second 401 in a row is a refused credential.
        self.refresh = refresh
        self._refreshed = False
        self._unreachable = False

    def get(self, path: str, params: Mapping[str, Any] | None = None) -> Any:
        return self.request("GET", path, params=params)

    def post(self, path: str, body: Any) -> Any:
        return self.request("POST", path, json=body)

    def request(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, Any] | None = None,
        json: Any = None,
    ) -> Any:
        """The decoded JSON body of a successful answer, retrying what may pass."""
        return self.answer(method, path, params=params, json=json)[1]

    def answer(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, Any] | None = None,
        json: Any = None,
        accept: Collection[int] = (),
    ) -> tuple[int, Any]:
        """The status and decoded body of an answer that is a success or one of
        ``accept`` (a vendor's 404 for "nothing found", Google's 410 for "sync token
        expired"), retrying what may pass."""
        problem = ""
        for attempt in range(1, self.policy.max_attempts + 1):
            response, problem = self._send(method, path, params, json)
            if response is not None:
                if response.status_code in accept:
                    self._refreshed = False
                    return response.status_code, _decode(
                        self.source, method, path, response
                    )
                wait = self._verdict(method, path, response, attempt)
                if wait is None:
                    body = _decode(self.source, method, path, response)
                    return response.status_code, body
                problem = f"HTTP {response.status_code}"
            else:
                wait = self.policy.wait(attempt)
            if attempt < self.policy.max_attempts:
                self.sleep(min(wait, self.policy.max_wait))
        tries = self.policy.max_attempts
        times = "once" if tries == 1 else f"{tries} times"
        if self._unreachable:
            raise SourceError(
                f"source {self.source!r}: cannot reach {self.client.base_url} "
                f"({method} {path} failed {times}; last: {problem}); check the "
                "source's base_url and this machine's network, the next sync will "
                "try again",
                retriable=True,
            )
        raise SourceError(
            f"source {self.source!r}: {method} {path} failed {times} (last: "
            f"{problem}); the vendor may be down or limiting us, the next sync will "
            "try again",
            retriable=True,
        )

    def _send(
        self, method: str, path: str, params: Any, body: Any
    ) -> tuple[httpx.Response | None, str]:
        started = time.monotonic()
        self._unreachable = False
        try:
            response = self.client.request(method, path, params=params, json=body)
        except (httpx.TransportError, httpx.DecodingError) as error:
            # Never connected: a wrong base_url, DNS or network, not a vendor outage.
            self._unreachable = isinstance(
                error, httpx.ConnectError | httpx.UnsupportedProtocol
            )
            problem = f"{type(error).__name__}: {error}" if str(error) else ""
            problem = problem or type(error).__name__
            _log(self.source, method, path, problem, started)
            return None, problem
        _log(self.source, method, path, str(response.status_code), started)
        return response, ""

    def _verdict(
        self, method: str, path: str, response: httpx.Response, attempt: int
    ) -> float | None:
        """None for a usable answer, else how long to wait before trying again."""
        status = response.status_code
        if status == 401 and self.refresh is not None and not self._refreshed:
            self._refreshed = True
            self.client.headers.update(self.refresh())
            return 0.0
        if status == 403 and any(r in response.text for r in GOOGLE_RATE_LIMITS):
            # Google answers its per-user and per-project rate limits with 403
            return rate_limit_wait(response.headers) or self.policy.wait(attempt)
        if status == 403 and LIMIT_EXHAUSTED in response.text:
            raise SourceError(
                f"source {self.source!r}: the vendor's daily API allowance is used up "
                f"({method} {path}: {_excerpt(response)}); the next sync after it "
                "resets will go on, or ask the vendor's admin for a higher limit",
                retriable=True,
            )
        if status in (401, 403):
            raise CredentialError(
                f"source {self.source!r}: the vendor refused the credential "
                f"(HTTP {status} on {method} {path}: {_excerpt(response)}); "
                f"{self.credential_hint}"
            )
        if status == 429:
            return rate_limit_wait(response.headers) or self.policy.wait(attempt)
        if status >= 500:
            return self.policy.wait(attempt)
        if 300 <= status < 400:
            raise SourceError(
                f"source {self.source!r}: {method} {path} was redirected (HTTP "
                f"{status} to {response.headers.get('location') or 'nowhere'}); "
                "check the source's base_url: it should be the API's own address"
            )
        if status >= 400:
            wrong_place = status in (404, 405) and _looks_like_a_page(response)
            raise SourceError(
                f"source {self.source!r}: {method} {path} was refused with HTTP "
                f"{status} by {self.client.base_url}: {_excerpt(response)}"
                + (
                    "; that is a web page, not the API: check the source's base_url"
                    if wrong_place
                    else ""
                )
            )
        self._refreshed = False
        pause = exhausted_wait(response.headers)
        if pause:
            self.sleep(min(pause, self.policy.max_wait))
        return None


def rate_limit_wait(headers: httpx.Headers) -> float | None:
    """Seconds a 429 asks us to wait: ``Retry-After`` (seconds or an HTTP date),
    else the IETF ``RateLimit-Reset`` or HubSpot's window length."""
    value = headers.get("retry-after")
    if value:
        try:
            return _seconds(float(value))
        except ValueError:
            pass
        try:
            moment = parsedate_to_datetime(value)
        except (TypeError, ValueError):
            moment = None
        if moment is not None:
            moment = moment if moment.tzinfo else moment.replace(tzinfo=UTC)
            return max((moment - datetime.now(UTC)).total_seconds(), 0.0)
    return _reset_seconds(headers)


def exhausted_wait(headers: httpx.Headers) -> float | None:
    """A success that used the window's last request: wait for the window to reset."""
    remaining = headers.get("x-hubspot-ratelimit-remaining") or headers.get(
        "ratelimit-remaining"
    )
    if remaining is None or remaining.strip() != "0":
        return None
    return _reset_seconds(headers)


def _reset_seconds(headers: httpx.Headers) -> float | None:
    # NOTE: HubSpot names its window in milliseconds; the IETF draft in seconds.
    for name, scale in (
        ("ratelimit-reset", 1.0),
        ("x-hubspot-ratelimit-interval-milliseconds", 0.001),
    ):
        try:
            return _seconds(float(headers[name]) * scale)
        except (KeyError, ValueError):
            continue
    return None


def _seconds(number: float) -> float:
    """A wait a vendor sent, made sane: ``nan`` or negative is no wait."""
    return number if math.isfinite(number) and number > 0 else 0.0


def _decode(source: str, method: str, path: str, response: httpx.Response) -> Any:
    if not response.content:
        return None
    try:
        return response.json()
    except ValueError:
        hint = (
            "; that is a web page, not the API: check the source's base_url"
            if _looks_like_a_page(response)
            else ""
        )
        raise SourceError(
            f"source {source!r}: {method} {path} on {response.request.url.host} "
            f"answered HTTP {response.status_code} with a body that is not JSON: "
            f"{_excerpt(response)}{hint}"
        ) from None


def _looks_like_a_page(response: httpx.Response) -> bool:
    kind = response.headers.get("content-type", "")
    return "html" in kind or response.text.lstrip()[:1] == "<"


def _excerpt(response: httpx.Response) -> str:
    try:
        body = response.json()
    except ValueError:
        return response.text[:BODY_SHOWN] or "no body"
    if isinstance(body, dict) and isinstance(body.get("error"), dict):
        body = body["error"]  # Stripe, Google: {"error": {"message": ...}}
    if isinstance(body, list) and body and isinstance(body[0], dict):
        body = body[0]  # Salesforce: [{"message": ..., "errorCode": ...}]
    if isinstance(body, dict) and isinstance(body.get("message"), str):
        code = body.get("errorCode")
        text = (
            f"{code}: {body['message']}" if isinstance(code, str) else body["message"]
        )
        return str(text)[:BODY_SHOWN]
    return response.text[:BODY_SHOWN]


def _log(source: str, method: str, path: str, status: str, started: float) -> None:
    logger.info(
        "%s %s %s %s %.0f ms",
        source,
        method,
        path.split("?", 1)[0],
        status,
        (time.monotonic() - started) * 1000,
    )

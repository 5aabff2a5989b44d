"""The HTTP groundwork every live source uses: timeouts, retries, credentials,
logging and paging, with real httpx clients against MockTransport handlers and one
real loopback socket that never answers (CASES B31)."""

from __future__ import annotations

import gzip
import logging
import re
import socket
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

import httpx
import pytest
from pydantic import ValidationError

from integrations.errors import CredentialError, SourceError
from integrations.http import (
    HttpSource,
    RetryPolicy,
    SourceClient,
    make_client,
    rate_limit_wait,
)
from integrations.hubspot.source import HubSpotSource
from integrations.paging import Page, pages

Handler = Callable[[httpx.Request], httpx.Response]


def settings(**keys: object) -> HttpSource:
    return HttpSource.model_validate(
        {"name": "crm", "kind": "test", "base_url": "https://crm.test", **keys}
    )


def client(handler: Handler, waits: list[float], attempts: int = 3) -> SourceClient:
    http = make_client(
        settings(), {"Authorization": "Bearer s3cret"}, httpx.MockTransport(handler)
    )
    return SourceClient(
        "crm", http, RetryPolicy(attempts), "set CRM_TOKEN", sleep=waits.append
    )


def answers(*responses: httpx.Response | Exception) -> Handler:
    queue = list(responses)

    def handler(request: httpx.Request) -> httpx.Response:
        answer = queue.pop(0)
        if isinstance(answer, Exception):
            raise answer
        return answer

    return handler


def test_timeouts_are_finite_and_configurable() -> None:
    http = make_client(settings(read_timeout=12), {})
    assert http.timeout == httpx.Timeout(connect=5.0, read=12.0, write=12.0, pool=5.0)
    assert str(http.base_url) == "https://crm.test"
    with pytest.raises(ValidationError, match="read_timeout"):
        settings(read_timeout=None)
    with pytest.raises(ValidationError, match="connect_timeout"):
        settings(connect_timeout=0)


def test_hubspot_defaults_to_the_real_api() -> None:
    source = HubSpotSource.model_validate({"name": "hs", "kind": "hubspot"})
    assert (source.base_url, source.token_env) == (
        "https://api.hubapi.com",
        "HUBSPOT_TOKEN",
    )
    assert (source.connect_timeout, source.read_timeout) == (5.0, 30.0)


def test_429_waits_as_retry_after_says() -> None:
    waits: list[float] = []
    api = client(
        answers(
            httpx.Response(429, headers={"Retry-After": "7"}),
            httpx.Response(200, json={"ok": 1}),
        ),
        waits,
    )
    assert api.get("/things") == {"ok": 1}
    assert waits == [7.0]


def test_retry_after_as_http_date() -> None:
    later = datetime.now(UTC) + timedelta(seconds=30)
    wait = rate_limit_wait(httpx.Headers({"Retry-After": format_datetime(later, True)}))
    assert wait is not None and 28 <= wait <= 30


def test_vendor_rate_limit_headers_pace_requests() -> None:
    waits: list[float] = []
    headers = {
        "X-HubSpot-RateLimit-Remaining": "0",
        "X-HubSpot-RateLimit-Interval-Milliseconds": "10000",
    }
    api = client(answers(httpx.Response(200, headers=headers, json={})), waits)
    assert api.get("/things") == {}
    assert waits == [10.0]
    assert rate_limit_wait(httpx.Headers({"RateLimit-Reset": "3"})) == 3.0
    assert rate_limit_wait(httpx.Headers({"Retry-After": "nan"})) == 0.0


def test_server_error_then_success_backs_off() -> None:
    waits: list[float] = []
    api = client(
        answers(
            httpx.Response(500),
            httpx.Response(503),
            httpx.Response(200, json=[1]),
        ),
        waits,
    )
    assert api.post("/things", {"q": 1}) == [1]
    assert waits == [0.5, 1.0]


def test_timeouts_give_up_after_max_attempts() -> None:
    waits: list[float] = []
    stalls = [httpx.ReadTimeout("read timed out")] * 3
    api = client(answers(*stalls), waits)
    with pytest.raises(SourceError) as raised:
        api.get("/things")
    assert raised.value.retriable
    assert str(raised.value) == (
        "source 'crm': GET /things failed 3 times (last: ReadTimeout: read timed "
        "out); the vendor may be down or limiting us, the next sync will try again"
    )
    assert waits == [0.5, 1.0]


def test_refused_credential_is_not_retried(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="integrations.http")
    waits: list[float] = []
    body = {
        "status": "error",
        "message": "The OAuth token used to make this call expired",
    }
    api = client(answers(httpx.Response(401, json=body)), waits)
    with pytest.raises(CredentialError) as raised:
        api.get("/things", {"secret_param": "hush"})
    assert str(raised.value) == (
        "source 'crm': the vendor refused the credential (HTTP 401 on GET /things: "
        "The OAuth token used to make this call expired); set CRM_TOKEN"
    )
    assert not raised.value.retriable and waits == []
    assert [r.getMessage().rsplit(" ", 2)[0] for r in caplog.records] == [
        "crm GET /things 401"
    ]
    assert "s3cret" not in caplog.text and "hush" not in caplog.text


def test_client_error_says_what_the_vendor_said() -> None:
    api = client(answers(httpx.Response(400, json={"message": "bad filter"})), [])
    with pytest.raises(
        SourceError,
        match=re.escape("refused with HTTP 400 by https://crm.test: bad filter"),
    ):
        api.get("/things")


@pytest.mark.parametrize(
    ("body", "said"),
    [
        ({"error": {"message": "No such customer: 'cus_9'"}}, "No such customer"),
        (
            [{"message": "unexpected token: AND", "errorCode": "MALFORMED_QUERY"}],
            "MALFORMED_QUERY: unexpected token: AND",
        ),
    ],
)
def test_nested_vendor_errors_are_quoted_plainly(body: object, said: str) -> None:
    api = client(answers(httpx.Response(400, json=body)), [])
    with pytest.raises(
        SourceError,
        match=re.escape(f"refused with HTTP 400 by https://crm.test: {said}"),
    ):
        api.get("/things")


def test_used_up_daily_allowance_is_a_limit_not_a_credential() -> None:
    body = [
        {
            "message": "TotalRequests Limit exceeded.",
            "errorCode": "REQUEST_LIMIT_EXCEEDED",
        }
    ]
    api = client(answers(httpx.Response(403, json=body)), [])
    with pytest.raises(SourceError) as raised:
        api.get("/query")
    assert not isinstance(raised.value, CredentialError)
    assert raised.value.retriable
    assert "daily API allowance is used up" in str(raised.value)
    assert "REQUEST_LIMIT_EXCEEDED: TotalRequests Limit exceeded." in str(raised.value)


def test_an_expired_token_is_refreshed_once_per_expiry() -> None:
    expired = httpx.Response(401, json={"message": "expired"})
    ok = httpx.Response(200, json={"ok": True})
    queue = [expired, ok, expired, ok, expired, expired]
    seen: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request.headers["authorization"])
        return queue.pop(0)

    refreshed = iter(range(1, 10))
    api = client(handler, [], attempts=5)
    api.refresh = lambda: {"Authorization": f"Bearer fresh-{next(refreshed)}"}

    assert api.get("/a") == {"ok": True}
    assert api.get("/b") == {"ok": True}  # expired again later: refreshed again
    with pytest.raises(CredentialError, match="expired"):
        api.get("/c")  # the new token refused at once: not refreshed in a loop
    assert seen == [
        "Bearer s3cret",
        "Bearer fresh-1",
        "Bearer fresh-1",
        "Bearer fresh-2",
        "Bearer fresh-2",
        "Bearer fresh-3",
    ]


@pytest.fixture
def silent_server() -> Iterator[int]:
    """A loopback port that accepts connections and never answers."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(4)
    yield server.getsockname()[1]
    server.close()


def test_stalled_vendor_fails_in_bounded_time(silent_server: int) -> None:
    source = settings(base_url=f"http://127.0.0.1:{silent_server}", read_timeout=0.2)
    api = SourceClient(
        "crm", make_client(source, {}), RetryPolicy(2, backoff=0.01), "set CRM_TOKEN"
    )
    started = time.monotonic()
    with pytest.raises(SourceError, match=r"failed 2 times \(last: ReadTimeout"):
        api.get("/things")
    assert time.monotonic() - started < 2


def test_paging_follows_cursors_to_the_end() -> None:
    book = {None: Page([1, 2], ("1", "2"), "a"), "a": Page([3], ("3",), None)}
    assert [p.items for p in pages(book.__getitem__, "crm")] == [[1, 2], [3]]


def test_repeated_cursor_stops_paging() -> None:
    book = {
        None: Page([1], ("1",), "a"),
        "a": Page([2], ("2",), "b"),
        "b": Page([3], ("3",), "a"),
    }
    with pytest.raises(SourceError, match="the cursor 'a' came back a second time"):
        list(pages(book.__getitem__, "crm: GET /things"))


def test_repeated_page_stops_paging() -> None:
    def first_page_always(cursor: str | None) -> Page:
        return Page([1, 2], ("1", "2"), f"next-{cursor}")

    with pytest.raises(SourceError, match="repeats an earlier page"):
        list(pages(first_page_always, "crm: GET /things"))


@pytest.mark.parametrize("url", ["api.hubapi.com", "ftp://files.example", "https://"])
def test_a_base_url_that_is_no_web_address_is_refused(url: str) -> None:
    with pytest.raises(ValidationError, match="is not a web address: write it with"):
        settings(base_url=url)


def test_an_unreachable_base_url_is_named_in_the_error() -> None:
    http = make_client(
        settings(base_url="http://127.0.0.1:9"), {}, httpx.HTTPTransport(retries=0)
    )
    api = SourceClient("crm", http, RetryPolicy(2, backoff=0), "", sleep=lambda _: None)
    with pytest.raises(SourceError) as raised:
        api.get("/owners")
    assert str(raised.value).startswith(
        "source 'crm': cannot reach http://127.0.0.1:9 (GET /owners failed 2 times; "
        "last: ConnectError"
    )
    assert "check the source's base_url" in str(raised.value)


def test_googles_rate_limit_403_is_waited_out_not_taken_for_a_credential() -> None:
    limited = {
        "error": {
            "code": 403,
            "message": "Rate Limit Exceeded",
            "errors": [{"reason": "userRateLimitExceeded", "domain": "usageLimits"}],
        }
    }
    waits: list[float] = []
    api = client(
        answers(httpx.Response(403, json=limited), httpx.Response(200, json={})),
        waits,
    )
    assert api.get("/calendar/v3/calendars/a/events") == {}
    assert waits == [0.5]


@pytest.mark.parametrize("status", [301, 302, 307, 308])
def test_a_redirect_is_an_error_that_points_at_the_base_url(status: int) -> None:
    moved = httpx.Response(status, headers={"Location": "https://api2.crm.test/v3"})
    with pytest.raises(SourceError) as raised:
        client(answers(moved), []).get("/v3/things")
    assert str(raised.value) == (
        f"source 'crm': GET /v3/things was redirected (HTTP {status} to "
        "https://api2.crm.test/v3); check the source's base_url: it should be the "
        "API's own address"
    )


def test_a_body_garbled_on_the_way_is_fetched_again() -> None:
    bodies = [b"\x1f\x8bnot-gzip", gzip.compress(b'{"results": []}')]

    def handler(request: httpx.Request) -> httpx.Response:
        stream = httpx.ByteStream(bodies.pop(0))
        return httpx.Response(200, stream=stream, headers={"Content-Encoding": "gzip"})

    waits: list[float] = []
    assert client(handler, waits).get("/x") == {"results": []}
    assert waits == [0.5]


def test_a_web_page_where_the_api_should_be_points_at_the_base_url() -> None:
    page = {"content-type": "text/html"}
    with pytest.raises(SourceError) as missing:
        client(
            answers(httpx.Response(404, text="<!DOCTYPE HTML>", headers=page)), []
        ).get("/crm/v3/owners")
    with pytest.raises(SourceError) as login:
        client(
            answers(httpx.Response(200, text="<html>login</html>", headers=page)), []
        ).get("/crm/v3/owners")
    assert str(missing.value) == (
        "source 'crm': GET /crm/v3/owners was refused with HTTP 404 by "
        "https://crm.test: <!DOCTYPE HTML>; that is a web page, not the API: check "
        "the source's base_url"
    )
    assert str(login.value) == (
        "source 'crm': GET /crm/v3/owners on crm.test answered HTTP 200 with a body "
        "that is not JSON: <html>login</html>; that is a web page, not the API: check "
        "the source's base_url"
    )

"""Socket Mode survives a dropped connection and reports honestly while down (B04).

The real Bolt app (``build_app``) talks to the loopback Slack: envelopes arrive
over its WebSocket link, acks go back the same way. A short ping interval keeps
every reconnect well under a second or two.
"""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from typing import Any
from urllib.parse import parse_qs, parse_qsl, urlsplit

import pytest
from slack_bolt import App
from sqlalchemy import Engine

from bot.app import SetupError, build_app
from bot.executor import TrackingExecutor
from bot.local_slack import LocalSlack
from bot.runtime import Runtime
from bot.serve import health, start_socket_mode
from bot.socket_mode import SocketModeRunner

PING = 0.5  # seconds; stale after more than 4 pings without a pong
USER = "U0ALICE001"


@pytest.fixture
def local() -> Iterator[LocalSlack]:
    with LocalSlack() as slack:
        slack.add_user(USER, "alice.ng@example.com")
        yield slack


@pytest.fixture
def executor() -> Iterator[TrackingExecutor]:
    executor = TrackingExecutor()
    yield executor
    executor.wait_idle(timeout=5)
    executor.shutdown()


@pytest.fixture
def runtime(engine: Engine, executor: TrackingExecutor) -> Runtime:
    return Runtime(engine=engine, work=executor)


@pytest.fixture
def app(local: LocalSlack, runtime: Runtime) -> App:
    return build_app(
        runtime,
        token=local.bot_token,
        signing_secret=None,
        api_url=local.api_url,
        socket_mode=True,
    )


@pytest.fixture
def runner(app: App, local: LocalSlack) -> Iterator[SocketModeRunner]:
    runner = SocketModeRunner(app, local.app_token, ping_interval=PING).start()
    local.socket_mode.wait_for_connections(1, timeout=3)
    yield runner
    started = time.monotonic()
    runner.stop()
    assert time.monotonic() - started < 1.5, "stop() must not wait out a recv"


def push_command(local: LocalSlack, text: str) -> str:
    body = local.slash_command_body("/account", text, USER)
    return local.socket_mode.push("slash_commands", dict(parse_qsl(body.decode())))


def ticket(url: str) -> str:
    return parse_qs(urlsplit(url).query)["ticket"][0]


def issued_tickets(local: LocalSlack) -> list[str]:
    calls = local.calls_to("apps.connections.open")
    return [ticket(str(call.response["url"])) for call in calls]  # type: ignore[index]


def wait_until(check: Callable[[], bool], timeout: float) -> float:
    """Seconds until ``check()`` held; fails the test after ``timeout``."""
    started = time.monotonic()
    while not check():
        if time.monotonic() - started > timeout:
            pytest.fail(f"still not true after {timeout} s")
        time.sleep(0.02)
    return time.monotonic() - started


def get_health(port: int) -> tuple[int, dict[str, Any]]:
    url = f"http://127.0.0.1:{port}/healthz"
    try:
        with urllib.request.urlopen(url, timeout=3) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        with error:
            return error.code, json.loads(error.read())


# -- receiving -----------------------------------------------------------------------


def test_slash_command_over_socket_is_acked(
    local: LocalSlack, runner: SocketModeRunner
) -> None:
    started = time.monotonic()
    envelope_id = push_command(local, "Globex")
    ack = local.socket_mode.wait_for_ack(envelope_id, timeout=3)
    acked_in = time.monotonic() - started

    assert acked_in < 3
    assert ack.envelope_id == envelope_id
    [reply] = local.wait_for_messages(1, timeout=5)
    assert reply.via == "response_url" and reply.user == USER


# -- reconnecting --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("how", "within"),
    [
        ("reset", 2.0),  # RST: the read fails at once
        ("fin", 2.0),  # FIN, no close frame: a proxy's idle cut
        ("silent", 4 * PING + 4.0),  # nothing at all: only the missing pongs tell
    ],
)
def test_reconnects_with_a_fresh_url_after_a_drop(
    local: LocalSlack, runner: SocketModeRunner, how: str, within: float
) -> None:
    first = push_command(local, "Globex")
    local.socket_mode.wait_for_ack(first, timeout=3)

    local.socket_mode.drop_connections(how)  # type: ignore[arg-type]
    took = wait_until(lambda: len(local.socket_mode.opened) == 2, timeout=within)
    local.socket_mode.wait_for_connections(2, timeout=1)
    second = push_command(local, "Initech")
    ack = local.socket_mode.wait_for_ack(second, timeout=3)

    tickets = issued_tickets(local)
    assert len(tickets) == 2 and tickets[0] != tickets[1]
    assert local.socket_mode.opened == tickets
    assert ack.ticket == tickets[1]
    assert local.socket_mode.refused == []  # the old URL was never tried again
    assert took < within


def test_keeps_asking_while_connections_open_fails(
    local: LocalSlack, runner: SocketModeRunner
) -> None:
    local.fail_next("apps.connections.open", "internal_error", times=2)

    local.socket_mode.drop_connections()
    local.socket_mode.wait_for_connections(2, timeout=4 * PING + 2)
    wait_until(runner.connected, timeout=1)

    answers = [c.response for c in local.calls_to("apps.connections.open")]
    assert [a["ok"] for a in answers] == [True, False, False, True]  # type: ignore[index]


def test_disconnect_message_moves_to_a_fresh_url(
    local: LocalSlack, runner: SocketModeRunner
) -> None:
    local.socket_mode.request_refresh()
    local.socket_mode.wait_for_connections(2, timeout=3)

    envelope_id = push_command(local, "Globex")

    assert local.socket_mode.wait_for_ack(envelope_id, timeout=3).ticket == ticket(
        str(local.calls_to("apps.connections.open")[1].response["url"])  # type: ignore[index]
    )


# -- health --------------------------------------------------------------------------


def test_health_says_disconnected_during_an_outage(
    local: LocalSlack, runtime: Runtime, app: App
) -> None:
    service = start_socket_mode(
        runtime, app, local.app_token, host="127.0.0.1", port=0, ping_interval=PING
    )
    port = service.health_server.port
    try:
        local.socket_mode.wait_for_connections(1, timeout=3)
        before = get_health(port)

        with local.socket_mode.outage():
            wait_until(lambda: get_health(port)[0] == 503, timeout=2)
            calls = len(local.calls_to("apps.connections.open"))
            wait_until(
                lambda: len(local.calls_to("apps.connections.open")) >= calls + 2,
                timeout=3 * PING + 2,
            )
            during = get_health(port)
        wait_until(lambda: get_health(port)[0] == 200, timeout=3 * PING + 2)
        after = get_health(port)
        envelope_id = push_command(local, "Globex")
        local.socket_mode.wait_for_ack(envelope_id, timeout=3)
    finally:
        service.stop()

    assert before == (200, {"ok": True, "store": "ok", "slack": "connected"})
    assert during == (503, {"ok": False, "store": "ok", "slack": "disconnected"})
    assert after == before
    tickets = issued_tickets(local)
    assert len(set(tickets)) == len(tickets) >= 3  # every retry asked for a new URL


def test_health_server_takes_no_slack_requests(
    local: LocalSlack, runtime: Runtime, app: App
) -> None:
    service = start_socket_mode(
        runtime, app, local.app_token, host="127.0.0.1", port=0, ping_interval=PING
    )
    try:
        body = local.slash_command_body("/account", "Globex", USER)
        request = urllib.request.Request(
            f"http://127.0.0.1:{service.health_server.port}/slack/events", data=body
        )
        with pytest.raises(urllib.error.HTTPError) as raised:
            urllib.request.urlopen(request, timeout=3)
        raised.value.close()
    finally:
        service.stop()

    assert raised.value.code == 404
    assert local.messages == []


def test_health_without_socket_mode_checks_the_store(runtime: Runtime) -> None:
    assert health(runtime) == {"ok": True, "store": "ok"}


# -- start-up ------------------------------------------------------------------------


def test_bot_token_is_not_an_app_token(local: LocalSlack, app: App) -> None:
    with pytest.raises(SetupError, match="SLACK_APP_TOKEN is not an app-level"):
        SocketModeRunner(app, local.bot_token)


def test_unknown_app_token_fails_at_start(local: LocalSlack, app: App) -> None:
    runner = SocketModeRunner(app, "xapp-1-A0FSLOCAL1-1-00", ping_interval=PING)

    with pytest.raises(SetupError, match=r"apps.connections.open \(invalid_auth\)"):
        runner.start()

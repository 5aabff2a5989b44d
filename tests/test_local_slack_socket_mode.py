"""The stand-in's Socket Mode: apps.connections.open and its one-time WebSocket URLs.

A bare stdlib WebSocket client drives the link here, so that what the stand-in
does is checked apart from slack-sdk's client (tests/test_socket_mode.py uses that).
"""

from __future__ import annotations

import base64
import json
import os
import socket
import struct
from collections.abc import Iterator
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.local_slack import LocalSlack
from bot.local_slack import websocket as ws


@pytest.fixture
def local() -> Iterator[LocalSlack]:
    with LocalSlack() as slack:
        yield slack


def connections_open(local: LocalSlack) -> str:
    client = WebClient(token=local.bot_token, base_url=local.api_url)
    return str(client.apps_connections_open(app_token=local.app_token)["url"])


def error_of(client: WebClient, **kwargs: Any) -> str:
    with pytest.raises(SlackApiError) as raised:
        client.api_call("apps.connections.open", **kwargs)
    return str(raised.value.response["error"])


class Link:
    """A bare client: opening handshake, masked frames, nothing else."""

    def __init__(self, url: str) -> None:
        parts = urlsplit(url)
        assert parts.hostname is not None and parts.port is not None
        self.sock = socket.create_connection((parts.hostname, parts.port), timeout=3)
        key = base64.b64encode(os.urandom(16)).decode()
        self.sock.sendall(
            (
                f"GET {parts.path}?{parts.query} HTTP/1.1\r\n"
                f"Host: {parts.hostname}\r\nUpgrade: websocket\r\n"
                f"Connection: Upgrade\r\nSec-WebSocket-Key: {key}\r\n"
                "Sec-WebSocket-Version: 13\r\n\r\n"
            ).encode()
        )
        self.reader = ws.Reader(self.sock)
        head = self.reader.until(b"\r\n\r\n", 8192).decode()
        self.status = int(head.split(" ")[1])

    def receive(self) -> tuple[int, bytes]:
        return ws.read_frame(self.reader)

    def receive_json(self) -> dict[str, Any]:
        opcode, data = self.receive()
        assert opcode == ws.TEXT
        message: dict[str, Any] = json.loads(data)
        return message

    def send(self, opcode: int, data: bytes) -> None:
        mask = os.urandom(4)
        masked = bytes(byte ^ mask[n % 4] for n, byte in enumerate(data))
        size = len(data)
        head = struct.pack("!BB", 0x80 | opcode, 0x80 | size) if size < 126 else b""
        if not head:
            head = struct.pack("!BBH", 0x80 | opcode, 0x80 | 126, size)
        self.sock.sendall(head + mask + masked)

    def close(self) -> None:
        self.sock.close()


@pytest.fixture
def links() -> Iterator[list[Link]]:
    opened: list[Link] = []
    yield opened
    for link in opened:
        link.close()


# -- apps.connections.open -----------------------------------------------------------


def test_connections_open_issues_a_fresh_url_each_call(local: LocalSlack) -> None:
    first, second = connections_open(local), connections_open(local)

    assert first.startswith("ws://127.0.0.1:") and "/link/?ticket=" in first
    assert first != second
    assert f"app_id={local.app_id}" in first


def test_connections_open_wants_the_app_token_in_the_header(
    local: LocalSlack,
) -> None:
    anonymous = WebClient(base_url=local.api_url)
    with_bot_token = WebClient(token=local.bot_token, base_url=local.api_url)
    with_other_app_token = WebClient(token="xapp-1-A0-1-ff", base_url=local.api_url)

    assert error_of(with_bot_token) == "not_allowed_token_type"
    assert error_of(anonymous, data={"token": local.app_token}) == "missing_args"
    assert error_of(anonymous) == "not_authed"
    assert error_of(with_other_app_token) == "invalid_auth"


def test_app_token_cannot_call_bot_methods(local: LocalSlack) -> None:
    client = WebClient(token=local.app_token, base_url=local.api_url)

    with pytest.raises(SlackApiError) as raised:
        client.auth_test()

    assert raised.value.response["error"] == "not_allowed_token_type"


# -- the link ------------------------------------------------------------------------


def test_link_says_hello_and_records_acks(local: LocalSlack, links: list[Link]) -> None:
    link = Link(connections_open(local))
    links.append(link)
    hello = link.receive_json()
    envelope_id = local.socket_mode.push("events_api", {"type": "event_callback"})
    envelope = link.receive_json()
    link.send(ws.TEXT, json.dumps({"envelope_id": envelope_id}).encode())
    ack = local.socket_mode.wait_for_ack(envelope_id, timeout=3)

    assert link.status == 101
    assert hello["type"] == "hello"
    assert hello["connection_info"] == {"app_id": local.app_id}
    assert envelope == {
        "envelope_id": envelope_id,
        "payload": {"type": "event_callback"},
        "type": "events_api",
        "accepts_response_payload": False,
        "retry_attempt": 0,
        "retry_reason": "",
    }
    assert ack.payload is None


def test_link_answers_pings(local: LocalSlack, links: list[Link]) -> None:
    link = Link(connections_open(local))
    links.append(link)
    link.receive_json()

    link.send(ws.PING, b"session:1.5")

    assert link.receive() == (ws.PONG, b"session:1.5")


def test_used_or_dropped_ticket_is_refused(
    local: LocalSlack, links: list[Link]
) -> None:
    url = connections_open(local)
    links.append(Link(url))
    links[0].receive_json()

    again = Link(url)
    links.append(again)
    local.socket_mode.drop_connections()
    after_drop = Link(url)
    links.append(after_drop)

    ticket = parse_qs(urlsplit(url).query)["ticket"][0]
    assert (again.status, after_drop.status) == (401, 401)
    assert local.socket_mode.opened == [ticket]
    assert local.socket_mode.refused == [ticket, ticket]


def test_drop_resets_without_a_close_frame(
    local: LocalSlack, links: list[Link]
) -> None:
    link = Link(connections_open(local))
    links.append(link)
    link.receive_json()

    assert local.socket_mode.drop_connections() == 1
    with pytest.raises(ConnectionResetError):
        link.sock.recv(10)
    assert not local.socket_mode.connected()


def test_fin_drop_closes_without_a_close_frame(
    local: LocalSlack, links: list[Link]
) -> None:
    link = Link(connections_open(local))
    links.append(link)
    link.receive_json()

    local.socket_mode.drop_connections("fin")

    assert link.sock.recv(10) == b""


def test_outage_refuses_connections_until_it_ends(
    local: LocalSlack, links: list[Link]
) -> None:
    url = connections_open(local)

    with local.socket_mode.outage(), pytest.raises(ConnectionRefusedError):
        Link(url)
    link = Link(url)
    links.append(link)

    assert link.status == 101


def test_push_needs_an_open_connection(local: LocalSlack) -> None:
    with pytest.raises(ConnectionError, match="no Socket Mode connection"):
        local.socket_mode.push("slash_commands", {})

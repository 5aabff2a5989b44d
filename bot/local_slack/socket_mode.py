"""Socket Mode on loopback: one-time connection URLs and the WebSocket link.

``apps.connections.open`` hands out a fresh URL on every call (SLACK.md §8); this
server answers ``ws://127.0.0.1:PORT/link/?ticket=<uuid>&app_id=…`` the way Slack's
link does:

- a ticket opens one connection; a used or dropped ticket is refused with HTTP 401
  (what Slack answers for a stale URL is unconfirmed), so a client that retries its
  old URL never gets back in (case B04);
- on connect it sends ``hello``, answers pings, and records every ack;
- ``push`` sends an envelope over the newest open connection;
- ``drop_connections`` cuts connections without a close frame; ``outage`` also
  stops listening, so that new connections are refused at TCP level.
"""

from __future__ import annotations

import contextlib
import json
import logging
import socket
import struct
import threading
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from http import HTTPStatus
from typing import Any, Literal

from bot.local_slack import websocket
from bot.local_slack.directory import JsonObject

logger = logging.getLogger(__name__)

Drop = Literal["reset", "fin", "silent"]
_HANDSHAKE_TIMEOUT = 5.0  # seconds a client has to send its opening request
_ACCEPT_POLL = 0.02  # seconds; how soon stop() and outages take effect
_SETTLE = 2.0  # seconds to wait for the server's own threads to follow a change


@dataclass(frozen=True)
class Envelope:
    """One envelope the server pushed, and the ticket of the connection it took."""

    envelope_id: str
    type: str
    body: JsonObject
    ticket: str


@dataclass(frozen=True)
class Ack:
    """What the app sent back for an envelope: ``{"envelope_id", "payload"?}``."""

    envelope_id: str
    payload: JsonObject | None
    ticket: str


@dataclass(eq=False)
class _Link:
    sock: socket.socket
    ticket: str
    send_lock: threading.Lock = field(default_factory=threading.Lock)
    silent: bool = False

    def send(self, opcode: int, data: bytes) -> None:
        with self.send_lock:
            self.sock.sendall(websocket.frame(opcode, data))

    def cut(self, how: Drop) -> None:
        """Ends the link without a close frame; its reader thread closes the socket."""
        if how == "silent":
            self.silent = True
            return
        with contextlib.suppress(OSError):
            if how == "reset":  # close() then sends RST instead of FIN
                linger = struct.pack("ii", 1, 0)
                self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, linger)
                self.sock.shutdown(socket.SHUT_RD)
            else:
                self.sock.shutdown(socket.SHUT_RDWR)


class SocketModeServer:
    """The WebSocket side of Socket Mode; ``LocalSlack.socket_mode`` is one."""

    def __init__(self, app_id: str) -> None:
        self.app_id = app_id
        self._changed = threading.Condition()
        self._tickets: dict[str, str] = {}  # ticket -> "issued" | "used"
        self._links: list[_Link] = []
        self._opened: list[str] = []
        self._refused: list[str] = []
        self._envelopes: list[Envelope] = []
        self._acks: list[Ack] = []
        self._listener: socket.socket | None = None
        self._port = 0
        self._outage = False
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None

    # -- lifecycle --------------------------------------------------------------

    def start(self) -> None:
        self._listener = self._listen(0)
        self._port = self._listener.getsockname()[1]
        self._stopping.clear()
        self._thread = threading.Thread(
            target=self._accept_loop, name="local-slack-socket", daemon=True
        )
        self._thread.start()

    def stop(self) -> None:
        self._stopping.set()
        if self._thread is not None:
            self._thread.join(timeout=_SETTLE)
        with self._changed:
            links = list(self._links)
        for link in links:
            link.cut("fin")
        self._thread = None

    def issue_url(self) -> str:
        """A fresh one-time URL, as ``apps.connections.open`` returns it."""
        ticket = str(uuid.uuid4())
        with self._changed:
            self._tickets[ticket] = "issued"
        return f"ws://127.0.0.1:{self._port}/link/?ticket={ticket}&app_id={self.app_id}"

    # -- what a test does -------------------------------------------------------

    def push(
        self,
        kind: str,
        payload: JsonObject,
        *,
        retry_attempt: int = 0,
        retry_reason: str = "",
        accepts_response_payload: bool | None = None,
    ) -> str:
        """Sends an envelope over the newest open connection; returns its id.

        ``kind`` is ``slash_commands``, ``events_api`` or ``interactive``. Only
        ``events_api`` envelopes carry ``retry_attempt`` and ``retry_reason``, and
        only slash commands accept a response payload unless told otherwise.
        """
        envelope_id = str(uuid.uuid4())
        body: JsonObject = {"envelope_id": envelope_id, "payload": payload}
        body["type"] = kind
        if accepts_response_payload is None:
            accepts_response_payload = kind == "slash_commands"
        body["accepts_response_payload"] = accepts_response_payload
        if kind == "events_api":
            body.update(retry_attempt=retry_attempt, retry_reason=retry_reason)
        with self._changed:
            live = [link for link in self._links if not link.silent]
            if not live:
                raise ConnectionError("no Socket Mode connection is open")
            link = live[-1]
            self._envelopes.append(Envelope(envelope_id, kind, body, link.ticket))
        link.send(websocket.TEXT, json.dumps(body).encode())
        return envelope_id

    def request_refresh(self) -> None:
        """Tells every open connection to reconnect, as Slack does before a deploy."""
        message: JsonObject = {"type": "disconnect", "reason": "refresh_requested"}
        message["debug_info"] = {"host": "applink-local"}
        for link in self._live():
            with contextlib.suppress(OSError):
                link.send(websocket.TEXT, json.dumps(message).encode())

    def drop_connections(self, how: Drop = "reset") -> int:
        """Cuts every open connection; returns how many.

        ``reset`` sends RST, ``fin`` closes without a close frame, ``silent`` keeps
        the TCP connection but stops answering anything, pings included.
        """
        links = self._live()
        for link in links:
            link.cut(how)
        if how != "silent":

            def gone() -> bool:
                return not any(link in self._links for link in links)

            with self._changed:
                self._changed.wait_for(gone, timeout=_SETTLE)
        return len(links)

    def start_outage(self) -> None:
        """Drops every connection and refuses new ones until ``end_outage``."""
        with self._changed:
            self._outage = True
            self._changed.wait_for(lambda: self._listener is None, timeout=_SETTLE)
        self.drop_connections()

    def end_outage(self) -> None:
        with self._changed:
            self._outage = False
            self._changed.wait_for(lambda: self._listener is not None, _SETTLE)

    @contextlib.contextmanager
    def outage(self) -> Iterator[None]:
        self.start_outage()
        try:
            yield
        finally:
            self.end_outage()

    # -- what a test reads ------------------------------------------------------

    @property
    def opened(self) -> list[str]:
        """Tickets of every connection that got its hello, oldest first."""
        with self._changed:
            return list(self._opened)

    @property
    def refused(self) -> list[str]:
        """Tickets of refused handshakes (used, dropped or unknown)."""
        with self._changed:
            return list(self._refused)

    @property
    def acks(self) -> list[Ack]:
        with self._changed:
            return list(self._acks)

    @property
    def envelopes(self) -> list[Envelope]:
        with self._changed:
            return list(self._envelopes)

    def connected(self) -> bool:
        return bool(self._live())

    def wait_for_connections(self, n: int, timeout: float = 5.0) -> list[str]:
        """Blocks until ``n`` connections have opened and one is still open."""

        def ready() -> bool:
            return len(self._opened) >= n and any(not x.silent for x in self._links)

        with self._changed:
            if self._changed.wait_for(ready, timeout):
                return list(self._opened)
            raise TimeoutError(
                f"expected {n} Socket Mode connection(s) within {timeout} s; "
                f"opened: {len(self._opened)}, refused: {len(self._refused)}"
            )

    def wait_for_ack(self, envelope_id: str, timeout: float = 5.0) -> Ack:
        def found() -> Ack | None:
            return next((a for a in self._acks if a.envelope_id == envelope_id), None)

        with self._changed:
            if self._changed.wait_for(lambda: found() is not None, timeout):
                ack = found()
                assert ack is not None
                return ack
            raise TimeoutError(f"no ack for envelope {envelope_id} within {timeout} s")

    # -- serving ----------------------------------------------------------------

    def _live(self) -> list[_Link]:
        with self._changed:
            return [link for link in self._links if not link.silent]

    def _listen(self, port: int) -> socket.socket:
        listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(("127.0.0.1", port))
        listener.listen(16)
        listener.settimeout(_ACCEPT_POLL)
        return listener

    def _accept_loop(self) -> None:
        """Owns the listening socket: closes it for an outage, reopens it after."""
        while not self._stopping.is_set():
            listener = self._follow_outage()
            if listener is None:
                self._stopping.wait(_ACCEPT_POLL)
                continue
            try:
                conn, _ = listener.accept()
            except OSError:  # the poll timed out (TimeoutError is an OSError)
                continue
            threading.Thread(
                target=self._serve, args=(conn,), name="local-slack-link", daemon=True
            ).start()
        with self._changed:
            if self._listener is not None:
                self._listener.close()
                self._listener = None

    def _follow_outage(self) -> socket.socket | None:
        with self._changed:
            if self._outage and self._listener is not None:
                self._listener.close()
                self._listener = None
                self._changed.notify_all()
            elif not self._outage and self._listener is None:
                self._listener = self._listen(self._port)
                self._changed.notify_all()
            return self._listener

    def _serve(self, conn: socket.socket) -> None:
        """One connection, from handshake to close; the only place it is closed."""
        try:
            conn.settimeout(_HANDSHAKE_TIMEOUT)
            reader = websocket.Reader(conn)
            link = self._handshake(conn, reader)
            if link is not None:
                conn.settimeout(None)
                self._read(link, reader)
        except (OSError, ValueError) as error:
            logger.debug("Socket Mode link ended: %s", error)
        finally:
            conn.close()
            with self._changed:
                self._links = [x for x in self._links if x.sock is not conn]
                self._changed.notify_all()

    def _handshake(self, conn: socket.socket, reader: websocket.Reader) -> _Link | None:
        request = websocket.read_handshake(reader)
        ticket = request.query.get("ticket", "")
        with self._changed:
            fresh = self._tickets.get(ticket) == "issued" and not self._outage
            accepted = fresh and request.path == "/link/" and request.is_upgrade
            if accepted:
                self._tickets[ticket] = "used"
            else:
                self._refused.append(ticket)
                self._changed.notify_all()
        if not accepted:
            conn.sendall(websocket.refusal(HTTPStatus.UNAUTHORIZED, "invalid ticket"))
            return None

        link = _Link(conn, ticket)
        with link.send_lock:  # a push waits until hello has gone out
            conn.sendall(websocket.switching_protocols(request.key))
            with self._changed:
                self._links.append(link)
                self._opened.append(ticket)
                hello = self._hello(len(self._links))
                self._changed.notify_all()
            conn.sendall(websocket.frame(websocket.TEXT, json.dumps(hello).encode()))
        return link

    def _hello(self, connections: int) -> JsonObject:
        return {
            "type": "hello",
            "num_connections": connections,
            "debug_info": {
                "host": "applink-local",
                "build_number": 1,
                "approximate_connection_time": 18060,
            },
            "connection_info": {"app_id": self.app_id},
        }

    def _read(self, link: _Link, reader: websocket.Reader) -> None:
        while True:
            opcode, data = websocket.read_frame(reader)
            if link.silent:
                continue
            if opcode == websocket.PING:
                link.send(websocket.PONG, data)
            elif opcode == websocket.TEXT:
                self._record(link, data)
            elif opcode == websocket.CLOSE:
                link.send(websocket.CLOSE, data[:2])
                return

    def _record(self, link: _Link, data: bytes) -> None:
        try:
            message: Any = json.loads(data)
        except ValueError:
            message = None
        if not isinstance(message, dict) or "envelope_id" not in message:
            logger.debug("Socket Mode link ignored a message: %r", data[:200])
            return
        payload = message.get("payload")
        ack = Ack(str(message["envelope_id"]), payload, link.ticket)
        with self._changed:
            self._acks.append(ack)
            self._changed.notify_all()

"""Socket Mode that survives a dropped connection and says when it is down (B04).

Case B04 (python-slack-sdk #1379): after a drop, the websocket-client based client
retried its old connection URL, which Slack no longer accepts, forever. We use
slack-sdk's built-in client (the one Bolt's ``SocketModeHandler`` uses by default).
Every ``ping_interval`` seconds its monitor pings; when the socket has closed, it
reconnects through ``connect_to_new_endpoint``, which always asks
``apps.connections.open`` for a fresh URL first. It also reconnects when:

- no pong came for more than 4 × ``ping_interval`` (a silent drop);
- Slack sends a ``disconnect`` message (refresh_requested, warning).

Two fixes on top, both in ``_adopt``:

- the built-in client reads an empty ``recv`` (the server closed with FIN but no
  close frame, as proxies do on an idle cut) as "no data yet". It then spins a CPU
  core until the stale-ping check gives up, 4-5 ping intervals later. Raising a
  reset instead makes it reconnect at the next ping;
- closing a connection waits for the receiving thread's lock, which that thread
  holds through a ``recv`` that may block for 3 s. A refresh (Slack's
  ``disconnect`` message) then leaves the new connection unread for up to 3 s,
  Slack's whole ack deadline. Shutting the socket down first wakes the reader.
"""

from __future__ import annotations

import contextlib
import errno
import socket
import time
from typing import Any

from slack_bolt import App
from slack_bolt.adapter.socket_mode.internals import run_bolt_app, send_response
from slack_sdk.errors import SlackApiError
from slack_sdk.socket_mode.builtin import SocketModeClient
from slack_sdk.socket_mode.builtin.connection import Connection
from slack_sdk.socket_mode.client import BaseSocketModeClient
from slack_sdk.socket_mode.request import SocketModeRequest

from bot.app import SetupError

PING_INTERVAL = 2.0  # seconds; a silent drop is noticed after 4-5 of these
APP_TOKEN_PREFIX = "xapp-"


class SocketModeRunner:
    """The Bolt app on a Socket Mode connection: ``start()``, ``stop()``, ``health()``.

    ``start`` opens the first connection and returns; reconnecting happens on the
    client's own threads until ``stop``.
    """

    def __init__(
        self, app: App, app_token: str, *, ping_interval: float = PING_INTERVAL
    ) -> None:
        if not app_token.startswith(APP_TOKEN_PREFIX):
            raise SetupError(
                "SLACK_APP_TOKEN is not an app-level token: create one (xapp-…) with "
                "the connections:write scope under Basic Information → App-Level Tokens"
            )
        self.app = app
        self.client = _Client(
            app_token=app_token,
            logger=app.logger,
            web_client=app.client,
            proxy=app.client.proxy,
            ping_interval=ping_interval,
        )
        self.client.socket_mode_request_listeners.append(self._dispatch)

    def start(self) -> SocketModeRunner:
        try:
            self.client.connect()
        except SlackApiError as error:
            self.stop()
            raise SetupError(
                f"Slack refused apps.connections.open ({error.response.get('error')}): "
                "check SLACK_APP_TOKEN (xapp-…, with the connections:write scope)"
            ) from error
        except BaseException:
            self.stop()
            raise
        return self

    def stop(self) -> None:
        # The message thread waits up to 1 s on its queue; a None wakes it to stop.
        self.client.closed = True
        self.client.message_queue.put(None)
        self.client.close()

    def connected(self) -> bool:
        return bool(self.client.is_connected())

    def health(self) -> dict[str, Any]:
        return {"slack": "connected" if self.connected() else "disconnected"}

    def _dispatch(
        self, client: BaseSocketModeClient, request: SocketModeRequest
    ) -> None:
        """What Bolt's ``SocketModeHandler.handle`` does: run the app, then ack."""
        started = time.time()
        send_response(client, request, run_bolt_app(self.app, request), started)


class _Client(SocketModeClient):
    """The built-in client, with ``_adopt`` applied to each new connection."""

    def connect(self) -> None:
        super().connect()
        if self.current_session is not None:
            _adopt(self.current_session)


def _adopt(session: Connection) -> None:
    """EOF raises a reset; disconnecting wakes the reader before taking its lock."""
    if session.sock is None:  # the connection failed; the monitor will retry
        return
    sock = _HangUpAware(session.sock)
    # Duck-typed: the connection only calls recv, send, close and shutdown.
    session.sock = sock  # type: ignore[assignment]
    disconnect = session.disconnect

    def disconnect_now() -> None:
        sock.hang_up()
        disconnect()

    session.disconnect = disconnect_now  # type: ignore[method-assign]


class _HangUpAware:
    """A socket whose ``recv`` raises, instead of returning b"", once the peer closed.

    The client's receive loop treats that error as a dead connection: it closes the
    socket, and its monitor reconnects with a fresh URL at the next tick.
    """

    def __init__(self, sock: socket.socket) -> None:
        self._sock = sock
        self._hanging_up = False

    def recv(self, size: int, *flags: int) -> bytes:
        data = self._sock.recv(size, *flags)
        if not data and not self._hanging_up:
            raise ConnectionResetError(errno.ECONNRESET, "Slack closed the connection")
        return data

    def hang_up(self) -> None:
        """Ends reads at once, quietly: for a disconnect of our own."""
        self._hanging_up = True
        with contextlib.suppress(OSError):
            self._sock.shutdown(socket.SHUT_RDWR)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._sock, name)

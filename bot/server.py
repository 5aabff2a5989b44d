"""Serving the app: HTTP on PORT at /slack/events, or Socket Mode, plus /healthz."""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Callable, Iterable
from socketserver import ThreadingMixIn
from typing import Any
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

from slack_bolt import App
from slack_bolt.adapter.wsgi import SlackRequestHandler
from waitress.server import create_server

logger = logging.getLogger(__name__)

EVENTS_PATH = "/slack/events"
Health = Callable[[], dict[str, Any]]


def wsgi_application(app: App | None, health: Health) -> Callable[..., Iterable[bytes]]:
    """Slack's requests go to Bolt; GET /healthz says whether the app can work.

    Without an app (Socket Mode) only /healthz answers: that app skips signature
    checks, so it must never take requests from the network.
    """
    slack = SlackRequestHandler(app, path=EVENTS_PATH) if app is not None else None

    def application(environ: dict[str, Any], start_response: Any) -> Iterable[bytes]:
        if environ.get("PATH_INFO") == "/healthz":
            state = health()
            status = "200 OK" if state.get("ok") else "503 Service Unavailable"
            body = json.dumps(state).encode()
            start_response(status, [("Content-Type", "application/json")])
            return [body]
        if slack is None:
            start_response("404 Not Found", [("Content-Type", "text/plain")])
            return [b"Not found"]
        return slack(environ, start_response)

    return application


def run_forever(app: App, host: str, port: int, health: Health) -> None:
    """Serve in the foreground with waitress, a production WSGI server."""
    server = create_server(wsgi_application(app, health), host=host, port=port)
    logger.info("serving Slack requests at http://%s:%d%s", host, port, EVENTS_PATH)
    server.run()


class _ThreadingServer(ThreadingMixIn, WSGIServer):
    daemon_threads = True


class _QuietHandler(WSGIRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        logger.debug("http %s", format % args)


class HttpServer:
    """A threaded server in the background: on loopback for ``ask``, demo and tests,
    and for /healthz alone beside Socket Mode (``app=None``).

    It stops cleanly (``shutdown`` waits for the serving loop), which waitress's
    background mode does not.
    """

    def __init__(self, app: App | None, host: str, port: int, health: Health) -> None:
        self._server = make_server(
            host,
            port,
            wsgi_application(app, health),  # type: ignore[arg-type]
            server_class=_ThreadingServer,
            handler_class=_QuietHandler,
        )
        self.port: int = self._server.server_port
        self.url = f"http://{host}:{self.port}{EVENTS_PATH}"
        self._thread = threading.Thread(
            target=self._server.serve_forever,
            kwargs={"poll_interval": 0.05},
            daemon=True,
        )

    def start(self) -> HttpServer:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)

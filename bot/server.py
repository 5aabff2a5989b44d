"""Serving the app: HTTP on PORT at /slack/events, or Socket Mode, plus /healthz."""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Callable, Iterable
from typing import Any

from slack_bolt import App
from slack_bolt.adapter.wsgi import SlackRequestHandler
from waitress.server import create_server

logger = logging.getLogger(__name__)

EVENTS_PATH = "/slack/events"
Health = Callable[[], dict[str, Any]]


def wsgi_application(app: App, health: Health) -> Callable[..., Iterable[bytes]]:
    """Slack's requests go to Bolt; GET /healthz says whether the app can work."""
    slack = SlackRequestHandler(app, path=EVENTS_PATH)

    def application(environ: dict[str, Any], start_response: Any) -> Iterable[bytes]:
        if environ.get("PATH_INFO") == "/healthz":
            state = health()
            status = "200 OK" if state.get("ok") else "503 Service Unavailable"
            body = json.dumps(state).encode()
            start_response(status, [("Content-Type", "application/json")])
            return [body]
        return slack(environ, start_response)

    return application


class HttpServer:
    """A waitress server in a background thread (port 0 picks a free one)."""

    def __init__(self, app: App, host: str, port: int, health: Health) -> None:
        self._server: Any = create_server(
            wsgi_application(app, health), host=host, port=port, threads=8
        )
        self.port: int = int(self._server.effective_port)
        self.url = f"http://{host}:{self.port}{EVENTS_PATH}"
        self._thread = threading.Thread(target=self._server.run, daemon=True)

    def start(self) -> HttpServer:
        self._thread.start()
        return self

    def run_forever(self) -> None:
        logger.info("serving Slack requests at %s", self.url)
        self._server.run()

    def stop(self) -> None:
        self._server.close()

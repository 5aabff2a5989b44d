"""``foresight serve``: Socket Mode when SLACK_APP_TOKEN is set, else HTTP on PORT.

Either way ``GET /healthz`` on PORT answers 200 only while Foresight can work: the
store answers and, in Socket Mode, the Slack connection is up (503 otherwise). The
config's ``sync:`` schedule runs beside it (``bot.schedule``). SIGTERM stops it all
cleanly: no new requests or syncs, and a sync under way finishes and is recorded.
"""

from __future__ import annotations

import logging
import signal
import threading
from dataclasses import dataclass
from typing import Any

from slack_bolt import App
from sqlalchemy import text

from bot.app import build_app
from bot.runtime import Runtime
from bot.schedule import start_schedule, stop_schedule
from bot.server import HttpServer, run_forever
from bot.settings import Settings
from bot.socket_mode import PING_INTERVAL, SocketModeRunner

logger = logging.getLogger(__name__)

HOST = "0.0.0.0"


def serve(runtime: Runtime, settings: Settings, *, port: int) -> int:
    app = build_app(
        runtime,
        token=settings.slack_bot_token,
        signing_secret=settings.slack_signing_secret,
        api_url=settings.slack_api_url,
        socket_mode=bool(settings.slack_app_token),
    )
    if threading.current_thread() is threading.main_thread():  # signals go there
        signal.signal(signal.SIGTERM, _exit_on_sigterm)
    scheduler = start_schedule(runtime.config, runtime.engine, runtime.clock)
    try:
        if not settings.slack_app_token:
            run_forever(app, HOST, port, lambda: health(runtime))  # returns on SIGTERM
            return 0
        service = start_socket_mode(runtime, app, settings.slack_app_token, port=port)
        try:
            threading.Event().wait()
        finally:
            service.stop()
        return 0
    except SystemExit:
        return 0
    finally:
        stop_schedule(scheduler)


def _exit_on_sigterm(signum: int, _frame: Any) -> None:
    """Unwind the main thread as Ctrl-C would; waitress stops serving on it."""
    logger.info("signal %d: shutting down", signum)
    raise SystemExit(0)


@dataclass
class SocketModeService:
    """A connected Socket Mode app and the HTTP server of its /healthz."""

    runner: SocketModeRunner
    health_server: HttpServer

    def stop(self) -> None:
        self.runner.stop()
        self.health_server.stop()


def start_socket_mode(
    runtime: Runtime,
    app: App,
    app_token: str,
    *,
    host: str = HOST,
    port: int,
    ping_interval: float = PING_INTERVAL,
) -> SocketModeService:
    """Serves /healthz first (it says "disconnected" until Slack is), then connects.

    The port serves /healthz alone: Slack's requests come over the socket.
    """
    runner = SocketModeRunner(app, app_token, ping_interval=ping_interval)
    health_server = HttpServer(None, host, port, lambda: health(runtime, runner))
    health_server.start()
    logger.info("health at http://%s:%d/healthz", host, health_server.port)
    try:
        runner.start()
    except BaseException:
        health_server.stop()
        raise
    return SocketModeService(runner, health_server)


def health(runtime: Runtime, runner: SocketModeRunner | None = None) -> dict[str, Any]:
    """Healthy only when the store answers and, in Socket Mode, Slack is connected."""
    state: dict[str, Any] = {"ok": True}
    try:
        with runtime.engine.connect() as connection:
            connection.execute(text("SELECT 1"))
        state["store"] = "ok"
    except Exception as error:  # the health check reports, it never raises
        state.update(ok=False, store=f"unreachable: {type(error).__name__}")
    if runner is not None:
        state.update(runner.health())
        state["ok"] = state["ok"] and runner.connected()
    return state

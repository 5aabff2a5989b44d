"""``foresight serve``: Socket Mode when SLACK_APP_TOKEN is set, else HTTP on PORT."""

from __future__ import annotations

import logging
import threading
from typing import Any

from slack_bolt.adapter.socket_mode import SocketModeHandler
from sqlalchemy import text

from bot.app import build_app
from bot.runtime import Runtime
from bot.server import HttpServer, run_forever
from bot.settings import Settings

logger = logging.getLogger(__name__)


def serve(runtime: Runtime, settings: Settings, *, port: int) -> int:
    socket_mode = bool(settings.slack_app_token)
    app = build_app(
        runtime,
        token=settings.slack_bot_token,
        signing_secret=settings.slack_signing_secret,
        api_url=settings.slack_api_url,
        socket_mode=socket_mode,
    )
    if not socket_mode:
        run_forever(app, "0.0.0.0", port, lambda: _health(runtime))
        return 0

    handler = SocketModeHandler(app, settings.slack_app_token)
    health_server = HttpServer(
        app, "0.0.0.0", port, lambda: _health(runtime, handler)
    ).start()
    logger.info("health at http://0.0.0.0:%d/healthz", health_server.port)
    handler.connect()
    threading.Event().wait()
    return 0


def _health(
    runtime: Runtime, handler: SocketModeHandler | None = None
) -> dict[str, Any]:
    """Healthy only when the store answers and, in Socket Mode, Slack is connected."""
    state: dict[str, Any] = {"ok": True}
    try:
        with runtime.engine.connect() as connection:
            connection.execute(text("SELECT 1"))
        state["store"] = "ok"
    except Exception as error:  # the health check reports, it never raises
        state.update(ok=False, store=f"unreachable: {type(error).__name__}")
    if handler is not None:
        connected = bool(handler.client.is_connected())
        state["slack"] = "connected" if connected else "disconnected"
        state["ok"] = state["ok"] and connected
    return state

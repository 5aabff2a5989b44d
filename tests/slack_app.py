"""A running Foresight app on loopback, talking to the local Slack stand-in."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs

from sqlalchemy import Engine

from bot.access import AccessPolicy
from bot.app import build_app
from bot.local_slack import LocalSlack, Message, post_to_app
from bot.runtime import Runtime
from bot.server import HttpServer
from context.clock import Clock

SECRET = "test-signing-secret-0123456789"


@dataclass
class Reply:
    status: int
    body: bytes
    seconds: float

    @property
    def text(self) -> str:
        return self.body.decode()


@dataclass
class RunningApp:
    slack: LocalSlack
    server: HttpServer
    runtime: Runtime

    def command(self, text: str, user_id: str, command: str = "/account") -> Reply:
        body = self.slack.slash_command_body(command, text, user_id)
        return self.post(body)

    def click(
        self, user_id: str, action_id: str, value: str, channel_id: str | None = None
    ) -> Reply:
        body = self.slack.block_actions_body(
            user_id,
            [{"action_id": action_id, "block_id": "b", "value": value}],
            channel_id=channel_id,
        )
        return self.post(body)

    def post(self, body: bytes, secret: str | None = SECRET, **headers: str) -> Reply:
        started = time.monotonic()
        status, _, reply = post_to_app(self.server.url, body, secret, headers or None)
        return Reply(status, reply, time.monotonic() - started)

    def replies(self, n: int = 1, timeout: float = 10.0) -> list[Message]:
        return self.slack.wait_for_messages(n, timeout=timeout)


@contextmanager
def running_app(
    engine: Engine,
    *,
    now: Clock,
    access: AccessPolicy | None = None,
    labels: dict[str, str] | None = None,
) -> Iterator[RunningApp]:
    runtime = Runtime(
        engine=engine,
        clock=now,
        access=access or AccessPolicy(),
        labels=labels or {},
    )
    with LocalSlack() as slack:
        app = build_app(
            runtime, token=slack.bot_token, signing_secret=SECRET, api_url=slack.api_url
        )
        server = HttpServer(app, "127.0.0.1", 0, lambda: {"ok": True}).start()
        try:
            yield RunningApp(slack, server, runtime)
        finally:
            server.stop()


def all_text(message: Message) -> str:
    """Every string in a message's blocks and text, for assertions on content."""
    found: list[str] = [message.text or ""]

    def walk(value: Any) -> None:
        if isinstance(value, dict):
            if isinstance(value.get("text"), str):
                found.append(value["text"])
            for item in value.values():
                walk(item)
        elif isinstance(value, list):
            for item in value:
                walk(item)

    walk(message.blocks or [])
    return "\n".join(found)


def form(body: bytes) -> dict[str, Any]:
    fields = {k: v[0] for k, v in parse_qs(body.decode()).items()}
    if "payload" in fields:
        return dict(json.loads(fields["payload"]))
    return fields

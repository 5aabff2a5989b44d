"""``LocalSlack``: the loopback HTTP server that answers as slack.com would.

One ``ThreadingHTTPServer`` on 127.0.0.1 (ephemeral port) serves two things:

- ``/api/<method>``: the Web API, decoding JSON bodies, form bodies and GET query
  strings as slack-sdk sends them (SLACK.md §6.1);
- ``/commands/…`` and ``/actions/…``: response URLs, which answer in plain text like
  Slack's hooks (§5.3) and allow 5 uses within 30 minutes (§2.2).

``apps.connections.open`` takes only the app-level token and answers a one-time URL
on ``socket_mode``, a ``SocketModeServer`` on a second port (§8).

Every request is recorded as a ``Call``; every message the bot produces, whichever
way it went, as a ``Message``. All state sits behind one condition variable.
"""

from __future__ import annotations

import copy
import logging
import secrets
import threading
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from types import TracebackType
from typing import Any

from bot.local_slack import payloads, response_urls, wire
from bot.local_slack.directory import Conversation, Directory, JsonObject, user_object
from bot.local_slack.socket_mode import SocketModeServer
from bot.local_slack.web_api import ApiError, Message, WebApi

logger = logging.getLogger(__name__)

DEFAULT_SCOPES = (
    "app_mentions:read",
    "assistant:write",
    "channels:history",
    "channels:read",
    "chat:write",
    "commands",
    "im:history",
    "im:read",
    "im:write",
    "users:read",
    "users:read.email",
)
_METHOD_SCOPES = {
    "chat.postMessage": ("chat:write",),
    "chat.postEphemeral": ("chat:write",),
    "chat.update": ("chat:write",),
    "chat.delete": ("chat:write",),
    "conversations.open": ("im:write",),
    "users.info": ("users:read",),
    "users.lookupByEmail": ("users:read", "users:read.email"),
}
CONNECTIONS_OPEN = "apps.connections.open"


@dataclass(frozen=True)
class Call:
    """One request as the server saw it and what it answered."""

    method: str
    args: JsonObject
    headers: dict[str, str]
    status: int
    response: JsonObject | str


@dataclass
class _Failure:
    error: str
    status: int
    retry_after: float | None
    times: int


class LocalSlack:
    """A loopback Slack workspace for the real Bolt app and slack-sdk clients.

    ``response_url_lifetime`` and ``response_url_uses`` default to the documented
    30 minutes and 5 uses; what Slack answers past them is unconfirmed (see
    ``response_urls``), so both can be changed. ``clock`` drives message ``ts``
    values, ``tz_offset`` snapshots and response URL expiry.
    """

    def __init__(
        self,
        *,
        scopes: Sequence[str] = DEFAULT_SCOPES,
        response_url_lifetime: float = response_urls.LIFETIME,
        response_url_uses: int = response_urls.MAX_USES,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.team_id = payloads.TEAM_ID
        self.bot_user_id = payloads.BOT_USER_ID
        self.bot_id = payloads.BOT_ID
        self.app_id = payloads.APP_ID
        self.general_channel_id = payloads.GENERAL_CHANNEL_ID
        self.bot_token = f"xoxb-{secrets.randbelow(10**12)}-{secrets.token_hex(12)}"
        number = secrets.randbelow(10**13)
        self.app_token = f"xapp-1-{self.app_id}-{number}-{secrets.token_hex(32)}"
        self.scopes = tuple(scopes)
        self.clock = clock
        self._changed = threading.Condition(threading.RLock())
        self._directory = Directory(clock())
        self._api = WebApi(self._directory, self._record)
        self._calls: list[Call] = []
        self._messages: list[Message] = []
        self._failures: dict[str, list[_Failure]] = {}
        self._delays: dict[str, float] = {}
        self._response_urls = response_urls.ResponseUrls(
            lifetime=response_url_lifetime, uses=response_url_uses
        )
        self._server: wire.Server | None = None
        self._thread: threading.Thread | None = None
        self.socket_mode = SocketModeServer(self.app_id)

    # -- lifecycle --------------------------------------------------------------

    def start(self) -> LocalSlack:
        if self._server is not None:
            return self
        server = self._server = wire.Server(self._answer)
        self._thread = threading.Thread(
            target=server.serve_forever,
            kwargs={"poll_interval": 0.05},
            name="local-slack",
            daemon=True,
        )
        self._thread.start()
        self.socket_mode.start()
        logger.debug("local Slack listening on %s", self.url)
        return self

    def stop(self) -> None:
        if self._server is None:
            return
        self.socket_mode.stop()
        self._server.shutdown()
        self._server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)
        self._server = self._thread = None

    def __enter__(self) -> LocalSlack:
        return self.start()

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        self.stop()

    @property
    def url(self) -> str:
        if self._server is None:
            raise RuntimeError("LocalSlack is not started; call start() first")
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}/"

    @property
    def api_url(self) -> str:
        """What to pass as ``WebClient(base_url=...)``."""
        return f"{self.url}api/"

    # -- the workspace ----------------------------------------------------------

    def add_user(
        self,
        user_id: str,
        email: str | None,
        *,
        name: str | None = None,
        tz: str = "America/New_York",
        is_restricted: bool = False,
        is_ultra_restricted: bool = False,
        is_bot: bool = False,
        deleted: bool = False,
    ) -> JsonObject:
        """Adds a member; full members also join #general, as in a real workspace."""
        user = user_object(
            user_id,
            email,
            name=name,
            tz=tz,
            is_restricted=is_restricted,
            is_ultra_restricted=is_ultra_restricted,
            is_bot=is_bot,
            deleted=deleted,
        )
        full_member = not (is_restricted or is_ultra_restricted or is_bot or deleted)
        with self._changed:
            self._directory.users[user_id] = user
            general = self._directory.conversations[self.general_channel_id]
            if full_member:
                general.members.add(user_id)
            served = self._directory.user(user_id, self.clock())
        assert served is not None
        return served

    def add_channel(
        self,
        channel_id: str,
        name: str,
        members: Iterable[str] = (),
        *,
        is_private: bool = False,
        bot_member: bool = True,
        is_archived: bool = False,
        is_ext_shared: bool = False,
    ) -> None:
        """A channel; the bot is in it unless ``bot_member=False`` (not_in_channel).

        ``is_ext_shared`` makes it a Slack Connect channel shared with another org.
        """
        people = set(members) | ({self.bot_user_id} if bot_member else set())
        channel = Conversation(channel_id, name, people, int(self.clock()))
        channel.is_private, channel.is_archived = is_private, is_archived
        channel.is_ext_shared = is_ext_shared
        with self._changed:
            self._directory.conversations[channel_id] = channel

    def add_message(
        self, channel: str, text: str, *, user: str, thread_ts: str | None = None
    ) -> str:
        """Seeds a message from a person (for conversations.replies); returns its ts."""
        with self._changed:
            where = self._directory.conversations.get(channel)
            if where is None:
                raise ValueError(f"no conversation {channel}; add_channel() it first")
            ts = self._directory.next_ts(self.clock())
            message: JsonObject = {
                "type": "message",
                "user": user,
                "text": text,
                "ts": ts,
                "team": self.team_id,
                "client_msg_id": secrets.token_hex(16),
            }
            if thread_ts:
                message["thread_ts"] = thread_ts
            where.append(message)
        return ts

    def home_view(self, user_id: str) -> JsonObject | None:
        """The Home tab last published for ``user_id``."""
        with self._changed:
            return copy.deepcopy(self._api.home_views.get(user_id))

    # -- requests to the app ------------------------------------------------------

    def response_url_for(
        self,
        kind: str = "commands",
        *,
        channel_id: str | None = None,
        user_id: str | None = None,
    ) -> str:
        """A fresh response URL on this server; ``kind`` is "commands" or "actions"."""
        if kind not in ("commands", "actions"):
            raise ValueError(f"kind must be 'commands' or 'actions', not {kind!r}")
        number = f"{secrets.randbelow(10**13):013d}"
        path = f"/{kind}/{self.team_id}/{number}/{secrets.token_urlsafe(18)}"
        with self._changed:
            self._response_urls.issue(path, channel_id, user_id, self.clock())
        return self.url + path[1:]

    def slash_command_body(
        self,
        command: str,
        text: str,
        user_id: str,
        *,
        channel_id: str | None = None,
        channel_name: str | None = None,
    ) -> bytes:
        """A slash command whose response_url points at this server."""
        channel_id = channel_id or self.general_channel_id
        url = self.response_url_for("commands", channel_id=channel_id, user_id=user_id)
        return payloads.slash_command_body(
            command,
            text,
            user_id,
            response_url=url,
            channel_id=channel_id,
            channel_name=channel_name or self._channel_name(channel_id),
        )

    def block_actions_body(
        self,
        user_id: str,
        actions: Sequence[Mapping[str, Any]],
        *,
        channel_id: str | None = None,
        message_ts: str | None = None,
    ) -> bytes:
        """A button click; with ``message_ts`` the stored message rides along."""
        channel_id = channel_id or self.general_channel_id
        url = self.response_url_for("actions", channel_id=channel_id, user_id=user_id)
        with self._changed:
            where = self._directory.conversations.get(channel_id)
            found = where.find(message_ts) if where and message_ts else None
            message = copy.deepcopy(found)
        container = None
        if message_ts and message is None:  # not stored: an ephemeral message
            container = {
                "type": "message",
                "message_ts": message_ts,
                "channel_id": channel_id,
                "is_ephemeral": True,
            }
        return payloads.block_actions_body(
            user_id,
            actions,
            response_url=url,
            channel_id=channel_id,
            channel_name=self._channel_name(channel_id),
            container=container,
            message=message,
        )

    def _channel_name(self, channel_id: str) -> str:
        with self._changed:
            found = self._directory.conversations.get(channel_id)
        if found is None or found.is_im:
            return "directmessage"
        return found.name

    # -- failure injection --------------------------------------------------------

    def fail_next(
        self,
        method: str,
        error: str | None = None,
        *,
        status: int = 200,
        retry_after: float | None = None,
        times: int = 1,
    ) -> None:
        """The next ``times`` calls of ``method`` (or "response_url") fail.

        Status 429 answers ``ratelimited`` with a ``Retry-After`` header (1 s unless
        given), as Slack does (§7).
        """
        if error is None:
            error = {429: "ratelimited"}.get(status, "internal_error")
        if status == 429 and retry_after is None:
            retry_after = 1
        failure = _Failure(error, status, retry_after, times)
        with self._changed:
            self._failures.setdefault(method, []).append(failure)

    def delay(self, method: str, seconds: float) -> None:
        """Every later call of ``method`` waits ``seconds`` first; 0 turns it off."""
        with self._changed:
            self._delays[method] = seconds

    def _take_failure(self, method: str) -> wire.Reply | None:
        queue = self._failures.get(method)
        if not queue:
            return None
        failure = queue[0]
        failure.times -= 1
        if failure.times <= 0:
            queue.pop(0)
        headers = {}
        if failure.retry_after is not None:
            headers["Retry-After"] = f"{failure.retry_after:g}"
        if method == "response_url":
            return wire.Reply(failure.status, failure.error, headers)
        return wire.Reply(
            failure.status, {"ok": False, "error": failure.error}, headers
        )

    # -- recording ----------------------------------------------------------------

    @property
    def calls(self) -> list[Call]:
        with self._changed:
            return list(self._calls)

    @property
    def messages(self) -> list[Message]:
        with self._changed:
            return list(self._messages)

    def calls_to(self, method: str) -> list[Call]:
        with self._changed:
            return [call for call in self._calls if call.method == method]

    def clear(self) -> None:
        """Forgets recorded calls and messages (the workspace stays)."""
        with self._changed:
            self._calls.clear()
            self._messages.clear()

    def wait_for_messages(self, n: int, timeout: float = 5.0) -> list[Message]:
        """Blocks until ``n`` messages have arrived; returns all of them."""
        with self._changed:
            if self._changed.wait_for(lambda: len(self._messages) >= n, timeout):
                return list(self._messages)
            arrived = [f"{m.via} {m.channel} {m.text[:60]!r}" for m in self._messages]
            raise TimeoutError(
                f"expected {n} message(s) within {timeout} s, got {len(arrived)}: "
                f"{arrived}; calls: {[c.method for c in self._calls]}"
            )

    def wait_for_calls(
        self, method: str, n: int = 1, timeout: float = 5.0
    ) -> list[Call]:
        """Blocks until ``method`` has been called ``n`` times."""
        with self._changed:
            if self._changed.wait_for(lambda: len(self.calls_to(method)) >= n, timeout):
                return self.calls_to(method)
            seen = [c.method for c in self._calls]
            raise TimeoutError(f"expected {n} {method} call(s), got: {seen}")

    def _record(self, message: Message) -> None:
        with self._changed:
            self._messages.append(message)
            self._changed.notify_all()

    # -- serving ------------------------------------------------------------------

    def _answer(self, request: wire.Request) -> wire.Reply:
        started = time.monotonic()
        web_api = request.path.startswith("/api/")
        method = request.path.removeprefix("/api/") if web_api else "response_url"
        with self._changed:
            pause = self._delays.get(method, 0)
        time.sleep(pause)

        with self._changed:
            if web_api:
                args, reply = self._web_api(method, request)
            else:
                args, reply = self._response_url(request)
            call = Call(method, args, request.headers, reply.status, reply.body)
            self._calls.append(call)
            self._changed.notify_all()

        elapsed = (time.monotonic() - started) * 1000
        logger.debug(
            "%s %s -> %d (%.0f ms)", request.verb, method, reply.status, elapsed
        )
        return reply

    def _web_api(
        self, method: str, request: wire.Request
    ) -> tuple[JsonObject, wire.Reply]:
        try:
            args = wire.decode_args(request)
        except ApiError as error:
            return {}, wire.Reply(200, error.body())
        token = wire.bearer_token(request, args)
        handler = self._api.methods.get(method)
        if handler is None and method != CONNECTIONS_OPEN:
            return args, wire.Reply(200, {"ok": False, "error": "unknown_method"})
        failure = self._take_failure(method)
        if failure is not None:
            return args, failure
        if method == CONNECTIONS_OPEN:
            return args, self._connections_open(wire.header_token(request), token)
        if not token or token != self.bot_token:
            refusal = "invalid_auth" if token else "not_authed"
            if token == self.app_token:  # NOTE: inferred, as for any xapp- token
                refusal = "not_allowed_token_type"
            return args, wire.Reply(200, {"ok": False, "error": refusal})
        assert handler is not None

        scope_headers = {"x-oauth-scopes": ",".join(self.scopes)}
        for needed in _METHOD_SCOPES.get(method, ()):
            if needed not in self.scopes:
                body = {"ok": False, "error": "missing_scope", "needed": needed}
                body["provided"] = ",".join(self.scopes)
                return args, wire.Reply(200, body, scope_headers)
        try:
            return args, wire.Reply(200, handler(args, self.clock()), scope_headers)
        except ApiError as error:
            return args, wire.Reply(200, error.body(), scope_headers)
        except (TypeError, ValueError) as error:  # e.g. limit="ten"
            body = {"ok": False, "error": "invalid_arguments"}
            body["response_metadata"] = {"messages": [f"[ERROR] {error}"]}
            return args, wire.Reply(200, body, scope_headers)

    def _connections_open(self, header: str | None, token: str | None) -> wire.Reply:
        """Only the app-level token, and only in the Authorization header (§8)."""
        if header == self.app_token:
            return wire.Reply(200, {"ok": True, "url": self.socket_mode.issue_url()})
        if header == self.bot_token:
            error = "not_allowed_token_type"
        elif header:
            error = "invalid_auth"
        elif token:
            # NOTE: the docs say a POST param "will result in an error" without
            # naming it; missing_args is "an app-level token wasn't provided".
            error = "missing_args"
        else:
            error = "not_authed"
        return wire.Reply(200, {"ok": False, "error": error})

    def _response_url(self, request: wire.Request) -> tuple[JsonObject, wire.Reply]:
        args = response_urls.webhook_args(request.body)
        failure = self._take_failure("response_url")
        if failure is not None:
            return args or {}, failure
        now = self.clock()
        status, text, message = self._response_urls.post(request.path, args, now)
        if message is not None:
            self._record(message)
        return args or {}, wire.Reply(status, text)

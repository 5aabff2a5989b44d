"""The Web API methods the bot uses, answering with Slack's shapes and error codes.

Errors follow SLACK.md §6.2. Where a missing argument has no documented error, the
method answers ``invalid_arguments`` with a ``[ERROR] missing required field`` line,
as Slack does for views (the wording for other methods is unconfirmed).
"""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from bot.local_slack import blockkit
from bot.local_slack.directory import BOT_NAME, Conversation, Directory, JsonObject
from bot.local_slack.payloads import APP_ID, BOT_ID, BOT_USER_ID, TEAM_DOMAIN, TEAM_ID

MAX_TEXT = 40_000  # longer text is truncated with a warning, not rejected (§5.2)
MAX_UPDATE_TEXT = 4_000  # chat.update answers msg_too_long above this (§5.2)
MAX_VIEW_BYTES = 250_000  # view_too_large (§4)
MAX_DM_USERS = 8  # conversations.open: too_many_users


class ApiError(Exception):
    """A Slack error answer: ``{"ok": false, "error": code, **extra}``."""

    def __init__(self, error: str, **extra: Any) -> None:
        super().__init__(error)
        self.error = error
        self.extra = extra

    def body(self) -> JsonObject:
        return {"ok": False, "error": self.error, **self.extra}


@dataclass(frozen=True)
class Message:
    """One message the bot produced, however it was sent.

    ``user`` is the only person who sees an ephemeral message (postEphemeral's
    ``user``, or whoever triggered the response_url); None for channel messages.
    """

    via: str
    channel: str | None
    text: str
    blocks: list[JsonObject] | None = None
    user: str | None = None
    response_type: str | None = None
    thread_ts: str | None = None
    ts: str | None = None
    replace_original: bool = False
    delete_original: bool = False
    metadata: JsonObject | None = None

    @property
    def ephemeral(self) -> bool:
        return self.via == "chat.postEphemeral" or self.response_type == "ephemeral"


def flag(value: Any) -> bool:
    """A boolean as slack-sdk sends it: JSON true, or "1"/"true" in a form."""
    return value is True or str(value).lower() in ("1", "true")


def required(args: JsonObject, name: str) -> str:
    value = args.get(name)
    if value in (None, ""):
        message = f"[ERROR] missing required field: {name}"
        raise ApiError("invalid_arguments", response_metadata={"messages": [message]})
    return str(value)


def check_blocks(blocks: Any, *, pointer: str = "/blocks") -> list[JsonObject] | None:
    """Slack's verdict on a message's ``blocks`` (already JSON-decoded if sent so)."""
    if blocks is None:
        return None
    if not isinstance(blocks, list):
        raise ApiError("invalid_blocks_format")
    errors = blockkit.validate_blocks(
        blocks, pointer=pointer, max_blocks=blockkit.MESSAGE_MAX_BLOCKS
    )
    if errors:
        messages = [f"[ERROR] {error}" for error in errors]
        raise ApiError(
            "invalid_blocks", errors=errors, response_metadata={"messages": messages}
        )
    if blockkit.text_length(blocks) > blockkit.BLOCKS_TEXT_BUDGET:
        raise ApiError("msg_blocks_too_long")
    return blocks


def view_errors(view: JsonObject) -> list[str]:
    """Problems with a Home tab view; Slack reports them as invalid_arguments."""
    errors = []
    if view.get("type") != "home":
        errors.append("must be a valid enum value [json-pointer:/view/type]")
    blocks = view.get("blocks")
    if not isinstance(blocks, list):
        return [*errors, "must provide an array [json-pointer:/view/blocks]"]
    return errors + blockkit.validate_blocks(
        blocks, pointer="/view/blocks", max_blocks=blockkit.VIEW_MAX_BLOCKS
    )


def truncate(text: str, warnings: list[str]) -> str:
    if len(text) <= MAX_TEXT:
        return text
    warnings.append("message_truncated")
    return text[:MAX_TEXT]


class WebApi:
    """Method handlers over a ``Directory``; the caller holds the lock."""

    def __init__(self, directory: Directory, record: Callable[[Message], None]) -> None:
        self.directory = directory
        self.record = record
        self.home_views: dict[str, JsonObject] = {}
        self.methods: dict[str, Callable[[JsonObject, float], JsonObject]] = {
            "auth.test": self.auth_test,
            "chat.postMessage": self.post_message,
            "chat.postEphemeral": self.post_ephemeral,
            "chat.update": self.update,
            "chat.delete": self.delete,
            "conversations.open": self.conversations_open,
            "conversations.info": self.conversations_info,
            "conversations.members": self.conversations_members,
            "conversations.replies": self.conversations_replies,
            "users.info": self.users_info,
            "users.lookupByEmail": self.users_lookup_by_email,
            "views.publish": self.views_publish,
        }

    # -- helpers ----------------------------------------------------------------

    def conversation(self, args: JsonObject) -> Conversation:
        """The conversation in ``args["channel"]``, which the bot must be in."""
        found = self.directory.conversations.get(str(args.get("channel") or ""))
        if found is None:
            raise ApiError("channel_not_found")
        if BOT_USER_ID not in found.members:
            raise ApiError("not_in_channel")
        if found.is_archived:
            raise ApiError("is_archived")
        return found

    def content(
        self, args: JsonObject
    ) -> tuple[str, list[JsonObject] | None, JsonObject]:
        """(text, blocks, extra response fields) for a message being posted."""
        if args.get("markdown_text") and (args.get("text") or args.get("blocks")):
            raise ApiError("markdown_text_conflict")
        text = str(args.get("text") or args.get("markdown_text") or "")
        blocks = check_blocks(args.get("blocks"))
        attachments = args.get("attachments")
        if isinstance(attachments, list) and len(attachments) > 100:
            raise ApiError("too_many_attachments")
        if not text and not blocks and not attachments:
            raise ApiError("no_text")
        warnings: list[str] = []
        text = truncate(text, warnings)
        extra: JsonObject = {}
        if warnings:
            extra = {
                "warning": "message_truncated",
                "response_metadata": {
                    "warnings": warnings,
                    "messages": ["[WARN] text was truncated to 40000 characters"],
                },
            }
        return text, blocks, extra

    def bot_message(
        self, text: str, blocks: list[JsonObject] | None, ts: str
    ) -> JsonObject:
        # NOTE: Slack gives text-only messages a rich_text block, and Bolt's
        # assistant context store reads message["blocks"] (inference, unconfirmed).
        section = {
            "type": "rich_text_section",
            "elements": [{"type": "text", "text": text}],
        }
        return {
            "type": "message",
            "user": BOT_USER_ID,
            "bot_id": BOT_ID,
            "app_id": APP_ID,
            "team": TEAM_ID,
            "text": text,
            "blocks": blocks or [{"type": "rich_text", "elements": [section]}],
            "ts": ts,
            "bot_profile": {
                "id": BOT_ID,
                "app_id": APP_ID,
                "name": BOT_NAME,
                "team_id": TEAM_ID,
                "deleted": False,
                "updated": 1_700_000_000,
                "icons": {},
            },
        }

    # -- methods ----------------------------------------------------------------

    def auth_test(self, args: JsonObject, now: float) -> JsonObject:
        return {
            "ok": True,
            "url": f"https://{TEAM_DOMAIN}.slack.com/",
            "team": "Foresight (local)",
            "user": BOT_NAME,
            "team_id": TEAM_ID,
            "user_id": BOT_USER_ID,
            "bot_id": BOT_ID,
            "is_enterprise_install": False,
        }

    def post_message(self, args: JsonObject, now: float) -> JsonObject:
        where = self.conversation(args)
        text, blocks, extra = self.content(args)
        ts = self.directory.next_ts(now)
        message = self.bot_message(text, blocks, ts)
        thread_ts = args.get("thread_ts") or None
        if thread_ts:
            message["thread_ts"] = str(thread_ts)
        if isinstance(args.get("metadata"), dict):
            message["metadata"] = args["metadata"]
        where.append(message)
        self.record(
            Message(
                via="chat.postMessage",
                channel=where.id,
                text=text,
                blocks=blocks,
                thread_ts=message.get("thread_ts"),
                ts=ts,
                metadata=message.get("metadata"),
            )
        )
        reply = {"ok": True, "channel": where.id, "ts": ts}
        return {**reply, "message": copy.deepcopy(message), **extra}

    def post_ephemeral(self, args: JsonObject, now: float) -> JsonObject:
        user = required(args, "user")
        where = self.conversation(args)
        if user not in where.members:
            raise ApiError("user_not_in_channel")
        text, blocks, extra = self.content(args)
        # Ephemeral messages are not stored: Slack does not persist them (§6.2).
        ts = self.directory.next_ts(now)
        thread_ts = str(args["thread_ts"]) if args.get("thread_ts") else None
        self.record(
            Message(
                via="chat.postEphemeral",
                channel=where.id,
                text=text,
                blocks=blocks,
                user=user,
                response_type="ephemeral",
                thread_ts=thread_ts,
                ts=ts,
            )
        )
        return {"ok": True, "message_ts": ts, **extra}

    def update(self, args: JsonObject, now: float) -> JsonObject:
        where = self.conversation(args)
        message = where.find(str(args.get("ts") or ""))
        if message is None:
            raise ApiError("message_not_found")
        if message.get("bot_id") != BOT_ID:
            raise ApiError("cant_update_message")
        text = str(args.get("text") or "")
        if len(text) > MAX_UPDATE_TEXT:
            raise ApiError("msg_too_long")
        blocks = check_blocks(args.get("blocks"))
        if not text and not blocks and "metadata" not in args:
            raise ApiError("no_text")
        if "text" in args:
            message["text"] = text
        if blocks is not None:
            message["blocks"] = blocks
        if isinstance(args.get("metadata"), dict):
            message["metadata"] = args["metadata"]
        message["edited"] = {"user": BOT_USER_ID, "ts": self.directory.next_ts(now)}
        self.record(
            Message(
                via="chat.update",
                channel=where.id,
                text=message["text"],
                blocks=message["blocks"],
                thread_ts=message.get("thread_ts"),
                ts=message["ts"],
                metadata=message.get("metadata"),
            )
        )
        reply = {"ok": True, "channel": where.id, "ts": message["ts"]}
        return {**reply, "text": message["text"], "message": copy.deepcopy(message)}

    def delete(self, args: JsonObject, now: float) -> JsonObject:
        where = self.conversation(args)
        message = where.find(str(args.get("ts") or ""))
        if message is None:
            raise ApiError("message_not_found")
        if message.get("bot_id") != BOT_ID:
            raise ApiError("cant_delete_message")
        where.history.remove(message)
        return {"ok": True, "channel": where.id, "ts": message["ts"]}

    def conversations_open(self, args: JsonObject, now: float) -> JsonObject:
        if args.get("channel"):
            found = self.conversation(args)
            return {"ok": True, "channel": {"id": found.id}}
        users = sorted({u.strip() for u in str(args.get("users") or "").split(",")})
        users = [user_id for user_id in users if user_id]
        if not users:
            raise ApiError("users_list_not_supplied")
        if len(users) > MAX_DM_USERS:
            raise ApiError("too_many_users")
        for user_id in users:
            user = self.directory.users.get(user_id)
            if user is None:
                raise ApiError("user_not_found")
            if user["deleted"]:
                raise ApiError("user_disabled")
        im, existed = self.directory.open_dm(users, now)
        channel = im.info(BOT_USER_ID) if flag(args.get("return_im")) else {"id": im.id}
        extra = {"no_op": True, "already_open": True} if existed else {}
        return {"ok": True, **extra, "channel": channel}

    def conversations_info(self, args: JsonObject, now: float) -> JsonObject:
        found = self.directory.conversations.get(str(args.get("channel") or ""))
        if found is None:
            raise ApiError("channel_not_found")
        return {"ok": True, "channel": found.info(BOT_USER_ID)}

    def conversations_members(self, args: JsonObject, now: float) -> JsonObject:
        """Members, a page at a time; a private channel is invisible to non-members."""
        found = self.directory.conversations.get(str(args.get("channel") or ""))
        if found is None or (found.is_private and BOT_USER_ID not in found.members):
            raise ApiError("channel_not_found")
        members = sorted(found.members)
        start = int(str(args.get("cursor") or "offset:0").split(":", 1)[1])
        limit = max(1, min(int(args.get("limit") or 100), 1000))
        page = members[start : start + limit]
        more = start + limit < len(members)
        cursor = f"offset:{start + limit}" if more else ""
        return {
            "ok": True,
            "members": page,
            "response_metadata": {"next_cursor": cursor},
        }

    def conversations_replies(self, args: JsonObject, now: float) -> JsonObject:
        found = self.directory.conversations.get(str(args.get("channel") or ""))
        if found is None:
            raise ApiError("channel_not_found")
        thread = found.thread(required(args, "ts"))
        if not thread:
            raise ApiError("thread_not_found")
        oldest = float(args.get("oldest") or 0)
        limit = int(args.get("limit") or 1000)
        messages = [copy.deepcopy(m) for m in thread if float(m["ts"]) >= oldest]
        if not flag(args.get("include_all_metadata")):
            for message in messages:
                message.pop("metadata", None)
        has_more = len(messages) > limit
        return {
            "ok": True,
            "messages": messages[:limit],
            "has_more": has_more,
            "response_metadata": {"next_cursor": ""},
        }

    def users_info(self, args: JsonObject, now: float) -> JsonObject:
        user = self.directory.user(str(args.get("user") or ""), now)
        if user is None:
            raise ApiError("user_not_found")
        return {"ok": True, "user": user}

    def users_lookup_by_email(self, args: JsonObject, now: float) -> JsonObject:
        user_id = self.directory.user_by_email(required(args, "email"))
        # NOTE: the plural is Slack's: users.info says user_not_found (§6.2).
        user = self.directory.user(user_id, now) if user_id else None
        if user is None:
            raise ApiError("users_not_found")
        return {"ok": True, "user": user}

    def views_publish(self, args: JsonObject, now: float) -> JsonObject:
        user_id = required(args, "user_id")
        view = args.get("view")
        if not isinstance(view, dict):
            view = {"blocks": None}
        if len(json.dumps(view)) > MAX_VIEW_BYTES:
            raise ApiError("view_too_large")
        errors = view_errors(view)
        if errors:
            messages = [f"[ERROR] {error}" for error in errors]
            raise ApiError(
                "invalid_arguments", response_metadata={"messages": messages}
            )
        current = self.home_views.get(user_id)
        if args.get("hash") and current and args["hash"] != current["hash"]:
            raise ApiError("hash_conflict")
        number = len(self.home_views) + 1
        published = {
            "id": current["id"] if current else f"V0FS{number:07d}",
            "team_id": TEAM_ID,
            "type": "home",
            "blocks": view.get("blocks", []),
            "private_metadata": view.get("private_metadata", ""),
            "callback_id": view.get("callback_id", ""),
            "external_id": view.get("external_id", ""),
            "state": {"values": {}},
            "hash": f"{now:.6f}.{number:08x}",
            "app_id": APP_ID,
            "bot_id": BOT_ID,
            "app_installed_team_id": TEAM_ID,
        }
        self.home_views[user_id] = published
        return {"ok": True, "view": copy.deepcopy(published)}

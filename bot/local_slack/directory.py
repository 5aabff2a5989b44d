"""The workspace behind the loopback Slack: users, conversations and their history.

Users are stored as users.info ``user`` objects; ``tz_label`` and ``tz_offset`` are
filled in when served, as a snapshot of "now" in the user's zone (SLACK.md §10).
Not thread-safe by itself: ``LocalSlack`` holds its lock around every use.
"""

from __future__ import annotations

import copy
import hashlib
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

from bot.local_slack.payloads import BOT_ID, BOT_USER_ID, GENERAL_CHANNEL_ID, TEAM_ID

JsonObject = dict[str, Any]

BOT_NAME = "foresight"
# zoneinfo knows abbreviations ("PDT"); Slack shows long labels. Others fall back to
# "<City> Time", which is close to what Slack shows for most zones (unconfirmed).
_TZ_LABELS = {
    "EST": "Eastern Standard Time",
    "EDT": "Eastern Daylight Time",
    "CST": "Central Standard Time",
    "CDT": "Central Daylight Time",
    "MST": "Mountain Standard Time",
    "MDT": "Mountain Daylight Time",
    "PST": "Pacific Standard Time",
    "PDT": "Pacific Daylight Time",
    "AKST": "Alaska Standard Time",
    "AKDT": "Alaska Daylight Time",
    "HST": "Hawaii-Aleutian Standard Time",
    "GMT": "Greenwich Mean Time",
    "BST": "British Summer Time",
    "WET": "Western European Time",
    "WEST": "Western European Summer Time",
    "CET": "Central European Time",
    "CEST": "Central European Summer Time",
    "EET": "Eastern European Time",
    "EEST": "Eastern European Summer Time",
    "IST": "India Standard Time",
    "JST": "Japan Standard Time",
    "KST": "Korea Standard Time",
    "AEST": "Australian Eastern Standard Time",
    "AEDT": "Australian Eastern Daylight Time",
    "UTC": "Coordinated Universal Time",
}


def tz_fields(tz: str, now: float) -> JsonObject:
    """``tz``, ``tz_label`` and ``tz_offset`` (seconds, DST-adjusted) at ``now``."""
    local = datetime.fromtimestamp(now, UTC).astimezone(ZoneInfo(tz))
    offset = local.utcoffset()
    abbreviation = local.tzname() or ""
    city = tz.rsplit("/", 1)[-1].replace("_", " ")
    return {
        "tz": tz,
        "tz_label": _TZ_LABELS.get(abbreviation, f"{city} Time"),
        "tz_offset": int(offset.total_seconds()) if offset else 0,
    }


def user_object(
    user_id: str,
    email: str | None,
    *,
    name: str | None,
    tz: str,
    is_restricted: bool,
    is_ultra_restricted: bool,
    is_bot: bool,
    deleted: bool,
) -> JsonObject:
    """A users.info ``user`` without the time-dependent tz fields."""
    handle = (email or user_id).split("@")[0].lower()
    real_name = name or handle.replace(".", " ").replace("_", " ").title()
    first, _, last = real_name.partition(" ")
    avatar = f"https://avatars.slack-edge.com/local/{user_id.lower()}"
    profile: JsonObject = {
        "title": "",
        "phone": "",
        "skype": "",
        "real_name": real_name,
        "real_name_normalized": real_name,
        "display_name": handle,
        "display_name_normalized": handle,
        "status_text": "",
        "status_emoji": "",
        "status_expiration": 0,
        "avatar_hash": hashlib.sha1(user_id.encode()).hexdigest()[:12],
        "first_name": first,
        "last_name": last,
        **{f"image_{px}": f"{avatar}_{px}.png" for px in (24, 32, 48, 72, 192, 512)},
        "team": TEAM_ID,
    }
    if email is not None:
        profile["email"] = email
    if is_bot:
        profile.update(bot_id=BOT_ID, api_app_id="", always_active=True)
    return {
        "id": user_id,
        "team_id": TEAM_ID,
        "name": handle,
        "deleted": deleted,
        "color": "9f69e7",
        "real_name": real_name,
        "tz": tz,
        "profile": profile,
        "is_admin": False,
        "is_owner": False,
        "is_primary_owner": False,
        "is_restricted": is_restricted or is_ultra_restricted,
        "is_ultra_restricted": is_ultra_restricted,
        "is_bot": is_bot,
        "is_app_user": False,
        "updated": 1_700_000_000,
        "is_email_confirmed": email is not None,
        "who_can_share_contact_card": "EVERYONE",
    }


@dataclass
class Conversation:
    id: str
    name: str
    members: set[str]
    created: int
    is_im: bool = False
    is_mpim: bool = False
    is_private: bool = False
    is_archived: bool = False
    is_ext_shared: bool = False
    history: list[JsonObject] = field(default_factory=list)

    def info(self, bot_user_id: str) -> JsonObject:
        """The conversations.info ``channel`` object."""
        if self.is_im:
            other = next(iter(self.members - {bot_user_id}), bot_user_id)
            return {
                "id": self.id,
                "created": self.created,
                "is_im": True,
                "is_org_shared": False,
                "user": other,
                "is_user_deleted": False,
                "priority": 0,
            }
        return {
            "id": self.id,
            "name": self.name,
            "name_normalized": self.name,
            "is_channel": not self.is_private,
            "is_group": self.is_private and not self.is_mpim,
            "is_im": False,
            "is_mpim": self.is_mpim,
            "is_private": self.is_private,
            "created": self.created,
            "is_archived": self.is_archived,
            "is_general": self.id == GENERAL_CHANNEL_ID,
            "is_shared": self.is_ext_shared,
            "is_ext_shared": self.is_ext_shared,
            "is_org_shared": False,
            "is_member": bot_user_id in self.members,
            "creator": "",
            "topic": {"value": "", "creator": "", "last_set": 0},
            "purpose": {"value": "", "creator": "", "last_set": 0},
            "num_members": len(self.members),
            "context_team_id": TEAM_ID,
        }

    def find(self, ts: str) -> JsonObject | None:
        return next((m for m in self.history if m["ts"] == ts), None)

    def thread(self, ts: str) -> list[JsonObject]:
        return [m for m in self.history if ts in (m["ts"], m.get("thread_ts"))]

    def append(self, message: JsonObject) -> None:
        """Adds ``message``; a reply also marks its parent as a thread."""
        self.history.append(message)
        thread_ts = message.get("thread_ts")
        parent = self.find(thread_ts) if thread_ts else None
        if parent is not None and parent is not message:
            parent["thread_ts"] = parent["ts"]
            parent["reply_count"] = parent.get("reply_count", 0) + 1
            parent["latest_reply"] = message["ts"]


class Directory:
    """Users and conversations of one workspace, plus ``ts`` allocation."""

    def __init__(self, now: float) -> None:
        self.users: dict[str, JsonObject] = {}
        self.conversations: dict[str, Conversation] = {}
        self._last_ts = 0.0
        self.users[BOT_USER_ID] = user_object(
            BOT_USER_ID,
            None,
            name=BOT_NAME,
            tz="America/Los_Angeles",
            is_restricted=False,
            is_ultra_restricted=False,
            is_bot=True,
            deleted=False,
        )
        general = Conversation(GENERAL_CHANNEL_ID, "general", {BOT_USER_ID}, int(now))
        self.conversations[GENERAL_CHANNEL_ID] = general

    def next_ts(self, now: float) -> str:
        """A message ``ts``: epoch seconds with 6 decimals, unique and increasing."""
        self._last_ts = max(round(now, 6), round(self._last_ts + 0.000001, 6))
        return f"{self._last_ts:.6f}"

    def user(self, user_id: str, now: float) -> JsonObject | None:
        stored = self.users.get(user_id)
        if stored is None:
            return None
        user = copy.deepcopy(stored)
        user.update(tz_fields(user["tz"], now))
        return user

    def user_by_email(self, email: str) -> str | None:
        # NOTE: SLACK.md does not say whether Slack matches emails case-insensitively;
        # we do, since mail systems treat the domain (and in practice the local
        # part) that way.
        wanted = email.strip().lower()
        for user_id, user in self.users.items():
            if str(user["profile"].get("email", "")).lower() == wanted:
                return user_id
        return None

    def open_dm(self, users: list[str], now: float) -> tuple[Conversation, bool]:
        """The DM (one user) or group DM with the bot, and whether it existed."""
        digest = hashlib.sha1(",".join(users).encode()).hexdigest().upper()
        channel_id = f"{'D' if len(users) == 1 else 'G'}0{digest[:9]}"
        existing = self.conversations.get(channel_id)
        if existing is not None:
            return existing, True
        name = users[0] if len(users) == 1 else f"mpdm-{'--'.join(users).lower()}-1"
        dm = Conversation(channel_id, name, {*users, BOT_USER_ID}, int(now))
        dm.is_im = len(users) == 1
        dm.is_mpim = dm.is_private = len(users) > 1
        self.conversations[channel_id] = dm
        return dm, False

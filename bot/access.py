"""Who may see account data.

Account data goes only to people Foresight knows: our reps, managers and admins,
matched to their Slack user by e-mail without regard to case or spaces. Guests,
bots and unknown users are refused; the config may open it to every full member of
the workspace. What Slack says about a user is kept in the store for an hour, so
every replica decides the same way without asking Slack on every command.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Literal

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from sqlalchemy import Engine, select, update
from sqlalchemy.exc import IntegrityError

from context.db import transaction
from context.models import Rep, SlackUser
from context.names import email_key

logger = logging.getLogger(__name__)

USER_TTL = timedelta(hours=1)

Verdict = Literal["rep", "admin", "member", "guest", "unknown", "bot", "unverified"]


@dataclass(frozen=True)
class AccessPolicy:
    open_to_workspace: bool = False
    admins: frozenset[str] = frozenset()

    @classmethod
    def from_config(cls, raw: Mapping[str, Any] | None) -> AccessPolicy:
        raw = raw or {}
        unknown = set(raw) - {"open_to_workspace", "admins"}
        if unknown:
            raise ValueError(
                f"unknown access setting(s) {', '.join(sorted(unknown))}; "
                "the access section takes open_to_workspace and admins"
            )
        opened = raw.get("open_to_workspace", False)
        if not isinstance(opened, bool):
            raise ValueError(
                f"access.open_to_workspace is {opened!r}; write true or false "
                "without quotes (a quoted word would be read as true)"
            )
        listed = raw.get("admins") or []
        if not isinstance(listed, list):
            raise ValueError(
                f"access.admins is {listed!r}; write a list of e-mail addresses, "
                "e.g. admins: [revops@example.com]"
            )
        admins = [email_key(str(entry)) for entry in listed]
        unusable = [str(e) for e, key in zip(listed, admins, strict=True) if not key]
        if unusable:
            raise ValueError(
                f"access.admins: {', '.join(map(repr, unusable))} is not an e-mail "
                "address; admins are matched to Slack users by e-mail"
            )
        return cls(
            open_to_workspace=opened,
            admins=frozenset(a for a in admins if a),
        )


@dataclass(frozen=True)
class Access:
    verdict: Verdict
    email: str | None = None
    time_zone: str | None = None  # the person's IANA zone, for their "today"

    @property
    def allowed(self) -> bool:
        return self.verdict in ("rep", "admin", "member")


def check_access(
    engine: Engine, client: WebClient, user_id: str, policy: AccessPolicy
) -> Access:
    """Decide whether ``user_id`` may see account data."""
    user = _slack_user(engine, client, user_id)
    if user is None:
        return Access("unverified")
    if user.is_bot or user.deleted:
        return Access("bot", user.email_key, user.time_zone)
    if user.is_guest:
        return Access("guest", user.email_key, user.time_zone)
    if user.email_key and user.email_key in policy.admins:
        return Access("admin", user.email_key, user.time_zone)
    if user.email_key and _link_rep(engine, user.email_key, user_id):
        return Access("rep", user.email_key, user.time_zone)
    if policy.open_to_workspace:
        return Access("member", user.email_key, user.time_zone)
    return Access("unknown", user.email_key, user.time_zone)


def _slack_user(engine: Engine, client: WebClient, user_id: str) -> SlackUser | None:
    now = datetime.now(UTC)
    with transaction(engine) as session:
        cached = session.get(SlackUser, user_id)
        if cached is not None and now - cached.fetched_at < USER_TTL:
            return cached

    started = time.monotonic()
    try:
        response = client.users_info(user=user_id)
    except SlackApiError as error:
        logger.warning(
            "slack users.info user=%s failed: %s in %.0f ms",
            user_id,
            error.response.get("error"),
            (time.monotonic() - started) * 1000,
        )
        return cached
    logger.info(
        "slack users.info user=%s ok in %.0f ms",
        user_id,
        (time.monotonic() - started) * 1000,
    )
    profile = response["user"]
    fresh = SlackUser(
        slack_user_id=user_id,
        team_id=profile.get("team_id"),
        email_key=email_key((profile.get("profile") or {}).get("email")),
        is_guest=bool(
            profile.get("is_restricted") or profile.get("is_ultra_restricted")
        ),
        is_bot=bool(profile.get("is_bot")) or user_id == "USLACKBOT",
        deleted=bool(profile.get("deleted")),
        time_zone=profile.get("tz"),
        fetched_at=now,
    )
    return _remember(engine, fresh)


def _remember(engine: Engine, user: SlackUser) -> SlackUser:
    """Store what Slack said; two replicas may race to insert the same user."""
    values = {c.key: getattr(user, c.key) for c in SlackUser.__table__.columns}
    for attempt in (1, 2):
        try:
            with transaction(engine) as session:
                return session.merge(SlackUser(**values))
        except IntegrityError:
            if attempt == 2:
                raise
    raise AssertionError("unreachable")


def _link_rep(engine: Engine, key: str, user_id: str) -> bool:
    """Find the rep with this e-mail and remember their Slack user id."""
    with transaction(engine) as session:
        reps = session.execute(
            select(Rep.id, Rep.slack_user_id).where(Rep.email_key == key)
        ).all()
        stale = [rep_id for rep_id, linked in reps if linked != user_id]
        if stale:
            session.execute(
                update(Rep).where(Rep.id.in_(stale)).values(slack_user_id=user_id)
            )
    return bool(reps)

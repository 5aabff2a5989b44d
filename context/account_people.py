"""Stakeholders: people at the account, and people heard on its calls, with their
last touch before "now"."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from context.account_facts import (
    AccountView,
    StakeholderFacts,
    aware,
    freshness,
    live,
    timestamp,
)
from context.models import Activity, Conversation, Meeting, MeetingAttendee, Person, Rep
from context.names import fold


def stakeholders_section(
    session: Session, view: AccountView, now: datetime, reps: dict[int, Rep]
) -> None:
    """People at the account with their last touch; people heard on calls who are
    not (yet) in the CRM are stakeholders too, touched when the call happened."""
    people = list(
        session.scalars(
            select(Person).where(Person.account_id == view.account_id, live(Person))
        )
    )
    touches = _last_touches(session, [p.id for p in people], now)
    calls = _call_participants(session, view.account_id, now, reps)
    by_name = {fold(p.name): p.id for p in people}
    for name, (at, _) in calls.items():
        person_id = by_name.get(fold(name))
        known = touches.get(person_id) if person_id is not None else None
        if person_id is not None and (known is None or at > known[0]):
            touches[person_id] = (at, "call")
    facts = [
        StakeholderFacts(
            p.name, p.title, p.role, p.email, *touches.get(p.id, (None, None))
        )
        for p in people
    ]
    facts += [
        StakeholderFacts(name, None, None, None, at, "call")
        for name, (at, _) in calls.items()
        if fold(name) not in by_name
    ]
    facts.sort(key=lambda s: (s.last_touch is None, -timestamp(s.last_touch), s.name))
    view.stakeholders = facts
    newest = max((s.last_touch for s in facts if s.last_touch), default=None)
    sources = [*people, *(source for _, source in calls.values())]
    view.freshness["stakeholders"] = freshness(
        sources, newest.date() if newest else None
    )


def _call_participants(
    session: Session, account_id: int, now: datetime, reps: dict[int, Rep]
) -> dict[str, tuple[datetime, Any]]:
    """Each participant of the account's calls until now, with their latest call."""
    conversations = session.scalars(
        select(Conversation).where(
            Conversation.account_id == account_id,
            Conversation.started_at <= now,
            live(Conversation),
        )
    )
    ours = {fold(r.name) for r in reps.values()}
    latest: dict[str, tuple[datetime, Any]] = {}
    for conversation in conversations:
        at = aware(conversation.started_at)
        for name in conversation.participants or []:
            if not isinstance(name, str) or not name.strip() or fold(name) in ours:
                continue
            if at is not None and (name not in latest or at > latest[name][0]):
                latest[name] = (at, conversation)
    return latest


def _last_touches(
    session: Session, person_ids: list[int], now: datetime
) -> dict[int, tuple[datetime, str]]:
    if not person_ids:
        return {}
    touches: dict[int, tuple[datetime, str]] = {}
    activity = session.execute(
        select(Activity.person_id, Activity.kind, func.max(Activity.occurred_at))
        .where(
            Activity.person_id.in_(person_ids),
            Activity.occurred_at <= now,
            live(Activity),
        )
        .group_by(Activity.person_id, Activity.kind)
    )
    met = session.execute(
        select(MeetingAttendee.person_id, func.max(Meeting.starts_at))
        .join(Meeting, Meeting.id == MeetingAttendee.meeting_id)
        .where(
            MeetingAttendee.person_id.in_(person_ids),
            Meeting.starts_at <= now,
            live(MeetingAttendee),
            live(Meeting),
        )
        .group_by(MeetingAttendee.person_id)
    )
    rows: list[tuple[Any, str, Any]] = [(p, k, at) for p, k, at in activity]
    rows += [(p, "meeting", at) for p, at in met]
    for person_id, kind, at in rows:
        at = aware(at)
        if at is not None and (person_id not in touches or at > touches[person_id][0]):
            touches[person_id] = (at, kind)
    return touches

"""The engagement log: group member counts and joins/leaves, as the bot observes them."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from gridbot.models.entities import MemberEvent, MemberSnapshot
from gridbot.models.enums import MemberEventKind


def _aware(now: datetime) -> datetime:
    if now.tzinfo is None:
        raise ValueError("naive datetime: pass a timezone-aware time")
    return now


def record_member_snapshot(session: Session, group_id: int, count: int, now: datetime) -> MemberSnapshot:
    """Record a group's member count at `now` (入群率 reads the latest one before a period end)."""
    if count < 0:
        raise ValueError("member count cannot be negative")
    snapshot = MemberSnapshot(group_id=group_id, member_count=count, taken_at=_aware(now))
    session.add(snapshot)
    session.flush()
    return snapshot


def record_member_event(
    session: Session, group_id: int, person_id: int, kind: MemberEventKind, now: datetime
) -> MemberEvent:
    """Record that a person joined or left a group at `now`."""
    event = MemberEvent(group_id=group_id, person_id=person_id, kind=MemberEventKind(kind), at=_aware(now))
    session.add(event)
    session.flush()
    return event

"""The engagement log helpers the bot calls when it observes a group."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from gridbot.models.entities import ChatGroup, MemberEvent
from gridbot.models.enums import MemberEventKind
from gridbot.models.messaging.engagement import record_member_event, record_member_snapshot
from gridbot.models.metrics import Period, Scope, scope_metrics
from tests.conftest import World

NOON = datetime(2026, 3, 10, 4, tzinfo=UTC)


def test_snapshots_feed_membership_rate(session_factory: sessionmaker[Session], world: World) -> None:
    with session_factory.begin() as s:
        group = s.scalar(select(ChatGroup).where(ChatGroup.room_id == world.room))
        assert group is not None
        record_member_snapshot(s, group.id, 120, NOON)
        record_member_snapshot(s, group.id, 150, NOON.replace(hour=5))
        record_member_event(s, group.id, world.resident, MemberEventKind.JOIN, NOON)
    with session_factory() as s:
        g = scope_metrics(s, Scope.grids(world.grid), Period.local_month(2026, 3)).by_grid(world.grid)
        events = s.scalars(select(MemberEvent)).all()
    assert (g.members, g.membership_rate) == (150, 0.5)  # 150 of 300 households
    assert [(e.person_id, e.kind, e.at) for e in events] == [(world.resident, MemberEventKind.JOIN, NOON)]


def test_bad_input_is_refused(session_factory: sessionmaker[Session], world: World) -> None:
    with session_factory() as s:
        with pytest.raises(ValueError, match="negative"):
            record_member_snapshot(s, 1, -1, NOON)
        with pytest.raises(ValueError, match="naive"):
            record_member_event(s, 1, world.resident, MemberEventKind.LEAVE, datetime(2026, 3, 1))

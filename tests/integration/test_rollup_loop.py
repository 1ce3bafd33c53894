"""The bot keeps the metric rollups current: what happened in the group shows in the rollups."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from bot.app import Runtime
from models.entities import Grid, RollupDay
from models.rollups import local_today
from tests.integration.conftest import Group

pytestmark = [pytest.mark.integration, pytest.mark.anyio]


async def test_refresh_rollups_picks_up_todays_messages(group: Group, runtime: Runtime) -> None:
    since = group.clock.now
    await group.report("3栋2单元楼道灯又坏了，晚上黑灯瞎火的")
    await group.say("刘师傅", "早上好👍")
    assert runtime.refresh_rollups(since, group.clock.now)
    with runtime.sessions() as session:
        grid_id = session.scalars(select(Grid.id).where(Grid.code == "WTS-01")).one()
        day = session.scalars(
            select(RollupDay).where(
                RollupDay.level == "grid",
                RollupDay.node_id == grid_id,
                RollupDay.day == local_today(group.clock.now),
            )
        ).one()
        assert day.resident_messages == 2 and day.households == 320
    # a second instance holding the lock makes this one skip, not double the work
    with runtime.coordinator.lock("rollups", ttl_s=60):
        assert not runtime.refresh_rollups(since, group.clock.now + timedelta(minutes=1))

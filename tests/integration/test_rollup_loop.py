"""The bot keeps the metric rollups current: what happened in the group shows in the rollups."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

import pytest
from sqlalchemy import select

from gridbot.bot.app import Runtime
from gridbot.models.entities import Grid, Message, RollupDay
from gridbot.models.enums import MessageDirection
from gridbot.models.metrics.rollups import local_today
from gridbot.models.settings import RetentionSettings
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


async def test_the_retention_purge_blanks_old_text_once_and_one_instance_at_a_time(
    group: Group, runtime: Runtime
) -> None:
    await group.report("3栋2单元楼道灯又坏了，我电话13812345678")
    later = group.clock.now + timedelta(days=31)
    assert runtime.purge_text(later) == 0  # retention off by default: nothing is purged
    kept = replace(
        runtime,
        settings=runtime.settings.model_copy(update={"retention": RetentionSettings(message_text_days=30)}),
    )
    with kept.coordinator.lock("retention", ttl_s=60):  # another instance is purging
        assert kept.purge_text(later) == 0
    assert kept.purge_text(group.clock.now + timedelta(days=29)) == 0  # not old enough yet
    assert kept.purge_text(later) >= 1
    assert kept.purge_text(later) == 0
    with runtime.sessions() as session:
        texts = session.scalars(
            select(Message.text).where(Message.direction == MessageDirection.INBOUND)
        ).all()
    assert texts and all("13812345678" not in (t or "") and "楼道灯" not in (t or "") for t in texts)

"""Resident participation (积分): points from valid reports, ratings and notice confirmations only,
and the monthly thank-you list posted once per group, names masked unless the resident chooses."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select, text

from gridbot.models import jobs, participation
from gridbot.models.entities import Outbox
from gridbot.models.settings import ParticipationSettings, get_settings
from tests.integration.conftest import ROOM, Group

pytestmark = [pytest.mark.anyio, pytest.mark.integration]

LAMP = "3栋2单元楼道灯又坏了，晚上黑灯瞎火的"
LAMP_AGAIN = "3栋2单元的楼道灯坏了好几天了，晚上太黑了"  # a duplicate: joins the lamp's ticket
TRASH = "小区东门的垃圾桶满了好几天没人清理，太臭了"
RULES = ParticipationSettings(enabled=True)
# the replayed group lives in March 2026; the list for March goes out from 10:00 on 1 April (Shanghai)
APRIL_1_0930 = datetime(2026, 4, 1, 1, 30, tzinfo=UTC)
APRIL_1_1030 = datetime(2026, 4, 1, 2, 30, tzinfo=UTC)
APRIL_4_1030 = datetime(2026, 4, 4, 2, 30, tzinfo=UTC)


@pytest.fixture
def enabled(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """GRIDBOT_PARTICIPATION__ENABLED=true for the chat commands."""
    monkeypatch.setenv("GRIDBOT_PARTICIPATION__ENABLED", "true")
    get_settings.cache_clear()
    yield
    monkeypatch.delenv("GRIDBOT_PARTICIPATION__ENABLED")
    get_settings.cache_clear()


async def _a_month_of_participation(group: Group) -> None:
    """张阿姨: a report, its rating, a 收到, chatter. 刘师傅: a duplicate, a 收到. 赵大爷: a report sent back."""
    lamp = await group.report(LAMP, "张阿姨")
    assert await group.report(LAMP_AGAIN, "刘师傅") == lamp
    trash = await group.report(TRASH, "赵大爷")
    await group.say("小王", f"退回 #{trash} 不属于本网格")
    for chatter in ("大家早上好", "今天天气不错", "哈哈哈"):
        await group.say("张阿姨", chatter)
    await group.say("小王", f"办结 #{lamp} 已换灯泡")
    assert "感谢您的评价" in await group.say("张阿姨", "1")
    await group.say("小王", "通知 明天上午9点到12点停水，请提前储水")
    for name in ("张阿姨", "刘师傅", "张阿姨"):  # a second 收到 is still one confirmation
        await group.say(name, "收到")


async def test_points_count_valid_reports_ratings_and_confirmations_only(group: Group, enabled: None) -> None:
    await _a_month_of_participation(group)
    zhang = await group.say("张阿姨", "积分")
    assert zhang.startswith(
        "您2026年3月的积分：4 分（有效反映 1 条、评价 1 次、确认通知 1 次）；2026年2月 0 分"
    )
    assert "感谢榜上显示为：姓名打码" in zhang
    assert (await group.say("刘师傅", "积分")).startswith("您2026年3月的积分：1 分（有效反映 0 条")
    assert (await group.say("赵大爷", "我的积分")).startswith("您2026年3月的积分：0 分")


async def test_the_monthly_list_is_posted_once_with_names_masked_by_choice(
    group: Group, enabled: None
) -> None:
    await _a_month_of_participation(group)
    assert await group.say("刘师傅", "积分 实名") == "好的，以后感谢榜上显示您的群昵称"
    sessions, coordinator = group.runtime.sessions, group.runtime.coordinator

    assert jobs.post_monthly_thanks(sessions, coordinator, APRIL_1_0930, RULES) == 0  # before 10:00
    assert jobs.post_monthly_thanks(sessions, coordinator, APRIL_1_1030, RULES) == 1
    assert jobs.post_monthly_thanks(sessions, coordinator, APRIL_1_1030 + timedelta(hours=1), RULES) == 0
    with sessions() as session:
        (posted,) = session.scalars(select(Outbox).where(Outbox.dedupe_key.startswith("thanks:"))).all()
        assert (posted.dedupe_key, posted.room_id) == (f"thanks:2026-03:{ROOM}", ROOM)
        lines = posted.text.splitlines()
    assert lines[0].startswith("【2026年3月感谢榜】")
    assert lines[1:3] == ["1. 张** 4 分", "2. 刘师傅 1 分"]  # 赵大爷: a report sent back earns nothing
    assert "闲聊和重复反映不计分" in lines[-1]

    assert await group.say("张阿姨", "积分 不上榜") == "好的，以后您不上感谢榜，积分照常累计"
    with sessions() as session:
        shown = participation.board(session, 1, participation.previous_month(APRIL_1_1030), RULES)
        assert [e.name for e in shown] == ["刘师傅"]


async def test_nothing_is_posted_when_off_or_outside_the_window(group: Group) -> None:
    await _a_month_of_participation(group)
    sessions, coordinator = group.runtime.sessions, group.runtime.coordinator
    assert await group.say("张阿姨", "积分") == "本群暂未开启居民积分"  # off by default
    assert jobs.post_monthly_thanks(sessions, coordinator, APRIL_1_1030, ParticipationSettings()) == 0
    assert jobs.post_monthly_thanks(sessions, coordinator, APRIL_4_1030, RULES) == 0  # too late for March
    with sessions() as session:
        assert session.scalars(select(Outbox).where(Outbox.dedupe_key.startswith("thanks:"))).all() == []


def test_months_are_local_calendar_months() -> None:
    march = participation.month_of(datetime(2026, 3, 10).date())
    assert (march.start, march.end) == (
        datetime(2026, 2, 28, 16, tzinfo=UTC),
        datetime(2026, 3, 31, 16, tzinfo=UTC),
    )
    assert participation.previous_month(datetime(2026, 1, 1, 2, tzinfo=UTC)).key == "2025-12"
    assert participation.this_month(datetime(2026, 3, 31, 16, 30, tzinfo=UTC)).key == "2026-04"
    assert participation.starred("张阿姨") == "张**" and participation.starred("李") == "李*"


async def test_one_instance_posts_while_another_holds_the_job(group: Group) -> None:
    await _a_month_of_participation(group)
    sessions, coordinator = group.runtime.sessions, group.runtime.coordinator
    with coordinator.lock(jobs.PARTICIPATION, ttl_s=60) as held:  # another instance's coordinator lock
        assert held.acquired
        assert jobs.post_monthly_thanks(sessions, coordinator, APRIL_1_1030, RULES) is None
    engine = group.runtime.engine
    if engine.dialect.name == "postgresql":  # the database-side guard, for when Redis is lost
        key = int.from_bytes(
            hashlib.blake2b(b"gridbot:participation", digest_size=8).digest(), "big", signed=True
        )
        with engine.connect() as conn, conn.begin():
            conn.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": key})
            assert jobs.post_monthly_thanks(sessions, coordinator, APRIL_1_1030, RULES) is None
    assert jobs.post_monthly_thanks(sessions, coordinator, APRIL_1_1030, RULES) == 1

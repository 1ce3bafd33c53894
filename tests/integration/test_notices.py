"""Notices with acknowledgement (知晓率): three of five members confirm, the reminder @-mentions the
other two once, 通知情况 and the per-grid rate say the same."""

from __future__ import annotations

from datetime import timedelta

import pytest

from gridbot.handlers.notices import is_ack
from gridbot.models.messaging import notices
from tests.integration.conftest import T0, Group

pytestmark = [pytest.mark.anyio, pytest.mark.integration]
MEMBERS = ["张阿姨", "刘师傅", "赵大爷", "钱奶奶", "孙先生"]


async def test_three_of_five_confirm_and_the_reminder_names_the_other_two(group: Group) -> None:
    for name in MEMBERS:  # members the bot knows: everyone who has spoken in the group
        await group.say(name, "大家早上好")
    sent, _ = await group.play([{"name": "小王", "text": "通知 明天上午9点到12点停水，请提前储水"}])
    (posted,) = sent
    assert posted.text.startswith("【通知】明天上午9点到12点停水") and "通知 #1" in posted.text
    assert posted.mention_ids == ()

    # 收到 / a quote-reply with 👌 / 好的收到，谢谢 count; a question about the notice does not
    assert await group.say("张阿姨", "收到") == ""
    assert await group.say("刘师傅", "👌", quote=posted.text) == ""
    assert await group.say("赵大爷", "好的收到，谢谢！") == ""
    await group.say("钱奶奶", "停水几点恢复啊？")
    await group.say("张阿姨", "收到")  # twice: still one confirmation

    status = await group.say("小王", "通知情况 #1")
    assert "知晓率 3/5（60%）" in status
    assert "未确认：钱奶奶、孙先生" in status

    # the reminder fires once, after the set time (240 min by default), naming the two
    sent, _ = await group.play([{"name": "陈网格长", "text": "今天辛苦大家", "t": timedelta(hours=5)}])
    reminders = [m for m in sent if m.text.startswith("【提醒】")]
    assert len(reminders) == 1
    assert set(reminders[0].mention_ids) == {"wx-钱奶奶", "wx-孙先生"}
    sent, _ = await group.play([{"name": "陈网格长", "text": "明天见", "t": timedelta(hours=9)}])
    assert not [m for m in sent if m.text.startswith("【提醒】")]

    with group.runtime.sessions() as session:
        (rate,) = notices.ack_rates(session, [1], T0 - timedelta(days=1), T0 + timedelta(days=1)).values()
        assert (rate.notices, rate.targets, rate.acked) == (1, 5, 3) and rate.rate == pytest.approx(0.6)


async def test_residents_cannot_post_notices_and_bad_usage_is_explained(group: Group) -> None:
    await group.say("张阿姨", "通知 明天开会")  # a resident's line: not a command, nothing posted
    with group.runtime.sessions() as session:
        assert notices.status(session, 1) is None
    assert "格式不对" in await group.say("小王", "通知")
    assert "没有找到通知 #9" in await group.say("小王", "通知情况 #9")
    assert await group.say("张阿姨", "收到") == ""  # nothing to confirm: plain chatter, no reply


def test_what_counts_as_a_confirmation() -> None:
    for text in [
        "收到",
        "收到！",
        "已收到",
        "收到了，谢谢",
        "好的收到",
        "已阅",
        "👌",
        "👍👍",
        "OK",
        "好的",
        "知道了",
    ]:
        assert is_ack(text), text
    for text in ["收到的快递放哪了", "1", "停水几点恢复", "好", "不知道", "满意", ""]:
        assert not is_ack(text), text

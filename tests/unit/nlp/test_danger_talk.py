"""Danger words in talk that reports nothing now, and the lone-person welfare check (issue 14, session 7).

Each case is written here in new words for a class seen in held-out corpus files: recollections, figures of
speech about food and heat, films and games, lessons and drills, a friend's or relative's place, people already
out; and the rule of TAXONOMY §3 for a person living alone who gives no sign of life for days.
"""

from __future__ import annotations

import pytest

from tests.unit.nlp.live_cues import live


@pytest.mark.parametrize(
    "text",
    [
        "年轻时候在纺织厂 车间着过一次大火 我们都是从窗户爬出去的",
        "记得九几年那会儿 院里有户人家煤气中毒 幸亏送得早",
        "那回我家高压锅爆了 吓得我半天没缓过来",
        "那时候冬天都烧煤球 一氧化碳中毒的年年都有",
        "这麻辣烫辣得我嗓子眼都着火了",
        "中午出去取个快递 热得我头顶冒烟",
        "昨晚看了个灾难片 整栋楼着火 看得我一身汗",
        "儿子在玩那个生存游戏 说他家被洪水淹了 哭着要重开",
        "急救课上老师教 有人晕倒了先拍肩膀喊他",
        "消防员来小区模拟火灾逃生 孩子们排队体验烟雾帐篷",
        "我同事说她们厂里着火了 全部人都撤出来了",
        "上午五栋电梯关人那个 人已经出来了 没事",
        "这家的榴莲千层太好吃了 我要晕倒了",
    ],
)
def test_talk_with_danger_words_raises_no_alarm(text: str) -> None:
    assert live(text) == []


@pytest.mark.parametrize(
    ("text", "kind"),
    [
        ("车库那辆电动车冒烟了 火苗已经出来了", "fire"),
        ("他们俩打起来了 一个拿酒瓶砸 血都出来了", "fight"),
        ("六楼那个一个人住的王伯 四天没下楼了 敲门也没动静", "person_at_risk"),
        ("独居的刘阿姨好几天不见人 电话一直关机", "person_at_risk"),
    ],
)
def test_danger_now_stays_live(text: str, kind: str) -> None:
    assert kind in live(text), (text, live(text))


def test_a_lone_person_silent_only_for_an_afternoon_is_not_yet_urgent() -> None:
    assert "person_at_risk" not in live("我爸一个人住 今天下午打电话没人接 估计又去钓鱼了")
    assert "person_at_risk" in live("我爸一个人住 三天了打电话都没人接 敲门也不开")


def test_people_out_of_a_gas_leak_leave_the_leak_live() -> None:
    assert "gas_leak" in live("厨房燃气管嘶嘶漏气 一股燃气味 我们人已经出来了")

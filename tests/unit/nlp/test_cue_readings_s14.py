"""Issue 14, session 14: readings of danger cues and chatter forms found on the retired blind9 set, each both ways.

Every probe is our own wording, never a message of an evaluation set. Each class lists messages whose cue must not
be live and neighbours whose cue must stay live (a rule too narrow fails the first list, one too broad the second).
"""

from __future__ import annotations

import pytest

from gridbot.nlp.forms import adds_own_report, asks_neighbours, chatter_form
from gridbot.nlp.normalize import normalize
from gridbot.nlp.urgency import is_news
from tests.unit.nlp.live_cues import assert_both_ways

CUE_CLASSES = [
    (
        "the fault fixed at its source",
        ["燃气的人来看了 是减压阀坏了在漏气 已经关了总阀", "插座冒火花 电工说是线老了 已经换了新的"],
        ["漏气了 阀门关不上 快来人看看", "已经关了阀门 可是还在漏气"],
    ),
    (
        "people going into the water to pull someone out are the rescuers",
        ["救生圈扔下去了 两个保安也落水去捞了"],
        ["桥下有人落水了 快去拉", "有个孩子落水 在扑腾"],
    ),
    (
        "an injury told after the person was taken away",
        ["120到了 人已经抬走了 是三楼的王姐 手腕骨折", "保安把大爷送到社区医院了 他是在楼梯口晕倒的"],
        ["人抬走了一个 还有个工人压在下面", "楼下有人摔倒了 腿骨折了 快叫120"],
    ),
    (
        "stuck in a job or an exam, not shut in",
        ["考公考了三年 还被困在原地", "工资一年没涨 感觉被困在这份工作里了"],
        ["加班到十点 电梯坏了被困在里面 快来人", "老板被困在仓库里了 门打不开"],
    ),
    (
        "a flame where it belongs",
        ["燃气灶修好了 火苗又稳又蓝", "生日蛋糕的蜡烛火苗一晃一晃的 真好看"],
        ["灶上的火苗窜到油烟机上了", "炉子的火苗越来越大 快烧到窗帘了"],
    ),
    (
        "a fire said to be far from here",
        ["北边山上好大的烟 离我们村还远", "浓烟滚滚的 是河对岸的厂子 隔得挺远"],
        ["浓烟好大 离我们楼不远 快下楼", "楼道里全是烟 远远就闻到焦味了"],
    ),
    (
        "a story of the past ends where the message turns back to here",
        ["小时候听我爷爷讲 村里着过一次大火 烧了半条街", "前几年我们楼也冒过烟 后来查是线老化"],
        [
            "去年听说隔壁镇的仓库着火了 没想到今天咱们这边也冒黑烟了",
            "前阵子看新闻说别处燃气爆炸 没想到我们楼道也一股煤气味",
        ],
    ),
    (
        "a neighbour who streams is no screen",
        [
            "昨晚刷到个主播说她家楼道着火了",
            "看直播有个主播爬山摔下去了",
            "那个主播昨天直播说有人晕倒了 真的假的",
        ],
        ["楼下那个做主播的小伙子晕倒在门口了 叫不醒", "隔壁的主播姐姐家冒黑烟了 快来人"],
    ),
    (
        "a rotten-egg smell, a family dizzy and sick",
        ["一家人都吃撑了 晕乎乎的想睡觉", "鸡蛋放坏了 扔了一板"],
        ["卫生间有股坏鸡蛋的味道 越来越浓", "我们全家都晕乎乎地想吐 厨房有股怪味"],
    ),
    (
        "things still thrown from height",
        ["上个月有人往下扔过一个瓶子", "楼上往下扔烟头 希望物业贴个告示"],
        ["有人从楼上往下扔衣架 扔了好几个了 还在扔", "7楼一直在往下泼脏水 楼下有人"],
    ),
    (
        "a lift said to have nobody inside",
        ["货梯停在四楼不动了 没人在里面"],
        ["电梯卡住了 人在里面出不来", "电梯停在两层中间 我妈在里面"],
    ),
]


@pytest.mark.parametrize(("name", "quiet", "loud"), CUE_CLASSES, ids=[c[0] for c in CUE_CLASSES])
def test_cue_reading(name: str, quiet: list[str], loud: list[str]) -> None:
    assert_both_ways(name, quiet, loud)


@pytest.mark.parametrize(
    ("text", "form"),
    [
        ("二期的电梯能坐了 谢谢师傅辛苦", "fixed"),  # working again, with no 已经
        ("热水总算可以用了 感谢物业", "fixed"),
        ("电梯又不能坐了", None),
        ("我们把老人抬上车了 往县医院去了 救护车在路口接", "on_it"),  # on the way to hospital
        ("救护车来了 人拉走了 是五楼的小伙子 手摔断了", "on_it"),
        ("救护车来了又走了 人还躺在地上", None),
        ("记得去年那次社区春晚吗 今年还搞不搞", None),  # asks about this year
        ("记得去年社区春晚那次 真热闹", "recollection"),
        ("前年那回停水 折腾了三天 今年可别这样了", "recollection"),  # a hope about this year asks nothing
    ],
)
def test_chatter_form_s14(text: str, form: str | None) -> None:
    assert chatter_form(normalize(text)) == form


@pytest.mark.parametrize(
    ("text", "ask"),
    [
        ("这会儿哪家诊所还开着门", True),  # which shop is open: the neighbours know
        ("晓得是谁家的车吗 挡住路了", True),
        ("社区卫生站几点开门", False),
        ("网格员 你知道低保在哪办吗", False),
        ("晓得不 办居住证要不要带租房合同", False),  # 晓得不 is a tag on a question to the community
    ],
)
def test_neighbours_asked_s14(text: str, ask: bool) -> None:
    assert asks_neighbours(normalize(text)) is ask


@pytest.mark.parametrize(
    ("text", "news", "own"),
    [
        ("给老家打了个电话 说那边大水进村了 我们这边倒是还好", True, False),
        ("我在老家 听邻居说我家楼上漏水了", False, True),
        ("老家来电话说山上着火了 我们这边也冒烟了", True, True),
    ],
)
def test_news_from_home_by_phone(text: str, news: bool, own: bool) -> None:
    n = normalize(text)
    assert (is_news(n), adds_own_report(n)) == (news, own)

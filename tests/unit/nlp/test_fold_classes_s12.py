"""Issue 14, session 12: classes of cause found on held-out corpus folds (benchmarks/lofo.py), each both ways.

Every probe is our own wording, never a message of a fold or an evaluation set. Each class lists messages that must
change (a cue no longer live, an ask read as the neighbours') and look-alikes that must stay as they were.
"""

from __future__ import annotations

import pytest

from gridbot.nlp.base import asks_neighbours, chatter_form
from gridbot.nlp.normalize import normalize
from tests.unit.nlp.live_cues import assert_both_ways

CUE_CLASSES = [
    (
        "a cleft 是…的 tells how a past fall happened, to ask for a repair",
        [
            "我爸就是在这个台阶上摔倒的 赶紧装个扶手吧",
            "上回那个小孩就是从这段护栏掉下去的，护栏得加高",
            "我家老太太是在楼道那块破砖上绊倒晕过去的 得修",
        ],
        ["是我家孩子掉下去了 快救人", "孩子从桥上掉下去了 快来人", "有个老人晕过去了 是在3栋门口"],
    ),
    (
        "a rule of what to do when it happens",
        ["闻到煤气味就马上开窗关阀门", "手脚发麻 嘴歪就赶紧打急救", "家里进水就要先拉电闸"],
        ["老人嘴歪了 赶紧送医院", "着火了 赶紧跑", "楼道一股煤气味 马上来人看看"],
    ),
    (
        "the past of a week ago said with 个",
        ["上个礼拜四楼有人晕过去了 还没人来宣传烧炉子的事", "上个星期车库进水了 今天还一股霉味"],
        ["上个礼拜刚修的电梯 现在又困人了", "我家一楼现在进水了 水越来越深"],
    ),
    (
        "damage done and compensation asked for",
        ["老王家地板全泡了 这得谁赔啊", "仓库的货全泡了 损失找谁", "家具家电都泡了 社区有受灾补助吗"],
        ["水还在往屋里灌 家具都泡了 谁赔啊", "楼上水管爆了 水往我家灌 家具全泡了", "屋里水到膝盖了 快来人"],
    ),
    (
        "a thing, not a person, fell in",
        ["路口井盖没了 昨晚一辆电动车的轱辘掉进去了", "三轮车的轮子掉进排水沟里了 卡住拉不出来"],
        ["井盖没了 有个老人掉进去了", "有个小孩掉进排水沟里了"],
    ),
    (
        "a cue spanning clauses carries its worry inside it",
        ["我家住平房 就怕进水 社区发沙袋吗", "老小区一楼的 最怕进水了"],
        ["我家一楼 水往里灌 快来人", "我家住平房 屋里进水了 水到膝盖了"],
    ),
    (
        "leaves or fruit falling are no structure failing",
        [
            "院里的梧桐树叶子一片一片往下掉 扫都扫不完",
            "阳台上的绿萝叶子一片一片的掉 是不是浇水多了",
            "柚子树叶发黄了 一片一片往下掉",
        ],
        [
            "外墙的瓷砖一块一块往下掉 快拉警戒线",
            "楼顶的广告牌还在往下掉东西",
            "树叶落了一地 外墙瓷砖一块一块往下掉",
        ],
    ),
    (
        "sparks of fireworks are no live line",
        ["楼上有人放烟花 火星子掉到我家雨棚上了", "小孩在楼道里玩呲花 冒火星 说了也不听"],
        ["电线杆上的线在冒火星子", "楼道电箱一直在打火花 噼啪响"],
    ),
    (
        "stuffy air, not a person who cannot breathe",
        ["电梯里没空调 闷得喘不过气", "车库通风机坏了 闷得人喘不过气来"],
        ["老人在电梯里喘不过气 嘴唇发紫", "我妈突然喘不过气了 快叫120"],
    ),
]


@pytest.mark.parametrize(("name", "quiet", "loud"), CUE_CLASSES, ids=[c[0] for c in CUE_CLASSES])
def test_cue_reading(name: str, quiet: list[str], loud: list[str]) -> None:
    assert_both_ways(name, quiet, loud)


SIGHTINGS = [  # the group asked whether anyone saw a pet or a belonging
    "谁看见一串车钥匙 上面挂个小熊",
    "有没有人看到一只白色泰迪 下午在东门跑丢的",
    "有人瞧见我家的大鹅没 一早就不见了",
]
SIGHTING_LOOKALIKES = [  # a theft, or the community asked to act
    "有人看到谁把我的电动车偷了吗",
    "有人看见3栋门口的井盖没了吗 物业快来",
    "谁看见楼道里那个灭火器不见了 社区管管",
]


@pytest.mark.parametrize("text", SIGHTINGS)
def test_asking_the_group_for_a_sighting_asks_neighbours(text: str) -> None:
    assert asks_neighbours(normalize(text))


@pytest.mark.parametrize("text", SIGHTING_LOOKALIKES)
def test_a_theft_or_a_report_is_no_sighting_ask(text: str) -> None:
    assert not asks_neighbours(normalize(text))


@pytest.mark.parametrize(
    ("text", "form"),
    [
        ("想问问 大家都用的哪家的宽带 网速行不行", "group_ask"),
        ("桶装水大家一般买的啥牌子", "group_ask"),
        ("大家都说电梯坏了 物业什么时候修", None),
        ("宽带坏了三天 大家都装的哪家 我们这家没人来修", None),
    ],
)
def test_asking_the_neighbours_choice_is_a_group_ask(text: str, form: str | None) -> None:
    assert chatter_form(normalize(text)) == form


@pytest.mark.parametrize(
    ("text", "to_neighbours"),
    [
        ("有人知道隔壁社区打疫苗排队的人多不多", True),
        ("谁知道别的社区老年卡是怎么办的", True),
        ("有人知道社区打疫苗几点开始吗", False),  # our own community: the question is for it
        ("谁知道社区的电话 我家水管爆了", False),
    ],
)
def test_another_community_named_is_no_authority_asked(text: str, to_neighbours: bool) -> None:
    assert asks_neighbours(normalize(text)) is to_neighbours


@pytest.mark.parametrize(
    ("text", "form"),
    [
        ("骑电动车上下班的 注意点 桥头那段路特别滑", "advice"),
        ("家里有老人的 记得把燃气阀关好", "advice"),
        ("晚上遛狗的朋友们 小心点 河边没有栏杆", "advice"),
        ("走北门那条路的 注意 井盖又没了", None),  # something wrong now
        ("3栋的 电梯坏了 注意点", None),
        ("楼上装修的 别再砸墙了 我家墙都裂了", None),
        ("走东门的 小心 路灯坏了好几天了 物业也不管", None),
    ],
)
def test_people_addressed_by_what_they_do_are_advised(text: str, form: str | None) -> None:
    assert chatter_form(normalize(text)) == form

"""Issue 14, session 13: readings of danger cues found on the retired blind8 set, each both ways.

Every probe is our own wording, never a message of an evaluation set. Each class lists messages whose cue must not
be live and neighbours whose cue must stay live (a rule too narrow fails the first list, one too broad the second).
"""

from __future__ import annotations

import pytest

from gridbot.nlp.base import chatter_form
from gridbot.nlp.normalize import normalize
from gridbot.nlp.urgency import is_over
from tests.unit.nlp.live_cues import assert_both_ways

CUE_CLASSES = [
    (
        "a near miss did not happen",
        ["隔壁大爷昨晚散步差点掉进没盖的井里", "井盖没了 刚才一个骑车的小伙子险些掉下去"],
        ["井盖没了 刚才一个骑车的小伙子掉下去了 腿在流血", "我妈下楼梯摔倒了起不来"],
    ),
    (
        "a heart that bleeds or a body part on fire is a feeling",
        ["基金又跌了 我的心在流血", "听了一晚上摇滚 耳朵都要着火了", "月底对账 脑子要冒烟了 烦"],
        ["他手上在流血 止不住", "楼顶在冒烟 一股焦味"],
    ),
    (
        "a thing rescued, or a rescue asked around a figure, is a figure",
        ["谁来救救我的发际线", "期末复习被困在第五章了 谁来救救我", "这道数学题困住我一晚上了 救救孩子吧"],
        ["快来人 谁来救救我的孩子 他掉进河里了", "电梯停在七楼 里面有个老人 谁来救救他"],
    ),
    (
        "sparks from a fire lit on purpose are a hazard",
        ["单元门口有人烧纸钱 火星子飘得到处都是", "楼下电焊不挡一下 火星子乱溅到车棚"],
        ["楼道电箱一直在冒火花 啪啪响", "烧纸的地方旁边那根电线在冒火花"],
    ),
    (
        "what if, after a hazard described",
        ["楼道里堆满了纸箱杂物 着火了怎么办", "好多人在车棚拉插排充电 起火了咋整"],
        ["三楼着火了怎么办 快来人", "车棚电动车着火了 现在烟好大"],
    ),
    (
        "the bill asked about after the injury",
        ["我爸修屋顶摔骨折了 住院费能不能报销", "孩子被狗咬了 这个药费有补助吗"],
        ["我爸从屋顶摔下来了 腿在流血 快叫120", "孩子被狗咬了 血止不住"],
    ),
    (
        "a levee giving way, a person in water to the chest, any lift with people in it",
        ["堤坝上的草该割了", "车库进水了 水到腰了 车都泡了", "货梯坏了好几天 搬东西只能走楼梯"],
        [
            "村西头大堤底下在冒浑水 越来越大",
            "巷子里水齐了她的腰 还在往前走",
            "商场观光梯停了 里面有人在拍玻璃",
            "货梯卡在三楼和四楼中间 里面有两个送货的",
        ],
    ),
]


@pytest.mark.parametrize(("name", "quiet", "loud"), CUE_CLASSES, ids=[c[0] for c in CUE_CLASSES])
def test_cue_reading(name: str, quiet: list[str], loud: list[str]) -> None:
    assert_both_ways(name, quiet, loud)


@pytest.mark.parametrize(
    ("text", "over"),
    [
        ("全楼的人都撤出来了 在操场等着", True),
        ("我们已经从楼里跑出来了 家里人都平安", True),
        ("大家快下楼 楼里还有好多人", False),
        ("人都在楼上 下不来", False),
    ],
)
def test_everyone_out_is_over_for_the_priority_head(text: str, over: bool) -> None:
    assert is_over(normalize(text)) is over


@pytest.mark.parametrize(
    ("text", "ask"),
    [
        ("李姐 你家闺女的钢琴老师在哪找的", True),
        ("您家装的净水器哪个牌子 好用不", True),
        ("你家空调外机滴水 滴到我家窗台上了", False),
        ("你家狗天天半夜叫 能不能管一下", False),
    ],
)
def test_one_neighbour_asked_about_their_own_choice(text: str, ask: bool) -> None:
    assert (chatter_form(normalize(text)) == "group_ask") is ask

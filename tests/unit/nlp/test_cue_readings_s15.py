"""Issue 14, session 15: readings of danger cues and chatter forms found on the retired blind10 set, each both ways.

Every probe is our own wording, never a message of an evaluation set. Each class lists messages whose cue must not
be live and neighbours whose cue must stay live (a rule too narrow fails the first list, one too broad the second).
"""

from __future__ import annotations

import numpy as np
import pytest

from gridbot.nlp.base import decide
from gridbot.nlp.forms import chatter_form, tells_not_asks
from gridbot.nlp.normalize import normalize
from gridbot.nlp.taxonomy import load_taxonomy
from gridbot.nlp.urgency import is_news
from tests.unit.nlp.live_cues import assert_both_ways, live

CUE_CLASSES = [
    (
        "a drill said to be over is no drill",
        ["消防演练开始了 楼道里放了烟雾 大家别慌", "演练用的烟饼点着了 别害怕"],
        ["演练早就结束了 三楼现在真的冒黑烟", "不是演习 演习上午就搞完了 车棚那边着火了"],
    ),
    (
        "it might happen, said in dialect",
        ["井盖被偷了 整不好谁晚上就掉进去", "路口那个坑 保不齐哪天有人摔进去"],
        ["阀门弄不好 一直在漏气 快来人", "井盖没了 刚才有个小孩掉进去了"],
    ),
    (
        "stains and marks are no water",
        ["楼上漏过水 我家天花板全是水印", "卧室墙上全是水渍 楼上就是不认"],
        ["楼上漏水 我家卫生间全是水", "我家客厅全是水 还在往下滴"],
    ),
    (
        "rotting rubbish is no gas",
        ["垃圾箱好几天没人清 一股臭鸡蛋味", "下水道返上来一股坏鸡蛋的味道 恶心死了"],
        ["厨房一股臭鸡蛋味 燃气灶没开", "楼道里有股坏鸡蛋味 越来越浓"],
    ),
    (
        "the smoke of straw or leaves burnt on purpose, drifting here",
        ["邻村烧秸秆 烟都飘到我们村了 呛得不行", "河边有人烧落叶 烟吹进我们院里了 呛死人"],
        ["以为是烧秸秆 结果是我们柴房冒黑烟了", "邻村烧秸秆的火烧到我们村的草垛了"],
    ),
    (
        "a screen story turned back to here by coming home",
        ["刷到一个燃气爆炸的视频 回家赶紧检查了一下阀门"],
        ["刚刷到一个着火的视频 结果到家一开门屋里全是烟", "看了个煤气泄漏的新闻 结果进门就闻到一股煤气味"],
    ),
    (
        "a confused elder gone, said in Minnan",
        ["阿嬷的老花镜揣无", "我家的猫走出去揣无着"],
        ["阿嬷老人痴呆 下晡出门到今揣无人", "阿公有点糊涂 早起出去找无人"],
    ),
    (
        "a stove left on is no fire",
        ["灶上开着火炖汤呢 等会儿再下楼", "煤气灶开着火 锅里炖着肉"],
        ["灶上的锅着火了", "厨房着火了 快来人"],
    ),
    (
        "a lost person handed in where the responders are is safe",
        ["捡到个走丢的小孩 已经送到派出所了", "有个糊涂的老爷子找不到家 我们带到警务室了"],
        ["有个小孩走丢了 到处找不到", "我妈老年痴呆 早上出门到现在找不到了"],
    ),
]


@pytest.mark.parametrize(("name", "quiet", "loud"), CUE_CLASSES, ids=[c[0] for c in CUE_CLASSES])
def test_cue_reading(name: str, quiet: list[str], loud: list[str]) -> None:
    assert_both_ways(name, quiet, loud)


@pytest.mark.parametrize(
    "text", ["屋里生着煤炉 老人喊不醒", "烧炭取暖的那户 两个人都叫不应", "煤炉烤了一晚上 早上老两口都喊不应"]
)
def test_fumes_with_someone_unresponsive_are_a_person_at_risk(text: str) -> None:
    """TAXONOMY §4: coal or charcoal fumes with a person down are other_incident (a person at risk), not a gas leak."""
    assert live(text)[:1] == ["person_at_risk"], text


@pytest.mark.parametrize("text", ["提醒大家烧煤炉一定要开窗 防止一氧化碳中毒", "小时候烤炭火 我哥晕过一回"])
def test_fumes_told_as_advice_or_the_past_stay_quiet(text: str) -> None:
    assert not live(text), text


@pytest.mark.parametrize(
    ("spaced", "joined"),
    [
        ("隔 壁 在 砸 墙 吵 死 了", "隔壁在砸墙吵死了"),
        ("楼 道 里 着 火 了", "楼道里着火了"),
        ("电梯 里 有 人 困 住 了 在 12 楼 和 13 楼 中 间", "电梯里有人困住了在12楼和13楼中间"),
        ("我 家 wifi 连 不 上 了", "我家wifi连不上了"),
        ("7 号 楼 A 座 停 电 了", "7号楼A座停电了"),
        ("火 火 火", "火 火 火"),  # three alarm words keep their spaces (and their cue)
        ("收到 收到", "收到 收到"),
        ("电梯 坏 了 没人 修", "电梯 坏 了 没人 修"),
    ],
)
def test_characters_typed_one_by_one_are_the_same_words(spaced: str, joined: str) -> None:
    """TAXONOMY rule 11: spaces between every character never change the reading."""
    assert normalize(spaced) == joined
    assert live(spaced) == live(joined)


def test_a_drill_over_is_no_news() -> None:
    assert not is_news(normalize("演练早结束了 现在2栋真的冒烟了"))
    assert is_news(normalize("下午消防演练 楼道会放烟"))
    assert is_news(normalize("不是演练？我看是演练 烟是白的"))  # a drill still named without its end


@pytest.mark.parametrize(
    ("text", "form"),
    [
        ("迷路的小姑娘我已经交给民警了 家长去派出所接", "on_it"),
        ("走丢的老人送到保安室了 谁家的快去接", "on_it"),
        ("走丢的老人送到保安室了 可是他家人还没来", None),  # something still wrong
    ],
)
def test_a_lost_person_handed_in_is_a_responder_on_it(text: str, form: str | None) -> None:
    assert chatter_form(normalize(text)) == form


@pytest.mark.parametrize(
    ("text", "tells"),
    [
        ("外地户口也能报 要有居住证 具体问教育局", True),
        ("这个得问社保所 他们周三有人", True),
        ("我想问一下社保所在哪", False),
        ("具体问谁啊", False),
    ],
)
def test_telling_whom_to_ask_answers(text: str, tells: bool) -> None:
    assert tells_not_asks(normalize(text)) is tells


def test_an_end_lets_a_chatter_form_outweigh_the_priority_head() -> None:
    """Urgent by the head alone yields to an end (TAXONOMY §3); then a chatter form may decide the kind too."""
    tax = load_taxonomy()
    labels = ["chatter", "other_incident", "other_request"]
    probs = np.array([0.1, 0.85, 0.05])
    handed_in = decide(
        labels, probs, tax, normalize("有个孩子跟家里人走散了 我已经送到警务站了 家长去那边接"), p_urgent=0.95
    )
    lost = decide(labels, probs, tax, normalize("有个孩子跟家里人走散了 在小区门口哭"), p_urgent=0.95)
    assert (handed_in.kind, handed_in.priority) == ("chatter", "normal")
    assert lost.kind == "incident"

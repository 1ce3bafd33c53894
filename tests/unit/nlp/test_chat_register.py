"""Chat-style messages (issue 14, second pass): homophone typos, animals, jokes, replies, topic turns.

Each case is written here, in other words than the evaluation sets, for a cause the chat-style set exposed.
"""

from __future__ import annotations

import numpy as np
import pytest

from gridbot.nlp import urgency
from gridbot.nlp.base import asks_neighbours
from gridbot.nlp.classifier import Classifier
from gridbot.nlp.corpus import Example
from gridbot.nlp.evaluate import matched_registers, register_of
from gridbot.nlp.features import FeatureConfig, analyse, lexicon_features
from gridbot.nlp.normalize import normalize
from tests.unit.nlp.live_cues import live


@pytest.mark.parametrize(
    ("text", "kind"),
    [
        ("厨房里有股媒气的味道", "gas_leak"),  # 媒 for 煤
        ("走廊里燃起味很重", "gas_leak"),  # 起 for 气
        ("楼道里一股燃器味", "gas_leak"),
        ("对面楼冒烟了 谁打119了", "call_for_help"),
        ("我已经叫了120 在门口等", "call_for_help"),
        ("电梯停在三楼不动了 里面还有人", "trapped"),
    ],
)
def test_homophone_typos_and_emergency_numbers_are_live(text: str, kind: str) -> None:
    assert kind in live(text), text


@pytest.mark.parametrize(
    "text",
    [
        "我家猫走丢了 三天没回来",
        "寻猫启事 狸花猫 戴红项圈 前天晚上走丢",
        "楼下有只受伤的小鸟 飞不起来",
        "锅烧干了冒了点烟 已经关火了 没事",
        "微博上说外地有个小区着火了",
        "刷抖音看到别的小区电梯困人",
        "这孩子的作业气得我头冒烟",
        "这局游戏打得手都要着火了",
    ],
)
def test_animals_jokes_media_and_resolved_events_are_not_live(text: str) -> None:
    assert not live(text), text


@pytest.mark.parametrize(
    "text",
    [
        "老人走丢了 穿蓝色外套",
        "遛狗的老大爷摔倒了 起不来",
        "狗把小孩咬了 流了好多血",
        "楼道冒烟了 大家没事吧",  # a question about people is not a resolution
    ],
)
def test_people_stay_people_beside_animals_and_worry(text: str) -> None:
    assert live(text), text


def test_outsiders_here_are_not_news_from_elsewhere() -> None:
    assert urgency.is_news(normalize("外地有个小区着火了"))
    assert not urgency.is_news(normalize("小区里来了几个外地人挨家敲门"))


def test_fire_alarm_number_without_calling_is_not_a_call() -> None:
    assert "call_for_help" not in live("火警电话是119 大家记一下")


@pytest.mark.parametrize(
    "text",
    [
        "回楼上 物业的电话在公告栏上有",
        "回复李姐 社区周三上午能开证明",
        "谁的钥匙掉在3栋门口了",
        "捡到一个钱包 失主速来",
    ],
)
def test_replies_and_lost_and_found_are_addressed_to_neighbours(text: str) -> None:
    assert asks_neighbours(normalize(text))


def test_a_reply_to_neighbours_stays_chatter(default_classifier: Classifier) -> None:
    assert default_classifier.classify("回楼上 物业的电话在公告栏上有 你去看看").kind == "chatter"


def test_a_report_after_a_topic_turn_is_not_drowned_by_chatter(default_classifier: Classifier) -> None:
    chatter = "哈哈哈今天群里真热闹 周末大家都去哪玩了"
    report = default_classifier.classify(chatter + " 对了 我们单元楼道灯坏了一个礼拜了")
    assert report.actionable and report.kind == "incident"
    assert default_classifier.classify(chatter + " 对了 祝大家周末愉快").kind == "chatter"


def test_a_question_about_a_talk_is_a_request_not_news(default_classifier: Classifier) -> None:
    result = default_classifier.classify("社区的反诈讲座在哪里报名")
    assert result.kind == "request"


def test_lexicon_features_count_each_category_at_most_three_times() -> None:
    feats = lexicon_features("垃圾 垃圾 垃圾 垃圾 噪音")
    assert feats.count("#lex:sanitation") == 3
    assert all(f.startswith("#lex:") for f in feats)
    assert "#lex:sanitation" in analyse("楼下垃圾没人收", FeatureConfig())
    assert not lexicon_features("今天天气不错")


def test_calibration_lookup_matches_linear_interpolation(default_classifier: Classifier) -> None:
    calibration = getattr(default_classifier, "calibration", None)
    if calibration is None:
        pytest.skip("the default model has no calibration map")
    xs, ys = calibration
    for p in np.linspace(-0.1, 1.1, 241):
        assert default_classifier.calibrate(float(p)) == pytest.approx(float(np.interp(p, xs, ys)))  # type: ignore[attr-defined]


def test_cross_register_training_sets_have_the_same_labels_in_the_same_numbers() -> None:
    rows = [Example(f"楼道灯坏了，{i}号", "incident", "property", "normal") for i in range(6)]
    rows += [Example(f"楼道灯坏了 {i}号", "incident", "property", "normal") for i in range(3)]
    rows += [Example(f"你好，{i}", "chatter", None, "normal") for i in range(2)]
    rows += [Example(f"你好 {i}", "chatter", None, "normal") for i in range(5)]
    rows += [Example("只有全角的，类别", "request", "health", "normal")]
    subsets = matched_registers(rows)
    assert all(register_of(ex.text) == reg for reg, sub in subsets.items() for ex in sub)
    counts = {reg: sorted(ex.target for ex in sub) for reg, sub in subsets.items()}
    assert counts["full-width"] == counts["plain"] == ["chatter"] * 2 + ["property"] * 3


def test_own_labels_can_weigh_a_letters_subject_line() -> None:
    from gridbot.nlp.selection import FLAT_CANDIDATES

    config = FLAT_CANDIDATES["chars1-3+head"].features
    feats = analyse("关于小区停车难的问题。" + "正文内容很长" * 20 + "结尾的落款", config)
    heads = [f for f in feats if f.startswith("h:")]
    assert "h:停车" in heads
    assert not any("落款" in f for f in heads)  # only the opening is weighed again
    assert not any(f.startswith("h:") for f in analyse("关于小区停车难的问题", FeatureConfig()))

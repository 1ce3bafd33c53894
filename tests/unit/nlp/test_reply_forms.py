"""Chatter of a lively group that answers rather than reports (issue 14, session 7), with look-alikes both ways.

Neighbours tell each other where to go, say that the repairman or the ambulance has arrived, ask whether someone
already called, or talk to one neighbour directly. None of it asks the gridworker to act; a report that names
something still wrong, or a question that asks, must stay a ticket. Written in other words than the corpus and
the evaluation sets.
"""

from __future__ import annotations

import pytest

from gridbot.nlp.base import asks_neighbours, chatter_form, tells_not_asks
from gridbot.nlp.classifier import Classifier
from gridbot.nlp.normalize import normalize

ON_IT = [
    "自来水公司的人到了 在井里接管子",
    "修路灯的来了，在换灯头",
    "物业的师傅在弄了，说半小时就好",
    "环卫的车来了，正在清",
    "民警已经到了，在门口登记",
]
ON_IT_LOOKALIKES = [  # something still wrong, or nobody came
    "修路灯的来了一趟就走了 到现在还是黑的",
    "物业说师傅在路上 等了半天没来 厕所的水还在往外冒",
    "自来水公司的人来了三次了 水还是黄的",
]
FOLLOW_UPS = [
    "跟物业说了吗？",
    "那事有人反映过没有",
    "你们谁给网格员打过了吗",
    "今年的有线电视费你们交了没",
]
FOLLOW_UP_LOOKALIKES = [
    "跟物业说了没用 5栋门口的垃圾还是没人收",
    "报了没人管 楼道灯坏了一个礼拜",
    "你们家停水了吗 我家水龙头一滴都没有",
]
TO_A_NEIGHBOUR = [
    "楼下的大姐，你家的被单掉我家窗台上了",
    "对门的你家门口的伞忘收了",
    "隔壁邻居您家的猫又跑我家阳台来了哈哈",
    "有没有会剪头发的邻居 想给老人上门剪一下",
]
ANSWERS = [  # a neighbour telling where or how: no question, no ask
    "换社保卡到银行柜台就行，带身份证",
    "孩子打疫苗在社区卫生服务中心，手机上约",
    "开居住证明找居委会，盖个章",
]
ASKS = [  # the same topics, asked
    "换社保卡到哪去办",
    "孩子打疫苗要不要提前约",
    "我想开个居住证明，居委会能开吗",
    "开居住证明 带啥",
]


@pytest.mark.parametrize(("texts", "form"), [(ON_IT, "on_it"), (FOLLOW_UPS, "follow_up")])
def test_chatter_form_names_the_class(texts: list[str], form: str) -> None:
    assert [chatter_form(normalize(t)) for t in texts] == [form] * len(texts)


@pytest.mark.parametrize("text", ON_IT_LOOKALIKES + FOLLOW_UP_LOOKALIKES)
def test_lookalikes_have_no_chatter_form(text: str) -> None:
    assert chatter_form(normalize(text)) is None


@pytest.mark.parametrize("text", TO_A_NEIGHBOUR)
def test_talking_to_one_neighbour_asks_the_neighbours(text: str) -> None:
    assert asks_neighbours(normalize(text))


def test_a_complaint_about_a_neighbour_to_the_gridworker_is_not_talking_to_them() -> None:
    assert not asks_neighbours(normalize("楼上你家漏水到我家 网格员来调解一下"))
    assert not asks_neighbours(normalize("楼上那家天天半夜拖椅子 吵得睡不着"))


@pytest.mark.parametrize("text", ANSWERS)
def test_an_answer_tells_and_does_not_ask(text: str) -> None:
    assert tells_not_asks(normalize(text))


@pytest.mark.parametrize("text", ASKS + ["有人冒充社保局打电话要验证码 我妈差点转账"])
def test_a_question_or_a_warning_is_no_answer(text: str) -> None:
    assert not tells_not_asks(normalize(text))


@pytest.mark.parametrize("text", ON_IT + FOLLOW_UPS + TO_A_NEIGHBOUR + ANSWERS)
def test_replies_are_chatter(default_classifier: Classifier, text: str) -> None:
    got = default_classifier.classify(text)
    assert not got.actionable, (text, got.label, got.alternatives)


@pytest.mark.parametrize("text", ON_IT_LOOKALIKES + FOLLOW_UP_LOOKALIKES + ASKS)
def test_lookalikes_stay_tickets(default_classifier: Classifier, text: str) -> None:
    got = default_classifier.classify(text)
    assert got.actionable, (text, got.alternatives)


def test_responders_arriving_never_hide_a_live_danger(default_classifier: Classifier) -> None:
    got = default_classifier.classify("消防车到了 可是3栋还在冒黑烟 楼上还有人")
    assert got.actionable and got.priority == "urgent", got


# Agreement before a fault named again is TAXONOMY's "me too" that names the fault: a report (the duplicate check
# then joins it to the open ticket); agreement before anything else, or naming nothing, stays chatter.
AGREEING_REPORTS = [
    "是啊 单元门的锁坏了快一个月了",
    "对啊 楼下垃圾桶满得都溢出来了",
    "确实 小区东门那个井盖一直没盖上",
]
AGREEING_CHATTER = ["是啊 今年的桂花开得特别香", "对啊 周末去爬山的人好多", "是的 我们家也是", "确实 哈哈哈"]


@pytest.mark.parametrize("text", AGREEING_REPORTS)
def test_agreeing_and_naming_the_fault_is_a_report(default_classifier: Classifier, text: str) -> None:
    assert default_classifier.classify(text).actionable, text


@pytest.mark.parametrize("text", AGREEING_CHATTER)
def test_agreeing_about_anything_else_is_chatter(default_classifier: Classifier, text: str) -> None:
    assert not default_classifier.classify(text).actionable, text

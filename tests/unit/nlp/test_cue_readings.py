"""Issue 14, session 11: readings of danger cues and chatter forms found on a retired blind set, each both ways.

Every probe is our own wording in several registers, never a message of an evaluation set. Each class has the
reading that must now hold and a neighbour of it that must stay as it was (a rule that only matched one quoted
message would fail the first list; a rule too broad would fail the second).
"""

from __future__ import annotations

import pytest

from gridbot.nlp.base import chatter_form, is_information_question, tells_not_asks
from gridbot.nlp.classifier import Classifier
from gridbot.nlp.normalize import normalize
from gridbot.nlp.urgency import is_news, is_over
from tests.unit.nlp.live_cues import assert_both_ways

# (class, messages whose cue must not be live, messages whose cue must stay live)
CUE_CLASSES = [
    (
        "a shared card from an app is someone else's post",
        [
            "[视频号] 某县城一饭店起火 现场浓烟滚滚",
            "[抖音]小区电梯突然下坠 里面有人被困",
            "[链接] 一居民楼着火了",
        ],
        ["[图片] 3栋楼道着火了 快下来", "[语音] 电梯里有人被困 快来"],
    ),
    (
        "handled, nobody hurt",
        [
            "【网格员通知】昨晚5栋充电车着火已处理，无人受伤，电动车不要推进楼",
            "车棚那边冒烟的事已处理 没有人员伤亡",
        ],
        ["5栋车棚着火了 还没人处理", "处理中 火还在烧 大家别靠近", "消防说已处理完一半 还在冒浓烟"],
    ),
    (
        "the person is better or out",
        ["老爷子刚才晕倒了 邻居帮忙扶出来了 现在已经好点了", "那个摔倒的阿姨缓过来了 家属接走了"],
        ["老爷子刚才晕倒了 叫不醒 快来人", "阿姨摔倒了起不来 头上在流血"],
    ),
    (
        "a general consequence in a reminder",
        ["提醒大家 冬天屋里别烧炭取暖 一氧化碳中毒会死人的", "温馨提示 电动车进楼充电 着火会出人命的"],
        ["提醒大家 3栋有人一氧化碳中毒了 快开窗", "大家注意 2单元楼道着火了 快下楼"],
    ),
    (
        "'if it really caught fire' is a supposition",
        ["楼道里堆满了纸箱 真着火人都跑不出去", "消防通道全停满车 真要起火消防车都进不来"],
        ["真着火了 快打119", "楼道纸箱真的着火了 烟好大"],
    ),
    (
        "animals fighting are no fight",
        ["小区流浪狗太多 晚上一群在垃圾站那打架 吵死了", "楼下两只野猫天天打架 叫得人睡不着"],
        ["楼下两个男的打架了 拿着酒瓶", "养狗的那家男的把邻居打了 头都打破了"],
    ),
    (
        "no response from a button or a machine",
        ["门禁刷卡半天冇反应 进不去", "电梯按钮按了好久没反应 只能爬楼"],
        ["老人倒在楼道 叫他冇反应", "我爸在卫生间晕倒了 喊了半天没反应"],
    ),
    (
        "wind or cold pouring in is no flood",
        ["走廊窗户玻璃碎了 冷风呼呼往里灌", "楼梯间的窗关不上 风沙往屋里灌"],
        ["河水往屋里灌 一楼已经淹到膝盖了", "暴雨 水往我家里灌 快来人"],
    ),
    (
        "a thing soaked, or damage left after the water went",
        ["户口本和社保卡泡在水里了 字都花了 去哪补办", "上礼拜进过水 家具全泡坏了 有没有补助"],
        ["一楼住户家泡在水里了 老人还在里面", "水还在涨 家具全泡了"],
    ),
    (
        "the gas-leak instruction beside a smell",
        ["炒菜油烟味太大 下次别开火太猛", "烧烤的香味飘过来了 今晚别开火了 出去吃"],
        ["楼道里那股味越来越重 大家先别开火 别开灯", "闻到一股怪味 千万不要打火 我去敲门"],
    ),
    (
        "the emergency number urged",
        ["120是急救电话 110是报警电话", "120急救车收费怎么算"],
        ["人还是没醒 120快点啊", "老太太喘不上气 120怎么还没到"],
    ),
]


@pytest.mark.parametrize(("name", "quiet", "loud"), CUE_CLASSES, ids=[c[0] for c in CUE_CLASSES])
def test_cue_reading(name: str, quiet: list[str], loud: list[str]) -> None:
    assert_both_ways(name, quiet, loud)


def test_a_share_card_reads_as_a_forward() -> None:
    assert normalize("[视频号] 某地一商铺起火").startswith("转发")
    assert is_news(normalize("[快手]外地一工厂爆炸"))
    assert normalize("[图片]") == ""  # a photo placeholder still drops out
    assert is_over(normalize("刚才晕倒那个大爷已经好点了"))


# (form, messages of that form, neighbours that are not)
FORMS = [
    (
        "staff_notice",
        [
            "【网格员小李】下周二社区免费测血压，需要的带上医保卡",
            "【XX社区居委会】本周六上午停水检修，请提前储水",
        ],
        ["【求助】3栋电梯坏了两天了 网格员快来看看", "【投诉】楼下烧烤店天天吵到半夜"],
    ),
    (
        "weather",
        ["早啊各位 这雨下了一整夜了", "今天好冷 大家多穿点", "终于出太阳了 晒被子去"],
        ["下了一夜雨 3栋门口积水过不去了", "雨下得好大 我家阳台漏水了", "今天好冷 暖气还不热"],
    ),
]


@pytest.mark.parametrize(("form", "yes", "no"), FORMS, ids=[f[0] for f in FORMS])
def test_chatter_form(form: str, yes: list[str], no: list[str]) -> None:
    for text in yes:
        assert chatter_form(normalize(text)) == form, text
    for text in no:
        assert chatter_form(normalize(text)) != form, text


@pytest.mark.parametrize(
    "text", ["物业办公室电话是好多 找不到", "办居住证要好多钱", "社保卡几时能拿到", "这个补贴啥子时候发"]
)
def test_dialect_question_words_ask(text: str) -> None:
    n = normalize(text)
    assert is_information_question(n) or not tells_not_asks(n), text


def test_the_model_keeps_signed_notices_and_weather_quiet(default_classifier: Classifier) -> None:
    for text in ("【网格员小王】居住证明在社区开，带上身份证和租房合同", "早上好 雨下了一夜还没停 出门带伞"):
        assert not default_classifier.classify(text).actionable, text
    for text in ("下了一夜雨 地下车库进水了 车都泡了", "【求助】5栋电梯困人了 快来"):
        assert default_classifier.classify(text).actionable, text


def test_a_terse_information_question_stays_a_request(default_classifier: Classifier) -> None:
    """TAXONOMY.md rule 3 over the chatter floor: asked of nobody in particular, it asks the community."""
    for text in ("办居住证明 带啥", "老年卡在哪办 要带啥材料"):
        assert default_classifier.classify(text).kind == "request", text
    for text in ("有没有人知道办居住证明带啥", "回楼上 居住证明去社区开 带身份证就行"):
        assert default_classifier.classify(text).kind == "chatter", text

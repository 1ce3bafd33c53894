"""Issue 14, session 11: classes of cause behind errors on messages by new writers, each both ways.

Every probe here is our own wording (several registers: full-width, spaces, none, dialect), never a message of an
evaluation set: a rule that matched one quoted string would fail most of them.
"""

from __future__ import annotations

import pytest

from gridbot.nlp.base import adds_own_report, asks_neighbours, chatter_form, tells_not_asks
from gridbot.nlp.classifier import Classifier
from gridbot.nlp.normalize import normalize
from tests.unit.nlp.live_cues import live, negated

# 1. Another place named in one clause no longer silences a report from here in another clause.
ELSEWHERE_THEN_HERE = [
    "隔壁小区前阵子也闹过 我们5栋现在楼道里全是浓烟",
    "听说别的小区也有这事，咱们3单元这会儿闻到好浓的煤气味",
    "我表姐那边也这样 我家楼下有个老人倒在地上了",
    "隔壁小区停电好几天了 我们这边刚才电箱着火了",
    "有个小区前两天电梯出事 我们12栋电梯现在困人了 快来",
]
ELSEWHERE_ONLY = [
    "隔壁小区着火了 烟好大",
    "听说别的小区有人在车棚充电 着火了",
    "浓烟很大 是隔壁小区的",
    "我同事说他们小区昨晚有人被困在电梯里",
    "别的小区有人晕倒在电梯里 我们这边的大家也注意点",
]


@pytest.mark.parametrize("text", ELSEWHERE_THEN_HERE)
def test_a_report_here_after_another_place_is_live(text: str) -> None:
    assert live(text)


@pytest.mark.parametrize("text", ELSEWHERE_ONLY)
def test_danger_only_elsewhere_is_not_live(text: str) -> None:
    assert not live(text)
    assert negated(text)


# 2. A call for help as a joke (laughter, mock anger) with no danger around it.
JOKES = [
    "孩子数学又没及格 我血压上来了 快叫救护车吧哈哈",
    "老公做的菜太难吃了 要打120了 呵呵",
    "这题我是真不会 快报警 笑死",
    "气死我了 今天股票又绿了 叫救护车",
]
REAL_CALLS = [
    "哈哈哈刚还在聊天 结果3楼有人晕倒了 快叫救护车",
    "气死我了 楼下两个人打起来了 有个人头都被打破了 快报警",
    "电梯里困了人 快打119",
]


@pytest.mark.parametrize("text", JOKES)
def test_a_joking_call_for_help_is_not_live(text: str) -> None:
    assert not live(text)


@pytest.mark.parametrize("text", REAL_CALLS)
def test_a_call_for_help_beside_danger_stays_live(text: str) -> None:
    assert live(text)


# 3. Danger on a screen (a series, its lead) and business "on fire" are not danger here.
NOT_DANGER = [
    "昨晚追的剧 主角被困在地下室 看得我心慌",
    "那部剧里楼都着火了 特效好假",
    "新开的火锅店生意火爆 都要着火了",
    "一氧化碳报警器团购 需要的接龙",
    "烧煤的人家记得装个一氧化碳报警器",
    "二道街那边地上冒热气 估计是暖气管子漏了 路面结冰",
]
STILL_DANGER = [
    "我们家女主人在厨房晕倒了",
    "屋里好几个人头晕想吐 可能一氧化碳中毒了",
    "厨房燃气管在漏 呲呲响",
]


@pytest.mark.parametrize("text", NOT_DANGER)
def test_screens_business_and_detectors_are_not_live(text: str) -> None:
    assert not live(text)


@pytest.mark.parametrize("text", STILL_DANGER)
def test_the_same_words_in_a_real_report_stay_live(text: str) -> None:
    assert live(text)


# 4. Out of danger (没有生命危险, 脱离危险) ends an injury like 送医院了; a doubt about it does not.
def test_out_of_danger_resolves_an_injury() -> None:
    assert not live("楼下大爷摔骨折了 医生说没有生命危险")
    assert not live("那个被车撞的小伙子已经脱离危险了")
    assert live("有人被电动车撞了 头上流血 不知道有没有生命危险")


# 5. A problem told as already fixed, nothing still wrong (TAXONOMY.md rule 6) is chatter by its form.
FIXED = [
    "楼上漏水的事已经解决了，人家还挺客气",
    "北门水管已经修好了 大家可以放心用水了",
    "车棚那点火已经扑灭了 就是熏黑了一块墙",
    "昨天停的电已经来电了",
]
NOT_FIXED = [
    "电梯已经修好了 结果今天又卡住了",
    "物业说已经处理好了 根本没人来过",
    "说是已经疏通了 可是下水道还是堵",
    "路灯已经修好了吗？",
    "垃圾已经清走了一半 还剩一大堆",
]


@pytest.mark.parametrize("text", FIXED)
def test_a_fixed_problem_is_chatter_by_form(text: str) -> None:
    assert chatter_form(normalize(text)) == "fixed"


@pytest.mark.parametrize("text", NOT_FIXED)
def test_a_claimed_or_recurring_fix_is_not_chatter_by_form(text: str) -> None:
    assert chatter_form(normalize(text)) != "fixed"


# 6. A clause-final 不 asks (A-not-A in plain and dialect speech): a request, not a neighbour's answer.
@pytest.mark.parametrize(
    "text", ["社区明天还发米面油不 要带身份证不", "卫生院周末上班不", "打疫苗要预约不，要带户口本不"]
)
def test_a_final_bu_question_asks(text: str) -> None:
    assert not tells_not_asks(normalize(text))


def test_telling_where_still_answers() -> None:
    assert tells_not_asks(normalize("医保卡去街道服务中心三号窗口办就行"))


# 7. A warning to everyone after news is not the resident's own report; 「我们这边也…」 is.
def test_a_warning_to_the_group_is_no_own_report() -> None:
    assert not adds_own_report(normalize("别的小区电瓶车着火了 我们这边的大家都注意"))
    assert adds_own_report(normalize("新闻说今天停水 我们这边到现在还没来水"))


# 8. The group asked to join in or to share what they know (有人…不, 有懂…的邻居吗): chatter whatever the topic.
@pytest.mark.parametrize(
    "text",
    ["今晚有人去跳绳不 我在东门等", "有人一起拼单买大米吗", "有懂社保转移的邻居吗 想请教一下"],
)
def test_an_ask_to_join_in_asks_the_neighbours(text: str) -> None:
    assert asks_neighbours(normalize(text))


@pytest.mark.parametrize(
    "text", ["楼道灯坏了一周了 有人管吗", "垃圾堆成山了 有人来收不", "有人报了没 路口井盖还敞着"]
)
def test_asking_whether_anyone_will_act_is_no_neighbour_ask(text: str) -> None:
    assert not asks_neighbours(normalize(text))


# 9. Telling where to ask or what is on offer (去…问, 社区有…, 每周…) answers; 申请 and 啥的 are no question words.
@pytest.mark.parametrize(
    "text",
    [
        "居住证的事去派出所户籍窗口问 社区开不了",
        "老年人可以申请助餐卡 面条盒饭啥的 去社区食堂问",
        "社区卫生站每周三有免费量血压",
        "高血压的药卫生站都能开 一次开一个月的",
    ],
)
def test_telling_where_or_what_is_offered_answers(text: str) -> None:
    assert tells_not_asks(normalize(text))


@pytest.mark.parametrize(
    "text", ["我想申请低保 去哪问", "老年卡怎么办 要带啥", "养老金没到账 找谁问", "特此申请加装扶手 望予支持"]
)
def test_real_requests_still_ask(text: str) -> None:
    assert not tells_not_asks(normalize(text))


# 10. Advice to everyone (a reminder, or people addressed by what they do) with nothing wrong here now.
@pytest.mark.parametrize(
    "text",
    [
        "提醒大家 出门记得关好煤气阀门",
        "温馨提示 雨天路滑 骑车的千万慢点",
        "请大家晚上出门带个手电 注意脚下",
    ],
)
def test_advice_to_everyone_is_chatter_by_form(text: str) -> None:
    assert chatter_form(normalize(text)) == "advice"


@pytest.mark.parametrize(
    "text",
    [
        "提醒一下物业 2号楼的消防门又被锁上了",
        "提醒大家 7栋楼道现在堆满了纸箱 别再往里放了",
        "温馨提示 东门井盖已经松了好几天 走路小心",
        "提醒大家 西门那棵树歪了 路过的小心点",
    ],
)
def test_a_reminder_with_a_problem_here_is_not_advice(text: str) -> None:
    assert chatter_form(normalize(text)) != "advice"


# 11. A forecast (明天…肯定要, 估计会) is not danger now; a chore urged (快来人关阀) is no rescue.
def test_a_forecast_is_not_live_but_a_flood_now_is() -> None:
    assert not live("雨一直下 照这样明天一楼肯定要进水")
    assert not live("这风刮的 待会儿广告牌怕是要塌了")
    assert live("一楼进水了 估计还会涨")
    assert live("明天物业才来 现在我家一楼已经进水了")


def test_urging_someone_to_shut_a_valve_is_no_rescue() -> None:
    assert not live("车库的水管爆了 快来人关总阀")
    assert live("电梯里困着人 快来人")


# 12. The priority head alone never outlasts a danger the message says is over.
def test_the_priority_head_alone_yields_to_an_end() -> None:
    import numpy as np

    from gridbot.nlp.base import decide
    from gridbot.nlp.taxonomy import load_taxonomy

    labels = ["chatter", "property", "other_request"]
    probs = np.array([0.05, 0.9, 0.05])
    tax = load_taxonomy()
    over = decide(labels, probs, tax, normalize("电梯卡了半天才开门 人已经出来了 赶紧修"), p_urgent=0.95)
    going = decide(labels, probs, tax, normalize("电梯卡在半路 赶紧修"), p_urgent=0.95)
    assert over.priority == "normal"
    assert going.priority == "urgent"


# 13. Thanks or a concession, then a contrast: the report after it is read on its own (TAXONOMY.md rule 9).
@pytest.mark.parametrize(
    "text",
    [
        "收到 谢谢 只是北门的垃圾桶已经满出来两天了",
        "好的辛苦了，不过我们7栋的楼道灯还是不亮",
        "算了不计较了 可是5单元门口那个井盖松了 一踩就翻",
    ],
)
def test_a_report_after_thanks_or_a_concession_is_filed(default_classifier: Classifier, text: str) -> None:
    assert default_classifier.classify(text).actionable


@pytest.mark.parametrize("text", ["好的谢谢 不过我还是喜欢走楼梯", "收到 就是今天太热了 大家多喝水"])
def test_thanks_then_small_talk_stays_chatter(default_classifier: Classifier, text: str) -> None:
    assert not default_classifier.classify(text).actionable


def test_zhe_me_is_no_question() -> None:
    assert tells_not_asks(normalize("老年证带身份证去社区服务站登记 我妈就是这么办的"))
    assert not tells_not_asks(normalize("老年证是在社区办么"))


# 14. What happens every time (每年都, 天天, 一开火就) is a fault or a habit, not a fire or a flood now.
def test_what_always_happens_is_not_live() -> None:
    assert not live("家里那个旧电饭锅一做饭就冒烟 该换了")
    assert not live("我家一楼每年都进水 今年能不能早点发沙袋")
    assert live("天天说要修 今天我家一楼真的进水了 水到膝盖")
    assert live("楼下仓库着火了 浓烟很大")


def test_a_line_down_still_arcing_is_live() -> None:
    assert live("风把线刮下来了 电线挂在车棚上 一直在闪")
    assert not live("电线挂在树上好几天了 没断 也不闪")

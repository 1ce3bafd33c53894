"""Chatter that became a ticket (issue 14, "chatter → ticket ≤ 3 %"), class by class, both ways.

Each class has messages that must stay chatter and look-alikes that must stay tickets: a real report that also
names a phone number or says 转发, a forward followed by the resident's own complaint, a grumble with a concrete
thing and place. Written here in several registers, in other words than the evaluation sets.
"""

from __future__ import annotations

import pytest

from gridbot.nlp.base import chatter_form
from gridbot.nlp.classifier import Classifier
from gridbot.nlp.normalize import normalize

ADS = [
    "专业管道疏通 马桶下水道 随叫随到 电话13912345678",
    "化粪池清掏抽粪 价格实惠 诚信经营 欢迎来电",
    "上门灭鼠除虫杀蟑螂 白蚁防治 专业团队 微信同号",
    "开锁换锁 24小时上门服务 联系电话1390000111",
    "搬家拉货居民搬家价格公道加微信详谈",
    "家电维修，空调加氟，洗衣机冰箱，上门快，收费合理，有需要联系我。",
    "防水补漏 卫生间不拆砖 老师傅干活 电话：15800001234",
    "本人做保洁开荒十年了 干活细致 需要的姐妹私聊我哈😊",
]
AD_LOOKALIKES = [  # a problem here, or a complaint about the ads themselves
    "楼道里贴满了疏通下水道的小广告 电话号码到处都是 物业管管",
    "单元门上被人喷了开锁电话 擦都擦不掉",
    "3栋的化粪池满了 污水冒到路上了 物业电话打不通",
    "厨房下水道堵了三天了 物业说派人来疏通到现在没来",
    "我家楼上装修 电钻从早响到晚 电话打给物业也没用",
    "垃圾站的老鼠成群 能不能请人来灭鼠",
]
NOTICES = [
    "【物业通知】因市政管网改造，本周六8:00-18:00小区全面停水，请各位业主提前储水。",
    "【社区公告】即日起电动车一律不得进入楼道停放充电，违者将予以清理。",
    "【反诈提醒】近期有不法分子冒充社保局工作人员，以更新社保卡为由索要验证码，请勿上当。",
    "【招聘】某养老院招聘护士护工若干名，待遇从优，有意者请联系。",
    "转：关于开展冬季燃气安全检查的通知，请各户配合入户检查",
    "转发 街道办关于垃圾分类定时定点投放的通知",
    "物业通知：明天上午9点到12点停电检修，请大家相互转告",
    "【温馨提示】近日降温 请大家关好门窗 注意防寒保暖",
]
NOTICE_LOOKALIKES = [  # the resident adds their own report, or reports without a header
    "【转发】物业说今天停水 可是我们5栋从昨天就没水了 到现在都没来",
    "转发一下 社区通知说会来修路灯 结果2号楼门口的路灯还是黑的",
    "物业通知说周六停电 但是我们单元现在就已经没电了",
    "转：电动车不许进楼道 我们12栋楼道里现在还停着好几辆在充电",
    "【求助】8栋楼顶水箱漏水 顺着墙往下流",
    "通知都贴了一个月了 东门的垃圾还是没人清",
]
NEWS = [
    "新闻说隔壁区有个小区下水道爆了 满地都是污水 好吓人",
    "视频号看到别的城市电梯掉下来了 太可怕了",
    "刚刷到一个视频 外地有个老小区外墙瓷砖往下掉",
    "电视里讲的那个城中村违建拆了 拆得好",
    "看快手上说外省有个小区井盖被偷了好多 大家走路小心",
    "据报道邻市昨晚暴雨 好多车库都淹了",
]
NEWS_LOOKALIKES = [
    "我们小区东门的井盖也被偷了 跟新闻里一样 赶紧来看看",
    "看了新闻才发现 我们6栋外墙瓷砖也松了 好几块要掉",
    "5栋楼下的下水道冒污水了 臭得不行",
    "地下车库积水没过脚踝了 物业快来抽水",
    "北门那段路灯坏了好几天了",
    "11栋有人在绿化带里搭了个棚子",
]
GRUMBLES = [
    "物业就是收钱不干活",
    "反映了又怎样 还不是没人理",
    "网格员是不是只会拍照啊",
    "气死了 跟物业吵了半天",
    "交了物业费跟没交一样 唉",
    "投诉有什么用 说了也白说",
    "这物业真是指望不上",
]
GRUMBLE_LOOKALIKES = [
    "物业就是收钱不干活 7栋电梯坏了一个星期都没人修",
    "反映了又怎样 东门那堆建筑垃圾堆了半个月还在",
    "网格员只会拍照 我们楼下那个井盖缺了一块到现在没补",
    "气死了 跟物业吵了半天 地下车库积水还是没人抽",
    "交了物业费跟没交一样 4栋楼道灯坏了一个月",
    "投诉有什么用 广场舞天天跳到十点 吵得孩子睡不着",
    "小区门卫天天在值班室睡觉 交物业费有什么用",
]
NEIGHBOUR_ASKS = [
    "谁知道社保卡丢了怎么补办 群里有人办过吗",
    "有人最近办过护照吗 要排多久队",
    "有没有人做月嫂的 推荐一个",
    "有冇人知道边度可以修单车",
    "群里有人知道附近哪家幼儿园好吗",
    "有人做过家里防水吗 大概多少钱",
    "有没有邻居知道哪里配钥匙便宜",
]
RECOLLECTIONS = [
    "上个月电梯困人那次 多亏保安来得快",
    "去年冬天水管冻裂那回 整栋楼停了三天水",
    "记得那次楼下着火 吓得我一晚没睡",
    "前年小区门口那个大坑 后来终于填了",
]
QUESTION_LOOKALIKES = [  # asked of the gridworker or community, or happening now
    "请问网格员 社保卡丢了在哪里补办",
    "社区现在还能办老年卡吗 要带什么材料",
    "上个月就报了电梯坏 到现在还没修好",
    "去年修的那段路 现在又裂了好几道缝",
    "9栋2单元电梯困人了 快来人",
    "现在3号楼楼道里有很浓的煤气味",
]
CHATTER = ADS + NOTICES + NEWS + GRUMBLES + NEIGHBOUR_ASKS + RECOLLECTIONS
TICKETS = AD_LOOKALIKES + NOTICE_LOOKALIKES + NEWS_LOOKALIKES + GRUMBLE_LOOKALIKES + QUESTION_LOOKALIKES


@pytest.mark.parametrize("text", CHATTER)
def test_chatter_classes_are_chatter(default_classifier: Classifier, text: str) -> None:
    got = default_classifier.classify(text)
    assert not got.actionable, (text, got.label, got.confidence)


@pytest.mark.parametrize("text", TICKETS)
def test_lookalikes_stay_tickets(default_classifier: Classifier, text: str) -> None:
    got = default_classifier.classify(text)
    assert got.actionable, (text, got.alternatives)


@pytest.mark.parametrize(
    ("text", "form"),
    [(t, "ad") for t in ADS[:4]]
    + [(t, "notice") for t in NOTICES[:4]]
    + [(t, "grumble") for t in GRUMBLES[:4]]
    + [(t, "recollection") for t in RECOLLECTIONS[:2]],
)
def test_chatter_form_names_the_class(text: str, form: str) -> None:
    got = chatter_form(normalize(text))
    # a notice signed by the property office or the community is the stricter staff_notice
    assert got == form or (form == "notice" and got == "staff_notice" and text.startswith("【")), got


@pytest.mark.parametrize("text", AD_LOOKALIKES + NOTICE_LOOKALIKES + GRUMBLE_LOOKALIKES + QUESTION_LOOKALIKES)
def test_lookalikes_have_no_chatter_form(text: str) -> None:
    assert chatter_form(normalize(text)) is None


@pytest.mark.parametrize(
    "text",
    [
        "专业开锁 电话13800001111 对面楼着火了 浓烟很大",
        "上个月那次也是这样 现在电梯里又困住人了",
        "搬家公司的车刚走 楼下有个老人摔倒了 起不来",
    ],
)
def test_a_live_danger_cue_is_never_chatter(default_classifier: Classifier, text: str) -> None:
    got = default_classifier.classify(text)
    assert got.actionable and got.priority == "urgent", (text, got)


def test_a_notice_with_the_residents_own_report_is_a_ticket(default_classifier: Classifier) -> None:
    text = "【物业通知】今晚检修燃气管道 现在5栋楼道里一股煤气味"
    assert chatter_form(normalize(text)) is None
    assert default_classifier.classify(text).actionable

"""Issue 14: whole classes of message the urgency cues missed or invented, each in several registers.

Each class is a cause, not a list of quoted messages: the wording here is our own (full-width and ASCII
punctuation, spaces, none at all, voice input, dialect), so a fix that matched one string would fail most of them.
"""

from __future__ import annotations

import pytest

from gridbot.nlp.classifier import Classifier

# a person at risk; a lift is property; a person under a collapsed public structure may be filed with it
PERSON_AT_RISK = {"other_incident", "property", "safety", "facilities"}

# 1. A person pinned, shut in or stuck, beyond the usual lift wording.
TRAPPED = [
    "停车场一辆白色车里锁着个小孩，太阳底下晒着，车主不在！",
    "电梯刚才突然往下掉了一截 门打不开 我婆婆还在里面",
    "北门那棵大树倒了 压住一个骑电动车的大叔 他自己起不来",
    "工地那边搅拌机把一个工人的手卡住了拔不出来",
    "我家孩子把自己反锁在卫生间里了，才三岁，叫他也不开",
    "喂喂那个3号楼的铁门倒下来了有个老太太被压在下面了",
    "地库有辆车里头关着个娃 车窗都晒得烫手",
    "喂你好我跟你说一下那个我们小区门口那个伸缩门把一个送外卖的骑手夹住了动不了",
    "条闸门跌落嚟 压住咗个阿伯",
    "老房子的车棚塌了，底下还有人没出来",
    "电梯从8楼掉到了2楼 门开不了 我妈在里面",
    "那台机器把师傅的胳膊绞进去了",
    "小孩锁车里了 快",
]
# a hand or foot caught and not coming free, whoever it belongs to (a name is no person word)
TRAPPED += [
    "卖菜的老李让卷帘门卡住手了 拉不出来",
    "小王的脚卡在下水道格栅里拔不出来了！",
    "阿芬手指被绞肉机卷住了,抽不出来",
]
# a person in a vehicle that something fell on, or that is stuck at an edge
TRAPPED += [
    "山路上滚下来的石头砸在一辆车上 车里还有人",
    "暴雨把河边的路冲垮了，一辆面包车卡在坡边，人还在车里",
    "广告牌倒了压在出租车上面 车里面有人在喊",
]
# 2. Something falling now, or a structure failing now.
FALLING = [
    "5栋外墙的瓷砖还在往下掉，下面就是人行道！",
    "商场门口的广告牌正在掉 风太大了 下面好多人",
    "我家墙上的裂缝突然变大了 一直往下掉灰",
    "楼上阳台的玻璃碎了,还在往下掉渣,小孩在楼下玩",
    "车库顶上的水泥块一块一块往下掉",
    "3号楼的外墙皮哗哗往下掉！！底下是出入口",
    "我家天花板突然裂开了 往下掉水泥块",
    "老厂房那面墙塌了一半 边上就是小学放学的路",
]
# 3. A vulnerable person missing now: a confused older person, a small child.
MISSING = [
    "我爸有老年痴呆 早上出门散步到现在还没回来",
    "各位邻居，我家孩子在广场上走散了，五岁，穿红衣服",
    "奶奶有点糊涂 认不得路 下午出去就找不到了",
    "小区游乐场 我女儿一转眼找不到了 三岁半",
    "我妈阿尔茨海默症，今天下午自己走出去了，手机也没带，到现在都没回家",
    "俺家小孙子在菜市场跟丢了 四岁 谁看见了",
    "娃儿在超市门口不见了 才四岁 大家帮忙看一下",
    "找不到孩子了!!刚才还在滑梯那玩",
    "外婆患有失智症 今天出门后一直没回来",
    "俺家娃找不着了 在菜场门口",
]

# 4. Slang and exclamations with no danger object; 救命 before an ordinary nuisance is a normal report.
SLANG = [
    "昨晚蹦迪太嗨了 救命 腿都跳软了",
    "这首歌也太好听了吧 救命",
    "救命 楼道里的垃圾三天没人收了 全是蛆",
    "救命啊这个作业要命了明天就交",
    "她唱得太燃了，舞台都要着火了",
    "今晚的烟花秀太美了 救命",
    "救命 这家火锅太辣了",
    "这局要着火了兄弟们冲",
    "这件衣服红得像着火了一样",
    "着火了着火了 这把手感太顺了",
]
# 5. Urgency from punctuation or urging words only.
URGING = [
    "3栋楼道灯坏了 物业快来修!!!",
    "快点来修啊 单元门锁坏了好几天了",
    "水管漏水了！！！赶紧派人来修！！！",
    "路灯不亮！快来人修一下！",
    "小区大门的道闸坏了！！！！快来人看看！！！",
    "门禁坏了进不去 急急急 快来修",
]
# 6. Resolved or explained danger, the past, hypotheticals, somewhere else.
RESOLVED = [
    "刚才的煤气味是燃气公司在换管子 已经没事了",
    "刚刚楼道里冒烟 是楼下在烧纸钱 人已经走了",
    "刚刚闻到的燃气味是物业在测试管道，没事了",
    "去年冬天我们楼有人煤气中毒 大家今年注意通风",
    "听说城东有个小区电梯困人了 好吓人",
    "要是有人被困在电梯里 按这个警铃就行",
    "上个月三号楼那次着火，物业到现在也没给个说法",
    "楼下垃圾桶刚才冒烟 后来自己灭了",
    "那个马蜂窝好几个小孩都被蜇过，能不能找人摘了",
    "阳台那块玻璃松了，大风天会掉下来的，砸到人可咋整",
]
# 7. Pets, whoever the owner is.
PETS = [
    "寻狗启事 本人走失一只泰迪 棕色 有酬谢",
    "寻猫：本人于昨晚走失英短一只，灰色",
    "我家狗狗跑丢了 找不到了 好心人看到联系我",
    "我家狗子在公园走散了 有人看到吗",
    "朋友发的视频 一只猫从楼上掉下来了",
    "谁家的鹦鹉飞出来了 被困在树上下不来",
]
# 8. Advice and reminders to everyone: no incident happening now.
ADVICE = [
    "提醒各位家长 小孩子爬窗台太危险了 一定要装防护栏",
    "温馨提示：别把小孩单独锁在车里，夏天车内温度很高",
    "提醒大家 老人有认不得路的 出门记得带好联系卡 以免走丢",
    "各位业主 台风天请把阳台上的花盆收进来 以免掉下去砸到人",
    "各位家长注意 放学后孩子不要在电梯里打闹 容易被夹住",
    "大家注意 老人出门最好带个写着电话的卡片 防止走丢",
]
# 9. Damage with no one at risk now.
DAMAGE = [
    "路口的公交站牌被车撞倒了",
    "昨晚有辆车撞了我停在楼下的车，车里没人，也没找到肇事的",
    "停在路边的空车被倒下的树压住了",
    "大风把小区门口的宣传栏吹倒了",
    "小区门口的路牌被车撞歪了 没人受伤",
    "我的电动车被车撞了 车灯碎了",
    "小区门口的石墩被车撞碎了",
]


# Words of the new patterns in their everyday senses: a card, shut out, a family quarrel, a thing lost by a child.
EVERYDAY = [
    "老人卡在哪里办",
    "我婆婆被关在门外了 门禁又坏了",
    "兄弟俩为了房子吵翻了 我妈夹在中间天天哭",
    "我家闺女的手机不见了",
    "快递柜卡住了 取不出快递",
    "外卖员把电动车停在消防通道上压着盲道",
]


@pytest.mark.parametrize(
    ("text", "categories"),
    [(t, PERSON_AT_RISK) for t in TRAPPED] + [(t, {"other_incident"}) for t in MISSING],
)
def test_a_person_in_danger_now_is_an_urgent_incident(
    default_classifier: Classifier, text: str, categories: set[str]
) -> None:
    result = default_classifier.classify(text)
    assert result.priority == "urgent", text
    assert result.kind == "incident", text
    assert result.category in categories, (text, result.category)


@pytest.mark.parametrize("text", FALLING)
def test_a_structure_failing_now_is_an_urgent_incident(default_classifier: Classifier, text: str) -> None:
    # the category (property, facilities, safety) is the text model's: which part fell decides who goes
    result = default_classifier.classify(text)
    assert (result.priority, result.kind) == ("urgent", "incident"), text


@pytest.mark.parametrize("text", SLANG + URGING + RESOLVED + PETS + ADVICE + DAMAGE + EVERYDAY)
def test_no_danger_now_is_not_urgent(default_classifier: Classifier, text: str) -> None:
    assert default_classifier.classify(text).priority == "normal", text


@pytest.mark.parametrize(
    "text",
    [
        "救命 楼道里全是烟 我们下不去",  # 救命 beside a danger is still a cue
        "楼上女的一直在喊救命",
        "提醒大家 3栋着火了 快下楼",  # a reminder that reports a fire now
        "上个月修的电梯 现在又突然往下掉了 里面有人",  # the past names the repair, not the fall
        "有个小孩被锁在车里了 怎么办！！",  # asking what to do is not a worry about what might happen
        "电瓶车一直在冒烟 烟越来越大",
        "早说了这车会自燃的 已经冒烟了",  # a prediction that came true
    ],
)
def test_real_reports_beside_the_new_readings_stay_urgent(default_classifier: Classifier, text: str) -> None:
    assert default_classifier.classify(text).priority == "urgent", text


# 4. A sudden illness seen now: a collapse or stroke signs, in plain words (no 晕倒/昏迷).
ILLNESS = [
    "刚才3楼的王阿姨在楼梯口一下子倒地了，叫不醒",
    "楼下大爷突然倒下了 嘴有点歪 谁懂急救",
    "我爸说话不清楚 半边脸麻 怎么办",
    "菜场门口一个师傅突然倒下去了 围了好多人",
    "我奶奶吃着饭嘴巴歪了 筷子都拿不住",
    "电梯口有个老头突然倒地 口角歪斜",
]
# ... and the same words where nobody is ill now
NOT_ILL = [
    "门口那棵树突然倒下了 挡住路了",
    "昨天看电视里一个人突然倒下了 吓我一跳",
    "那个电线杆一下子倒下来了 还好没砸到人",
    "门夹住手了 疼死了",
    "老房子屋顶漏雨 墙皮一块一块掉",
    "我车停在树下 被树枝砸了 车里没人",
    "抽屉卡住了拉不出来",
]


@pytest.mark.parametrize("text", ILLNESS)
def test_a_sudden_illness_now_is_an_urgent_incident(default_classifier: Classifier, text: str) -> None:
    result = default_classifier.classify(text)
    assert (result.priority, result.kind, result.category) == ("urgent", "incident", "other_incident"), text


@pytest.mark.parametrize("text", NOT_ILL)
def test_a_fall_that_is_no_illness_is_not_urgent(default_classifier: Classifier, text: str) -> None:
    assert default_classifier.classify(text).priority == "normal", text

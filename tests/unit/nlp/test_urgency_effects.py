"""Issue 14, third pass: danger described by its effect, not its name, and the readings that keep it honest.

Every case is our own wording, apart from the probe sets in ``data/`` (which measure, and are never tuned on
message by message): a class of effect in several registers (voice input without punctuation, dialect, typos,
terse reports, a report inside chatter), then the same words where nothing is happening now.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from gridbot.nlp import urgency
from gridbot.nlp.classifier import Classifier
from gridbot.nlp.features import FeatureConfig, analyse
from gridbot.nlp.normalize import normalize
from tests.unit.nlp.live_cues import live

PROBES = Path(__file__).with_name("data")


EFFECTS = {
    "fire": [
        "卧室里全是黑烟 看不清路",  # smoke filling a place
        "楼梯间烟越来越浓了",
        "隔壁厨房往外窜黑烟",
        "仓库那边火烧得很旺",
        "车棚着了 快来人",
        "后面那排平房窗户里红彤彤的",
        "一股烧电线的味 插座那里发黑",
        "烟感器一直在响 屋里有烟",
        "有火",
        "走廊里烟雾弥漫",
        "火火火 3栋",
    ],
    "gas_leak": [
        "进楼道就一股臭鸡旦的味道",
        "厨房里味道像坏掉的鸡蛋",
        "煤汽味好冲",  # typo
        "燃气表那儿呲呲地响",
        "我们一家人都头晕恶心想吐",  # carbon monoxide
        "燃气灶那边一股怪味 越来越浓",
        "煤气好像在漏 嘶嘶的",
    ],
    "electric": [
        "配电箱噼啪地闪火",
        "那根电缆被挖断了 掉在水坑里",
        "楼下有个人被电倒了",
        "一根电缆垂下来耷拉在地上",
    ],
    "trapped": [
        "电梯停在半空 里头有个阿姨在喊",
        "困电梯里了 3单元",
        "电梯关了俩孩子",
        "电梯卡起了 娃在里头",  # dialect
        "电梯里有个老人被困住了",
    ],
    "pinned": [
        "货架倒了 把理货的师傅压在下面",
        "小孩的脑袋伸进铁栏杆里拔不出来",
        "我被锁在楼顶平台上了 下不去",
        "有个大爷被倒下来的树压着了",
    ],
    "injured": [
        "我妈在厨房滑倒了 爬不起来",
        "老爷子躺在床边 喊他没反应",
        "骑手被小车撞飞了",
        "那个小伙子满头是血坐在路边",
        "有个娃掉进池塘里了",
        "工人从梯子上摔下来了 人躺着不动",
        "嗰个伯伯跌低咗 起唔到身",  # Cantonese
        "我奶奶怎么喊都不睁眼",
        "孩子被热油烫了 手上起泡",
    ],
    "person_at_risk": [
        "有个人倒地抽起来了 口吐白沫",
        "老伴突然说不出话 左手抬不起来",
        "楼下阿姨昏过去了",
        "我爸喘不过气 嘴唇都发紫了",
        "有个小孩坐在窗台外面",
        "爷爷好像中风了 嘴有点歪",
        "我爸突然站不稳 说话含含糊糊",
        "那个人在桥上往下看 好像要跳",
        "有个娃从窗户爬出去了 站在空调架上",
    ],
    "missing": [
        "我婆婆有点糊涂 下午出门到现在没回来",
        "孙子刚才还在滑梯那 一转眼就不见了 四岁",
        "商场里有个小朋友在哭 找不到妈妈",
        "姥爷有认知症 下午出门到现在没见人",
    ],
    "flooding": [
        "雨水灌进来了 屋里水已经到膝盖",
        "水漫到沙发了 还在涨",
        "河堤决堤了 水往村子里冲",
        "水冲进一楼住户家里了",
        "雨水往地下室住户家里灌",
    ],
    "falling": [
        "楼上的玻璃哗啦啦往下掉 底下是停车场",
        "外墙石材一大块一大块往下掉",
        "阳台的吊顶往下塌了",
        "风把广告灯箱吹歪了 正往下掉螺丝",
    ],
    "fight": [
        "菜场门口两个人动刀子了",
        "有个醉汉抡着凳子砸人",
        "楼下两口子干起来了 男的在打女人",
    ],
}


@pytest.mark.parametrize(("kind", "text"), [(k, t) for k, texts in EFFECTS.items() for t in texts])
def test_danger_told_by_its_effect_is_a_live_cue(kind: str, text: str) -> None:
    assert kind in live(text), text


# The same effects where nothing dangerous is happening now.
NOT_NOW = [
    "忙得火烧眉毛 周末再聚",  # figures of speech
    "热得嗓子都冒烟了",
    "房贷压得人喘不过气",
    "笑得我喘不过气",
    "今天加班被困在公司 哈哈",
    "群里别吵了 都快打起来了",
    "楼下有人烧纸钱 烟好大",  # smoke explained by its source
    "火灭了 屋里全是烟 开窗散散",
    "保安在岗亭睡觉 叫都叫不醒",  # asleep, not unconscious
    "电梯这个月第三次停半截了 物业管不管",  # a recurring fault
    "电梯里有个大爷在哼京剧",  # people in a lift that works
    "走丢的小孩找到了 谢谢大家",  # over
    "困电梯的大姐已经出来了",
    "打架的两个人被保安拉开了",
    "看抖音有个主播掉河里了",  # on a screen, elsewhere
    "我表哥那边发大水 水漫到二楼了",
    "钥匙掉进井里了 谁有磁铁",  # a thing, not a person
    "我爸中风好几年了 想申请护理床",  # a condition, not an attack now
    "烟感报警器坏了没人换",
    "快来人啊 垃圾都堆到门口了",  # urging a chore
    "有没有打气筒 孩子自行车没气了",
    "今天累得人都快晕了",  # about to, as hyperbole
    "楼上蹦迪 震得房顶都要塌了",
    "充电线拖到地上了 谁家的",  # a charging lead, not a power line
    "烧烤的油烟往我们窗户里灌",  # fumes into a window, not water into a home
]


@pytest.mark.parametrize("text", NOT_NOW)
def test_the_same_effects_with_no_danger_now_are_not_live(text: str) -> None:
    assert not live(text), text


def test_an_evacuation_is_no_resolution() -> None:
    # 「我们已经出来了」 says people left; the gas is still leaking
    assert "gas_leak" in live("厨房燃气管在嘶嘶响 一股燃气味 我们已经出来了")


def test_a_weapon_about_to_be_used_is_still_a_fight() -> None:
    assert "fight" in live("有人拿着菜刀要砍人")


def test_sinking_and_a_failing_oxygen_supply_are_not_hyperbole() -> None:
    assert live("有个小孩在河里 快沉下去了")
    assert live("停电了 病人的制氧机快撑不住了")


def test_effect_cues_are_no_model_features() -> None:
    # a rule over the model: the trained models (cached by corpus hash, not by this code) stay valid
    found = urgency.find_cues(normalize("屋里全是烟看不见"))
    assert found and all(c.effect for c in found)
    assert "#urgent:fire" not in analyse(normalize("屋里全是烟看不见"), FeatureConfig())


def _probe(name: str) -> tuple[float, float]:
    rows = [json.loads(line) for line in (PROBES / name).read_text(encoding="utf-8").splitlines()]
    alarms = [bool(live(r["text"])) for r in rows]
    urgent = [x for x, r in zip(alarms, rows, strict=True) if r["priority"] == "urgent"]
    normal = [x for x, r in zip(alarms, rows, strict=True) if r["priority"] == "normal"]
    return sum(urgent) / len(urgent), sum(normal) / len(normal)


@pytest.mark.parametrize(
    "name", ["urgency_probe.jsonl", "urgency_probe_heldout.jsonl", "urgency_probe_final.jsonl"]
)
def test_probe_sets_keep_recall_and_no_false_alarms(name: str) -> None:
    # the rules alone; before this pass: 0.31 / 12 % (first set), 0.44 / 3 % (second), 0.49 / 3 % (third)
    recall, false_live = _probe(name)
    assert recall >= 0.95, recall
    assert false_live <= 0.01, false_live


@pytest.mark.parametrize(
    "text",
    [
        "屋子里全是烟 什么都看不见",
        "我奶奶在阳台摔了 叫她也不应",
        "水已经漫到床沿了",
        "那个我跟你说我们楼下车库里面全部都是烟你们快来",
        "谢谢大家的关心 对了三楼有股臭鸡蛋味 很冲",
    ],
)
def test_effects_reach_the_ticket_as_urgent_incidents(default_classifier: Classifier, text: str) -> None:
    result = default_classifier.classify(text)
    assert (result.priority, result.kind) == ("urgent", "incident"), text

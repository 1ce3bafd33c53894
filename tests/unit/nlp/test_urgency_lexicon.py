"""The urgency lexicon: variants and typos residents type, look-alikes that are no danger, and the model's cache key.

Every message is our own wording (issue 14: the lexicon misses common variants); none is taken from an evaluation set.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from gridbot.nlp import fast, urgency, urgency_effects, urgency_lexicon
from gridbot.nlp.normalize import normalize

# (message, cue kind it must raise): other names, dialect, pinyin typos and spelled-out numbers.
VARIANTS = [
    ("厨房一股嘎斯味 是不是漏了", "gas_leak"),
    ("楼道里瓦斯味很重", "gas_leak"),
    ("液化汽罐漏了 嘶嘶的", "gas_leak"),
    ("俺家嘎斯罐子漏了", "gas_leak"),
    ("煤气罐爆了 玻璃都碎了", "gas_leak"),
    ("闻到好浓的天燃气", "gas_leak"),
    ("有人被电打了 躺地上", "electric"),
    ("快打一一九 3栋着火", "call_for_help"),
    ("快打幺二零", "call_for_help"),
    ("赶紧报火警", "call_for_help"),
    ("120打了 大家让开", "call_for_help"),
    ("报咗119未", "call_for_help"),
    ("老人没有知觉了", "injured"),
    ("我爸突然没心跳了", "injured"),
    ("有人晕撅了", "injured"),
    ("阿婆喺门口晕低咗", "injured"),
    ("娃掉河里了", "injured"),
    ("有个人漂在河里", "injured"),
    ("有人倒了 就在东门", "injured"),
    ("老太太倒在楼道里了 喊不应", "injured"),
    ("电动车在楼道里自燃了", "fire"),
    ("失伙了 3栋", "fire"),
    ("对面楼冒大烟了", "fire"),
    ("门缝里往外钻烟", "fire"),
    ("烟都从地漏里冒出来了", "fire"),
    ("七座电梯困咗人", "trapped"),
    ("阳台上有人不停地往下丢花盆", "falling"),
    ("卫生间一股坏了的鸡蛋味", "gas_leak"),
    ("两个人被关在货梯里了", "trapped"),  # any lift: property, not a person pinned elsewhere
    ("电梯往下掉了一截 里面有人在喊", "trapped"),
    ("外墙还在往下掉 下面有人", "falling"),
    ("车棚整个垮下来了", "falling"),
    ("后山泥石流冲下来了", "falling"),
    ("有个小女孩在哭 说找不到妈妈了", "missing"),
    ("两个人在门口郁手", "fight"),
    ("醉汉在打保安", "fight"),
    # spelled-out numbers after a space (voice input), and 「…说马上到」
    ("刚拨了 幺幺九 火还在烧", "call_for_help"),
    ("报了 一一九说五分钟到", "call_for_help"),
    # a small child locked in, with an age, a danger inside or the parent shut out
    ("三岁的娃在卫生间把门反锁了 叫他开也开不了", "pinned"),
    ("孙女自己把房门反锁了 屋里燃气灶还开着", "pinned"),
    # slumped somewhere and unable to get up, with a symptom beside it
    ("老李说眼前发黑 蹲在菜地里站不起来", "injured"),
    ("瘫在楼梯上起不来 嘴角还在流血", "injured"),
    # living alone and silent at both the door and the phone, even within the day
    ("对门阿姨一个人住 电话一直没人接 敲门也没动静", "person_at_risk"),
    ("楼下孤老 电话打过去没反应 敲了半天门没人开", "person_at_risk"),
    ("几个小孩在塘边钓鱼 水好急 快喊回来", "person_at_risk"),  # a child at fast water
    ("小朋友站在江边堤上 那块已经塌了一半", "person_at_risk"),  # 没反应 on the phone too
]


@pytest.mark.parametrize(("text", "kind"), VARIANTS)
def test_variants_and_typos_are_live_cues(text: str, kind: str) -> None:
    assert kind in [c.kind for c in urgency.active_cues(normalize(text))], urgency.find_cues(normalize(text))


# Look-alikes of the variants above: the same words, no danger here and now.
LOOK_ALIKES = [
    "有人倒了一大桶泔水在路边",  # 倒 as dump
    "老人买菜回来走不动了 想歇一歇",  # tired, not down
    "电梯最近开门的时候会往下掉一下再停稳",  # a fault to fix (a normal property report)
    "去乡里那条路塌方了 班车过不去",  # a road blocked, no one in danger
    "河边没护栏 晚上有人掉河里咋办",  # a worry, not a report
    "燃气味的事查清楚了 是隔壁煮东西糊了",  # talk about an event that is over
    "昨天那个电瓶车着火的事 物业后来查了",
    "这天热得我快晕倒了",  # about to, a figure of speech
    "我表姐在外地 她们楼电梯昨天困人了",  # somewhere else
    "幺幺九消防宣传日 广场有灭火器教学",
    "去年打了一二零说马上到 等了四十分钟",  # the past
    "我儿子十五了 一生气就把房门反锁 打游戏到半夜",  # a teenager's mood, no danger
    "今天头晕 早上都起不来床 请假一天",  # unwell in bed, no one down
    "我妈一个人住 下午电话没人接 多半去跳舞了",  # the phone alone for an afternoon is not yet a welfare check
]


@pytest.mark.parametrize("text", LOOK_ALIKES)
def test_look_alikes_are_no_live_cue(text: str) -> None:
    assert not urgency.active_cues(normalize(text)), urgency.find_cues(normalize(text))


def test_someone_away_does_not_make_danger_here_news() -> None:
    """「我在外地」 says who cannot come, not where the danger is (外地 alone still marks news from elsewhere)."""
    assert urgency.active_cues(normalize("家里老人摔倒了起不来 我在外地 谁能帮忙去看看"))
    assert urgency.active_cues(normalize("有个外地的老太太在我店门口晕倒了"))
    assert not urgency.active_cues(normalize("外地有个小区着火了 好吓人"))


def test_a_mistaken_explanation_does_not_clear_the_cue() -> None:
    """「以为是邻居做饭」 is an explanation the resident found wrong; 「是邻居在做饭」 clears it."""
    assert urgency.active_cues(normalize("一股燃气味 还以为是谁家在做饭 现在越来越浓了"))
    assert not urgency.active_cues(normalize("刚才的燃气味是楼下在做饭 没事"))
    assert urgency.active_cues(normalize("以为是邻居家炒菜 出门一看对门门缝里往外冒烟"))


def test_the_model_cache_key_covers_the_urgency_rules(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """Live cues are features of every head: editing a rule file must give a new default model (a retrain)."""
    modules = {m.__name__.rsplit(".", 1)[-1] for m in fast.URGENCY_MODULES}
    on_disk = {p.stem for p in Path(urgency.__file__).parent.glob("urgency*.py")}
    assert modules == on_disk | {"normalize"}  # a new urgency module must join the key; so does normalisation
    before = fast.model_key()
    for module in (urgency, urgency_lexicon, urgency_effects):
        edited = tmp_path / Path(module.__file__ or "").name
        edited.write_bytes(Path(module.__file__ or "").read_bytes() + b"\n# one more variant\n")
        with monkeypatch.context() as m:
            m.setattr(module, "__file__", str(edited))
            assert fast.model_key() != before, module.__name__
    assert fast.model_key() == before

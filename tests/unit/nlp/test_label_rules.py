"""Category boundaries of the labelling guide: written in TAXONOMY.md, echoed in taxonomy.yaml, kept by the data.

Each rule names the guide's words, the YAML category description's words and a pattern of messages that must not
carry a given category. A relabelled row that drifts back, or a guide edit that drops the rule, fails here.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import pytest

from gridbot.nlp import corpus
from gridbot.nlp.normalize import normalize
from gridbot.nlp.taxonomy import load_taxonomy
from gridbot.nlp.urgency import active_cues

NLP_DIR = Path(corpus.__file__).parent
EVAL_DIR = NLP_DIR / "data" / "eval"


@dataclass(frozen=True)
class Rule:
    name: str
    pattern: str  # messages this rule is about
    not_category: str  # the label the rule forbids for them
    category: str  # where the guide puts them
    guide: str  # words of nlp/TAXONOMY.md that state the rule
    yaml: str  # words of nlp/taxonomy.yaml's description of either side of the boundary


RULES = (
    Rule(
        "flyers and cards are small ads",
        r"小卡片|传单|卡片.{0,4}(?:塞|插)|(?:塞|插)(?:满|了).{0,6}卡片|喷.{0,6}(?:办证|电话)|贴满了.{0,8}广告",
        "other_incident",
        "violation",
        "flyers and cards stuffed into door gaps",
        "塞传单卡片",
    ),
    Rule(
        "violence is safety, whatever is behind it",
        r"(?<!差点)(?<!没)(?<!快)(?<!快要)打起来了|还动手|打(?:他|她)?老婆|砸.{0,4}门|(?:拿|持)(?:着|了)?(?:刀|菜刀|锤子)",
        "dispute",
        "safety",
        "threatening with a knife or a stick",
        "持刀威胁",
    ),
    Rule(
        "a fire lane blocked by a vehicle is safety",
        r"消防(?:通道|车道)(?!以外).{0,10}(?:停|车)|(?:停|车).{0,10}消防(?:通道|车道)(?!以外)",
        "violation",
        "safety",
        "blocked fire exits, stairwells and fire lanes (by cars or things",
        "堵塞消防通道",
    ),
    Rule(
        "dead fire equipment is safety",
        r"应急(?:照明)?灯.{0,6}(?:不亮|坏|没亮)|水带.{0,6}(?:去哪|没了|不见)",
        "property",
        "safety",
        "emergency lights and exit signs that do not light",
        "应急灯不亮",
    ),
    Rule(
        "a dead animal is sanitation",
        r"死(?:海豚|猫|狗|鱼|鸟|老鼠)|(?:猫|狗|鸟|鼠).{0,3}死在",
        "other_incident",
        "sanitation",
        "a dead animal is sanitation",
        "动物尸体",
    ),
    Rule(
        "a ground lock on a shared space is violation",
        r"地锁",
        "property",
        "violation",
        "ground locks on shared parking spaces",
        "地锁占公共车位",
    ),
    Rule(
        "a public dry toilet is a facility",
        r"旱厕.{0,4}(?:满|堵|溢)",
        "sanitation",
        "facilities",
        "旱厕",
        "旱厕",
    ),
    Rule(
        "asking where or when to get a certificate is certificates",
        r"开(?:个|张)?证明",
        "other_request",
        "certificates",
        "「社区几点开门 我想开个证明」",
        "开证明的时间地点",
    ),
    Rule(
        "activities and rooms for children are other_request",
        r"亲子活动|图书室|安全教育活动",
        "education",
        "other_request",
        "亲子活动, 安全教育活动, 图书室",
        "社区亲子活动、图书室属其他诉求",
    ),
    Rule(
        "an age allowance is elderly care",
        r"高龄(?:津贴|补贴)(?!和养老金)",
        "social_security",
        "elderly_care",
        "elderly cards and age allowances",
        "老年卡和高龄津贴",
    ),
    # issue 14: cases the writers of days_n, pairs_n and days_p decided, written in TAXONOMY.md §4
    Rule(
        "heating that is not warm is a public supply",
        r"暖气.{0,14}(?:不热|冰凉|不咋热|没热过|凉的|不热乎)",
        "property",
        "facilities",
        "Central or district heating not warm",
        "集中供暖不热",
    ),
    Rule(
        "a village well pump or reservoir is a facility",
        r"水井.{0,6}水泵|蓄水池.{0,12}(?:浑|裂|漏|坏)",
        "property",
        "facilities",
        "A village well pump or a village",
        "村里的水井水泵和蓄水池",
    ),
    Rule(
        "common parts of old houses without an estate are property",
        r"弄堂.{0,8}电表箱|公共厨房.{0,8}(?:水表|水龙头)|宿舍.{0,4}热水器",
        "facilities",
        "property",
        "the building's common parts, whoever keeps them",
        "无物业老楼的公共部位",
    ),
    Rule(
        "a blocked shared sink overflowing with dirty water is sewage",
        r"(?:公共厨房|灶披间).{0,10}(?:水池|水斗|下水道).{0,4}堵",
        "property",
        "sanitation",
        "blocked and overflowing with dirty, smelly water",
        "公用厨房水池堵塞冒污水",
    ),
    Rule(
        "a tree on a car with someone inside is a person pinned",
        r"树.{0,10}(?:压在|砸到?).{0,6}车.{0,10}(?:车里|下面)(?:好像)?(?:还)?有人",
        "facilities",
        "other_incident",
        "A tree on a car with someone inside",
        "树压车里有人",
    ),
    Rule(
        "a pipe upstairs bursting into a home now is property",
        r"楼上(?:的|公共)?(?:水管|管子)爆了",
        "dispute",
        "property",
        "A pipe upstairs bursting and pouring through the ceiling now",
        "公共部位漏水和爆管",
    ),
    Rule(
        "rails of a public building are a facility",
        r"(?:图书室|图书馆|卫生院|卫生服务中心).{0,10}(?:扶手|栏杆)",
        "property",
        "facilities",
        "Broken rails or stairs of a **public building**",
        "公共建筑（卫生院、图书室）的扶手楼梯",
    ),
    Rule(
        "smoke from power equipment is fire",
        r"(?:电表箱|配电箱|变电箱|变压器|变电站|电线杆顶上).{0,8}(?:冒烟|着火|起火)",
        "facilities",
        "safety",
        "Smoke or flames from a substation, a transformer, a pole or a meter box",
        "变压器和电表箱冒烟",
    ),
    Rule(
        "a street line down and sparking is a facility",
        r"电线.{0,10}(?:掉|断).{0,12}(?:冒火星|冒火花)",
        "safety",
        "facilities",
        "a street line down and sparking facilities",
        "公共电线断落",
    ),
    Rule(
        "stove fumes with a person down are a person at risk",
        r"(?:煤炉|一氧化碳|煤气中毒).{0,20}(?:叫.{0,3}不应|躺着|不动|晕倒)",
        "safety",
        "other_incident",
        "Coal-stove or charcoal fumes with a person down",
        "煤炉一氧化碳中毒",
    ),
    Rule(
        "straw smoke drifting into the village is sanitation",
        r"秸秆.{0,16}烟.{0,4}(?:飘|往村)",
        "safety",
        "sanitation",
        "Straw burning whose smoke drifts into the village",
        "焚烧秸秆烟飘进村",
    ),
    Rule(
        "paper offerings burnt on public ground are violation",
        r"烧纸.{0,14}(?:黑灰|黑乎乎)",
        "other_incident",
        "violation",
        "burnt on a lawn, a green belt or the ground below a building → violation",
        "在绿地和楼下烧纸",
    ),
    Rule(
        "where to complain about wages is employment",
        r"(?:工资|工钱).{0,16}(?:去哪|哪里|找谁).{0,4}(?:投诉|告)|劳动仲裁",
        "other_request",
        "employment",
        "about unpaid wages, labour arbitration, training for a trade certificate → employment",
        "欠薪去哪投诉和劳动仲裁",
    ),
    Rule(
        "an alarm for one older person is elderly care",
        r"(?:独居|老人|老伯).{0,14}(?:装|安装).{0,6}(?:报警器|烟感)|(?:报警器|烟感).{0,16}(?:独居|老人)",
        "other_request",
        "elderly_care",
        "a care service, an alarm or a smoke alarm for one older person",
        "给老人装燃气报警器和烟感",
    ),
    Rule(
        "a wall damaged by a neighbour's renovation is a dispute",
        r"装修.{0,10}(?:我家|他家)墙.{0,2}(?:打穿|打裂|震裂)|(?:把|将)我家墙(?:打穿|打裂|震裂)",
        "property",
        "dispute",
        "wall knocked through or cracked by a neighbour's renovation",
        "邻居装修打穿打裂墙",
    ),
    Rule(
        "wolves killing livestock are wild animals",
        r"狼.{0,10}咬死了.{0,6}(?:羊|牛|鸡)",
        "sanitation",
        "other_incident",
        "wolves or wild dogs killing sheep",
        "狼和野狗咬死牲畜",
    ),
)


def _rows() -> list[corpus.Example]:
    rows = corpus.load_corpus()
    for path in sorted(EVAL_DIR.glob("*.jsonl")):
        if path.name.startswith("blind"):
            continue  # never read a held-out set
        rows += corpus.read_examples(path)
    return rows


@pytest.fixture(scope="module")
def rows() -> list[corpus.Example]:
    return _rows()


@pytest.mark.parametrize("rule", RULES, ids=[r.name for r in RULES])
def test_the_rule_is_written_in_the_guide_and_the_yaml(rule: Rule) -> None:
    guide = (NLP_DIR / "TAXONOMY.md").read_text(encoding="utf-8")
    assert rule.guide in guide
    sides = {rule.category, rule.not_category}
    assert any(rule.yaml in c.description for c in load_taxonomy().categories if c.id in sides)


@pytest.mark.parametrize("rule", RULES, ids=[r.name for r in RULES])
def test_the_data_follows_the_rule(rule: Rule, rows: list[corpus.Example]) -> None:
    about = [ex for ex in rows if ex.category and re.search(rule.pattern, ex.text)]
    assert any(ex.category == rule.category for ex in about), (
        "the pattern no longer finds what the rule is about"
    )
    drift = [ex.text for ex in about if ex.category == rule.not_category]
    assert not drift, drift


@pytest.mark.parametrize(
    ("text", "cue"),
    [
        ("特困人员的供养金每月多少 什么时候发", False),
        ("特困供养人员申请要带什么材料", False),
        ("3栋电梯困人了 快来", True),
    ],
)
def test_a_social_security_word_is_no_danger_cue(text: str, cue: bool) -> None:
    # 特困 (extreme poverty support) is social_security (TAXONOMY.md §2); its 困人 is no one trapped
    assert bool(active_cues(normalize(text))) is cue


@pytest.mark.parametrize(
    ("pattern", "kind"),
    [
        # a "me too" that names the fault is that incident (TAXONOMY.md §4)
        (r"^(?:\+1 ?)?(?:我|俺)家也(?:没水|不热|冰凉|是黄的)", "incident"),
        # one that only points back is chatter
        (r"^(?:\+1 ?|是的 ?)?(?:我|俺)家也是$", "chatter"),
    ],
)
def test_a_me_too_is_labelled_by_whether_it_names_the_fault(
    pattern: str, kind: str, rows: list[corpus.Example]
) -> None:
    guide = (NLP_DIR / "TAXONOMY.md").read_text(encoding="utf-8")
    assert '**"Me too" names the fault or is chatter.**' in guide
    about = [ex for ex in rows if re.search(pattern, normalize(ex.text))]
    assert about, "the pattern no longer finds what the rule is about"
    drift = [ex.text for ex in about if ex.kind != kind]
    assert not drift, drift

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
        r"(?<!差点)(?<!没)(?<!快)(?<!要)打起来了|还动手|打(?:他|她)?老婆|砸.{0,4}门|(?:拿|持)(?:着|了)?(?:刀|菜刀|锤子)",
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

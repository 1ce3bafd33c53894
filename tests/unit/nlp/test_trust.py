"""Issue 14: a classifier residents can trust. One test (or a few) per cause found in the issue, measured on the
independent evaluation set (never trained on) and on messages built here from lists."""

from __future__ import annotations

import ast
import json
import re
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from gridbot.nlp import corpus, urgency
from gridbot.nlp.base import REVIEW_LIVE_CUE, REVIEW_URGENT_NO_CUE, Classification
from gridbot.nlp.classifier import Classifier
from gridbot.nlp.evaluate import evaluate, format_report, register_of, reliability_svg
from gridbot.nlp.normalize import normalize
from gridbot.nlp.taxonomy import load_taxonomy

NLP_DIR = Path(corpus.__file__).parent


@pytest.fixture(scope="module")
def independent() -> list[dict[str, Any]]:
    return [
        json.loads(line) for line in corpus.INDEPENDENT_PATH.read_text(encoding="utf-8").splitlines() if line
    ]


@pytest.fixture(scope="module")
def independent_report(default_classifier: Classifier) -> dict[str, Any]:
    return evaluate(default_classifier, corpus.load_independent())


def _by_group(
    clf: Classifier, rows: list[dict[str, Any]], group: str
) -> list[tuple[dict[str, Any], Classification]]:
    chosen = [r for r in rows if r["group"] == group]
    return list(zip(chosen, clf.classify_batch([r["text"] for r in chosen]), strict=True))


# -- the independent set -------------------------------------------------------------------------------------------


def test_independent_set_is_large_labelled_and_never_trained_on(independent: list[dict[str, Any]]) -> None:
    assert len(independent) >= 500
    examples = corpus.load_independent()  # validates every label against the taxonomy
    assert len(examples) == len(independent)
    training = {corpus.text_key(ex.text) for ex in corpus.load_corpus()}
    overlap = [ex.text for ex in examples if corpus.text_key(ex.text) in training]
    assert not overlap, overlap[:5]
    assert not list(corpus.CORPUS_DIR.glob("*independent*"))  # never placed where the trainer reads
    kinds = Counter(r["kind"] for r in independent)
    assert min(kinds.values()) >= 90 and sum(r["priority"] == "urgent" for r in independent) >= 40
    assert len({r["group"] for r in independent}) >= 15  # ads, neighbour asks, forwards, voice input, …
    assert Counter(register_of(r["text"]) for r in independent)["plain"] >= 250


def test_targets_on_the_independent_set(independent_report: dict[str, Any]) -> None:
    r = independent_report
    text = format_report(r)
    assert r["kind"]["macro_f1"] >= 0.95, text
    assert r["category"]["accuracy"] >= 0.90, text
    assert r["chatter_predicted_actionable"] <= 0.03, r["errors"]["chatter_as_actionable"]
    assert r["urgent_recall"] == 1.0, r["errors"]["missed_urgent"]
    assert r["false_urgent_rate"] <= 0.01, r["errors"]["false_urgent"]
    assert r["calibration_ece"] <= 0.08


# -- 1. punctuation style ------------------------------------------------------------------------------------------

_STYLES = {
    "spaces": lambda t: re.sub(r"[，。,.；;、]+", " ", t).strip(),
    "full-width": lambda t: re.sub(r"[ ,.;]+", "，", t).strip("，"),
    "ascii": lambda t: re.sub(r"[，。 ；、]+", ",", t).strip(","),
}


@pytest.mark.parametrize("style", sorted(_STYLES))
def test_style_swap_keeps_every_label(default_classifier: Classifier, style: str) -> None:
    _, test = corpus.split(corpus.load_corpus())
    texts = [ex.text for ex in test] + [ex.text for ex in corpus.load_independent()]
    swapped = [_STYLES[style](t) or t for t in texts]
    before = default_classifier.classify_batch(texts)
    after = default_classifier.classify_batch(swapped)
    changed = [
        (t, s)
        for t, s, a, b in zip(texts, swapped, before, after, strict=True)
        if (a.label, a.priority) != (b.label, b.priority)
    ]
    assert not changed, changed[:5]


# -- 2. 「!!」 ------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("marks", ["!!", "！！！", "!!!!!!", "!!！！~~"])
def test_exclamation_marks_never_make_a_message_urgent(default_classifier: Classifier, marks: str) -> None:
    normal = [ex.text for ex in corpus.load_independent() if ex.priority == "normal"]
    plain = default_classifier.classify_batch(normal)
    loud = default_classifier.classify_batch([t + marks for t in normal])
    assert [p.priority for p in plain] == [p.priority for p in loud]
    assert [p.label for p in plain] == [p.label for p in loud]


@pytest.mark.parametrize("text", ["？？？", "...???!!!", "！！", "。。。", "?!?!"])
def test_punctuation_alone_is_chatter(default_classifier: Classifier, text: str) -> None:
    assert default_classifier.classify(text).kind == "chatter"


# -- 3. danger cues ------------------------------------------------------------------------------------------------

_OPENERS = [
    "祝大家国庆快乐 身体健康",
    "收到 谢谢网格员",
    "各位邻居早上好",
    "好的好的 辛苦了",
    "[强][强] 感谢物业",
    "没事了 谢谢大家",
]
_DANGER = [
    ("楼下那家窗户往外冒黑烟了", "fire"),
    ("我们单元一股很冲的燃汽味", "gas_leak"),
    ("有个老人倒在花坛边一动不动", "injured"),
    ("电梯卡住了 里面还有人", "trapped"),
    ("雨水已经灌进一楼人家里了", "flooding"),
]


@pytest.mark.parametrize("opener", _OPENERS)
@pytest.mark.parametrize(("danger", "kind"), _DANGER)
def test_a_live_cue_inside_greetings_and_thanks_is_never_dropped(
    default_classifier: Classifier, opener: str, danger: str, kind: str
) -> None:
    for sep in (" ", "，", "\n"):
        c = default_classifier.classify(opener + sep + danger)
        assert c.kind == "incident" and c.priority == "urgent" and kind in c.urgency_cues, (opener, danger, c)


def test_a_live_cue_over_a_confident_chatter_verdict_is_held_for_a_human() -> None:
    import numpy as np

    from gridbot.nlp.base import decide

    tax = load_taxonomy()
    labels = ["chatter", *tax.category_ids]
    probs = np.array([0.99] + [0.01 / len(tax.category_ids)] * len(tax.category_ids))
    c = decide(labels, probs, tax, normalize("中秋快乐 楼下好像着火了"))
    assert (c.kind, c.category, c.priority) == ("incident", "safety", "urgent")
    assert c.needs_review and c.review_reason == REVIEW_LIVE_CUE


def test_urgent_by_the_priority_head_alone_is_checked_before_any_public_alarm() -> None:
    """No live cue in any clause: urgent for the staff at once, but held (待确认) until a person confirms it."""
    import numpy as np

    from gridbot.nlp.base import decide

    tax = load_taxonomy()
    labels = ["chatter", *tax.category_ids]
    probs = np.array([0.01] + [0.0] * len(tax.category_ids))
    probs[labels.index("property")] = 0.99
    text = normalize("3栋电梯门一直开开关关 里面灯也灭了")
    head = decide(labels, probs, tax, text, p_urgent=0.95)
    assert head.priority == "urgent" and head.needs_review and head.review_reason == REVIEW_URGENT_NO_CUE
    calm = decide(labels, probs, tax, text, p_urgent=0.1)
    assert calm.priority == "normal" and not calm.needs_review
    cue = decide(labels, probs, tax, normalize("3栋电梯困人了 里面有老人"), p_urgent=0.95)
    assert cue.priority == "urgent" and not cue.needs_review  # a live cue is alarmed at once, as before


@pytest.mark.parametrize(
    "text",
    [
        "着火了 注意安全 大家快下楼",
        "楼道冒烟了\n大家小心\n快报警",
        "天然气味好大 别开灯 赶紧开窗",
        "好像有人被困电梯了 担心死了 快来",
        "谢谢大家帮忙 另外3栋又冒烟了",
    ],
)
def test_a_hedge_or_thanks_in_another_clause_does_not_negate_a_cue(text: str) -> None:
    assert urgency.active_cues(normalize(text)), text


@pytest.mark.parametrize(
    "text",
    [
        "万一着火了 往哪跑",
        "如果 闻到煤气味 第一步做什么",
        "要是被困电梯 别扒门",
        "【转发】某小区发生火灾 提醒大家注意",
        "新闻说外省有人被困在电梯里",
        "楼下着火了 已经扑灭了 没人受伤",
        "没有着火 是邻居在烧烤",
        "今天消防演练 好多烟",
        "电动车在楼道充电 存在火灾隐患",
        "我家俩娃又打起来了 为了抢玩具",
    ],
)
def test_hypotheticals_news_and_resolved_events_are_not_live(text: str) -> None:
    assert not urgency.active_cues(normalize(text)), [c.text for c in urgency.find_cues(normalize(text))]


def test_a_resolution_only_reaches_back() -> None:
    assert not urgency.active_cues(normalize("楼下着火了，后来火已经灭了"))
    assert urgency.active_cues(normalize("上次的事已经解决了 现在楼下又着火了"))


# Variants and typos residents type (cause 3): each must be a live cue of its kind.
LEXICON_VARIANTS = [
    ("燃汽味好大", "gas_leak"),
    ("有股煤汽味", "gas_leak"),
    ("好像漏汽了", "gas_leak"),
    ("液化气的味道很重", "gas_leak"),
    ("液化汽的味道", "gas_leak"),
    ("天然气的味道", "gas_leak"),
    ("一股臭鸡蛋味", "gas_leak"),
    ("闻到一股燃气", "gas_leak"),
    ("水淹到脚踝了还往屋里灌", "flooding"),
    ("水已经到脚踝了", "flooding"),
    ("老人躺着一动不动", "injured"),
    ("电线在冒火星", "electric"),
    ("插座冒火花", "electric"),
    ("配电箱有火光", "fire"),
    ("楼上烟感一直在响", "fire"),
    ("有人晕到了", "injured"),
    ("地上一滩血", "injured"),
    ("电梯停住了里面有人", "trapped"),
]


@pytest.mark.parametrize(("text", "kind"), LEXICON_VARIANTS)
def test_lexicon_variants_and_typos(text: str, kind: str) -> None:
    assert kind in [c.kind for c in urgency.active_cues(normalize(text))], text


def test_a_report_after_2000_characters_is_found(default_classifier: Classifier) -> None:
    filler = "今天天气不错大家出去走走吧哈哈。" * 160  # 2,560 characters of chatter
    assert len(filler) > 2000
    urgent = default_classifier.classify(filler + "另外6栋楼道着火了，好大的烟")
    assert urgent.kind == "incident" and urgent.priority == "urgent"
    report = default_classifier.classify(filler + "另外3号楼电梯坏了三天了一直没人修，老人上不去楼")
    assert report.kind == "incident" and report.category == "property"
    assert default_classifier.classify(filler).kind == "chatter"


# -- 4. who is addressed, 5. information questions -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("group", "share"), [("ad", 0.95), ("neighbor", 0.95), ("pet", 0.9), ("forward", 0.9)]
)
def test_ads_neighbour_asks_and_forwards_stay_chatter(
    default_classifier: Classifier, independent: list[dict[str, Any]], group: str, share: float
) -> None:
    pairs = _by_group(default_classifier, independent, group)
    wrong = [(r["text"], c.label) for r, c in pairs if c.kind != r["kind"]]
    assert len(wrong) <= (1 - share) * len(pairs), wrong


def test_information_questions_are_requests_not_incidents(
    default_classifier: Classifier, independent: list[dict[str, Any]]
) -> None:
    pairs = _by_group(default_classifier, independent, "info_q")
    assert len(pairs) >= 40
    incidents = [(r["text"], c.label) for r, c in pairs if c.kind == "incident"]
    assert not incidents
    assert sum(c.kind == "request" for _, c in pairs) >= 0.9 * len(pairs)
    assert sum(c.is_question for _, c in pairs) >= 0.8 * len(pairs)


def test_a_question_that_reports_a_problem_stays_an_incident(default_classifier: Classifier) -> None:
    for text in (
        "电梯怎么又坏了？都三天了",
        "垃圾到底多久清一次？臭死了",
        "楼道灯到底什么时候修？黑了一周了",
    ):
        assert default_classifier.classify(text).kind == "incident", text


# -- 6. taxonomy drift ---------------------------------------------------------------------------------------------


def test_taxonomy_guide_yaml_and_corpus_agree() -> None:
    tax = load_taxonomy()
    guide = (NLP_DIR / "TAXONOMY.md").read_text(encoding="utf-8")
    for cid in tax.category_ids:
        assert f"`{cid}`" in guide, cid
    yaml_text = (NLP_DIR / "taxonomy.yaml").read_text(encoding="utf-8")
    assert "残疾人补贴" in yaml_text.split("social_security:")[1].split("certificates:")[0]
    rows = corpus.load_corpus() + corpus.load_independent()
    drift = [
        (ex.text, ex.category)
        for ex in rows
        if (re.search(r"消防通道(?!以外)", ex.text) and ex.category == "violation")  # 以外: somewhere else
        or (
            re.search(r"残疾人.{0,4}补贴|低保(?:户)?(?:怎么|申请|复审|年审|条件)", ex.text)
            and ex.category == "elderly_care"
        )
        # age allowances are a care benefit (elderly_care); a pension or medical insurance beside them is not
        or (
            re.search(r"高龄(?:津贴|补贴)", ex.text)
            and not re.search(r"养老金|医保|冒充", ex.text)
            and ex.category is not None
            and ex.category != "elderly_care"
        )
        # the toilet itself is a facility; waste dumped or sewage leaking beside it is sanitation
        or (
            re.search(r"公厕|公共厕所", ex.text)
            and not re.search(r"垃圾|倒了|化粪池|旁边|边上", ex.text)
            and ex.category == "sanitation"
        )
    ]
    assert not drift, drift


# -- 7. confidence -------------------------------------------------------------------------------------------------


def test_confidence_is_calibrated_on_held_out_folds(
    default_classifier: Classifier,
    independent_report: dict[str, Any],
    corpus_split: tuple[list[corpus.Example], list[corpus.Example]],
) -> None:
    validation = default_classifier.manifest["validation"]
    assert default_classifier.manifest["calibration"] == "isotonic"
    assert 0.05 <= validation["review_threshold"] <= 0.95
    assert default_classifier.review_threshold == validation["review_threshold"]  # type: ignore[attr-defined]
    bins = independent_report["reliability"]
    assert sum(b["n"] for b in bins) == independent_report["n"]
    assert independent_report["calibration_ece"] <= 0.08
    # the review flag holds a good share of the errors for a modest share of messages, on the held-out split
    # (the independent set has too few errors left, about ten, for a share of them to say anything)
    held_out = evaluate(default_classifier, corpus_split[1])
    assert held_out["errors_held_for_review"] >= 0.3
    assert held_out["needs_review_share"] <= 0.15
    svg = reliability_svg({"independent": bins})
    ET = pytest.importorskip("xml.etree.ElementTree")
    root = ET.fromstring(svg)
    assert root.tag.endswith("svg") and len(root.findall(".//{http://www.w3.org/2000/svg}circle")) == len(
        bins
    )


# -- issue 11: no import cycle -------------------------------------------------------------------------------------


@pytest.mark.parametrize("module", ["fast.py", "transformers_backend.py", "base.py"])
def test_backends_do_not_import_the_loader(module: str) -> None:
    tree = ast.parse((NLP_DIR / module).read_text(encoding="utf-8"))
    imported = {n.module for n in ast.walk(tree) if isinstance(n, ast.ImportFrom)} | {
        a.name for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names
    }
    assert "gridbot.nlp.classifier" not in imported

"""The knowledge-base matcher: precision first on the shipped paraphrase set, near misses refused,
and the file formats (YAML, XLSX) read with clear errors."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from openpyxl import Workbook

from gridbot.models.knowledge import KnowledgeFileError, read_file
from gridbot.models.settings import KnowledgeSettings
from gridbot.nlp.faq import Entry, FaqIndex, Thresholds, evaluate, is_question

FAQ = Path(__file__).resolve().parents[3] / "nlp" / "data" / "faq"


@pytest.fixture(scope="module")
def index() -> FaqIndex:
    _, entries = read_file(FAQ / "sample_kb.yaml")
    return FaqIndex([Entry(e.key, e.questions) for e in entries])


def settings_thresholds() -> Thresholds:
    s = KnowledgeSettings()
    return Thresholds(s.threshold, s.margin, s.coverage)


def test_precision_first_on_the_paraphrase_set(index: FaqIndex) -> None:
    rows = [
        (r["text"], r["entry"]) for r in map(json.loads, (FAQ / "paraphrases.jsonl").read_text().splitlines())
    ]
    result = evaluate(index, rows, settings_thresholds())
    assert result.wrong == 0  # a wrong answer is worse than none
    assert result.recall >= 0.6
    loose = evaluate(index, rows, Thresholds(0.45, 0.05, 0.0))
    assert loose.wrong > 0  # without the coverage guard the same set gets wrong answers


@pytest.mark.parametrize(
    "text", ["狂犬疫苗去哪里打", "身份证丢了怎么补办", "医保报销比例是多少", "物业费怎么交"]
)
def test_near_misses_are_not_answered(index: FaqIndex, text: str) -> None:
    assert not index.match(text, settings_thresholds()).confident


def test_a_paraphrase_is_answered_with_its_entry(index: FaqIndex) -> None:
    m = index.match("门禁卡丢了咋办", settings_thresholds())
    assert m.confident and m.entry_id == "access-card"


def test_question_cues() -> None:
    assert is_question("垃圾几点能扔") and is_question("物业电话多少？")
    assert not is_question("3栋楼道灯坏了")


def test_xlsx_and_bad_files(tmp_path: Path) -> None:
    wb = Workbook()
    ws = wb.active
    assert ws is not None
    ws.append(["编号", "问题", "答案", "有效期至", "来源"])
    ws.append(
        [
            "wifi",
            "社区有免费WiFi吗｜党群中心WiFi密码",
            "党群服务中心WiFi：WTS-Free，无密码",
            "2027-01-01",
            "居委会",
        ]
    )
    path = tmp_path / "kb.xlsx"
    wb.save(path)
    code, entries = read_file(path, region="WTS")
    assert code == "WTS" and entries[0].questions == ("社区有免费WiFi吗", "党群中心WiFi密码")
    with pytest.raises(KnowledgeFileError, match="needs --region"):
        read_file(path)
    bad = tmp_path / "bad.yaml"
    bad.write_text("region: X\nentries:\n  - id: a\n    questions: []\n    answer: b\n", encoding="utf-8")
    with pytest.raises(KnowledgeFileError, match="entry 1 \\(a\\): needs at least one question"):
        read_file(bad)

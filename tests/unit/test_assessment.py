"""The assessment score: linear scoring, missing values, and line-numbered errors for a bad 考核办法."""

from __future__ import annotations

import pytest

from gridbot.models.metrics.assessment import AssessmentConfigError, load_method, parse_method, score

METHOD = """\
name: 测试办法
missing: reweight
indicators:
  - {key: a, label: A, weight: 60, target: 0.9, floor: 0.5}
  - {key: b, label: B, weight: 40, target: 0.1, floor: 0.3, better: lower}
"""


def test_linear_between_floor_and_target_and_capped() -> None:
    m = parse_method(METHOD)
    # a = 0.7 → 60 × (0.7 − 0.5) / 0.4 = 30; b = 0.2 (lower is better) → 40 × (0.3 − 0.2) / 0.2 = 20
    assert score({"a": 0.7, "b": 0.2}, m).score == 50.0
    assert score({"a": 1.0, "b": 0.0}, m).score == 100.0
    assert score({"a": 0.1, "b": 0.9}, m).score == 0.0


def test_missing_values_reweight_zero_or_full() -> None:
    # only a is measured: 30 of 60 → 50 % under reweight
    assert score({"a": 0.7, "b": None}, parse_method(METHOD)).score == 50.0
    assert score({"a": 0.7}, parse_method(METHOD.replace("reweight", "zero"))).score == 30.0
    assert score({"a": 0.7}, parse_method(METHOD.replace("reweight", "full"))).score == 70.0
    nothing = score({}, parse_method(METHOD))
    assert nothing.score is None and [p.points for p in nothing.parts] == [None, None]


def test_default_method_loads() -> None:
    m = load_method()
    assert [i.label for i in m.indicators][:3] == ["首次响应及时率", "按期办结率", "满意率"]


@pytest.mark.parametrize(
    ("text", "line", "message"),
    [
        ("indicators:\n  - key: a\n    weight: x\n    target: 1\n", 3, "weight must be a number"),
        ("indicators:\n  - key: a\n    target: 1\n", 2, "lacks 'weight'"),
        ("indicators:\n  - {key: a, weight: 1, target: 0.5, floor: 0.9}\n", 2, "floor 0.9 must be below"),
        ("name: x\nindicators: [\n", 3, "not valid YAML"),
        ("name: x\n", 1, "'indicators' must be a non-empty list"),
        (
            "missing: sometimes\nindicators:\n  - {key: a, weight: 1, target: 1}\n",
            1,
            "missing must be one of",
        ),
    ],
)
def test_malformed_files_name_the_line(text: str, line: int, message: str) -> None:
    with pytest.raises(AssessmentConfigError, match=rf"^<string>:{line}: .*{message}"):
        parse_method(text)


def test_unknown_indicator_keys_are_refused() -> None:
    with pytest.raises(AssessmentConfigError, match=r"^<string>:4: unknown indicator 'a'"):
        parse_method(METHOD, known=frozenset({"b"}))

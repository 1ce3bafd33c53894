"""The targets of issue 3, measured on the shipped corpus's test split (never trained on) and on real data."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from gridbot.nlp import corpus
from gridbot.nlp.classifier import Classifier
from gridbot.nlp.evaluate import evaluate, expected_calibration_error, format_report, level_report
from gridbot.nlp.train import train_model

from .conftest import SHARED_DATA


@pytest.fixture(scope="session")
def test_report(
    default_classifier: Classifier, corpus_split: tuple[list[corpus.Example], list[corpus.Example]]
) -> dict[str, Any]:
    return evaluate(default_classifier, corpus_split[1])


def test_split_is_disjoint_and_stable(
    corpus_split: tuple[list[corpus.Example], list[corpus.Example]],
) -> None:
    train, test = corpus_split
    assert not {corpus.text_key(e.text) for e in train} & {corpus.text_key(e.text) for e in test}
    assert 0.15 < len(test) / (len(train) + len(test)) < 0.25
    assert all(corpus.is_test(e.text) for e in test)


def test_kind_macro_f1(test_report: dict[str, Any]) -> None:
    assert test_report["kind"]["macro_f1"] >= 0.92, format_report(test_report)


def test_category_accuracy_on_actionable(test_report: dict[str, Any]) -> None:
    assert test_report["category"]["accuracy"] >= 0.85, format_report(test_report)


def test_chatter_rarely_becomes_a_ticket(test_report: dict[str, Any]) -> None:
    assert test_report["chatter_predicted_actionable"] <= 0.03, test_report["errors"]["chatter_as_actionable"]


def test_every_urgent_message_is_flagged(test_report: dict[str, Any]) -> None:
    assert test_report["urgent_recall"] == 1.0, test_report["errors"]["missed_urgent"]


def test_confidence_is_calibrated(test_report: dict[str, Any]) -> None:
    assert test_report["calibration_ece"] <= 0.08


def test_level_report_counts() -> None:
    r = level_report(["a", "a", "b", "c"], ["a", "b", "b", "c"])
    assert r["accuracy"] == 0.75
    assert r["confusion"] == [[1, 1, 0], [0, 1, 0], [0, 0, 1]]
    assert r["per_class"]["a"] == {"precision": 1.0, "recall": 0.5, "f1": 0.6667, "support": 2}
    assert expected_calibration_error([1.0, 1.0], [True, False]) == 0.5


TIPDM = SHARED_DATA / "tipdm2020c_fj2_sample.jsonl"


@pytest.mark.skipif(
    not TIPDM.is_file(), reason=f"{TIPDM} is absent (only the development machine has ../shared)"
)
def test_own_taxonomy_on_real_letters(tmp_path: Path) -> None:
    result = train_model(tmp_path / "tipdm", data=TIPDM, label_field="label")
    assert result.report is not None
    assert result.n_test == 99  # stratified 80/20 of the 494 distinct letters, seed 0
    assert result.report["label"]["macro_f1"] >= 0.80, format_report(result.report)

"""Own-label training: the linear SVM learner and the choice among candidates by cross-validation."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import scipy.sparse as sp

from gridbot.nlp import corpus, fast, heads, selection
from gridbot.nlp.classifier import load_classifier
from gridbot.nlp.features import FeatureConfig

ROWS = [
    ("我想办理营业执照", "商事"),
    ("公司注册需要什么材料", "商事"),
    ("个体户执照年检", "商事"),
    ("执照地址变更怎么办理", "商事"),
    ("营业执照丢了补办", "商事"),
    ("公司注销要多久", "商事"),
    ("路口红绿灯坏了", "交通"),
    ("公交车站台被占了", "交通"),
    ("这条路天天堵车", "交通"),
    ("地铁口有人拉客", "交通"),
    ("红绿灯时间太短", "交通"),
    ("公交线路改了不方便", "交通"),
]


def _examples() -> list[corpus.Example]:
    return [corpus.Example(t, label=label) for t, label in ROWS]


@pytest.mark.parametrize("kind", heads.LEARNERS)
def test_a_binary_linear_head_has_one_row_per_label(kind: str) -> None:
    x = sp.csr_matrix(np.array([[1.0, 0.0], [0.9, 0.1], [0.0, 1.0], [0.1, 0.9]], dtype=np.float32))
    labels, coef, intercept = heads.fit_linear(x, ["a", "a", "b", "b"], 1.0, kind)
    assert labels == ("a", "b")
    assert coef.shape == (2, 2) and intercept.shape == (2,)
    scores = np.asarray(x @ coef.T) + intercept
    assert [labels[i] for i in scores.argmax(axis=1)] == ["a", "a", "b", "b"]


def test_an_unknown_learner_is_refused() -> None:
    x = sp.csr_matrix(np.eye(2, dtype=np.float32))
    with pytest.raises(ValueError, match="unknown learner"):
        heads.fit_linear(x, ["a", "b"], 1.0, "forest")


def test_an_svm_own_label_model_classifies_and_says_how_it_was_trained(tmp_path: Path) -> None:
    fast.train(_examples(), tmp_path, None, learner=heads.Learner("svm", 1.0))
    clf = load_classifier(tmp_path)
    assert clf.manifest["learner"] == {"kind": "svm", "c": 1.0}
    assert clf.classify("红绿灯不亮了").kind == "交通"
    result = clf.classify("营业执照怎么办理")
    assert result.kind == "商事"
    assert 0.5 < result.confidence <= 1.0


def test_the_default_learner_is_logistic_regression(small_model_dir: Path) -> None:
    clf = load_classifier(small_model_dir)
    assert clf.manifest["learner"] == {"kind": "lr", "c": None}


def test_selection_takes_the_candidate_with_the_best_cross_validated_f1(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    words_only = FeatureConfig(char_min=9, char_max=8, cue_flags=False, lexicon=False)  # no character n-grams
    # the length and question flags alone say nothing of the topic
    flags_only = FeatureConfig(char_min=9, char_max=8, words=False, lexicon=False)
    candidates = {
        "flags": selection.FlatCandidate(flags_only),
        "words/svm": selection.FlatCandidate(words_only, heads.Learner("svm", 1.0)),
    }
    monkeypatch.setattr(selection, "FLAT_CANDIDATES", candidates)
    said: list[str] = []
    chosen = selection.select_flat_candidate(_examples(), said.append)
    assert chosen == candidates["words/svm"]
    assert said[-1] == "using words/svm"
    assert sum(m.startswith("candidate ") for m in said) == 2


def test_too_few_examples_per_label_keep_the_fallback() -> None:
    chosen = selection.select_flat_candidate(_examples()[:8], lambda _m: None)  # two 交通 letters only
    assert chosen == selection.FLAT_CANDIDATES[selection.FALLBACK]

"""The held-out blind set: valid labels, never trained on, whole group days beside hard single messages."""

from __future__ import annotations

import json
from collections import Counter
from typing import Any

import pytest

from gridbot.nlp import corpus


@pytest.fixture(scope="module")
def rows() -> list[dict[str, Any]]:
    text = corpus.BLIND_PATH.read_text(encoding="utf-8")
    return [json.loads(line) for line in text.splitlines() if line]


def test_blind_set_is_labelled_and_never_trained_on(rows: list[dict[str, Any]]) -> None:
    examples = corpus.read_examples(corpus.BLIND_PATH)  # validates every label against the taxonomy
    assert len(examples) == len(rows) >= 500
    seen = {corpus.text_key(ex.text) for ex in corpus.load_corpus()}
    seen |= {corpus.text_key(ex.text) for ex in corpus.load_independent()}
    overlap = [ex.text for ex in examples if corpus.text_key(ex.text) in seen]
    assert not overlap, overlap[:5]
    assert corpus.BLIND_PATH.parent != corpus.CORPUS_DIR
    assert not list(corpus.CORPUS_DIR.glob(f"*{corpus.BLIND_PATH.stem}*"))


def test_blind_set_covers_every_kind_and_group_days(rows: list[dict[str, Any]]) -> None:
    kinds = Counter(r["kind"] for r in rows)
    # Blind sets are written as group days, where requests are rarer than reports (blind5: 92 of 736).
    assert min(kinds.values()) >= 80
    assert sum(r["priority"] == "urgent" for r in rows) >= 40
    assert all(r["kind"] != "chatter" or (r["category"] is None and r["priority"] == "normal") for r in rows)
    groups = Counter(r["group"] for r in rows)
    assert sum(n >= 30 for n in groups.values()) >= 8  # whole days of at least eight communities


def test_no_evaluation_set_is_trained_on() -> None:
    """Every held-out file beside the corpus stays out of the training data."""
    seen = {corpus.text_key(ex.text) for ex in corpus.load_corpus()}
    files = sorted(corpus.BLIND_PATH.parent.glob("*.jsonl"))
    assert len(files) >= 2
    for path in files:
        examples = corpus.read_examples(path)  # validates every label against the taxonomy
        overlap = [
            ex.text for ex in examples if corpus.text_key(ex.text) in seen and corpus.text_key(ex.text)
        ]
        assert not overlap, (path.name, overlap[:5])

"""The second independent evaluation set (chat style): valid labels, never trained on, other registers."""

from __future__ import annotations

import json
from collections import Counter
from typing import Any

import pytest

from gridbot.nlp import corpus


@pytest.fixture(scope="module")
def rows() -> list[dict[str, Any]]:
    text = corpus.WECHAT_EVAL_PATH.read_text(encoding="utf-8")
    return [json.loads(line) for line in text.splitlines() if line]


def test_wechat_set_is_labelled_and_never_trained_on(rows: list[dict[str, Any]]) -> None:
    examples = corpus.read_examples(corpus.WECHAT_EVAL_PATH)  # validates every label against the taxonomy
    assert len(examples) == len(rows) >= 300
    seen = {corpus.text_key(ex.text) for ex in corpus.load_corpus()}
    seen |= {corpus.text_key(ex.text) for ex in corpus.load_independent()}
    overlap = [ex.text for ex in examples if corpus.text_key(ex.text) in seen]
    assert not overlap, overlap[:5]
    assert corpus.WECHAT_EVAL_PATH.parent != corpus.CORPUS_DIR


def test_wechat_set_covers_every_kind_and_its_registers(rows: list[dict[str, Any]]) -> None:
    kinds = Counter(r["kind"] for r in rows)
    assert min(kinds.values()) >= 50
    assert sum(r["priority"] == "urgent" for r in rows) >= 25
    groups = Counter(r["group"] for r in rows)
    for group in ("pinyin", "dialect", "typo", "voice", "mixed", "emoji", "excl", "ad", "ask", "fwd"):
        assert groups[group] >= 3, group
    # voice input: long runs without any punctuation or space
    assert sum(len(r["text"]) > 40 and " " not in r["text"] for r in rows) >= 8

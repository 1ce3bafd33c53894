"""The transformers backend through the same protocol: a tiny BERT trained in seconds and reloaded offline."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

from gridbot.nlp import corpus
from gridbot.nlp.classifier import Classification, Classifier, load_classifier
from gridbot.nlp.taxonomy import load_taxonomy

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(
        importlib.util.find_spec("torch") is None or importlib.util.find_spec("transformers") is None,
        reason="torch/transformers not installed (pip install 'gridbot[transformers]')",
    ),
]


def test_tiny_bert_trains_saves_and_reloads_offline(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    corpus_split: tuple[list[corpus.Example], list[corpus.Example]],
) -> None:
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    from gridbot.nlp import transformers_backend

    train = corpus_split[0][::10]
    transformers_backend.train(train, tmp_path, load_taxonomy(), epochs=2, hidden_size=32, layers=1)
    assert (tmp_path / "model.safetensors").is_file()
    assert not list(tmp_path.glob("*.bin")) and not list(tmp_path.glob("*.pkl"))
    clf = load_classifier(tmp_path)
    assert isinstance(clf, Classifier)
    assert clf.manifest["backend"] == "transformers"
    texts = ["3栋着火了！！", "", "😀", "请问社保怎么交", "楼" * 5000, "电梯\x00坏了"]
    results = clf.classify_batch(texts)
    assert all(isinstance(r, Classification) for r in results)
    assert results[0].priority == "urgent"  # the urgency lexicon holds whatever the tiny model says
    assert results[1].kind == "chatter"
    again = load_classifier(tmp_path).classify_batch(texts)
    assert [r.label for r in again] == [r.label for r in results]


def test_char_vocabulary_fallback(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from gridbot.nlp import transformers_backend

    monkeypatch.setattr(transformers_backend, "cn_clip_vocab", lambda: None)
    examples = [
        corpus.Example("楼道灯坏了", "incident", "property", "normal"),
        corpus.Example("收到谢谢", "chatter", None, "normal"),
    ] * 4
    said: list[str] = []
    transformers_backend.train(
        examples, tmp_path, load_taxonomy(), epochs=1, hidden_size=32, layers=1, progress=said.append
    )
    assert any("cn-clip is not installed" in s for s in said)
    assert load_classifier(tmp_path).classify("楼道灯").kind in ("incident", "chatter")

from __future__ import annotations

import json
import zipfile
from pathlib import Path

import pytest

from gridbot.nlp import corpus, fast
from gridbot.nlp.classifier import Classification, Classifier, ModelError, load_classifier
from gridbot.nlp.taxonomy import load_taxonomy

ODD_INPUTS = [
    "",
    "   ",
    "😀🙏👍🏻",
    "[图片]",
    "楼道灯坏了" * 1000,
    "电梯\x00坏了\x07\x1b[0m",
    "\ud800孤立代理",
    "a" * 5000,
]


def test_protocol_and_result_shape(small_model_dir: Path) -> None:
    clf = load_classifier(small_model_dir)
    assert isinstance(clf, Classifier)
    result = clf.classify("3栋2单元的电梯又坏了，老人上不去楼")
    assert isinstance(result, Classification)
    assert result.kind in ("incident", "request", "chatter")
    assert 0.0 <= result.confidence <= 1.0
    assert result.alternatives[0][1] >= result.alternatives[-1][1]
    assert abs(sum(p for _, p in result.alternatives) - 1.0) < 1.0 + 1e-6
    with pytest.raises(AttributeError):
        result.kind = "chatter"  # type: ignore[misc]


@pytest.mark.parametrize("text", ODD_INPUTS)
def test_odd_inputs_do_not_fail(small_model_dir: Path, text: str) -> None:
    result = load_classifier(small_model_dir).classify(text)
    assert result.priority in ("urgent", "normal")


def test_empty_and_emoji_only_are_chatter(small_model_dir: Path) -> None:
    clf = load_classifier(small_model_dir)
    for text in ("", "😀🙏", "[动画表情]"):
        assert clf.classify(text).kind == "chatter"


def test_batch_equals_single(small_model_dir: Path) -> None:
    clf = load_classifier(small_model_dir)
    texts = ["收到", "小区门口有人摆摊卖菜", "请问社保卡丢了怎么补办", *ODD_INPUTS]
    assert clf.classify_batch(texts) == [clf.classify(t) for t in texts]


def test_review_threshold_is_configurable(small_model_dir: Path) -> None:
    text = "那个事情怎么样了"
    never = load_classifier(small_model_dir, review_threshold=0.0).classify(text)
    always = load_classifier(small_model_dir, review_threshold=1.01).classify(text)
    assert not never.needs_review and always.needs_review


def test_model_directory_is_plain_data(small_model_dir: Path) -> None:
    manifest = json.loads((small_model_dir / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["backend"] == "fast"
    assert manifest["taxonomy"]["categories"]["property"]["label"] == "物业服务"
    assert len(manifest["training"]["data_sha256"]) == 64
    assert "scikit-learn" in manifest["versions"]
    assert sorted(p.name for p in small_model_dir.iterdir()) == [
        "arrays.npz",
        "manifest.json",
        "vocabulary.json",
    ]
    with zipfile.ZipFile(small_model_dir / "arrays.npz") as z:
        assert all(name.endswith(".npy") for name in z.namelist())
        for name in z.namelist():  # no pickled object arrays: dtype descr is a plain number type
            header = z.read(name)[:200]
            assert b"'descr': '|O'" not in header


def test_deterministic_training(
    tmp_path: Path, corpus_split: tuple[list[corpus.Example], list[corpus.Example]]
) -> None:
    train = corpus_split[0][::8]
    fast.train(train, tmp_path / "a", load_taxonomy())
    fast.train(train, tmp_path / "b", load_taxonomy())
    for name in ("manifest.json", "vocabulary.json", "arrays.npz"):
        assert (tmp_path / "a" / name).read_bytes() == (tmp_path / "b" / name).read_bytes()


def test_not_a_model_directory(tmp_path: Path) -> None:
    with pytest.raises(ModelError, match="not a model directory"):
        load_classifier(tmp_path)


def test_flat_label_set_trains(tmp_path: Path) -> None:
    rows = [
        ("我想办理营业执照", "商事"),
        ("公司注册需要什么材料", "商事"),
        ("个体户执照年检", "商事"),
        ("执照地址变更", "商事"),
    ]
    rows += [
        ("路口红绿灯坏了", "交通"),
        ("公交车站台被占了", "交通"),
        ("这条路天天堵车", "交通"),
        ("地铁口有人拉客", "交通"),
    ]
    examples = [corpus.Example(t, label=label) for t, label in rows * 2]
    fast.train(corpus.dedupe(examples), tmp_path, None)
    clf = load_classifier(tmp_path)
    assert clf.manifest["scheme"] == "flat"
    assert clf.classify("红绿灯不亮了").kind == "交通"
    assert clf.classify("营业执照怎么办").kind == "商事"


def test_default_model_is_cached(model_cache: Path, default_classifier: Classifier) -> None:
    built = [p for p in model_cache.iterdir() if (p / "manifest.json").exists()]
    assert len(built) == 1
    again = load_classifier(cache_dir=model_cache)
    assert again.manifest == default_classifier.manifest
    assert not [p for p in model_cache.iterdir() if p.name.startswith(".building-")]


def test_no_default_transformers_model(model_cache: Path) -> None:
    with pytest.raises(ModelError, match="train one"):
        load_classifier(backend="transformers", cache_dir=model_cache)

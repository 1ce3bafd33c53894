"""The scipy-free feature rows a bot classifies with give scipy's floats exactly (same answers, same confidences)."""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp

from gridbot.nlp.char_ngrams import NgramTable
from gridbot.nlp.classifier import Classifier
from gridbot.nlp.fast import FastClassifier
from gridbot.nlp.features import SCIPY_ROWS, FeatureConfig, Vectorizer, analyse, char_ngrams
from gridbot.nlp.normalize import normalize

TEXTS = [
    "3栋2单元门口的路灯坏了好几天了，晚上很黑",
    "",
    "？？？",
    "电梯 电梯 电梯 又坏了 又坏了",  # repeated features: counts summed as scipy's sum_duplicates did
    "哈哈哈 对了 电梯门关不上了",
    "小区垃圾桶满了没人清理" * 30,
]


def _scipy_rows(clf: FastClassifier, texts: list[str]) -> sp.csr_matrix:
    """The pre-change construction: a CSR of ones, duplicates summed, then tf-idf and unit rows."""
    vec = clf.vectorizer
    indices: list[int] = []
    indptr = [0]
    for text in texts:
        indices.extend(filter(None, map(vec._shifted.get, analyse(text, vec.config))))
        indptr.append(len(indices))
    x = sp.csr_matrix(
        (np.ones(len(indices), np.float32), np.array(indices, np.int32) - 1, np.array(indptr, np.int64)),
        shape=(len(texts), len(vec.vocabulary)),
    )
    x.sum_duplicates()
    data = (np.log(x.data) + 1.0) * vec.idf[x.indices]
    lengths = np.diff(x.indptr)
    sums = np.add.reduceat(data * data, x.indptr[:-1])
    x.data = (data / np.repeat(np.where(lengths > 0, np.sqrt(sums), 1.0), lengths)).astype(np.float32)
    return x


def test_rows_and_products_equal_scipys_bit_for_bit(default_classifier: Classifier) -> None:
    assert isinstance(default_classifier, FastClassifier)
    texts = [normalize(t) for t in TEXTS]
    rows = default_classifier.vectorizer.rows(texts)
    expected = _scipy_rows(default_classifier, texts)
    assert (rows.csr != expected).nnz == 0
    for head in default_classifier.heads.values():
        assert np.array_equal(rows.dot(head.weights), np.asarray(expected @ head.weights))
    many = default_classifier.vectorizer.rows(texts * (SCIPY_ROWS // len(texts) + 1))  # the scipy path
    weights = default_classifier.heads["category"].weights
    assert np.array_equal(many.dot(weights)[: len(texts)], np.asarray(expected @ weights))


def test_a_batch_may_end_in_messages_with_no_known_feature() -> None:
    words_only = FeatureConfig(char_min=9, char_max=8, cue_flags=False, lexicon=False)
    vec = Vectorizer(words_only).fit(["电梯 坏了", "电梯 又 坏了"])
    rows = vec.rows(["电梯 坏了", "", "今天 天气"])
    lengths = np.diff(rows.indptr).tolist()
    assert lengths[0] > 0 and lengths[1:] == [0, 0]
    assert np.isclose(float(np.square(rows.data).sum()), 1.0)  # the one row with features has unit length


def test_character_ngrams_are_every_window_of_each_length() -> None:
    text = "电梯坏了 快来"
    padded = f"<{text}>"
    for low, high in ((1, 3), (2, 4), (3, 3)):
        config = FeatureConfig(char_min=low, char_max=high, words=False, cue_flags=False, lexicon=False)
        windows = [padded[i : i + n] for n in range(low, high + 1) for i in range(len(padded) - n + 1)]
        assert analyse(text, config) == windows


def test_the_ngram_table_finds_the_columns_the_strings_have() -> None:
    texts = ["电梯坏了 电梯", "", "𠮷野家 a1", "<>", "\ud800x"]  # astral characters and a lone surrogate too
    for low, high in ((1, 3), (2, 3), (3, 3), (2, 2)):
        config = FeatureConfig(char_min=low, char_max=high)
        grams = [char_ngrams(t, config) for t in texts]
        # half of them known, in no particular order, among features of other kinds
        vocabulary = sorted({g for gs in grams for g in gs})[::2] + ["w:电梯", "#len3"]
        column_of = {g: i for i, g in enumerate(vocabulary)}
        rows, columns = NgramTable(vocabulary, low, high).columns(texts)
        expected = [(r, column_of[g]) for r, gs in enumerate(grams) for g in gs if g in column_of]
        assert sorted(zip(rows.tolist(), columns.tolist(), strict=True)) == sorted(expected)

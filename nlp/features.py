"""Sparse features for the fast classifier: character n-grams, jieba words and bigrams, and cue flags.

Stored as plain data (a vocabulary list and an idf array), so a model directory needs no pickle.
"""

from __future__ import annotations

import functools
import math
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import scipy.sparse as sp
import yaml

from gridbot.nlp import cues, segment, urgency
from gridbot.nlp.normalize import normalize

_QUESTION_RE = re.compile(
    r"[?？吗]|怎么|如何|哪里|哪儿|在哪|什么时候|多久|能不能|可不可以|可以.{0,6}吗|请问|咨询|想问|问一下|是否"
)
_DIGIT_RE = re.compile(r"\d+")
LEXICON_PATH = segment.DATA_DIR / "lexicon.yaml"


@functools.lru_cache(maxsize=1)
def lexicon() -> tuple[tuple[str, re.Pattern[str]], ...]:
    """(category, keyword regex) pairs from nlp/data/lexicon.yaml."""
    data = yaml.safe_load(LEXICON_PATH.read_text(encoding="utf-8")) or {}
    return tuple(
        (
            str(cat),
            re.compile(
                "|".join(re.escape(w.lower()) for w in sorted(map(str, words), key=len, reverse=True))
            ),
        )
        for cat, words in data.items()
        if words
    )


@dataclass(frozen=True)
class FeatureConfig:
    """What the analyser emits; saved in the model manifest."""

    char_min: int = 1
    char_max: int = 3
    words: bool = True
    word_bigrams: bool = True
    cue_flags: bool = True
    lexicon: bool = True
    max_chars: int = 2000
    min_df: int = 2
    max_features: int = 300_000

    def to_dict(self) -> dict[str, Any]:
        """Plain data for JSON."""
        return dict(self.__dict__)


def analyse(
    text: str, config: FeatureConfig, urgent_cues: Sequence[urgency.UrgencyCue] | None = None
) -> list[str]:
    """Feature strings of one message (already normalised), with repeats for term frequency."""
    t = _DIGIT_RE.sub("0", text.lower()[: config.max_chars])
    padded = f"<{t}>"
    feats = [
        padded[i : i + n]
        for n in range(config.char_min, config.char_max + 1)
        for i in range(len(padded) - n + 1)
    ]
    if config.words and t:
        ws = segment.cut(t)
        feats.extend("w:" + w for w in ws)
        if config.word_bigrams:
            feats.extend(f"b:{a}|{b}" for a, b in zip(ws, ws[1:], strict=False))
    if config.cue_flags:
        feats.append(f"#len{min(int(math.log2(len(t) + 1)), 9)}")
        if _QUESTION_RE.search(t):
            feats.append("#question")
        if cues.location(t):
            feats.append("#place")
        feats.extend(
            f"#urgent:{c.kind}" for c in (urgency.active_cues(t) if urgent_cues is None else urgent_cues)
        )
    if config.lexicon:
        for cat, regex in lexicon():
            hits = len(regex.findall(t))
            feats.extend([f"#lex:{cat}"] * min(hits, 3))
    return feats


@dataclass
class Vectorizer:
    """Maps messages to L2-normalised sublinear TF-IDF rows over a fixed vocabulary."""

    config: FeatureConfig
    vocabulary: list[str] = field(default_factory=list)
    idf: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.float32))

    def __post_init__(self) -> None:
        self._index = {f: i for i, f in enumerate(self.vocabulary)}

    def fit(self, texts: Sequence[str]) -> Vectorizer:
        """Learn the vocabulary (document frequency ≥ min_df, most frequent first) and idf from texts."""
        df: dict[str, int] = {}
        for text in texts:
            for f in set(analyse(normalize(text), self.config)):
                df[f] = df.get(f, 0) + 1
        kept = sorted((f for f, n in df.items() if n >= self.config.min_df), key=lambda f: (-df[f], f))
        self.vocabulary = kept[: self.config.max_features]
        n_docs = len(texts)
        self.idf = np.array(
            [math.log((1 + n_docs) / (1 + df[f])) + 1 for f in self.vocabulary], dtype=np.float32
        )
        self.__post_init__()
        return self

    def transform_normalised(
        self, texts: Sequence[str], cues: Sequence[Sequence[urgency.UrgencyCue]] | None = None
    ) -> sp.csr_matrix:
        """Feature matrix of texts that are already normalised (urgency cues passed in when known)."""
        lookup = self._index.get
        indices: list[int] = []
        indptr = [0]
        for i, text in enumerate(texts):
            indices.extend(
                [
                    j
                    for j in map(lookup, analyse(text, self.config, cues[i] if cues else None))
                    if j is not None
                ]
            )
            indptr.append(len(indices))
        x = sp.csr_matrix(
            (
                np.ones(len(indices), dtype=np.float32),
                np.array(indices, dtype=np.int32),
                np.array(indptr, dtype=np.int64),
            ),
            shape=(len(texts), len(self.vocabulary)),
        )
        x.sum_duplicates()
        # sublinear tf (1 + log tf) times idf, then each row scaled to unit length, on the raw arrays
        data = (np.log(x.data) + 1.0) * self.idf[x.indices]
        lengths = np.diff(x.indptr)
        sums = np.add.reduceat(data * data, x.indptr[:-1]) if len(data) else np.zeros(len(texts))
        norms = np.where(lengths > 0, np.sqrt(sums), 1.0)
        x.data = (data / np.repeat(norms, lengths)).astype(np.float32)
        return x

    def transform(self, texts: Sequence[str]) -> sp.csr_matrix:
        """Feature matrix of raw texts."""
        return self.transform_normalised([normalize(t) for t in texts])

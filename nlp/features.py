"""Sparse features for the fast classifier: character n-grams, jieba words and bigrams, and cue flags.

Stored as plain data (a vocabulary list and an idf array), so a model directory needs no pickle.
"""

from __future__ import annotations

import functools
import math
import operator
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from gridbot.nlp import cues, segment, urgency
from gridbot.nlp.char_ngrams import MAX_N, NgramTable
from gridbot.nlp.normalize import normalize
from gridbot.nlp.taxonomy import load_yaml

if TYPE_CHECKING:
    import scipy.sparse as sp

_QUESTION_RE = re.compile(
    r"[?？吗]|怎么|如何|哪里|哪儿|在哪|什么时候|多久|能不能|可不可以|可以.{0,6}吗|请问|咨询|想问|问一下|是否"
)
# Who is addressed: the group of neighbours (an ask, an ad) or the community/gridworker (a report, a request).
_TO_NEIGHBOURS_RE = re.compile(
    r"有没有人|有人(?:知道|会|要|需要|推荐|在|一起|看到)|谁家|谁知道|谁会|谁有|谁要|哪位(?:邻居|大姐|大哥|朋友)?|邻居们|各位邻居|大家(?:平时|知道|推荐|有没有)"
    r"|求推荐|推荐一下|有推荐|私聊|私我|接龙|出售|转让|求购|出租|闲置|有意|面议|包邮|优惠|特价|失主|寻(?:猫|狗|物|人)"
)
_TO_COMMUNITY_RE = re.compile(
    r"网格员|社区|居委|物业|街道|城管|派出所|政府|麻烦(?:你们|帮忙|处理|来)|请(?:尽快|及时|安排|协调)"
)
_THANKS_DONE_RE = re.compile(
    r"(?:谢谢|感谢|多亏|辛苦).{0,30}(?:好了|通了|修好|解决|办好|办妥|恢复|到账|清走|拉走|撤了|找到了|已经)|(?:好了|通了|修好了|解决了|恢复了|到账了|清走了|拉走了|搬走了|收走了|清理了|扫干净了|清干净了).{0,12}(?:谢谢|感谢|辛苦|点赞)"
)
_DIGIT_RE = re.compile(r"\d+")
# Every clause separator (any punctuation style, spaces, repeated marks) becomes one space: how a resident
# punctuates never reaches the model, so a batch's style cannot stand in for its label, and 「!!」 means nothing.
_SEPARATOR_RE = re.compile(r"[\s,，。.!！?？;；、~～…·`'\"“”‘’()（）【】\[\]<>《》「」/\\|_=+*^-]+")


def canonical(text: str) -> str:
    """Lower-cased text with digits as 0 and every run of punctuation or spaces as one space."""
    return _SEPARATOR_RE.sub(" ", _DIGIT_RE.sub("0", text.lower())).strip()


LEXICON_PATH = segment.DATA_DIR / "lexicon.yaml"


@functools.lru_cache(maxsize=1)
def lexicon() -> tuple[re.Pattern[str], dict[str, tuple[str, ...]]]:
    """One regex over every keyword of nlp/data/lexicon.yaml (longest first) and each keyword's categories.

    One pass over a message instead of one per category: the lexicon features cost a fifth of what they did.
    """
    data = load_yaml(LEXICON_PATH.read_text(encoding="utf-8")) or {}
    categories: dict[str, list[str]] = {}
    for cat, words in data.items():
        for word in words or ():
            categories.setdefault(str(word).lower(), []).append(str(cat))
    pattern = re.compile("|".join(re.escape(w) for w in sorted(categories, key=len, reverse=True)))
    return pattern, {w: tuple(cats) for w, cats in categories.items()}


def lexicon_features(text: str) -> list[str]:
    """「#lex:<category>」 once per keyword found in (canonical) text, at most three times per category."""
    pattern, categories = lexicon()
    counts: dict[str, int] = {}
    for word in pattern.findall(text):
        for cat in categories[word]:
            counts[cat] = counts.get(cat, 0) + 1
    return [f"#lex:{cat}" for cat, n in counts.items() for _ in range(min(n, 3))]


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
    # Character n-grams of the opening this long are emitted again with an "h:" prefix: a letter's first
    # sentence (its subject line) says what it is about (0: off).
    head_chars: int = 0
    min_df: int = 2
    max_features: int = 300_000

    def to_dict(self) -> dict[str, Any]:
        """Plain data for JSON."""
        return dict(self.__dict__)


def char_ngrams(t: str, config: FeatureConfig) -> list[str]:
    """Character n-grams (char_min..char_max characters) of canonical text t between 「<」 and 「>」."""
    padded = f"<{t}>"
    feats: list[str] = []
    grams = list(padded)  # each n-gram is an (n-1)-gram and one more character, joined in C
    for n in range(1, config.char_max + 1):
        if n > 1:
            grams = list(map(operator.add, grams, padded[n - 1 :]))
        if n >= config.char_min:
            feats.extend(grams)
    return feats


def analyse(
    text: str, config: FeatureConfig, found_cues: Sequence[urgency.UrgencyCue] | None = None
) -> list[str]:
    """Feature strings of one message (already normalised), with repeats for term frequency."""
    raw = text[: config.max_chars]
    t = canonical(raw)
    return char_ngrams(t, config) + _word_and_cue_features(raw, t, config, found_cues)


def _word_and_cue_features(
    raw: str, t: str, config: FeatureConfig, found_cues: Sequence[urgency.UrgencyCue] | None
) -> list[str]:
    """Every feature but the character n-grams, of raw (the message's window) and t (its canonical text)."""
    feats: list[str] = []
    if config.head_chars:
        head = f"<{t[: config.head_chars]}"
        feats.extend(
            "h:" + head[i : i + n] for n in range(2, config.char_max + 1) for i in range(len(head) - n + 1)
        )
    if config.words and t:
        ws = segment.cut(t)
        feats.extend(["w:" + w for w in ws])
        if config.word_bigrams:
            feats.extend([f"b:{a}|{b}" for a, b in zip(ws, ws[1:], strict=False)])
    if config.cue_flags:
        feats.append(f"#len{min(int(math.log2(len(t) + 1)), 9)}")
        if _QUESTION_RE.search(raw):
            feats.append("#question")
        if cues.location(raw):
            feats.append("#place")
        if _TO_NEIGHBOURS_RE.search(raw):
            feats.append("#to_neighbours")
        if _TO_COMMUNITY_RE.search(raw):
            feats.append("#to_community")
        if _THANKS_DONE_RE.search(raw):
            feats.append("#thanks_done")
        # live cues; and a danger word that is negated, hypothetical, news or resolved (advice, anecdotes)
        found = urgency.find_cues(raw) if found_cues is None else found_cues
        # (danger told by its effect is a rule over the model, not a feature: the trained models stay as they were)
        feats.extend(
            f"#not_urgent:{c.kind}" if c.negated else f"#urgent:{c.kind}" for c in found if not c.effect
        )
    if config.lexicon:
        feats.extend(lexicon_features(t))
    return feats


SCIPY_ROWS = 32  # above this many rows a product goes through scipy (a Python loop per row below it)


@dataclass(frozen=True)
class FeatureRows:
    """Feature rows in CSR layout (values, column of each, where each row starts) without scipy."""

    data: np.ndarray
    indices: np.ndarray
    indptr: np.ndarray
    shape: tuple[int, int]

    def dot(self, dense: np.ndarray) -> np.ndarray:
        """self @ dense with scipy's CSR product's floats: each row summed one stored entry after another.

        A large batch (training, evaluation: scipy is loaded there anyway) uses scipy's C loop itself.
        """
        if self.shape[0] > SCIPY_ROWS:
            return np.asarray(self.csr @ dense)
        out = np.zeros((self.shape[0], dense.shape[1]), dtype=np.result_type(self.data, dense))
        for i, (start, end) in enumerate(
            zip(self.indptr[:-1].tolist(), self.indptr[1:].tolist(), strict=True)
        ):
            if end > start:  # accumulate is sequential where reduce sums pairwise (other roundings)
                terms = self.data[start:end, None] * dense[self.indices[start:end]]
                out[i] = np.add.accumulate(terms, axis=0)[-1]
        return out

    @functools.cached_property
    def csr(self) -> sp.csr_matrix:
        """The same rows as a scipy matrix (built once: a batch multiplies it by every head)."""
        import scipy.sparse as sp

        return sp.csr_matrix((self.data, self.indices, self.indptr), shape=self.shape)


@dataclass
class Vectorizer:
    """Maps messages to L2-normalised sublinear TF-IDF rows over a fixed vocabulary."""

    config: FeatureConfig
    vocabulary: list[str] = field(default_factory=list)
    idf: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.float32))

    def __post_init__(self) -> None:
        # column + 1: 0 then means "not in the vocabulary", so filter(None, map(...)) drops unknown features in C;
        # built by zip in C (190,000 features: 30 ms, a comprehension 40 ms of every start)
        self._shifted = dict(zip(self.vocabulary, range(1, len(self.vocabulary) + 1), strict=True))
        # character n-grams looked up as packed integers, a batch at once (as strings when too long to pack)
        self._ngrams = (
            NgramTable(self.vocabulary, self.config.char_min, self.config.char_max)
            if self.config.char_max <= MAX_N
            else None
        )

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

    def rows(
        self, texts: Sequence[str], cues: Sequence[Sequence[urgency.UrgencyCue]] | None = None
    ) -> FeatureRows:
        """Feature rows of texts that are already normalised (all urgency cues, from find_cues, passed in when known).

        numpy only: classifying never imports scipy (0.1-0.25 s of a bot's start).
        """
        lookup, config, table = self._shifted.get, self.config, self._ngrams
        indices: list[int] = []
        indptr = [0]
        canonical_texts: list[str] = []
        for i, text in enumerate(texts):
            found = cues[i] if cues else None
            if table is None:
                feats = analyse(text, config, found)
            else:  # the same features as analyse's, the n-grams from the table below
                raw = text[: config.max_chars]
                t = canonical(raw)
                canonical_texts.append(t)
                feats = _word_and_cue_features(raw, t, config, found)
            indices.extend(filter(None, map(lookup, feats)))
            indptr.append(len(indices))
        n_rows, n_cols = len(texts), len(self.vocabulary)
        per_row = np.diff(np.array(indptr, dtype=np.int64)).astype(np.int64)
        row_of = np.repeat(np.arange(n_rows, dtype=np.int64), per_row)
        column_of = np.array(indices, dtype=np.int64) - 1
        if table is not None:
            gram_rows, gram_columns = table.columns(canonical_texts)
            row_of = np.concatenate([row_of, gram_rows])
            column_of = np.concatenate([column_of, gram_columns])
        # term counts per (row, column), sorted by row then column: what scipy's sum_duplicates made
        keys, counts = np.unique(row_of * n_cols + column_of, return_counts=True)
        columns = (keys % n_cols).astype(np.int32) if n_cols else keys.astype(np.int32)
        row_ptr = np.zeros(n_rows + 1, dtype=np.int64)
        np.cumsum(np.bincount(keys // max(n_cols, 1), minlength=n_rows), out=row_ptr[1:])
        # sublinear tf (1 + log tf) times idf, then each row scaled to unit length
        data = (np.log(counts.astype(np.float32)) + 1.0) * self.idf[columns]
        lengths = np.diff(row_ptr)
        # squared lengths of the rows with features: reduceat fails on a batch ending in a row without any
        sums = np.zeros(n_rows, dtype=data.dtype)
        if len(data):
            sums[lengths > 0] = np.add.reduceat(data * data, row_ptr[:-1][lengths > 0])
        norms = np.where(lengths > 0, np.sqrt(sums), 1.0)
        return FeatureRows(
            (data / np.repeat(norms, lengths)).astype(np.float32), columns, row_ptr, (n_rows, n_cols)
        )

    def transform_normalised(
        self, texts: Sequence[str], cues: Sequence[Sequence[urgency.UrgencyCue]] | None = None
    ) -> sp.csr_matrix:
        """The rows of `rows` as a scipy matrix (for training: scikit-learn reads it)."""
        return self.rows(texts, cues).csr

    def transform(self, texts: Sequence[str]) -> sp.csr_matrix:
        """Feature matrix of raw texts."""
        return self.transform_normalised([normalize(t) for t in texts])

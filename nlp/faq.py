"""Matching a resident's question to a knowledge-base entry, precision first.

A wrong answer is worse than none, so a match needs three things:
1. similarity: the best question variant of the entry scores at least `threshold` (the mean of a
   character 1–3-gram and a jieba-word TF-IDF cosine, fitted on the knowledge base's variants);
2. margin: the best entry leads the runner-up entry by at least `margin`;
3. coverage: the query's content words are covered by the entry — each content word weighs its IDF
   in the knowledge base, a word no variant contains weighs the largest IDF — at least `coverage`
   of that weight. "狂犬疫苗去哪里打" against an entry about 流感疫苗 fails here: 狂犬 is new.

Question words (怎么, 哪里, 几点…) and fillers (请问, 一下…) are dropped before matching: they say
that something is asked, not what. Pure function of the entries and the text; no I/O.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from gridbot.nlp.normalize import normalize
from gridbot.nlp.segment import words

FILLERS = re.compile(
    r"请问一下|请问|问一下|想问一下|想问|问下|有谁知道|谁知道|有没有人知道|大家好|你好|您好|麻烦问下|麻烦"
    r"|[啊呀呢吗么嘛哈啦哦吧]|[?？!！。，,.~～]"
)
QUESTION_WORDS = frozenset(
    [
        "怎么",
        "怎么办",
        "怎样",
        "如何",
        "哪里",
        "哪儿",
        "哪",
        "在哪",
        "去哪",
        "去哪里",
        "什么",
        "啥",
        "几点",
        "多少",
        "多久",
        "是不是",
        "能不能",
        "可不可以",
        "可以",
        "需要",
        "要",
        "有没有",
        "有",
        "没有",
        "吗",
        "呢",
        "咋",
        "咋办",
        "办",
        "是",
        "的",
        "我",
        "我们",
        "你们",
        "请问",
        "一下",
        "谁",
        "知道",
        "想",
        "去",
        "在",
        "到",
        "哪些",
        "什么时候",
        "时候",
        "几",
        "请",
        "怎么样",
        "能",
        "会",
        "还",
    ]
)
QUESTION_CUE = re.compile(
    r"[?？]|吗|么|怎|哪|什么|啥|几点|几时|多少|多久|如何|能不能|可不可以|有没有|是不是|咋"
)


def is_question(text: str) -> bool:
    """Whether a line reads as a question (a cue word or a question mark)."""
    return QUESTION_CUE.search(text) is not None


def _clean(text: str) -> str:
    return FILLERS.sub("", normalize(text))


def content_words(text: str) -> list[str]:
    """jieba words that say what is asked (question words, fillers and stop words dropped)."""
    return [w for w in words(_clean(text)) if w not in QUESTION_WORDS]


@dataclass(frozen=True)
class Entry:
    """What the matcher needs of an entry: its id and its question variants."""

    id: int | str
    questions: tuple[str, ...]


@dataclass(frozen=True)
class Match:
    """The best entry, its scores, and whether it is good enough to answer with."""

    entry_id: int | str | None
    score: float
    runner_up: float
    coverage: float
    confident: bool


@dataclass(frozen=True)
class Thresholds:
    """Precision-first defaults, chosen on nlp/data/faq/paraphrases.jsonl (see `gridbot kb eval`)."""

    threshold: float = 0.45
    margin: float = 0.05
    coverage: float = 0.7


class FaqIndex:
    """The variants of a knowledge base, vectorised once; `match(text)` for each question."""

    def __init__(self, entries: Sequence[Entry]) -> None:
        self.entries = list(entries)
        self.owner: list[int] = []
        texts: list[str] = []
        for i, entry in enumerate(self.entries):
            for q in entry.questions:
                texts.append(_clean(q))
                self.owner.append(i)
        self.empty = not texts
        if self.empty:
            return
        # imported here: scikit-learn costs a bot start about a second, and most grids have no entries
        from sklearn.feature_extraction.text import TfidfVectorizer

        self.chars = TfidfVectorizer(analyzer="char", ngram_range=(1, 3), sublinear_tf=True).fit(texts)
        self.words = TfidfVectorizer(
            analyzer=lambda t: [w for w in words(t) if w not in QUESTION_WORDS], sublinear_tf=True
        ).fit(texts)
        self.char_matrix = self.chars.transform(texts)
        self.word_matrix = self.words.transform(texts)
        vocab = self.words.vocabulary_
        self.idf = {w: float(self.words.idf_[i]) for w, i in vocab.items()}
        self.max_idf = float(self.words.idf_.max()) if len(vocab) else 1.0
        self.entry_words = [{w for q in e.questions for w in content_words(q)} for e in self.entries]

    def match(self, text: str, thresholds: Thresholds = Thresholds()) -> Match:
        """The best entry for a question and whether to answer with it."""
        if self.empty:
            return Match(None, 0.0, 0.0, 0.0, False)
        clean = _clean(text)
        sims = 0.5 * (self.char_matrix @ self.chars.transform([clean]).T).toarray().ravel()
        sims += 0.5 * (self.word_matrix @ self.words.transform([clean]).T).toarray().ravel()
        per_entry = np.zeros(len(self.entries))
        for row, owner in enumerate(self.owner):
            per_entry[owner] = max(per_entry[owner], sims[row])
        order = np.argsort(-per_entry)
        best = int(order[0])
        runner = float(per_entry[order[1]]) if len(order) > 1 else 0.0
        score = float(per_entry[best])
        cover = self._coverage(text, best)
        confident = (
            score >= thresholds.threshold
            and score - runner >= thresholds.margin
            and cover >= thresholds.coverage
        )
        return Match(self.entries[best].id, round(score, 4), round(runner, 4), round(cover, 4), confident)

    def _coverage(self, text: str, entry: int) -> float:
        query = content_words(text)
        if not query:
            return 0.0
        weights = [(w, self.idf.get(w, self.max_idf)) for w in query]
        total = sum(x for _, x in weights)
        covered = sum(x for w, x in weights if w in self.entry_words[entry])
        return covered / total if total else 0.0


@dataclass(frozen=True)
class EvalResult:
    """Precision and recall of answering on a labelled set."""

    answered: int
    correct: int
    wrong: int
    positives: int
    negatives_answered: int

    @property
    def precision(self) -> float:
        """Correct answers over all answers given."""
        return self.correct / self.answered if self.answered else 1.0

    @property
    def recall(self) -> float:
        """Correct answers over the questions the knowledge base can answer."""
        return self.correct / self.positives if self.positives else 0.0


def evaluate(
    index: FaqIndex, rows: Sequence[tuple[str, int | str | None]], thresholds: Thresholds
) -> EvalResult:
    """Answer every labelled text; a row's label is its entry id, or None when nothing fits."""
    answered = correct = wrong = negatives = 0
    positives = sum(1 for _, label in rows if label is not None)
    for text, label in rows:
        m = index.match(text, thresholds)
        if not m.confident:
            continue
        answered += 1
        if m.entry_id == label:
            correct += 1
        else:
            wrong += 1
            negatives += label is None
    return EvalResult(answered, correct, wrong, positives, negatives)

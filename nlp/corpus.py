"""The labelled corpus: reading JSONL files and the fixed, hash-based train/test split."""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from gridbot.nlp.normalize import normalize
from gridbot.nlp.taxonomy import Taxonomy, load_taxonomy

CORPUS_DIR = Path(__file__).with_name("data") / "corpus"
# Written apart from the corpus, in other registers, and never trained on (a test checks there is no overlap).
INDEPENDENT_PATH = Path(__file__).with_name("data") / "eval" / "independent.jsonl"
# The held-out blind set: written by someone who never saw the classifier, corpus or other sets, and never
# tuned to (see eval/README.md). Earlier blind sets, once their errors had been studied, became training data.
BLIND_PATH = INDEPENDENT_PATH.with_name("blind11.jsonl")
TEST_SHARE = 0.2


class CorpusError(ValueError):
    """A data file is missing or has a bad line; the message names the file and line."""


@dataclass(frozen=True)
class Example:
    """One labelled message: kind/category/priority for the governance taxonomy, or a flat label."""

    text: str
    kind: str | None = None
    category: str | None = None
    priority: str | None = None
    label: str | None = None

    @property
    def target(self) -> str:
        """The finest label: the category, else the kind (chatter), else the flat label."""
        return self.category or self.kind or self.label or ""


def text_key(text: str) -> str:
    """Stable hash of the normalised text: the identity of a message for dedup and the split."""
    return hashlib.sha256(normalize(text).lower().encode("utf-8")).hexdigest()


def is_test(text: str, share: float = TEST_SHARE) -> bool:
    """True when the message belongs to the fixed test split (decided by its hash alone)."""
    return int(text_key(text)[:8], 16) % 1000 < share * 1000


def _parse_line(path: Path, lineno: int, line: str) -> dict[str, object]:
    try:
        row = json.loads(line)
    except json.JSONDecodeError as exc:
        raise CorpusError(f"{path}:{lineno}: not valid JSON ({exc.msg})") from exc
    if not isinstance(row, dict):
        raise CorpusError(f"{path}:{lineno}: expected a JSON object")
    return row


def iter_jsonl(path: Path) -> Iterable[tuple[int, dict[str, object]]]:
    """(line number, object) for each non-blank line of a JSONL file; CorpusError on bad lines."""
    try:
        handle = path.open(encoding="utf-8")
    except OSError as exc:
        raise CorpusError(f"{path}: cannot open ({exc.strerror})") from exc
    with handle:
        try:
            for lineno, line in enumerate(handle, 1):
                if line.strip():
                    yield lineno, _parse_line(path, lineno, line)
        except UnicodeDecodeError as exc:
            raise CorpusError(f"{path}: not UTF-8 text ({exc.reason})") from exc


def _governance_example(path: Path, lineno: int, row: dict[str, object], tax: Taxonomy) -> Example:
    text, kind, category = row.get("text"), row.get("kind"), row.get("category")
    priority = row.get("priority") or "normal"
    where = f"{path}:{lineno}"
    if not isinstance(text, str):
        raise CorpusError(f"{where}: 'text' must be a string")
    if kind not in tax.kind_ids:
        raise CorpusError(f"{where}: kind {kind!r} is not one of {tax.kind_ids}")
    if kind == tax.non_actionable_kind:
        if category is not None:
            raise CorpusError(f"{where}: {kind} messages have no category (got {category!r})")
    elif not isinstance(category, str) or category not in tax.categories_of(str(kind)):
        raise CorpusError(f"{where}: category {category!r} is not a {kind} category of {tax.source}")
    if priority not in ("urgent", "normal"):
        raise CorpusError(f"{where}: priority {priority!r} must be 'urgent' or 'normal'")
    return Example(text, str(kind), category if isinstance(category, str) else None, str(priority))


def read_examples(
    path: Path, label_field: str | None = None, taxonomy: Taxonomy | None = None
) -> list[Example]:
    """Examples of one JSONL file: governance fields (kind/category/priority) or one flat label field."""
    tax = taxonomy or load_taxonomy()
    out = []
    for lineno, row in iter_jsonl(path):
        if label_field is None:
            out.append(_governance_example(path, lineno, row, tax))
            continue
        text, label = row.get("text"), row.get(label_field)
        if not isinstance(text, str):
            raise CorpusError(f"{path}:{lineno}: 'text' must be a string")
        if label is None or label == "":
            raise CorpusError(f"{path}:{lineno}: missing label field {label_field!r}")
        out.append(Example(text, label=str(label)))
    return dedupe(out)


def dedupe(examples: Iterable[Example]) -> list[Example]:
    """Drop repeated messages (same normalised text), keeping the first occurrence."""
    seen: set[str] = set()
    out = []
    for ex in examples:
        key = text_key(ex.text)
        if key not in seen:
            seen.add(key)
            out.append(ex)
    return out


def load_corpus(directory: Path = CORPUS_DIR, taxonomy: Taxonomy | None = None) -> list[Example]:
    """All examples of the shipped corpus (every *.jsonl in the directory, in name order)."""
    files = sorted(directory.glob("*.jsonl"))
    if not files:
        raise CorpusError(f"{directory}: no *.jsonl corpus files")
    examples: list[Example] = []
    for path in files:
        examples.extend(read_examples(path, taxonomy=taxonomy))
    return dedupe(examples)


def load_independent(path: Path = INDEPENDENT_PATH, taxonomy: Taxonomy | None = None) -> list[Example]:
    """The independent evaluation set (nlp/data/eval/independent.jsonl)."""
    return read_examples(path, taxonomy=taxonomy)


def split(examples: Iterable[Example], share: float = TEST_SHARE) -> tuple[list[Example], list[Example]]:
    """(train, test) by the text hash: a message's side never changes when files are added."""
    train: list[Example] = []
    test: list[Example] = []
    for ex in examples:
        (test if is_test(ex.text, share) else train).append(ex)
    return train, test


def stratified_split(
    examples: list[Example], share: float = TEST_SHARE, seed: int = 0
) -> tuple[list[Example], list[Example]]:
    """(train, test) stratified by target with a fixed seed, for a user's own labelled file."""
    from sklearn.model_selection import train_test_split

    targets = [ex.target for ex in examples]
    train, test = train_test_split(examples, test_size=share, random_state=seed, stratify=targets)
    return list(train), list(test)


def data_hash(examples: Iterable[Example]) -> str:
    """SHA-256 over the examples' texts and labels, in order: identifies what a model was trained on."""
    h = hashlib.sha256()
    for ex in examples:
        h.update(
            json.dumps([ex.text, ex.kind, ex.category, ex.priority, ex.label], ensure_ascii=False).encode()
        )
        h.update(b"\n")
    return h.hexdigest()


_OPENERS = (
    "大家好，",
    "早上好，",
    "各位邻居，",
    "打扰一下，",
    "网格员你好，",
    "晚上好大家，",
    "不好意思问下，",
    "哈喽，",
)
_CLOSERS = ("，谢谢", "，麻烦了", "🙏", "，辛苦了", "，谢谢网格员", "[捂脸]")


def augment_actionable(examples: Sequence[Example]) -> list[Example]:
    """Examples plus greeting-wrapped copies of a third of the actionable ones (chosen by hash, so deterministic).

    Residents wrap reports in greetings and thanks; without these copies a linear model learns that
    "大家好" or "谢谢" means chatter and drops the report inside.
    """
    out = list(examples)
    for ex in examples:
        if not ex.category:
            continue
        h = int(hashlib.sha256(ex.text.encode("utf-8")).hexdigest()[:8], 16)
        if h % 3 == 0:
            closer = _CLOSERS[(h // 7) % len(_CLOSERS)] if h % 2 else ""
            out.append(
                Example(_OPENERS[h % len(_OPENERS)] + ex.text + closer, ex.kind, ex.category, ex.priority)
            )
    return out


_SEPARATORS_RE = re.compile(r"[\s,，。.!！?？;；、~～…]+")


def augment_style(examples: Sequence[Example]) -> list[Example]:
    """Examples plus unpunctuated copies of a quarter of them (chosen by hash, so deterministic).

    Features already see every punctuation style as one separator; these copies teach the model the voice-input
    register, where clauses run together without any separator.
    """
    out = list(examples)
    for ex in examples:
        h = int(hashlib.sha256(("style" + ex.text).encode("utf-8")).hexdigest()[:8], 16)
        bare = _SEPARATORS_RE.sub("", ex.text)
        if h % 4 == 0 and bare and bare != ex.text:
            out.append(Example(bare, ex.kind, ex.category, ex.priority, ex.label))
    return out

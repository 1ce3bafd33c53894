"""The fast backend: sparse TF-IDF features into linear heads (kind, category, priority or one flat label).

A model directory holds manifest.json, vocabulary.json and arrays.npz (loaded with allow_pickle=False).
"""

from __future__ import annotations

import functools
import hashlib
import json
import logging
import os
import shutil
import tempfile
import warnings
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import scipy.sparse as sp

from gridbot.nlp import corpus, segment, urgency
from gridbot.nlp.classifier import (
    Classification,
    ModelError,
    decide,
    library_versions,
    read_manifest,
    write_manifest,
)
from gridbot.nlp.features import LEXICON_PATH, FeatureConfig, Vectorizer
from gridbot.nlp.normalize import normalize
from gridbot.nlp.taxonomy import Taxonomy, load_taxonomy, taxonomy_from_dict

logger = logging.getLogger(__name__)
Progress = Callable[[str], None]
C_VALUES = {"kind": 50.0, "category": 100.0, "priority": 10.0, "label": 100.0}
RECIPE = 2  # bump when training changes, so cached default models are rebuilt


@dataclass(frozen=True)
class Head:
    """One softmax layer over a label set, with a temperature fitted on held-out folds."""

    labels: tuple[str, ...]
    coef: np.ndarray
    intercept: np.ndarray
    temperature: float = 1.0

    @functools.cached_property
    def weights(self) -> np.ndarray:
        """coef transposed and contiguous: sparse @ dense would otherwise copy the whole matrix per call."""
        return np.ascontiguousarray(self.coef.T)

    def proba(self, x: sp.csr_matrix) -> np.ndarray:
        """Calibrated class probabilities, one row per message."""
        z = np.asarray(x @ self.weights) + self.intercept
        z = z / self.temperature
        z -= z.max(axis=1, keepdims=True)
        e = np.exp(z)
        return np.asarray(e / e.sum(axis=1, keepdims=True))


def _fit_lr(x: sp.csr_matrix, y: Sequence[str], c: float) -> tuple[tuple[str, ...], np.ndarray, np.ndarray]:
    from sklearn.exceptions import ConvergenceWarning
    from sklearn.linear_model import LogisticRegression

    # sag converges in well under a second here where lbfgs takes several; tol 1e-3 costs no accuracy.
    lr = LogisticRegression(
        C=c, class_weight="balanced", solver="sag", tol=1e-3, max_iter=1000, random_state=0
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        lr.fit(x, list(y))
    coef, intercept = lr.coef_.astype(np.float32), lr.intercept_.astype(np.float32)
    if coef.shape[0] == 1:  # binary: two softmax rows with the same log-odds
        coef, intercept = (
            np.vstack([-coef / 2, coef / 2]),
            np.array([-intercept[0] / 2, intercept[0] / 2], dtype=np.float32),
        )
    return tuple(str(c) for c in lr.classes_), coef, intercept


def _temperature(x: sp.csr_matrix, y: Sequence[str], c: float) -> float:
    """Temperature minimising the log-loss of 3-fold out-of-fold logits (1.0 when data is too small)."""
    from sklearn.model_selection import StratifiedKFold

    labels = sorted(set(y))
    counts = [list(y).count(label) for label in labels]
    if len(labels) < 2 or min(counts) < 3:
        return 1.0
    y_arr = np.array(list(y))
    logits = np.zeros((len(y_arr), len(labels)), dtype=np.float64)
    for tr, te in StratifiedKFold(3, shuffle=True, random_state=0).split(np.zeros(len(y_arr)), y_arr):
        names, coef, intercept = _fit_lr(x[tr], y_arr[tr], c)
        cols = [labels.index(n) for n in names]
        logits[np.ix_(te, cols)] = np.asarray(x[te] @ coef.T) + intercept
    truth = np.array([labels.index(v) for v in y_arr])
    best_t, best_loss = 1.0, float("inf")
    for t in np.exp(np.linspace(np.log(0.2), np.log(5.0), 41)):
        z = logits / t
        z -= z.max(axis=1, keepdims=True)
        loss = float(-(z[np.arange(len(truth)), truth] - np.log(np.exp(z).sum(axis=1))).mean())
        if loss < best_loss:
            best_t, best_loss = float(t), loss
    return best_t


def train(
    examples: Sequence[corpus.Example],
    out_dir: Path,
    taxonomy: Taxonomy | None = None,
    config: FeatureConfig | None = None,
    progress: Progress | None = None,
    calibrate: bool = True,
) -> Path:
    """Train a fast model on examples and write it to out_dir (governance heads, or one flat label head)."""
    say = progress or (lambda _msg: None)
    config = config or FeatureConfig()
    flat = any(ex.kind is None for ex in examples)
    trained_on = examples
    if not flat:
        examples = corpus.augment_actionable(examples)
        say(f"augmentation: {len(examples) - len(trained_on)} greeting-wrapped copies of actionable messages")
    texts = [ex.text for ex in examples]
    say(f"features: {len(texts)} messages")
    vec = Vectorizer(config).fit(texts)
    x = vec.transform(texts)
    say(f"vocabulary: {len(vec.vocabulary)} features")
    targets: dict[str, tuple[list[int], list[str]]] = {}
    if flat:
        targets["label"] = (list(range(len(examples))), [str(ex.label) for ex in examples])
    else:
        assert taxonomy is not None
        targets["kind"] = (list(range(len(examples))), [str(ex.kind) for ex in examples])
        rows = [i for i, ex in enumerate(examples) if ex.category]
        targets["category"] = (rows, [str(examples[i].category) for i in rows])
        targets["priority"] = (rows, [str(examples[i].priority) for i in rows])
    heads: dict[str, Head] = {}
    for name, (rows, y) in targets.items():
        c = C_VALUES[name]
        say(f"head {name}: {len(rows)} examples, {len(set(y))} labels")
        labels, coef, intercept = _fit_lr(x[rows], y, c)
        temperature = _temperature(x[rows], y, c) if calibrate else 1.0
        heads[name] = Head(labels, coef, intercept, temperature)
    save(out_dir, vec, heads, taxonomy if not flat else None, trained_on)
    say(f"saved to {out_dir}")
    return out_dir


def save(
    out_dir: Path,
    vec: Vectorizer,
    heads: Mapping[str, Head],
    taxonomy: Taxonomy | None,
    examples: Sequence[corpus.Example],
) -> None:
    """Write vocabulary, arrays and manifest to out_dir."""
    out_dir.mkdir(parents=True, exist_ok=True)
    (out_dir / "vocabulary.json").write_text(json.dumps(vec.vocabulary, ensure_ascii=False), encoding="utf-8")
    arrays: dict[str, Any] = {"idf": vec.idf}
    for name, head in heads.items():
        arrays[f"{name}.coef"] = head.coef
        arrays[f"{name}.intercept"] = head.intercept
    np.savez(out_dir / "arrays.npz", **arrays)
    counts: dict[str, int] = {}
    for ex in examples:
        counts[ex.target] = counts.get(ex.target, 0) + 1
    write_manifest(
        out_dir,
        {
            "backend": "fast",
            "scheme": "flat" if taxonomy is None else "governance",
            "taxonomy": taxonomy.to_dict() if taxonomy else None,
            "heads": {n: {"labels": list(h.labels), "temperature": h.temperature} for n, h in heads.items()},
            "features": vec.config.to_dict(),
            "training": {
                "examples": len(examples),
                "data_sha256": corpus.data_hash(examples),
                "label_counts": dict(sorted(counts.items())),
            },
            "versions": library_versions(),
        },
    )


class FastClassifier:
    """The fast backend behind the Classifier protocol."""

    def __init__(
        self, manifest: Mapping[str, Any], vec: Vectorizer, heads: Mapping[str, Head], review_threshold: float
    ) -> None:
        self.manifest = manifest
        self.vectorizer = vec
        self.heads = dict(heads)
        self.review_threshold = review_threshold
        tax = manifest.get("taxonomy")
        self.taxonomy = taxonomy_from_dict(tax, "manifest.json") if tax else None

    def classify(self, text: str) -> Classification:
        """Classify one message."""
        return self.classify_batch([text])[0]

    def classify_batch(self, texts: Sequence[str]) -> list[Classification]:
        """Classify many messages with one matrix product per head."""
        norm = [normalize(t) for t in texts]
        cues = [urgency.active_cues(t) for t in norm]
        x = self.vectorizer.transform_normalised(norm, cues)
        probs = {name: head.proba(x) for name, head in self.heads.items()}
        if self.taxonomy is None:
            flat = self.heads["label"].labels
            return [
                decide(flat, row, None, t, None, self.review_threshold, c)
                for t, row, c in zip(norm, probs["label"], cues, strict=True)
            ]
        tax = self.taxonomy
        kind_head, cat_head = self.heads["kind"], self.heads["category"]
        chatter = tax.non_actionable_kind
        # Joint distribution over final labels: P(actionable) from the kind head times P(category) from the
        # category head over all categories; the category head separates incident from request better than
        # the kind head does (it sees which problem is meant), so it decides that split too.
        p_chatter = probs["kind"][:, kind_head.labels.index(chatter)]
        columns = [p_chatter]
        labels = [chatter]
        for kind in tax.actionable_kinds:
            members = [c for c in tax.categories_of(kind) if c in cat_head.labels]
            cat = probs["category"][:, [cat_head.labels.index(c) for c in members]]
            columns.extend((cat * (1.0 - p_chatter)[:, None]).T)
            labels.extend(members)
        joint = np.column_stack(columns)
        pri = self.heads["priority"]
        p_urgent = (
            probs["priority"][:, pri.labels.index("urgent")]
            if "urgent" in pri.labels
            else np.zeros(len(norm))
        )
        return [
            decide(labels, joint[i], tax, t, float(p_urgent[i]), self.review_threshold, cues[i])
            for i, t in enumerate(norm)
        ]


def load(model_dir: Path, review_threshold: float) -> FastClassifier:
    """Load a fast model directory (no code is executed from it) and warm up jieba."""
    manifest = read_manifest(model_dir)
    try:
        vocabulary = json.loads((model_dir / "vocabulary.json").read_text(encoding="utf-8"))
        with np.load(model_dir / "arrays.npz", allow_pickle=False) as arrays:
            data = {k: arrays[k] for k in arrays.files}
    except (OSError, ValueError) as exc:
        raise ModelError(f"{model_dir}: incomplete fast model: {exc}") from exc
    fields = {k: v for k, v in manifest["features"].items() if k in FeatureConfig.__dataclass_fields__}
    vec = Vectorizer(FeatureConfig(**fields), vocabulary, data["idf"])
    heads = {
        name: Head(
            tuple(h["labels"]), data[f"{name}.coef"], data[f"{name}.intercept"], float(h["temperature"])
        )
        for name, h in manifest["heads"].items()
    }
    clf = FastClassifier(manifest, vec, heads, review_threshold)
    clf.classify("预热")  # builds jieba and OpenCC now, not on the first resident's message
    return clf


def default_model_dir(cache_dir: Path, corpus_dir: Path = corpus.CORPUS_DIR) -> Path:
    """The default model for the shipped corpus's train split: cached by content hash, built if absent."""
    taxonomy = load_taxonomy()
    key = hashlib.sha256()
    for path in sorted(corpus_dir.glob("*.jsonl")):  # raw bytes: no parsing on the fast path
        key.update(path.name.encode() + b"\0" + path.read_bytes() + b"\0")
    key.update(
        json.dumps([RECIPE, FeatureConfig().to_dict(), C_VALUES, taxonomy.to_dict()], sort_keys=True).encode()
    )
    key.update(segment.USERDICT_PATH.read_bytes() + LEXICON_PATH.read_bytes())
    target = cache_dir / key.hexdigest()[:16]
    if (target / "manifest.json").exists():
        return target
    train_set, _ = corpus.split(corpus.load_corpus(corpus_dir, taxonomy))
    logger.info("building the default NLP model in %s (%d messages)", target, len(train_set))
    cache_dir.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=".building-", dir=cache_dir))
    try:
        train(train_set, tmp, taxonomy)
        try:
            os.replace(tmp, target)  # atomic: a concurrent builder either wins or finds ours
        except OSError:
            if not (target / "manifest.json").exists():
                raise
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return target

"""The fast backend: sparse TF-IDF features into linear heads (kind, category, priority or one flat label).

A model directory holds manifest.json, vocabulary.json and arrays.npz (loaded with allow_pickle=False).
"""

from __future__ import annotations

import bisect
import hashlib
import json
import logging
import os
import re
import shutil
import tempfile
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from gridbot.nlp import (
    corpus,
    segment,
    urgency,
    urgency_effects,
    urgency_lexicon,
    urgency_look_alikes,
    urgency_readings,
)
from gridbot.nlp import normalize as normalize_module
from gridbot.nlp.base import (
    REVIEW_THRESHOLD as REVIEW_FALLBACK,
)
from gridbot.nlp.base import (
    Classification,
    ModelError,
    decide,
    library_versions,
    read_manifest,
    write_manifest,
)
from gridbot.nlp.features import LEXICON_PATH, FeatureConfig, FeatureRows, Vectorizer
from gridbot.nlp.heads import Head, Learner, fit_linear, fit_temperature
from gridbot.nlp.normalize import normalize
from gridbot.nlp.taxonomy import Taxonomy, load_taxonomy, taxonomy_from_dict

logger = logging.getLogger(__name__)
Progress = Callable[[str], None]
C_VALUES = {"kind": 50.0, "category": 100.0, "priority": 10.0, "label": 100.0}
RECIPE = 7  # bump when training changes, so cached default models are rebuilt
# Characters of one message read at all: a bound on the work, far beyond any real message (which is read whole,
# in chunks of FeatureConfig.max_chars).
LONG_TEXT_LIMIT = 100_000
CHUNK_OVERLAP = 200
# Governance messages longer than the feature window are read in windows this long: a short report at the end
# of pages of chatter must not drown in it (a formal letter with flat labels keeps the full window).
GOVERNANCE_WINDOW = 300
GOVERNANCE_OVERLAP = 60
SENTENCE_GROUP = 40  # short sentences (「好的。」) are read together, anything longer on its own
CALIBRATION_FOLDS = 3


def train(
    examples: Sequence[corpus.Example],
    out_dir: Path,
    taxonomy: Taxonomy | None = None,
    config: FeatureConfig | None = None,
    progress: Progress | None = None,
    calibrate: bool = True,
    learner: Learner | None = None,
) -> Path:
    """Train a fast model on examples and write it to out_dir (governance heads, or one flat label head).

    learner (default: logistic regression with each head's C_VALUES entry) is the linear model of every head.
    """
    say = progress or (lambda _msg: None)
    config = config or FeatureConfig()
    learner = learner or Learner()
    flat = any(ex.kind is None for ex in examples)
    trained_on = examples
    if not flat:
        examples = corpus.augment_style(corpus.augment_actionable(examples))
        say(f"augmentation: {len(examples) - len(trained_on)} greeting-wrapped and unpunctuated copies")
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
        c = C_VALUES[name] if learner.c is None else learner.c
        say(f"head {name}: {len(rows)} examples, {len(set(y))} labels")
        labels, coef, intercept = fit_linear(x[rows], y, c, learner.kind)
        temperature = fit_temperature(x[rows], y, c, learner.kind) if calibrate else 1.0
        heads[name] = Head(labels, coef, intercept, temperature)
    calibration: tuple[np.ndarray, np.ndarray] | None = None
    validation: dict[str, Any] = {}
    if calibrate:
        calibration, validation = _calibrate(trained_on, taxonomy if not flat else None, config, say, learner)
    save(out_dir, vec, heads, taxonomy if not flat else None, trained_on, calibration, validation, learner)
    say(f"saved to {out_dir}")
    return out_dir


def _calibrate(
    examples: Sequence[corpus.Example],
    taxonomy: Taxonomy | None,
    config: FeatureConfig,
    say: Progress,
    learner: Learner | None = None,
) -> tuple[tuple[np.ndarray, np.ndarray] | None, dict[str, Any]]:
    """Isotonic map raw confidence -> P(correct) and the review threshold, from out-of-fold predictions.

    Each fold trains the whole pipeline (vocabulary, heads, augmentation) on the other folds, so the confidences
    are those of a model that never saw the message. The review threshold is the one whose "needs review" flag
    best finds the wrong answers (highest F1 of review vs wrong) on these held-out predictions.
    """
    from sklearn.isotonic import IsotonicRegression
    from sklearn.model_selection import StratifiedKFold

    y = np.array([ex.target for ex in examples])
    labels, counts = np.unique(y, return_counts=True)
    if len(labels) < 2 or counts.min() < CALIBRATION_FOLDS or len(y) < 60:
        return None, {}
    raw: list[float] = []
    correct: list[bool] = []
    folds = StratifiedKFold(CALIBRATION_FOLDS, shuffle=True, random_state=0)
    with tempfile.TemporaryDirectory(prefix="gridbot-calib-") as tmp:
        for k, (tr, te) in enumerate(folds.split(np.zeros(len(y)), y)):
            say(f"calibration fold {k + 1}/{CALIBRATION_FOLDS}")
            fold_dir = Path(tmp) / str(k)
            train([examples[i] for i in tr], fold_dir, taxonomy, config, calibrate=False, learner=learner)
            clf = load(fold_dir, review_threshold=0.0)
            preds = clf.classify_batch([examples[i].text for i in te])
            raw.extend(p.confidence for p in preds)
            correct.extend(p.label == examples[i].target for p, i in zip(preds, te, strict=True))
    iso = IsotonicRegression(y_min=0.0, y_max=1.0, increasing=True, out_of_bounds="clip")
    iso.fit(np.array(raw), np.array(correct, dtype=float))
    xs = np.asarray(iso.X_thresholds_, dtype=np.float64)
    ys = np.asarray(iso.y_thresholds_, dtype=np.float64)
    calibrated = np.interp(np.array(raw), xs, ys)
    wrong = ~np.array(correct)
    best_t, best_f1 = REVIEW_FALLBACK, -1.0
    for t in np.linspace(0.05, 0.95, 91):
        flagged = calibrated < t
        tp = float((flagged & wrong).sum())
        if not tp:
            continue
        precision, recall = tp / flagged.sum(), tp / wrong.sum()
        f1 = 2 * precision * recall / (precision + recall)
        if f1 > best_f1:
            best_t, best_f1 = float(round(t, 2)), f1
    flagged = calibrated < best_t
    validation = {
        "folds": CALIBRATION_FOLDS,
        "messages": len(y),
        "accuracy": round(float(np.mean(correct)), 4),
        "review_threshold": best_t,
        "review_share": round(float(flagged.mean()), 4),
        "errors_held_for_review": round(float((flagged & wrong).sum() / max(wrong.sum(), 1)), 4),
    }
    say(
        f"calibration: review threshold {best_t:.2f} holds {validation['errors_held_for_review']:.0%} of "
        f"held-out errors for {validation['review_share']:.0%} of messages"
    )
    return (xs, ys), validation


def save(
    out_dir: Path,
    vec: Vectorizer,
    heads: Mapping[str, Head],
    taxonomy: Taxonomy | None,
    examples: Sequence[corpus.Example],
    calibration: tuple[np.ndarray, np.ndarray] | None = None,
    validation: Mapping[str, Any] | None = None,
    learner: Learner | None = None,
) -> None:
    """Write vocabulary, arrays and manifest to out_dir."""
    out_dir.mkdir(parents=True, exist_ok=True)
    (out_dir / "vocabulary.json").write_text(json.dumps(vec.vocabulary, ensure_ascii=False), encoding="utf-8")
    arrays: dict[str, Any] = {"idf": vec.idf}
    for name, head in heads.items():
        arrays[f"{name}.coef"] = head.coef
        arrays[f"{name}.intercept"] = head.intercept
    if calibration is not None:
        arrays["calibration.x"], arrays["calibration.y"] = calibration
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
            "learner": (learner or Learner()).to_dict(),
            "training": {
                "examples": len(examples),
                "data_sha256": corpus.data_hash(examples),
                "label_counts": dict(sorted(counts.items())),
            },
            "versions": library_versions(),
            "calibration": "isotonic" if calibration is not None else None,
            "validation": dict(validation or {}),
        },
    )


# A turn to another topic inside one message: what follows is read on its own as well, and the more actionable
# reading speaks for the message, so chatter before a report cannot outweigh it.
# So does a turn after thanks or a concession (「谢谢物业上次来修 不过今天又漏了」, 「算了不计较了 但是…」): the
# thanks or the concession closes one matter, the contrast opens the next. So does agreement (「是啊 …」).
_TOPIC_SHIFT_RE = re.compile(
    r"对了|另外|顺便(?:说|问|提)?(?:一下|下)?|还有(?:个|一个|件)事|说个事|话说|btw"
    r"|(?:谢谢|感谢|多谢|辛苦|算了|不计较|好的|好吧|行吧|收到|知道了)[^。!！?？]{0,30}?(?:不过|但是|可是|只是|就是)"
    # agreement before a fault named again (「是啊 路灯坏好久了」): TAXONOMY's "me too" that names the fault
    r"|^(?:是啊|是呀|是的|对啊|对呀|对的|确实|没错|同上|\+1)[\s,，。!！~]*",
    re.IGNORECASE,
)
MIN_TAIL = 4
_SENTENCE_END_RE = re.compile(r"(?<=[。!！?？;；])|\s{2,}")


def _segments(text: str, window: int, overlap: int) -> list[str]:
    """A long chat message as its sentences (short ones grouped, ones over window characters in windows).

    Sentence by sentence, a one-line report at the end of pages of chatter is a segment of its own.
    """
    out: list[str] = []
    current = ""
    for sentence in (s for s in _SENTENCE_END_RE.split(text) if s.strip()):
        if len(sentence) > window:
            out.extend(sentence[i : i + window] for i in range(0, len(sentence) - overlap, window - overlap))
            continue
        if current and len(current) + len(sentence) > SENTENCE_GROUP:
            out.append(current)
            current = ""
        current += sentence
    if current:
        out.append(current)
    return out or [text[:window]]


class FastClassifier:
    """The fast backend behind the Classifier protocol."""

    def __init__(
        self,
        manifest: Mapping[str, Any],
        vec: Vectorizer,
        heads: Mapping[str, Head],
        review_threshold: float,
        calibration: tuple[np.ndarray, np.ndarray] | None = None,
    ) -> None:
        self.manifest = manifest
        self.vectorizer = vec
        self.heads = dict(heads)
        self.review_threshold = review_threshold
        self.calibration = calibration
        self._calibration_points: tuple[list[float], list[float]] = (
            (calibration[0].tolist(), calibration[1].tolist()) if calibration is not None else ([], [])
        )
        tax = manifest.get("taxonomy")
        self.taxonomy = taxonomy_from_dict(tax, "manifest.json") if tax else None

    def classify(self, text: str) -> Classification:
        """Classify one message."""
        return self.classify_batch([text])[0]

    def calibrate(self, p: float) -> float:
        """Calibrated confidence (the isotonic map fitted on held-out folds; identity without one)."""
        if self.calibration is None:
            return p
        xs, ys = self._calibration_points
        # np.interp on plain lists: a scalar call into numpy costs more than the interpolation itself
        k = bisect.bisect_right(xs, p)
        if k == 0:
            return ys[0]
        if k == len(xs):
            return ys[-1]
        x0, x1, y0, y1 = xs[k - 1], xs[k], ys[k - 1], ys[k]
        return y0 if x1 == x0 else y0 + (y1 - y0) * (p - x0) / (x1 - x0)

    def _features(
        self, norm: Sequence[str], cues: Sequence[Sequence[urgency.UrgencyCue]]
    ) -> tuple[FeatureRows, list[list[int]]]:
        """Feature rows of every chunk of every message, and which rows belong to each message.

        A message longer than the feature window is read in overlapping chunks, so a report after the first
        2,000 characters is still seen.
        """
        size = self.vectorizer.config.max_chars
        window, overlap = (
            (size, CHUNK_OVERLAP) if self.taxonomy is None else (GOVERNANCE_WINDOW, GOVERNANCE_OVERLAP)
        )
        pieces: list[str] = []
        piece_cues: list[Sequence[urgency.UrgencyCue]] = []
        rows: list[list[int]] = []
        for text, c in zip(norm, cues, strict=True):
            if len(text) <= size:
                chunks = [text]
                if self.taxonomy is not None:
                    shift = _TOPIC_SHIFT_RE.search(text)
                    if shift and len(text) - shift.end() >= MIN_TAIL:
                        chunks.append(
                            text[shift.end() :]
                        )  # 「哈哈… 对了 电梯门关不上」: the report after the chatter
            elif self.taxonomy is None:
                step = window - overlap
                chunks = [text[i : i + window] for i in range(0, len(text) - overlap, step)]
            else:
                chunks = _segments(text, window, overlap)
            rows.append(list(range(len(pieces), len(pieces) + len(chunks))))
            pieces.extend(chunks)
            piece_cues.extend([c] if len(chunks) == 1 else [urgency.find_cues(ch) for ch in chunks])
        return self.vectorizer.rows(pieces, piece_cues), rows

    def classify_batch(self, texts: Sequence[str]) -> list[Classification]:
        """Classify many messages with one matrix product per head."""
        norm = [normalize(t, LONG_TEXT_LIMIT) for t in texts]
        found = [urgency.find_cues(t) for t in norm]  # once per message: features and decisions share them
        cues = [[c for c in f if not c.negated] for f in found]
        x, rows = self._features(norm, found)
        probs = {name: head.proba(x) for name, head in self.heads.items()}
        if x.shape[0] != len(norm):
            if self.taxonomy is None:  # flat labels: the mean over a long letter's chunks
                pick = {n: np.vstack([p[r].mean(axis=0) for r in rows]) for n, p in probs.items()}
            else:  # the most actionable chunk speaks for the message
                kind_head = self.heads["kind"]
                col = kind_head.labels.index(self.taxonomy.non_actionable_kind)
                best = [r[int(np.argmin(probs["kind"][r, col]))] for r in rows]
                pick = {n: p[best] for n, p in probs.items()}
            probs = pick
        if self.taxonomy is None:
            flat = self.heads["label"].labels
            return [
                decide(flat, row, None, t, None, self.review_threshold, c, self.calibrate)
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
            decide(
                labels,
                joint[i],
                tax,
                t,
                float(p_urgent[i]),
                self.review_threshold,
                cues[i],
                self.calibrate,
                any(c.negated for c in found[i]),
            )
            for i, t in enumerate(norm)
        ]


def load(model_dir: Path, review_threshold: float | None = None) -> FastClassifier:
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
    calibration = (data["calibration.x"], data["calibration.y"]) if "calibration.x" in data else None
    if review_threshold is None:
        review_threshold = float(manifest.get("validation", {}).get("review_threshold", REVIEW_FALLBACK))
    clf = FastClassifier(manifest, vec, heads, review_threshold, calibration)
    clf.classify("预热")  # builds jieba and OpenCC now, not on the first resident's message
    return clf


# Their live cues are features of every head, and normalisation shapes every feature (a share card read as 转发),
# so their source is part of the default model's cache key.
URGENCY_MODULES = (
    urgency,
    urgency_lexicon,
    urgency_effects,
    urgency_readings,
    urgency_look_alikes,
    normalize_module,
)


def model_key(corpus_dir: Path = corpus.CORPUS_DIR) -> str:
    """The default model's cache key: corpus bytes, recipe, taxonomy, dictionaries and the urgency rules' source."""
    key = hashlib.sha256()
    for path in sorted(corpus_dir.glob("*.jsonl")):  # raw bytes: no parsing on the fast path
        key.update(path.name.encode() + b"\0" + path.read_bytes() + b"\0")
    key.update(
        json.dumps(
            [RECIPE, FeatureConfig().to_dict(), C_VALUES, load_taxonomy().to_dict()], sort_keys=True
        ).encode()
    )
    key.update(segment.USERDICT_PATH.read_bytes() + LEXICON_PATH.read_bytes())
    for module in URGENCY_MODULES:  # the cues are features: a rule change must retrain
        key.update(Path(module.__file__ or "").read_bytes())
    return key.hexdigest()[:16]


def default_model_dir(cache_dir: Path, corpus_dir: Path = corpus.CORPUS_DIR) -> Path:
    """The default model for the shipped corpus's train split: cached by content hash, built if absent."""
    taxonomy = load_taxonomy()
    target = cache_dir / model_key(corpus_dir)
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

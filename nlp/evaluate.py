"""Evaluation: accuracy and macro-F1 per level, per-class precision/recall, confusion matrices, urgency, calibration;
cross-register evaluation, repeated stratified splits beside a plain character n-gram baseline, a reliability plot."""

from __future__ import annotations

import re
import statistics
import tempfile
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

from gridbot.nlp.base import Classification, Classifier
from gridbot.nlp.corpus import Example, text_key


def level_report(truth: Sequence[str], pred: Sequence[str]) -> dict[str, Any]:
    """Accuracy, macro-F1, per-class precision/recall/F1/support and the confusion matrix of one level."""
    labels = sorted(set(truth) | set(pred))
    index = {label: i for i, label in enumerate(labels)}
    matrix = [[0] * len(labels) for _ in labels]
    for t, p in zip(truth, pred, strict=True):
        matrix[index[t]][index[p]] += 1
    per_class: dict[str, dict[str, float]] = {}
    f1s = []
    for label, i in index.items():
        tp = matrix[i][i]
        predicted = sum(row[i] for row in matrix)
        support = sum(matrix[i])
        precision = tp / predicted if predicted else 0.0
        recall = tp / support if support else 0.0
        f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
        per_class[label] = {
            "precision": round(precision, 4),
            "recall": round(recall, 4),
            "f1": round(f1, 4),
            "support": support,
        }
        if support:
            f1s.append(f1)
    correct = sum(matrix[i][i] for i in range(len(labels)))
    return {
        "n": len(truth),
        "accuracy": round(correct / len(truth), 4) if truth else 0.0,
        "macro_f1": round(sum(f1s) / len(f1s), 4) if f1s else 0.0,
        "per_class": per_class,
        "labels": labels,
        "confusion": matrix,
    }


def evaluate(classifier: Classifier, examples: Sequence[Example], batch_size: int = 256) -> dict[str, Any]:
    """Classify examples and compare with their labels at every level the data has."""
    preds: list[Classification] = []
    for start in range(0, len(examples), batch_size):
        preds.extend(classifier.classify_batch([ex.text for ex in examples[start : start + batch_size]]))
    report: dict[str, Any] = {"n": len(examples)}
    if any(ex.kind is None for ex in examples):
        report["label"] = level_report([str(ex.label) for ex in examples], [p.label for p in preds])
        return report
    report["kind"] = level_report([str(ex.kind) for ex in examples], [p.kind for p in preds])
    actionable = [i for i, ex in enumerate(examples) if ex.category]
    report["category"] = level_report(
        [str(examples[i].category) for i in actionable], [preds[i].label for i in actionable]
    )
    report["priority"] = level_report([str(ex.priority) for ex in examples], [p.priority for p in preds])
    chatter = [i for i, ex in enumerate(examples) if not ex.category]
    wrongly_actionable = [i for i in chatter if preds[i].actionable]
    urgent = [i for i, ex in enumerate(examples) if ex.priority == "urgent"]
    missed_urgent = [i for i in urgent if preds[i].priority != "urgent"]
    normal = [i for i, ex in enumerate(examples) if ex.priority != "urgent"]
    false_urgent = [i for i in normal if preds[i].priority == "urgent"]
    flagged = len(urgent) - len(missed_urgent) + len(false_urgent)
    review = sum(p.needs_review for p in preds)
    report["chatter_predicted_actionable"] = (
        round(len(wrongly_actionable) / len(chatter), 4) if chatter else 0.0
    )
    report["urgent_recall"] = round(1 - len(missed_urgent) / len(urgent), 4) if urgent else 1.0
    report["urgent_precision"] = round((len(urgent) - len(missed_urgent)) / flagged, 4) if flagged else 1.0
    report["false_urgent_rate"] = round(len(false_urgent) / len(normal), 4) if normal else 0.0
    report["needs_review_share"] = round(review / len(preds), 4) if preds else 0.0
    report["calibration_ece"] = expected_calibration_error(
        [p.confidence for p in preds], [p.label == ex.target for p, ex in zip(preds, examples, strict=True)]
    )
    report["reliability"] = reliability_bins(
        [p.confidence for p in preds], [p.label == ex.target for p, ex in zip(preds, examples, strict=True)]
    )
    wrong = [p.label != ex.target for p, ex in zip(preds, examples, strict=True)]
    report["errors_held_for_review"] = (
        round(sum(w and p.needs_review for w, p in zip(wrong, preds, strict=True)) / sum(wrong), 4)
        if any(wrong)
        else 1.0
    )
    report["errors"] = {
        "chatter_as_actionable": [examples[i].text for i in wrongly_actionable][:50],
        "missed_urgent": [examples[i].text for i in missed_urgent][:50],
        "false_urgent": [examples[i].text for i in false_urgent][:50],
    }
    return report


def reliability_bins(
    confidence: Sequence[float], correct: Sequence[bool], bins: int = 10
) -> list[dict[str, float]]:
    """Per equal-width confidence bin: its range, message count, mean confidence and accuracy."""
    out = []
    for b in range(bins):
        lo, hi = b / bins, (b + 1) / bins
        members = [i for i, c in enumerate(confidence) if lo < c <= hi or (b == 0 and c == 0)]
        if members:
            out.append(
                {
                    "lo": lo,
                    "hi": hi,
                    "n": len(members),
                    "confidence": round(sum(confidence[i] for i in members) / len(members), 4),
                    "accuracy": round(sum(correct[i] for i in members) / len(members), 4),
                }
            )
    return out


def reliability_svg(curves: dict[str, list[dict[str, float]]], title: str = "Reliability") -> str:
    """An SVG reliability diagram: accuracy against mean confidence per bin, one polyline per data set."""
    size, pad = 400, 50
    colours = ("#1f77b4", "#d62728", "#2ca02c", "#9467bd")

    def xy(conf: float, acc: float) -> str:
        return f"{pad + conf * size:.1f},{pad + (1 - acc) * size:.1f}"

    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{size + 2 * pad}" height="{size + 2 * pad + 20 * len(curves)}"'
        ' font-family="sans-serif" font-size="12">',
        f'<text x="{pad}" y="{pad - 20}" font-size="14">{_xml(title)}</text>',
        f'<rect x="{pad}" y="{pad}" width="{size}" height="{size}" fill="none" stroke="#888"/>',
        f'<line x1="{pad}" y1="{pad + size}" x2="{pad + size}" y2="{pad}" stroke="#bbb" stroke-dasharray="4"/>',
    ]
    for k in range(0, 11, 2):
        v = k / 10
        parts.append(f'<text x="{pad + v * size - 8:.0f}" y="{pad + size + 16}">{v:.1f}</text>')
        parts.append(f'<text x="{pad - 30}" y="{pad + (1 - v) * size + 4:.0f}">{v:.1f}</text>')
    parts.append(f'<text x="{pad + size / 2 - 50:.0f}" y="{pad + size + 34}">mean confidence</text>')
    parts.append(
        f'<text x="12" y="{pad + size / 2 + 20:.0f}" transform="rotate(-90 12 {pad + size / 2 + 20:.0f})">accuracy</text>'
    )
    for n, (name, bins) in enumerate(curves.items()):
        colour = colours[n % len(colours)]
        points = " ".join(xy(b["confidence"], b["accuracy"]) for b in bins)
        parts.append(f'<polyline points="{points}" fill="none" stroke="{colour}" stroke-width="2"/>')
        for b in bins:
            r = 2 + min(6.0, b["n"] ** 0.5 / 3)
            parts.append(
                f'<circle cx="{xy(b["confidence"], b["accuracy"]).split(",")[0]}" '
                f'cy="{xy(b["confidence"], b["accuracy"]).split(",")[1]}" r="{r:.1f}" fill="{colour}"/>'
            )
        y = size + 2 * pad + 14 + 20 * n
        parts.append(f'<rect x="{pad}" y="{y - 10}" width="12" height="12" fill="{colour}"/>')
        parts.append(f'<text x="{pad + 18}" y="{y}">{_xml(name)}</text>')
    parts.append("</svg>")
    return "\n".join(parts) + "\n"


def _xml(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


_FULL_WIDTH_RE = re.compile("[，。！？；]")


def register_of(text: str) -> str:
    """The punctuation register of a message: "full-width" (，。) or "plain" (spaces, ASCII marks or none)."""
    return "full-width" if _FULL_WIDTH_RE.search(text) else "plain"


Progress = Callable[[str], None]


def matched_registers(train: Sequence[Example]) -> dict[str, list[Example]]:
    """The training messages of each punctuation register, cut to the same number per label.

    The shipped corpus was written in batches, so its registers carry different labels (most requests are plain,
    most incidents full-width). Trained on all of each, the two models would differ in what they saw, not only in
    how it was punctuated; with the same count of every label (labels missing from one register dropped), the
    difference between the two is the register alone. Which messages are kept is decided by their text hash.
    """
    by_reg: dict[str, dict[str, list[Example]]] = {"full-width": {}, "plain": {}}
    for ex in sorted(train, key=lambda e: text_key(e.text)):
        by_reg[register_of(ex.text)].setdefault(ex.target, []).append(ex)
    labels = set(by_reg["full-width"]) & set(by_reg["plain"])
    out: dict[str, list[Example]] = {}
    for reg, groups in by_reg.items():
        out[reg] = [
            ex
            for label in sorted(labels)
            for ex in groups[label][: min(len(by_reg["full-width"][label]), len(by_reg["plain"][label]))]
        ]
    return out


def cross_register(
    train: Sequence[Example],
    tests: Mapping[str, Sequence[Example]],
    progress: Progress | None = None,
) -> dict[str, Any]:
    """Train on one punctuation register only and evaluate on each register of each test set.

    A model that learned punctuation as a shortcut scores well on its own register and badly on the other. Both
    models train on the same number of messages of every label (matched_registers), so only the register differs.
    """
    from gridbot.nlp import fast
    from gridbot.nlp.taxonomy import load_taxonomy

    say = progress or (lambda _m: None)
    taxonomy = load_taxonomy()
    subsets = matched_registers(train)
    out: dict[str, Any] = {
        "training": {
            reg: {"messages": len(sub), "labels": len({ex.target for ex in sub})}
            for reg, sub in subsets.items()
        }
    }
    with tempfile.TemporaryDirectory(prefix="gridbot-xreg-") as tmp:
        for reg, subset in subsets.items():
            say(f"cross-register: training on {len(subset)} {reg} messages (labels matched)")
            model_dir = Path(tmp) / reg
            fast.train(subset, model_dir, taxonomy, calibrate=False)
            clf = fast.load(model_dir)
            for name, examples in tests.items():
                for test_reg in ("full-width", "plain"):
                    part = [ex for ex in examples if register_of(ex.text) == test_reg]
                    if not part:
                        continue
                    r = evaluate(clf, part)
                    out[f"train {reg} -> {name} {test_reg}"] = {
                        "n": r["n"],
                        "kind_macro_f1": r["kind"]["macro_f1"],
                        "category_accuracy": r["category"]["accuracy"],
                        "chatter_predicted_actionable": r["chatter_predicted_actionable"],
                    }
    return out


def char_baseline_f1(train: Sequence[Example], test: Sequence[Example]) -> float:
    """Macro-F1 of a plain character 1-3-gram TF-IDF + logistic regression on the final label."""
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression
    from sklearn.metrics import f1_score

    vec = TfidfVectorizer(analyzer="char", ngram_range=(1, 3), sublinear_tf=True, min_df=1)
    x = vec.fit_transform([ex.text for ex in train])
    lr = LogisticRegression(C=10.0, max_iter=2000, class_weight="balanced")
    lr.fit(x, [ex.target for ex in train])
    pred = lr.predict(vec.transform([ex.text for ex in test]))
    return float(f1_score([ex.target for ex in test], pred, average="macro"))


def repeated_splits(
    examples: Sequence[Example],
    repeats: int = 5,
    share: float = 0.2,
    progress: Progress | None = None,
) -> dict[str, Any]:
    """Macro-F1 of own-label training (`gridbot train --label-field`) and of the plain baseline over repeated
    stratified splits (seeds 0..repeats-1): mean, standard deviation, minimum and maximum of each."""
    from sklearn.model_selection import train_test_split

    from gridbot.nlp import fast
    from gridbot.nlp.selection import select_flat_candidate

    say = progress or (lambda _m: None)
    targets = [ex.target for ex in examples]
    model_f1: list[float] = []
    base_f1: list[float] = []
    with tempfile.TemporaryDirectory(prefix="gridbot-splits-") as tmp:
        for seed in range(repeats):
            tr, te = train_test_split(list(examples), test_size=share, random_state=seed, stratify=targets)
            out = Path(tmp) / str(seed)
            chosen = select_flat_candidate(tr, lambda _m: None)
            fast.train(tr, out, None, config=chosen.features, calibrate=False, learner=chosen.learner)
            report = evaluate(fast.load(out), te)
            model_f1.append(float(report["label"]["macro_f1"]))
            base_f1.append(char_baseline_f1(tr, te))
            say(
                f"split {seed}: model {model_f1[-1]:.4f}  baseline {base_f1[-1]:.4f}  ({len(te)} test messages)"
            )

    def summary(values: list[float]) -> dict[str, float]:
        return {
            "mean": round(statistics.fmean(values), 4),
            "std": round(statistics.stdev(values), 4) if len(values) > 1 else 0.0,
            "min": round(min(values), 4),
            "max": round(max(values), 4),
        }

    return {"repeats": repeats, "test_share": share, "model": summary(model_f1), "baseline": summary(base_f1)}


def expected_calibration_error(confidence: Sequence[float], correct: Sequence[bool], bins: int = 10) -> float:
    """Mean |accuracy - confidence| over equal-width confidence bins, weighted by bin size."""
    if not confidence:
        return 0.0
    total = 0.0
    for b in range(bins):
        lo, hi = b / bins, (b + 1) / bins
        members = [i for i, c in enumerate(confidence) if lo < c <= hi or (b == 0 and c == 0)]
        if members:
            acc = sum(correct[i] for i in members) / len(members)
            conf = sum(confidence[i] for i in members) / len(members)
            total += len(members) * abs(acc - conf)
    return round(total / len(confidence), 4)


def format_report(report: dict[str, Any]) -> str:
    """Human-readable text of an evaluation report."""
    lines = [f"messages: {report['n']}"]
    for level in ("kind", "category", "priority", "label"):
        if level not in report:
            continue
        r = report[level]
        scope = " (actionable messages)" if level == "category" else ""
        lines.append(
            f"\n== {level}{scope}: accuracy {r['accuracy']:.4f}  macro-F1 {r['macro_f1']:.4f}  (n={r['n']})"
        )
        lines.append(f"{'class':<18}{'precision':>10}{'recall':>8}{'f1':>8}{'support':>9}")
        for label, m in r["per_class"].items():
            lines.append(
                f"{label:<18}{m['precision']:>10.3f}{m['recall']:>8.3f}{m['f1']:>8.3f}{m['support']:>9}"
            )
        width = max(6, *(len(label) for label in r["labels"])) + 1
        lines.append("confusion (rows: truth, columns: predicted)")
        lines.append(" " * width + "".join(f"{label[:6]:>7}" for label in r["labels"]))
        for label, row in zip(r["labels"], r["confusion"], strict=True):
            lines.append(f"{label:<{width}}" + "".join(f"{v:>7}" for v in row))
    for key in (
        "chatter_predicted_actionable",
        "urgent_recall",
        "urgent_precision",
        "false_urgent_rate",
        "needs_review_share",
        "errors_held_for_review",
        "calibration_ece",
    ):
        if key in report:
            lines.append(f"{key}: {report[key]:.4f}")
    return "\n".join(lines)

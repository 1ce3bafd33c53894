"""Evaluation: accuracy and macro-F1 per level, per-class precision/recall, confusion matrices, urgent recall."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from gridbot.nlp.classifier import Classification, Classifier
from gridbot.nlp.corpus import Example


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
    review = sum(p.needs_review for p in preds)
    report["chatter_predicted_actionable"] = (
        round(len(wrongly_actionable) / len(chatter), 4) if chatter else 0.0
    )
    report["urgent_recall"] = round(1 - len(missed_urgent) / len(urgent), 4) if urgent else 1.0
    report["needs_review_share"] = round(review / len(preds), 4) if preds else 0.0
    report["calibration_ece"] = expected_calibration_error(
        [p.confidence for p in preds], [p.label == ex.target for p, ex in zip(preds, examples, strict=True)]
    )
    report["errors"] = {
        "chatter_as_actionable": [examples[i].text for i in wrongly_actionable][:50],
        "missed_urgent": [examples[i].text for i in missed_urgent][:50],
    }
    return report


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
    for key in ("chatter_predicted_actionable", "urgent_recall", "needs_review_share", "calibration_ece"):
        if key in report:
            lines.append(f"{key}: {report[key]:.4f}")
    return "\n".join(lines)

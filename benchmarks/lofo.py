"""Leave one corpus file out: train without a file, evaluate on all of it.

The shipped split takes 20 % of every file, so it shares each file's writer, register and shortcuts
with the training data. Holding a whole file out asks what a new writer's messages would get: the
fair measure while the blind set is held out from the people changing the model.

Run: python benchmarks/lofo.py days_m days_h [--json] [--errors FILE] [--models DIR]
     (file stems under nlp/data/corpus; each fold trains a model, 1-5 minutes per fold)
     --errors FILE writes every held-out error as a JSON line (never use it on a held-out eval set);
     --models DIR keeps each fold's model in DIR/STEM and reuses it when present: only valid while the
     corpus, the features and the urgency rules are unchanged (for trying decision rules in nlp/base.py).
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from gridbot.nlp import corpus, fast
from gridbot.nlp import evaluate as ev
from gridbot.nlp.taxonomy import Taxonomy, load_taxonomy

FIGURES: tuple[tuple[str, Callable[[dict[str, Any]], float | None]], ...] = (
    ("kind F1", lambda r: r["kind"]["macro_f1"]),
    ("category", lambda r: r["category"]["accuracy"] if r["category"]["n"] else None),
    ("chat->ticket", lambda r: r["chatter_predicted_actionable"]),
    ("urgent recall", lambda r: r["urgent_recall"]),
    ("false urgent", lambda r: r["false_urgent_rate"]),
    ("review", lambda r: r["needs_review_share"]),
)


def errors_of(clf: fast.FastClassifier, held: list[corpus.Example]) -> list[dict[str, object]]:
    """Every held-out message whose kind, category or priority is wrong, with what was predicted."""
    out: list[dict[str, object]] = []
    for ex, p in zip(held, clf.classify_batch([ex.text for ex in held]), strict=True):
        if p.label == ex.target and p.priority == ex.priority:
            continue
        out.append(
            {
                "text": ex.text,
                "truth": ex.target,
                "pred": p.label,
                "truth_priority": ex.priority,
                "pred_priority": p.priority,
                "cues": list(p.urgency_cues),
                "review": p.review_reason,
                "top": [[label, round(prob, 3)] for label, prob in p.alternatives],
            }
        )
    return out


def held_out(stem: str, taxonomy: Taxonomy) -> tuple[list[corpus.Example], list[corpus.Example]]:
    """A fold: the train split of every other corpus file, and the held-out file's messages not in it."""
    held_path = corpus.CORPUS_DIR / f"{stem}.jsonl"
    if not held_path.is_file():
        raise SystemExit(f"{held_path}: no such corpus file (give a stem of nlp/data/corpus/*.jsonl)")
    others: list[corpus.Example] = []
    for path in sorted(corpus.CORPUS_DIR.glob("*.jsonl")):
        if path != held_path:
            others.extend(corpus.read_examples(path, taxonomy=taxonomy))
    train_set, _ = corpus.split(corpus.dedupe(others))
    seen = {corpus.text_key(ex.text) for ex in train_set}
    held = [
        ex
        for ex in corpus.read_examples(held_path, taxonomy=taxonomy)
        if corpus.text_key(ex.text) not in seen
    ]
    return train_set, held


def fold(
    stem: str, taxonomy: Taxonomy, models: Path | None = None, errors: list[dict[str, object]] | None = None
) -> dict[str, object]:
    """Train on the train split of every other file, evaluate on the whole held-out file."""
    train_set, held = held_out(stem, taxonomy)
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="lofo-") as tmp:
        model_dir = models / stem if models else Path(tmp) / "model"
        if not (model_dir / "manifest.json").is_file():
            fast.train(train_set, model_dir, taxonomy)
        clf = fast.load(model_dir)
        report = ev.evaluate(clf, held)
        if errors is not None:
            errors.extend({"file": stem, **e} for e in errors_of(clf, held))
    counts = {
        "chatter": sum(not ex.category for ex in held),
        "actionable": sum(bool(ex.category) for ex in held),
        "urgent": sum(ex.priority == "urgent" for ex in held),
    }
    return {
        "file": stem,
        "n": len(held),
        "train": len(train_set),
        "seconds": round(time.perf_counter() - started, 1),
        "counts": counts,
        "figures": {name: get(report) for name, get in FIGURES},
    }


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("stems", nargs="+", help="corpus file stems to hold out, one fold each")
    parser.add_argument("--json", action="store_true", help="print JSON lines instead of a table")
    parser.add_argument("--errors", type=Path, help="write every held-out error to this JSON-lines file")
    parser.add_argument("--models", type=Path, help="keep (and reuse) each fold's model under this directory")
    args = parser.parse_args()
    taxonomy = load_taxonomy()
    errors: list[dict[str, object]] | None = [] if args.errors else None
    rows = []
    print("file            n  " + "  ".join(f"{name:>13}" for name, _ in FIGURES), file=sys.stderr)
    for stem in args.stems:
        row = fold(stem, taxonomy, args.models, errors)
        rows.append(row)
        if args.json:
            print(json.dumps(row, ensure_ascii=False), flush=True)
        else:
            figs = row["figures"]
            assert isinstance(figs, dict)
            cells = ("-" if figs[name] is None else f"{figs[name]:.4f}" for name, _ in FIGURES)
            print(f"{stem:<12} {row['n']:>4}  " + "  ".join(f"{cell:>13}" for cell in cells), flush=True)
    if args.errors and errors is not None:
        args.errors.write_text(
            "".join(json.dumps(e, ensure_ascii=False) + "\n" for e in errors), encoding="utf-8"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

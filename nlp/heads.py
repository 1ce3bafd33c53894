"""Linear heads: one softmax layer over a label set, the learner behind it, and its fitted temperature."""

from __future__ import annotations

import functools
import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from gridbot.nlp.features import FeatureRows

if TYPE_CHECKING:  # training only: classifying never imports scipy
    import scipy.sparse as sp


@dataclass(frozen=True)
class Head:
    """One softmax layer over a label set, with a temperature fitted on held-out folds."""

    labels: tuple[str, ...]
    coef: np.ndarray
    intercept: np.ndarray
    temperature: float = 1.0

    @functools.cached_property
    def weights(self) -> np.ndarray:
        """coef transposed and contiguous: sparse @ dense would otherwise copy the whole matrix per call."""
        return np.ascontiguousarray(self.coef.T)

    def proba(self, x: FeatureRows) -> np.ndarray:
        """Calibrated class probabilities, one row per message."""
        z = x.dot(self.weights) + self.intercept
        z = z / self.temperature
        z -= z.max(axis=1, keepdims=True)
        e = np.exp(z)
        return np.asarray(e / e.sum(axis=1, keepdims=True))


@dataclass(frozen=True)
class Learner:
    """The linear model behind a head: logistic regression ("lr") or a linear SVM ("svm"), and its C.

    Either way a head is one linear layer: an SVM's one-vs-rest margins go through the same softmax, with a
    temperature fitted on held-out folds. c None: the head's C_VALUES entry.
    """

    kind: str = "lr"
    c: float | None = None

    def to_dict(self) -> dict[str, Any]:
        """Plain data for JSON."""
        return dict(self.__dict__)


LEARNERS = ("lr", "svm")
# Temperatures tried: an SVM's margins are near ±1, so its softmax needs a lower temperature than an LR's logits.
_TEMPERATURES = {
    "lr": np.exp(np.linspace(np.log(0.2), np.log(5.0), 41)),
    "svm": np.exp(np.linspace(np.log(0.02), np.log(5.0), 61)),
}


def fit_linear(
    x: sp.csr_matrix, y: Sequence[str], c: float, kind: str = "lr"
) -> tuple[tuple[str, ...], np.ndarray, np.ndarray]:
    """(labels, coef, intercept) of a class-balanced linear model (kind "lr" or "svm") with two rows at least."""
    from sklearn.exceptions import ConvergenceWarning
    from sklearn.linear_model import LogisticRegression
    from sklearn.svm import LinearSVC

    model: LogisticRegression | LinearSVC
    if kind == "lr":
        # sag converges in well under a second here where lbfgs takes several; tol 1e-3 costs no accuracy.
        model = LogisticRegression(
            C=c, class_weight="balanced", solver="sag", tol=1e-3, max_iter=1000, random_state=0
        )
    elif kind == "svm":
        model = LinearSVC(C=c, class_weight="balanced", max_iter=5000, random_state=0)
    else:
        raise ValueError(f"unknown learner {kind!r} (one of {', '.join(LEARNERS)})")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        model.fit(x, list(y))
    coef, intercept = model.coef_.astype(np.float32), np.atleast_1d(model.intercept_).astype(np.float32)
    if coef.shape[0] == 1:  # binary: two softmax rows with the same log-odds
        coef, intercept = (
            np.vstack([-coef / 2, coef / 2]),
            np.array([-intercept[0] / 2, intercept[0] / 2], dtype=np.float32),
        )
    return tuple(str(c) for c in model.classes_), coef, intercept


def fit_temperature(x: sp.csr_matrix, y: Sequence[str], c: float, kind: str = "lr") -> float:
    """Temperature minimising the log-loss of 3-fold out-of-fold logits (1.0 when data is too small)."""
    from sklearn.model_selection import StratifiedKFold

    labels = sorted(set(y))
    counts = [list(y).count(label) for label in labels]
    if len(labels) < 2 or min(counts) < 3:
        return 1.0
    y_arr = np.array(list(y))
    logits = np.zeros((len(y_arr), len(labels)), dtype=np.float64)
    for tr, te in StratifiedKFold(3, shuffle=True, random_state=0).split(np.zeros(len(y_arr)), y_arr):
        names, coef, intercept = fit_linear(x[tr], y_arr[tr], c, kind)
        cols = [labels.index(n) for n in names]
        logits[np.ix_(te, cols)] = np.asarray(x[te] @ coef.T) + intercept
    truth = np.array([labels.index(v) for v in y_arr])
    best_t, best_loss = 1.0, float("inf")
    for t in _TEMPERATURES[kind]:
        z = logits / t
        z -= z.max(axis=1, keepdims=True)
        loss = float(-(z[np.arange(len(truth)), truth] - np.log(np.exp(z).sum(axis=1))).mean())
        if loss < best_loss:
            best_t, best_loss = float(t), loss
    return best_t

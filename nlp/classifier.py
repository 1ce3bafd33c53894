"""The Classifier protocol, the Classification result, and loading a model directory or the default model."""

from __future__ import annotations

import json
import os
import platform
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

import numpy as np

from gridbot.nlp.taxonomy import Taxonomy
from gridbot.nlp.urgency import UrgencyCue, active_cues

MODEL_FORMAT = "gridbot-nlp-model"
MODEL_FORMAT_VERSION = 1
MANIFEST = "manifest.json"
REVIEW_THRESHOLD = 0.6
# A message stays chatter while P(chatter) >= this, unless it carries a live danger cue: a ticket for
# "收到" makes gridworkers mute the bot (chosen by 5-fold cross-validation on the corpus).
CHATTER_FLOOR = 0.45
TOP_K = 3


class ModelError(RuntimeError):
    """A model directory is missing, incomplete or of an unknown format; the message names it."""


@dataclass(frozen=True)
class Classification:
    """What a message is: kind, category (None for chatter), priority, calibrated confidence and alternatives."""

    kind: str
    category: str | None
    priority: str
    confidence: float
    alternatives: tuple[tuple[str, float], ...]
    needs_review: bool
    urgency_cues: tuple[str, ...] = ()

    @property
    def label(self) -> str:
        """The finest label: category, else kind."""
        return self.category or self.kind

    @property
    def actionable(self) -> bool:
        """True for incidents and requests (anything with a category)."""
        return self.category is not None

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready fields."""
        return {
            "kind": self.kind,
            "category": self.category,
            "priority": self.priority,
            "confidence": round(self.confidence, 4),
            "needs_review": self.needs_review,
            "alternatives": [[label, round(p, 4)] for label, p in self.alternatives],
            "urgency_cues": list(self.urgency_cues),
        }


@runtime_checkable
class Classifier(Protocol):
    """Anything that classifies messages; both backends implement it."""

    manifest: Mapping[str, Any]

    def classify(self, text: str) -> Classification:
        """Classify one message."""
        ...

    def classify_batch(self, texts: Sequence[str]) -> list[Classification]:
        """Classify many messages at once (faster than one by one)."""
        ...


_GROUPS: dict[tuple[int, tuple[str, ...]], tuple[Taxonomy, np.ndarray, tuple[str, ...]]] = {}


def _groups(labels: tuple[str, ...], taxonomy: Taxonomy) -> tuple[np.ndarray, tuple[str, ...]]:
    """For each final label, the index of its kind; and the kind ids in that order (cached per taxonomy object)."""
    cached = _GROUPS.get((id(taxonomy), labels))
    if cached is not None and cached[0] is taxonomy:  # hashing the taxonomy itself costs more than the work
        return cached[1], cached[2]
    kinds = tuple(taxonomy.kind_ids)
    chatter = taxonomy.non_actionable_kind
    index = np.array(
        [kinds.index(chatter if label == chatter else taxonomy.kind_of(label)) for label in labels],
        dtype=np.intp,
    )
    _GROUPS[(id(taxonomy), labels)] = (taxonomy, index, kinds)
    return index, kinds


def decide(
    labels: Sequence[str],
    probs: np.ndarray,
    taxonomy: Taxonomy | None,
    normalised_text: str,
    p_urgent: float | None = None,
    review_threshold: float = REVIEW_THRESHOLD,
    cues: Sequence[UrgencyCue] | None = None,
) -> Classification:
    """Turn one row of probabilities over final labels (chatter or a category; or flat labels) into a Classification."""
    if cues is None:
        cues = active_cues(normalised_text)
    cue_kinds = tuple(c.kind for c in cues)
    order = np.argsort(-probs, kind="stable")[:TOP_K]
    alternatives = tuple((labels[i], float(probs[i])) for i in order)
    urgent = bool(cues) or (p_urgent is not None and p_urgent >= 0.5)
    if taxonomy is None:  # a flat, user-defined label set
        label, conf = alternatives[0]
        return Classification(
            label,
            None,
            "urgent" if urgent else "normal",
            conf,
            alternatives,
            conf < review_threshold,
            cue_kinds,
        )
    chatter = taxonomy.non_actionable_kind
    if not normalised_text:
        # Nothing left after normalisation (emoji, [图片], blank): there is nothing anyone could act on.
        return Classification(chatter, None, "normal", 1.0, ((chatter, 1.0),), False)
    group, kinds = _groups(tuple(labels), taxonomy)
    kind_p = np.bincount(group, weights=probs, minlength=len(kinds))
    kind = kinds[int(np.argmax(kind_p))]
    p_chatter = float(kind_p[kinds.index(chatter)])
    review = False
    if kind != chatter and p_chatter >= CHATTER_FLOOR and not cues:
        kind = chatter
    if kind == chatter and cues and p_chatter < 0.9:
        # A live danger cue outweighs a hesitant "chatter": better a ticket to dismiss than a fire ignored.
        kind, review = taxonomy.actionable_kinds[0], True
    if kind == chatter:
        return Classification(chatter, None, "normal", p_chatter, alternatives, p_chatter < review_threshold)
    members = np.flatnonzero(group == kinds.index(kind))
    best = int(members[np.argmax(probs[members])])
    confidence = float(probs[best])
    return Classification(
        kind,
        labels[best],
        "urgent" if urgent else "normal",
        confidence,
        alternatives,
        review or confidence < review_threshold,
        cue_kinds,
    )


def library_versions() -> dict[str, str]:
    """Versions of the libraries a model was built with, for its manifest."""
    out = {"python": platform.python_version()}
    for dist in (
        "numpy",
        "scipy",
        "scikit-learn",
        "jieba",
        "OpenCC",
        "torch",
        "transformers",
        "tokenizers",
        "safetensors",
        "gridbot",
    ):
        try:
            out[dist] = metadata.version(dist)
        except metadata.PackageNotFoundError:
            continue
    return out


def read_manifest(model_dir: Path) -> dict[str, Any]:
    """The manifest of a model directory; ModelError if absent or not a gridbot model."""
    path = Path(model_dir) / MANIFEST
    try:
        manifest = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise ModelError(f"{model_dir}: not a model directory (no {MANIFEST})") from exc
    except (OSError, ValueError) as exc:
        raise ModelError(f"{path}: unreadable manifest: {exc}") from exc
    if not isinstance(manifest, dict) or manifest.get("format") != MODEL_FORMAT:
        raise ModelError(f"{path}: not a {MODEL_FORMAT} manifest")
    if manifest.get("format_version") != MODEL_FORMAT_VERSION:
        raise ModelError(
            f"{path}: format version {manifest.get('format_version')} is not {MODEL_FORMAT_VERSION}; retrain the model"
        )
    return manifest


def write_manifest(model_dir: Path, manifest: Mapping[str, Any]) -> None:
    """Write a manifest (format fields added) into a model directory."""
    body = {"format": MODEL_FORMAT, "format_version": MODEL_FORMAT_VERSION, **manifest}
    (Path(model_dir) / MANIFEST).write_text(
        json.dumps(body, ensure_ascii=False, indent=2, sort_keys=True) + "\n", encoding="utf-8"
    )


def default_cache_dir() -> Path:
    """Where default models are cached: $XDG_CACHE_HOME/gridbot/models (~/.cache when unset)."""
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "gridbot" / "models"


def load_classifier(
    model_dir: Path | None = None,
    backend: str = "fast",
    review_threshold: float = REVIEW_THRESHOLD,
    cache_dir: Path | None = None,
) -> Classifier:
    """Load the model in model_dir (its manifest names the backend), or build/load the default fast model."""
    if model_dir is not None:
        manifest = read_manifest(Path(model_dir))
        if manifest.get("backend") == "transformers":
            from gridbot.nlp import transformers_backend

            return transformers_backend.load(Path(model_dir), review_threshold)
        if manifest.get("backend") != "fast":
            raise ModelError(f"{model_dir}: unknown backend {manifest.get('backend')!r}")
        from gridbot.nlp import fast

        return fast.load(Path(model_dir), review_threshold)
    if backend != "fast":
        raise ModelError(
            f"the {backend!r} backend has no default model: train one with `gridbot train --backend {backend} --out DIR`"
        )
    from gridbot.nlp import fast

    return fast.load(fast.default_model_dir(cache_dir or default_cache_dir()), review_threshold)

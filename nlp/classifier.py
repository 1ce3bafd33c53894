"""Loading a classifier: a model directory (its manifest names the backend) or the default fast model.

The result type and the protocol (nlp/classification.py) and the decision rule (nlp/base.py) are what the backends
import; this module imports the backends (lazily), so nothing imports back into it.
"""

from __future__ import annotations

from pathlib import Path

from gridbot.nlp.base import (
    CHATTER_FLOOR,
    MANIFEST,
    MODEL_FORMAT,
    MODEL_FORMAT_VERSION,
    REVIEW_THRESHOLD,
    TOP_K,
    Classification,
    Classifier,
    ModelError,
    decide,
    default_cache_dir,
    library_versions,
    read_manifest,
    write_manifest,
)

__all__ = [
    "CHATTER_FLOOR",
    "MANIFEST",
    "MODEL_FORMAT",
    "MODEL_FORMAT_VERSION",
    "REVIEW_THRESHOLD",
    "TOP_K",
    "Classification",
    "Classifier",
    "ModelError",
    "decide",
    "default_cache_dir",
    "library_versions",
    "load_classifier",
    "read_manifest",
    "write_manifest",
]


def load_classifier(
    model_dir: Path | None = None,
    backend: str = "fast",
    review_threshold: float | None = None,
    cache_dir: Path | None = None,
) -> Classifier:
    """Load the model in model_dir (its manifest names the backend), or build/load the default fast model.

    review_threshold None uses the threshold the model chose on its validation folds (REVIEW_THRESHOLD for
    models that did not choose one).
    """
    if model_dir is not None:
        manifest = read_manifest(Path(model_dir))
        if manifest.get("backend") == "transformers":
            from gridbot.nlp import transformers_backend

            return transformers_backend.load(
                Path(model_dir), REVIEW_THRESHOLD if review_threshold is None else review_threshold
            )
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

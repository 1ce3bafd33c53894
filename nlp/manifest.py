"""Model directories: the manifest format, reading and writing it, the libraries a model was built with, the cache.

Both backends write and read their manifests through this module; `base` re-exports its names.
"""

from __future__ import annotations

import json
import os
import platform
from collections.abc import Mapping
from importlib import metadata
from pathlib import Path
from typing import Any

MODEL_FORMAT = "gridbot-nlp-model"
MODEL_FORMAT_VERSION = 1
MANIFEST = "manifest.json"


class ModelError(RuntimeError):
    """A model directory is missing, incomplete or of an unknown format; the message names it."""


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

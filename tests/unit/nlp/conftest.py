"""Shared fixtures for the NLP tests: trained models are built once per session in temporary directories.

Plain helpers the cue tests share (which cues are live, a class checked both ways) are in live_cues.py.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from gridbot.nlp import corpus, fast
from gridbot.nlp.classifier import Classifier, load_classifier
from gridbot.nlp.taxonomy import load_taxonomy

REPO_ROOT = Path(__file__).resolve().parents[3]
SHARED_DATA = (REPO_ROOT / ".." / "shared" / "data").resolve()


@pytest.fixture(scope="session")
def corpus_split() -> tuple[list[corpus.Example], list[corpus.Example]]:
    """(train, test) of the shipped corpus."""
    return corpus.split(corpus.load_corpus())


@pytest.fixture(scope="session")
def model_cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A private cache directory for default models (never the user's ~/.cache)."""
    return tmp_path_factory.mktemp("model-cache")


@pytest.fixture(scope="session")
def default_classifier(model_cache: Path) -> Classifier:
    """The default fast model, built from the shipped corpus's train split on first use."""
    return load_classifier(cache_dir=model_cache)


@pytest.fixture(scope="session")
def small_model_dir(
    tmp_path_factory: pytest.TempPathFactory, corpus_split: tuple[list[corpus.Example], list[corpus.Example]]
) -> Path:
    """A fast model trained on a small slice of the corpus, saved to disk (quick to build)."""
    train, _ = corpus_split
    out = tmp_path_factory.mktemp("small-model")
    fast.train(train[::4], out, load_taxonomy())
    return out


@pytest.fixture
def cli_env(model_cache: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    """Environment for CLI runs: default models cached in the session's temporary cache."""
    monkeypatch.setenv("XDG_CACHE_HOME", str(model_cache.parent / "xdg"))
    monkeypatch.delenv("GRIDBOT_NLP__MODEL_DIR", raising=False)
    return {"XDG_CACHE_HOME": str(model_cache.parent / "xdg")}

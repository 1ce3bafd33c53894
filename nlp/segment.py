"""jieba word segmentation with the governance user dictionary and stop words, loaded once."""

from __future__ import annotations

import functools
import logging
import threading
from pathlib import Path
from typing import Any

DATA_DIR = Path(__file__).with_name("data")
USERDICT_PATH = DATA_DIR / "userdict.txt"
STOPWORDS_PATH = DATA_DIR / "stopwords.txt"

_tokenizer: Any = None
_lock = threading.Lock()


def tokenizer() -> Any:
    """The private jieba.Tokenizer with the governance dictionary; built on first use, thread-safe."""
    global _tokenizer
    if _tokenizer is None:
        with _lock:
            if _tokenizer is None:
                import jieba

                jieba.setLogLevel(logging.WARNING)
                tok = jieba.Tokenizer()
                tok.initialize()
                with USERDICT_PATH.open("rb") as handle:  # jieba leaves a path's file open
                    tok.load_userdict(handle)
                _tokenizer = tok
    return _tokenizer


@functools.lru_cache(maxsize=1)
def stopwords() -> frozenset[str]:
    """The stop-word set (question words such as 吗/怎么 are deliberately kept out of it)."""
    return frozenset(w.strip() for w in STOPWORDS_PATH.read_text(encoding="utf-8").splitlines() if w.strip())


def cut(text: str) -> list[str]:
    """jieba words of text (precise mode, no HMM for new words: faster and stable), spaces dropped."""
    return [w for w in tokenizer().lcut(text, HMM=False) if not w.isspace()]


def words(text: str) -> list[str]:
    """jieba words of text without stop words and punctuation."""
    stop = stopwords()
    return [w for w in cut(text) if w not in stop and any(ch.isalnum() for ch in w)]

"""jieba word segmentation with the governance user dictionary and stop words, loaded once."""

from __future__ import annotations

import functools
import hashlib
import logging
import marshal
import os
import threading
from pathlib import Path
from typing import Any

DATA_DIR = Path(__file__).with_name("data")
USERDICT_PATH = DATA_DIR / "userdict.txt"
STOPWORDS_PATH = DATA_DIR / "stopwords.txt"
logger = logging.getLogger(__name__)

_tokenizer: Any = None
_lock = threading.Lock()
CACHE_ENV = "GRIDBOT_CACHE_DIR"  # where the prefix dictionary is kept (default ~/.cache/gridbot)


def cache_dir() -> Path:
    """A directory of this user's for generated files (never shared through /tmp)."""
    configured = os.environ.get(CACHE_ENV)
    if configured:
        return Path(configured)
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "gridbot"


def cache_path(jieba: Any) -> Path:
    """The prefix-dictionary file for this jieba and this user dictionary (a new one when either changes)."""
    source = Path(jieba.__file__).with_name("dict.txt")
    key = hashlib.sha256(USERDICT_PATH.read_bytes())
    key.update(f"{jieba.__version__}:{source.stat().st_size}".encode())
    return cache_dir() / f"jieba-{key.hexdigest()[:16]}.marshal"


def _load_cached(tok: Any, path: Path) -> bool:
    try:
        if path.stat().st_uid != os.getuid():
            return False  # only a file this user wrote is read back
        # marshal.loads on the bytes: jieba's own marshal.load(file) reads in small pieces (0.7 s)
        freq, total = marshal.loads(path.read_bytes())  # noqa: S302 (our own file, in our own directory)
    except (OSError, ValueError, EOFError, TypeError):
        return False
    if not isinstance(freq, dict) or not isinstance(total, int):
        return False
    tok.FREQ, tok.total, tok.initialized = freq, total, True
    return True


def _store(tok: Any, path: Path) -> None:
    """Write the built dictionary for the next start (best effort: a read-only home is fine)."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        tmp = path.with_suffix(f".{os.getpid()}.tmp")
        tmp.write_bytes(marshal.dumps((tok.FREQ, tok.total)))
        os.replace(tmp, path)
    except OSError as exc:
        logger.info("jieba dictionary cache not written (%s): built at each start", type(exc).__name__)


def build_tokenizer(use_cache: bool = True) -> Any:
    """A jieba.Tokenizer with the main and governance dictionaries; from the cache file when it exists.

    Only the prefix dictionary and its total are cached: that is all precise-mode cutting reads.
    """
    import jieba

    jieba.setLogLevel(logging.WARNING)
    tok = jieba.Tokenizer()
    path = cache_path(jieba)
    if use_cache and _load_cached(tok, path):
        return tok
    tok.initialize()
    with USERDICT_PATH.open("rb") as handle:  # jieba leaves a path's file open
        tok.load_userdict(handle)
    if use_cache:
        _store(tok, path)
    return tok


def tokenizer() -> Any:
    """The private jieba.Tokenizer with the governance dictionary; built on first use, thread-safe."""
    global _tokenizer
    if _tokenizer is None:
        with _lock:
            if _tokenizer is None:
                _tokenizer = build_tokenizer()
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

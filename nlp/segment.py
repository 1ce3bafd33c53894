"""jieba word segmentation with the governance user dictionary and stop words, loaded once."""

from __future__ import annotations

import functools
import hashlib
import logging
import marshal
import os
import threading
from math import log
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


CACHE_FORMAT = 2  # 2: the prefix dictionary in shards by first character (1: one marshalled dict)


class PrefixDict(dict[str, int]):
    """jieba's prefix dictionary (word or prefix -> frequency), unpacked one first character at a time.

    Cutting a text only looks up substrings that start at one of its characters, so the first message
    unpacks a few dozen of the ~6,000 shards instead of building all ~580,000 entries (0.25 s) at start.
    A plain dict for jieba's lookups (no Python call per lookup); `_ShardedTokenizer` unpacks a text's
    characters before jieba reads it.
    """

    def __init__(self, packed: dict[str, bytes]) -> None:
        super().__init__()
        self._packed = packed
        self._opened: set[str] = set()

    @staticmethod
    def pack(freq: dict[str, int]) -> dict[str, bytes]:
        """The shards of a built dictionary: marshalled dicts keyed by the words' first character."""
        shards: dict[str, dict[str, int]] = {}
        for word, n in freq.items():
            shards.setdefault(word[:1], {})[word] = n
        return {first: marshal.dumps(shard) for first, shard in shards.items()}

    def unpack(self, text: str) -> None:
        """Make every entry that starts with a character of text present."""
        for first in set(text) - self._opened:
            packed = self._packed.get(first)
            if packed is not None:
                self.update(marshal.loads(packed))  # noqa: S302 (our own file, in our own directory)
            self._opened.add(first)  # after the update: a thread that sees it opened finds its words

    def unpack_all(self) -> None:
        """Every entry (for tests and tools; cutting never needs it)."""
        self.unpack("".join(self._packed))


def _sharded_tokenizer(jieba: Any, freq: PrefixDict, total: int) -> Any:
    """A jieba.Tokenizer over a PrefixDict: each text's shards are unpacked before jieba reads them."""

    class ShardedTokenizer(jieba.Tokenizer):  # type: ignore[misc]
        def get_DAG(self, sentence: str) -> Any:  # noqa: N802 (jieba's name)
            """jieba's DAG (each start -> the ends of the dictionary words there), with one lookup per prefix."""
            freq.unpack(sentence)  # calc, cut_for_search and the HMM path read only substrings of it
            get, n, dag = freq.get, len(sentence), {}
            for k in range(n):
                ends = []
                i, frag = k, sentence[k]
                while i < n and (count := get(frag)) is not None:  # a prefix with count 0 is no word
                    if count:
                        ends.append(i)
                    i += 1
                    frag = sentence[k : i + 1]
                dag[k] = ends or [k]
            return dag

        def add_word(self, word: str, freq_: Any = None, tag: Any = None) -> None:
            freq.unpack(word)
            super().add_word(word, freq_, tag)

    tok = ShardedTokenizer()
    tok.FREQ, tok.total, tok.initialized = freq, total, True
    return tok


def cache_path(jieba: Any) -> Path:
    """The prefix-dictionary file for this jieba and this user dictionary (a new one when either changes)."""
    source = Path(jieba.__file__).with_name("dict.txt")
    key = hashlib.sha256(USERDICT_PATH.read_bytes())
    key.update(f"{jieba.__version__}:{source.stat().st_size}:{CACHE_FORMAT}".encode())
    return cache_dir() / f"jieba-{key.hexdigest()[:16]}.marshal"


def _load_cached(jieba: Any, path: Path) -> Any:
    """A tokenizer over the cached dictionary, or None when there is no usable cache file."""
    try:
        if path.stat().st_uid != os.getuid():
            return None  # only a file this user wrote is read back
        # the shards stay packed bytes (a copy, no objects per word): PrefixDict unpacks the ones a cut reads
        packed, total = marshal.loads(path.read_bytes())  # noqa: S302 (our own file, in our own directory)
    except (OSError, ValueError, EOFError, TypeError):
        return None
    if not isinstance(packed, dict) or not isinstance(total, int):
        return None
    if not all(isinstance(k, str) and isinstance(v, bytes) for k, v in packed.items()):
        return None  # an older format (one dict of words) or a foreign file: rebuilt
    return _sharded_tokenizer(jieba, PrefixDict(packed), total)


def _store(tok: Any, path: Path) -> None:
    """Write the built dictionary for the next start (best effort: a read-only home is fine)."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        tmp = path.with_suffix(f".{os.getpid()}.tmp")
        tmp.write_bytes(marshal.dumps((PrefixDict.pack(tok.FREQ), tok.total)))
        os.replace(tmp, path)
    except OSError as exc:
        logger.info("jieba dictionary cache not written (%s): built at each start", type(exc).__name__)


def build_tokenizer(use_cache: bool = True) -> Any:
    """A jieba.Tokenizer with the main and governance dictionaries; from the cache file when it exists.

    Only the prefix dictionary and its total are cached: that is all precise-mode cutting reads. Read from
    the cache, the dictionary is a PrefixDict that unpacks the entries of a first character when a cut
    first reads them.
    """
    import jieba

    jieba.setLogLevel(logging.WARNING)
    path = cache_path(jieba)
    cached = _load_cached(jieba, path) if use_cache else None
    if cached is not None:
        return cached
    tok = jieba.Tokenizer()
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


# jieba's re_eng ([a-zA-Z0-9]) as a set: a set lookup costs a quarter of a regex match
_ASCII_ALNUM = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789")


def best_ends(freq: dict[str, int], total: int, block: str) -> list[int]:
    """Where the best word starting at each position of block ends: jieba's get_DAG and calc in one pass.

    From the last character back, each start's dictionary words are found and scored as they are looked up, so
    no word is sliced and looked up twice. The same sums in the same order as jieba's calc: log(frequency) minus
    log(total) plus the best score after the word; on equal scores the longer word wins; a start with no word
    in the dictionary is its character alone.
    """
    get, n = freq.get, len(block)
    logtotal = log(total)
    score = [0.0] * (n + 1)
    ends = [0] * n
    for k in range(n - 1, -1, -1):
        best, end = None, k + 1
        i, frag = k, block[k]
        while i < n and (count := get(frag)) is not None:  # a prefix with count 0 is no word
            if count:
                s = log(count) - logtotal + score[i + 1]
                if best is None or s >= best:
                    best, end = s, i + 1
            i += 1
            frag = block[k : i + 1]
        score[k] = log(get(block[k]) or 1) - logtotal + score[k + 1] if best is None else best
        ends[k] = end
    return ends


def _cut_no_hmm(tok: Any, text: str) -> list[str]:
    """tok.lcut(text, HMM=False) without jieba's two generators per block: its blocks, routes and letter runs."""
    import jieba

    han, skip = jieba.re_han_default, jieba.re_skip_default
    freq, total = tok.FREQ, tok.total
    if isinstance(freq, PrefixDict):
        freq.unpack(text)  # every block's words, once per text
    out: list[str] = []
    for block in han.split(text):
        if not block:
            continue
        if not han.match(block):
            for piece in skip.split(block):
                if skip.match(piece):
                    out.append(piece)
                else:
                    out.extend(piece)
            continue
        ends = best_ends(freq, total, block)
        x, n, run = 0, len(block), ""
        while x < n:
            y = ends[x]
            word = block[x:y]
            if y - x == 1 and word in _ASCII_ALNUM:  # single letters and digits are joined into one word
                run += word
            else:
                if run:
                    out.append(run)
                    run = ""
                out.append(word)
            x = y
        if run:
            out.append(run)
    return out


def cut(text: str) -> list[str]:
    """jieba words of text (precise mode, no HMM for new words: faster and stable), spaces dropped."""
    return [w for w in _cut_no_hmm(tokenizer(), text) if not w.isspace()]


def words(text: str) -> list[str]:
    """jieba words of text without stop words and punctuation."""
    stop = stopwords()
    return [w for w in cut(text) if w not in stop and any(ch.isalnum() for ch in w)]

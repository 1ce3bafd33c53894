"""Character n-gram features of a whole batch at once: code points packed into integers, looked up with numpy.

A message's character n-grams (1 to 3 characters of 「<text>」) are three quarters of its features. Built as
strings and looked up one by one in a dictionary of the whole vocabulary, they cost more than the word
segmentation. Here each n-gram of a batch is one integer (its code points, 21 bits each, so up to three fit in
64 bits), found by binary search in the sorted integers of the vocabulary's strings of that length. The columns
are those of the dictionary: an n-gram is found exactly when its string is in the vocabulary.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

BITS = 21  # every code point fits (U+10FFFF)
MAX_N = 3  # three code points in one int64


def _code_points(text: str) -> np.ndarray:
    """The code points of text (a lone surrogate as itself, as str keeps it)."""
    return np.frombuffer(text.encode("utf-32-le", "surrogatepass"), dtype=np.uint32).astype(np.int64)


class NgramTable:
    """The vocabulary's strings of char_min..char_max characters, as sorted packed integers and their columns."""

    def __init__(self, vocabulary: Sequence[str], char_min: int, char_max: int) -> None:
        if char_min < 1 or char_max > MAX_N:
            raise ValueError(f"n-grams of {char_min}..{char_max} characters do not fit in 64 bits")
        self.sizes = range(char_min, char_max + 1)  # empty when char_min > char_max: no n-grams
        lengths = np.fromiter(map(len, vocabulary), dtype=np.int64, count=len(vocabulary))
        self._keys: list[np.ndarray] = []
        self._columns: list[np.ndarray] = []
        for n in self.sizes:
            columns = np.flatnonzero(lengths == n)
            chars = _code_points("".join([vocabulary[i] for i in columns.tolist()])).reshape(-1, n)
            keys = np.zeros(len(columns), dtype=np.int64)
            for k in range(n):
                keys = (keys << BITS) | chars[:, k]
            order = np.argsort(keys)
            self._keys.append(keys[order])
            self._columns.append(columns[order])

    def columns(self, texts: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
        """(row, column) of every n-gram of 「<text>」 for each text that is in the vocabulary, repeats included."""
        padded = [f"<{t}>" for t in texts]
        lengths = np.fromiter(map(len, padded), dtype=np.int64, count=len(padded))
        chars = _code_points("".join(padded))
        row = np.repeat(np.arange(len(padded)), lengths)
        # characters from each position to the end of its own text: an n-gram never spans two texts
        left = np.cumsum(lengths)[row] - np.arange(len(chars))
        rows: list[np.ndarray] = [np.zeros(0, dtype=np.int64)]
        columns: list[np.ndarray] = [np.zeros(0, dtype=np.int64)]
        grams, n = chars, 1
        for size, keys, cols in zip(self.sizes, self._keys, self._columns, strict=True):
            while n < size:  # the n-grams starting at each position, one character longer
                grams = (grams[:-1] << BITS) | chars[n:]
                n += 1
            inside = left[: len(grams)] >= n
            found, where = grams[inside], row[: len(grams)][inside]
            at = np.searchsorted(keys, found)
            at[at == len(keys)] = 0
            hit = keys[at] == found if len(keys) else np.zeros(len(found), dtype=bool)
            rows.append(where[hit])
            columns.append(cols[at[hit]])
        return np.concatenate(rows), np.concatenate(columns)

"""Regexes gated by their own first characters: a large alternation is tried only where one of its words can start.

Python's re tries every alternative of a pattern like urgency's lexicons (hundreds of words, most of them behind a
group or a lookbehind) at every position of a message. `gated` derives from the pattern itself the characters a
match can start with and puts them in front as a lookahead, so a position that cannot start any word fails after one
set lookup. The matches are the same: the lookahead only skips positions where the pattern could not match.
"""

from __future__ import annotations

import re
from re import _constants as sre  # type: ignore[attr-defined]
from re import _parser as sre_parse  # type: ignore[attr-defined]
from typing import Any

# A character class wider than this (a negated class, \w, a long range) gives no useful gate.
MAX_RANGE = 512
_ZERO_WIDTH = (sre.AT, sre.ASSERT, sre.ASSERT_NOT)
_REPEATS = (sre.MAX_REPEAT, sre.MIN_REPEAT, sre.POSSESSIVE_REPEAT)


def _first(items: Any) -> tuple[set[str] | None, bool]:
    """(characters a match of this sequence can start with, or None for any; whether it can match empty)."""
    chars: set[str] = set()
    for op, av in items:
        found, empty = _first_of(op, av)
        if found is None:
            return None, False
        chars |= found
        if not empty:
            return chars, False
    return chars, True


def _first_of(op: Any, av: Any) -> tuple[set[str] | None, bool]:
    if op is sre.LITERAL:
        return {chr(av)}, False
    if op is sre.IN:
        chars: set[str] = set()
        for kind, value in av:
            if kind is sre.LITERAL:
                chars.add(chr(value))
            elif kind is sre.RANGE and value[1] - value[0] < MAX_RANGE:
                chars.update(map(chr, range(value[0], value[1] + 1)))
            else:  # a negated class, a category (\s, \d) or a wide range
                return None, False
        return chars, False
    if op is sre.BRANCH:
        union: set[str] = set()
        empty = False
        for alternative in av[1]:
            found, alt_empty = _first(alternative)
            if found is None:
                return None, False
            union |= found
            empty = empty or alt_empty
        return union, empty
    if op is sre.SUBPATTERN:
        return _first(av[3])
    if op in _REPEATS:
        found, empty = _first(av[2])
        return found, found is not None and (empty or av[0] == 0)
    if op in _ZERO_WIDTH:  # consumes nothing: the match starts with what follows
        return set(), True
    return None, False


def first_chars(pattern: str) -> str | None:
    """The characters every match of pattern starts with, or None when any could (or it can match empty)."""
    parsed = sre_parse.parse(pattern)
    if parsed.state.flags & (re.IGNORECASE | re.VERBOSE):
        return None
    chars, empty = _first(parsed)
    if chars is None or empty or not chars:
        return None
    return "".join(sorted(chars))


def gated(pattern: str) -> re.Pattern[str]:
    """pattern compiled with a lookahead of its first characters in front (unchanged when it has no such set)."""
    chars = first_chars(pattern)
    if chars is None:
        return re.compile(pattern)
    gate = "".join(re.escape(c) for c in chars)
    return re.compile(f"(?=[{gate}])(?:{pattern})")

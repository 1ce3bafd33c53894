"""Regexes gated by their own first two characters: a large alternation is tried only where one of its words can start.

Python's re tries every alternative of a pattern like urgency's lexicons (hundreds of words, most of them behind a
group or a lookbehind) at every position of a message. `gated` derives from the pattern itself the characters a
match can start with, and which characters can follow each of them, and puts both in front as lookaheads: a position
that cannot start any word fails after one set lookup, one whose next character cannot go on with any word after two.
The matches are the same: the lookaheads only skip positions where the pattern could not match.
"""

from __future__ import annotations

import re
from re import _constants as sre  # type: ignore[attr-defined]
from re import _parser as sre_parse  # type: ignore[attr-defined]
from typing import Any

# A character class wider than this (a negated class, \w, a long range) gives no useful gate.
MAX_RANGE = 512
MAX_PREFIXES = 20_000  # more prefixes than this: the pattern gets no gate
_ZERO_WIDTH = (sre.AT, sre.ASSERT, sre.ASSERT_NOT)
_REPEATS = (sre.MAX_REPEAT, sre.MIN_REPEAT, sre.POSSESSIVE_REPEAT)
# Prefixes of the matches of part of a pattern, each with whether it is all that part matched (then the rest of the
# pattern follows it); one that is not (n characters reached, or a character of any kind next) may go on with anything.
Prefixes = set[tuple[str, bool]]


class _TooMany(Exception):
    """The pattern has more prefixes than MAX_PREFIXES."""


def _sequence(items: Any, n: int) -> Prefixes:
    """Prefixes of at most n characters of the matches of a sequence of elements."""
    found: Prefixes = {("", True)}
    for op, av in items:
        found = _then(found, lambda m, op=op, av=av: _element(op, av, m), n)
    return found


def _then(found: Prefixes, element: Any, n: int) -> Prefixes:
    """found, each complete prefix shorter than n followed by the prefixes of an element (element(m): at most m)."""
    grown: Prefixes = set()
    after: dict[int, Prefixes] = {}
    for text, complete in found:
        if not complete or len(text) >= n:
            grown.add((text, False))
            continue
        m = n - len(text)
        if m not in after:
            after[m] = element(m)
        grown.update((text + more, c) for more, c in after[m])
    if len(grown) > MAX_PREFIXES:
        raise _TooMany
    return grown


def _element(op: Any, av: Any, n: int) -> Prefixes:
    """Prefixes of at most n (>= 1) characters of the matches of one element."""
    if op is sre.LITERAL:
        return {(chr(av), True)}
    if op is sre.IN:
        chars: Prefixes = set()
        for kind, value in av:
            if kind is sre.LITERAL:
                chars.add((chr(value), True))
            elif kind is sre.RANGE and value[1] - value[0] < MAX_RANGE:
                chars.update((chr(c), True) for c in range(value[0], value[1] + 1))
            else:  # a negated class, a category (\s, \d) or a wide range: any character
                return {("", False)}
        return chars
    if op is sre.BRANCH:
        return set().union(*(_sequence(alternative, n) for alternative in av[1]))
    if op is sre.SUBPATTERN:
        return _sequence(av[3], n)
    if op in _REPEATS:
        low, high, item = av
        found: Prefixes = set()
        repeated: Prefixes = {("", True)}  # after `count` repetitions
        # n repetitions past `low` reach every prefix: any further one adds nothing or a character past n
        for count in range(low + n + 1):
            found |= {p for p in repeated if count >= low or not p[1]}
            if count == high:
                break
            repeated = _then(repeated, lambda m, item=item: _sequence(item, m), n)
        return found
    if op in _ZERO_WIDTH:  # consumes nothing: the match goes on with what follows
        return {("", True)}
    return {("", False)}  # anything else (.) may be any character


def prefixes(pattern: str, n: int) -> set[str] | None:
    """Strings of at most n characters every match of pattern starts with (a shorter one: whatever follows it).

    None when a match may start with any character, match nothing, or the pattern has too many prefixes.
    """
    parsed = sre_parse.parse(pattern)
    if parsed.state.flags & (re.IGNORECASE | re.VERBOSE):
        return None
    try:
        found = {text for text, _ in _sequence(parsed, n)}
    except _TooMany:
        return None
    return None if not found or "" in found else found


def first_chars(pattern: str) -> str | None:
    """The characters every match of pattern starts with, or None when any could (or it can match empty)."""
    found = prefixes(pattern, 1)
    return None if found is None else "".join(sorted(found))


def _charset(chars: set[str] | frozenset[str]) -> str:
    return "[" + "".join(re.escape(c) for c in sorted(chars)) + "]"


def _alternatives(pattern: str) -> list[str]:
    """pattern cut at each | outside any group or class: its top-level alternatives."""
    parts: list[str] = []
    depth, start, i, in_class = 0, 0, 0, False
    while i < len(pattern):
        c = pattern[i]
        if c == "\\":
            i += 1  # the escaped character is never a bracket or a bar
        elif in_class:
            in_class = c != "]"
        elif c == "[":
            in_class = True
            i += pattern.startswith("^", i + 1)
            i += pattern.startswith("]", i + 1)  # a ] first in a class is a character
        elif c in "()":
            depth += 1 if c == "(" else -1
        elif c == "|" and depth == 0:
            parts.append(pattern[start:i])
            start = i + 1
        i += 1
    return [*parts, pattern[start:]]


def _gate(pattern: str) -> str:
    """Lookaheads of pattern's first characters and pairs, to put in front of it ("" when it has none)."""
    found = prefixes(pattern, 2)
    if found is None:
        return ""
    open_firsts = {p for p in found if len(p) == 1}  # any character may follow these
    following: dict[str, set[str]] = {}
    for p in found:
        if len(p) == 2 and p[0] not in open_firsts:
            following.setdefault(p[0], set()).add(p[1])
    # first characters with the same followers share one alternative of the pair gate
    firsts_of: dict[frozenset[str], set[str]] = {}
    for first, seconds in following.items():
        firsts_of.setdefault(frozenset(seconds), set()).add(first)
    pairs = [_charset(firsts) + _charset(seconds) for seconds, firsts in firsts_of.items()]
    if open_firsts:
        pairs.insert(0, _charset(open_firsts))
    return f"(?={_charset(open_firsts | following.keys())})(?={'|'.join(pairs)})"


def gated(pattern: str) -> re.Pattern[str]:
    """pattern compiled with lookaheads of its first characters and pairs in front (unchanged without them).

    An alternation (a lexicon's named groups, one a kind) gets them for each alternative too: at a position that
    passes the gates of the whole, only the groups whose own words can start there are tried.
    """
    front = _gate(pattern)
    if not front:
        return re.compile(pattern)
    parts = _alternatives(pattern)
    top = sre_parse.parse(pattern)
    if (
        len(parts) > 1
        and len(top.data) == 1
        and top.data[0][0] is sre.BRANCH
        and len(top.data[0][1][1]) == len(parts)
    ):
        pattern = "|".join(f"{_gate(part)}(?:{part})" for part in parts)
    return re.compile(f"{front}(?:{pattern})")

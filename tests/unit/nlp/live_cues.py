"""Helpers for the urgency-cue tests: which cues of a message are live, and a class of readings checked both ways.

Plain functions rather than fixtures, so parametrized tests call them directly (`from tests.unit.nlp.live_cues import
live`), as `tests/pii_formats.py` is shared.
"""

from __future__ import annotations

from collections.abc import Iterable

from gridbot.nlp.normalize import normalize
from gridbot.nlp.urgency import active_cues, find_cues


def live(text: str) -> list[str]:
    """The kinds of the live urgency cues of a message, in order (empty: no danger now)."""
    return [c.kind for c in active_cues(normalize(text))]


def negated(text: str) -> list[str]:
    """The kinds of the urgency cues of a message that a reading silenced."""
    return [c.kind for c in find_cues(normalize(text)) if c.negated]


def assert_both_ways(name: str, quiet: Iterable[str], loud: Iterable[str]) -> None:
    """A class of readings both ways: no cue of `quiet` is live, and every message of `loud` keeps one."""
    for text in quiet:
        assert not live(text), (name, text)
    for text in loud:
        assert live(text), (name, text)

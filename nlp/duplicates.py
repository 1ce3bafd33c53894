"""Duplicate detection: is a new report the same problem as an open ticket of the same grid?"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from gridbot.nlp import cues
from gridbot.nlp.normalize import normalize
from gridbot.nlp.segment import stopwords

MERGE = "merge"
SUGGEST = "suggest"
NEW = "new"


@dataclass(frozen=True)
class Thresholds:
    """Score at or above `merge` merges automatically; at or above `suggest` asks the gridworker."""

    merge: float = 0.75
    suggest: float = 0.35
    window: timedelta = timedelta(hours=72)
    category_boost: float = 0.1
    place_boost: float = 0.15
    place_penalty: float = 0.25


@dataclass(frozen=True)
class OpenTicket:
    """An open ticket of the same grid: its id, text, category and creation time."""

    id: str | int
    text: str
    category: str | None
    created_at: datetime


@dataclass(frozen=True)
class Match:
    """The best candidate, its score and what to do: merge, suggest or new."""

    ticket_id: str | int | None
    score: float
    decision: str
    text_similarity: float = 0.0
    same_category: bool = False
    same_place: bool = False


def _grams(text: str) -> Counter[str]:
    t = normalize(text).lower()
    stop = stopwords()
    chars = "".join(ch for ch in t if ch.isalnum() and ch not in stop)
    return Counter(chars[i : i + n] for n in (2, 3) for i in range(len(chars) - n + 1))


def text_similarity(a: str, b: str) -> float:
    """Cosine similarity of character 2-3-gram counts of two normalised messages (0..1)."""
    ga, gb = _grams(a), _grams(b)
    if not ga or not gb:
        return 0.0
    dot = sum(v * gb[k] for k, v in ga.items() if k in gb)
    return dot / (math.sqrt(sum(v * v for v in ga.values())) * math.sqrt(sum(v * v for v in gb.values())))


def score(
    text: str, category: str | None, ticket: OpenTicket, thresholds: Thresholds = Thresholds()
) -> Match:
    """Similarity of a new message to one open ticket, boosted by same category and same building/unit."""
    sim = text_similarity(text, ticket.text)
    same_cat = category is not None and category == ticket.category
    here, there = cues.location(normalize(text)), cues.location(normalize(ticket.text))
    same_place = cues.same_place(here, there)
    different_place = here.building is not None and there.building is not None and not same_place
    value = (
        sim
        + (thresholds.category_boost if same_cat else 0.0)
        + (thresholds.place_boost if same_place else 0.0)
    )
    value -= thresholds.place_penalty if different_place else 0.0
    value = max(0.0, min(1.0, value))
    decision = MERGE if value >= thresholds.merge else SUGGEST if value >= thresholds.suggest else NEW
    return Match(ticket.id, value, decision, sim, same_cat, same_place)


def find_duplicate(
    text: str,
    category: str | None,
    open_tickets: Iterable[OpenTicket],
    now: datetime,
    thresholds: Thresholds = Thresholds(),
) -> Match:
    """The best-scoring open ticket created within the window, with the merge/suggest/new decision."""
    best = Match(None, 0.0, NEW)
    for ticket in open_tickets:
        if now - ticket.created_at > thresholds.window or ticket.created_at > now + timedelta(minutes=5):
            continue
        match = score(text, category, ticket, thresholds)
        if match.score > best.score:
            best = match
    return (
        best
        if best.decision != NEW
        else Match(best.ticket_id, best.score, NEW, best.text_similarity, best.same_category, best.same_place)
    )

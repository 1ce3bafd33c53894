"""Duplicate detection: is a new report the same problem as an open ticket of the same grid?"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta

from gridbot.nlp import cues
from gridbot.nlp.memo import TEXT_CACHE, memo
from gridbot.nlp.normalize import normalize
from gridbot.nlp.segment import stopwords

MERGE = "merge"
SUGGEST = "suggest"
NEW = "new"
_RANK = {NEW: 0, SUGGEST: 1, MERGE: 2}


@dataclass(frozen=True)
class Thresholds:
    """Score at or above `merge` merges automatically; at or above `suggest` asks the gridworker.

    A merge also needs the places to agree (same building and unit, or the same landmark or
    road): reports that name different places, or only one of them a place, are never merged.
    The weights and the threshold were tuned on benchmarks/data/duplicate_pairs.jsonl
    (benchmarks/bench_duplicates.py prints precision and recall).
    """

    merge: float = 0.5
    suggest: float = 0.35
    window: timedelta = timedelta(hours=72)
    category_boost: float = 0.2
    place_boost: float = 0.3
    place_penalty: float = 0.25
    min_problem_similarity: float = 0.12  # same place, same category, but another problem: no merge
    object_boost: float = 0.25  # both name the same thing (路灯, 电梯, 狗 …): see cues.objects
    # candidates read per check (nlp/duplicate_index.py): the newest per key, the newest of the category
    per_key: int = 20
    recent: int = 10


@dataclass(frozen=True)
class OpenTicket:
    """An open ticket of the same grid: its id, text, category, creation time and stored features."""

    id: str | int
    text: str
    category: str | None
    created_at: datetime
    features: Features | None = None  # as stored when it was filed; computed from `text` when None


@dataclass(frozen=True)
class Match:
    """The best candidate, its score and what to do: merge, suggest or new."""

    ticket_id: str | int | None
    score: float
    decision: str
    text_similarity: float = 0.0
    same_category: bool = False
    same_place: bool = False
    same_object: bool = False


def _grams(text: str) -> Counter[str]:
    t = normalize(text).lower()
    stop = stopwords()
    chars = "".join(ch for ch in t if ch.isalnum() and ch not in stop)
    return Counter(chars[i : i + n] for n in (2, 3) for i in range(len(chars) - n + 1))


def _cosine(ga: Mapping[str, int], na: float, gb: Mapping[str, int], nb: float) -> float:
    if not ga or not gb:
        return 0.0
    if len(gb) < len(ga):
        ga, gb = gb, ga
    return sum(v * gb.get(k, 0) for k, v in ga.items()) / (na * nb)


def text_similarity(a: str, b: str) -> float:
    """Cosine similarity of character 2-3-gram counts of two normalised messages (0..1)."""
    ga, gb = _grams(a), _grams(b)
    return _cosine(ga, _norm(ga), gb, _norm(gb))


def _norm(grams: Mapping[str, int]) -> float:
    return math.sqrt(sum(v * v for v in grams.values()))


@dataclass(frozen=True)
class Features:
    """What scoring needs of one message, computed once: the problem's grams (places left out), the place."""

    grams: Mapping[str, int]
    norm: float
    place: cues.Place
    objects: frozenset[str]  # the things it names (路灯, 电梯, 狗 …): cues.objects
    refers_back: bool  # agreeing with or chasing a report already made: cues.refers_back


@memo(TEXT_CACHE)
def features(text: str) -> Features:
    """The scoring features of a message (stored per open ticket when it is filed: nlp/duplicate_index.py).

    Memoised by text for the few calls one message makes (check, then store at filing): a small bound,
    since a resident's text rarely comes back later.
    """
    a = normalize(text)
    grams = _grams(cues.strip_places(a))
    return Features(grams, _norm(grams), cues.place(a), cues.objects(a), cues.refers_back(a))


def score(
    text: str, category: str | None, ticket: OpenTicket, thresholds: Thresholds = Thresholds()
) -> Match:
    """Similarity of the problems (place phrases left out), boosted by same category and same place.

    Different places are never merged (at most suggested); a report naming a place is not merged
    into one naming none, or the other way round.
    """
    return _score(features(text), category, ticket, thresholds)


def _score(mine: Features, category: str | None, ticket: OpenTicket, thresholds: Thresholds) -> Match:
    theirs = ticket.features or features(ticket.text)
    sim = _cosine(mine.grams, mine.norm, theirs.grams, theirs.norm)
    same_cat = category is not None and category == ticket.category
    here, there = mine.place, theirs.place
    agree = cues.places_agree(here, there)
    vague = not here and not there  # "小区路灯坏了" and "小区路灯不亮": nothing to tell them apart
    # 「是啊 路灯坏好久了」 after 「村口路灯又不亮了」: agreeing or chasing, naming no place of its own
    echo = not here and mine.refers_back
    same_object = bool(mine.objects & theirs.objects)
    value = sim + (thresholds.category_boost if same_cat else 0.0)
    value += thresholds.place_boost if agree or (echo and same_object) else 0.0
    value += thresholds.object_boost if same_object and same_cat else 0.0
    value -= thresholds.place_penalty if agree is False else 0.0
    value = max(0.0, min(1.0, value))
    same_problem = sim >= thresholds.min_problem_similarity or (same_object and same_cat)
    mergeable = (agree is True or ((vague or echo) and same_cat)) and same_problem
    decision = (
        MERGE if value >= thresholds.merge and mergeable else SUGGEST if value >= thresholds.suggest else NEW
    )
    return Match(ticket.id, value, decision, sim, same_cat, bool(agree), same_object)


def find_duplicate(
    text: str,
    category: str | None,
    open_tickets: Iterable[OpenTicket],
    now: datetime,
    thresholds: Thresholds = Thresholds(),
) -> Match:
    """The best-scoring open ticket created within the window, with the merge/suggest/new decision.

    Equal scores (the score is capped at 1) go to the stronger decision, then the newer ticket, so
    the answer does not depend on the order the candidates were read in.
    """
    best = Match(None, 0.0, NEW)
    best_key: tuple[float, int, datetime] | None = None
    mine = features(text)
    for ticket in open_tickets:
        if now - ticket.created_at > thresholds.window or ticket.created_at > now + timedelta(minutes=5):
            continue
        match = _score(mine, category, ticket, thresholds)
        key = (match.score, _RANK[match.decision], ticket.created_at)
        if match.score > 0.0 and (best_key is None or key > best_key):
            best, best_key = match, key
    return (
        best
        if best.decision != NEW
        else Match(
            best.ticket_id,
            best.score,
            NEW,
            best.text_similarity,
            best.same_category,
            best.same_place,
            best.same_object,
        )
    )

"""What is stored of an open ticket for duplicate detection, and the keys that prune its candidates.

A ticket's `Features` are computed once, when it is filed, and stored as JSON (`dump`/`load`). It is
also stored under a few keys (`index_keys`): each place it names (building, landmark, road) or `v`
when it names none, each thing it names (`o:路灯`), and each place with each thing. A new report
reads only the tickets under its own keys (`lookups`), the newest few per key, plus the newest few
of its category: never all the open tickets of the grid.

The keys follow from when `duplicates._score` can merge at all: places that agree share a key
(same building, a shared landmark or road); two reports naming no place merge only in the same
category (`v`, category-bound); an echo naming no place (「是啊 路灯坏好久了」) merges into a ticket
of its category anywhere, found by the thing it names or among the newest of the category. What
pruning can still miss: a duplicate with more than `Thresholds.per_key` newer open tickets under
every key it shares with the report, and older than the `Thresholds.recent` newest of the category.
Change `FEATURES_VERSION` with `features`, `dump` or the keys: rows of another version are
recomputed when read, and a migration should set them pending so their keys are rebuilt.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from gridbot.nlp import cues, duplicates
from gridbot.nlp.duplicates import Features
from gridbot.nlp.memo import DUPLICATE_CACHE, TEXT_CACHE, memo

FEATURES_VERSION = 1
KEY_LENGTH = 64  # ticket_dup_keys.key


@dataclass(frozen=True)
class Lookup:
    """One key to read candidates by; `same_category`: only tickets of the report's category can merge."""

    key: str
    same_category: bool


def dump(f: Features) -> str:
    """The features as compact JSON, stamped with FEATURES_VERSION."""
    loc = f.place.location
    doc: dict[str, Any] = {
        "v": FEATURES_VERSION,
        "g": dict(f.grams),
        "n": f.norm,
        "loc": [loc.building, loc.unit, loc.room],
        "lm": sorted(f.place.landmarks),
        "rd": sorted(f.place.roads),
        "o": sorted(f.objects),
        "e": f.refers_back,
    }
    return json.dumps(doc, ensure_ascii=False, separators=(",", ":"))


@memo(DUPLICATE_CACHE)
def load(data: str | None) -> Features | None:
    """Features from `dump`'s JSON; None when absent or written by another FEATURES_VERSION.

    Memoised by the stored text itself (parsing costs more than hashing it): a changed row is parsed
    anew. Bounded (`NLPSettings.duplicate_cache`): the open tickets a grid's reports are checked
    against come back often; a city's worth of them must not pile up in every bot.
    """
    if not data:
        return None
    doc = json.loads(data)
    if doc.get("v") != FEATURES_VERSION:
        return None
    b, u, r = doc["loc"]
    place = cues.Place(cues.Location(b, u, r), frozenset(doc["lm"]), frozenset(doc["rd"]))
    return Features(doc["g"], doc["n"], place, frozenset(doc["o"]), bool(doc["e"]))


def _places(place: cues.Place) -> list[str]:
    keys = [f"b:{place.location.building}"] if place.location.building is not None else []
    keys += [f"l:{m}" for m in sorted(place.landmarks)]
    return keys + [f"r:{r}" for r in sorted(place.roads)]


def _with_objects(places: list[str], objects: frozenset[str]) -> list[str]:
    return places + [f"{p}+{o}" for p in places for o in sorted(objects)]


def index_keys(f: Features) -> frozenset[str]:
    """The keys a ticket is stored under."""
    keys = _with_objects(_places(f.place) or ["v"], f.objects) + [f"o:{o}" for o in sorted(f.objects)]
    return frozenset(k[:KEY_LENGTH] for k in keys)


def lookups(f: Features) -> list[Lookup]:
    """The keys a new report reads candidates by (see the module docstring for why these)."""
    places = _places(f.place)
    if places:  # a merge needs the places to agree: they share a place key
        return [Lookup(k[:KEY_LENGTH], False) for k in _with_objects(places, f.objects)]
    found = [Lookup(k[:KEY_LENGTH], True) for k in _with_objects(["v"], f.objects)]
    if f.refers_back:  # an echo merges into a ticket of its category wherever that one is
        found += [Lookup(f"o:{o}"[:KEY_LENGTH], True) for o in sorted(f.objects)]
    return found


def configure_memos(duplicate_cache: int = DUPLICATE_CACHE, text_cache: int = TEXT_CACHE) -> None:
    """Size the duplicate check's per-message memos (called once at start-up with the settings)."""
    load.resize(duplicate_cache)
    duplicates.features.resize(text_cache)

"""One duplicate check of a report: pruned candidates, scored on their stored features.

The candidates come from `models/tickets/duplicate_index.py` (a bounded read by the report's keys,
`nlp/duplicate_index.py`); a candidate whose features are pending is scored from its text and its
features stored in the same transaction, so no ticket's text is normalised twice.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.orm import Session

from gridbot.models.enums import Priority
from gridbot.models.tickets import duplicate_index as stored
from gridbot.nlp.duplicate_index import dump, index_keys, load, lookups
from gridbot.nlp.duplicates import Features, Match, OpenTicket, Thresholds, features, find_duplicate


@dataclass(frozen=True)
class Check:
    """The best match, the candidates' priorities, and what to store if the report becomes a ticket."""

    match: Match
    priorities: dict[int, Priority]
    entry: stored.Entry


def entry(f: Features) -> stored.Entry:
    """What is stored of a ticket with these features."""
    return stored.Entry(dump(f), index_keys(f))


def check(
    session: Session, grid_id: int, text: str, category: str, now: datetime, thresholds: Thresholds
) -> Check:
    """Is `text` (of `category`) a duplicate of an open ticket of the grid? Reads a bounded number of them."""
    mine = features(text)
    rows = stored.candidates(
        session,
        grid_id,
        now - thresholds.window,
        category,
        [(x.key, x.same_category) for x in lookups(mine)],
        thresholds.per_key,
        thresholds.recent,
    )
    computed: dict[stored.Candidate, stored.Entry] = {}
    tickets = []
    for row in rows:
        theirs = load(row.data)
        if theirs is None:
            theirs = features(row.text)
            computed[row] = entry(theirs)
        tickets.append(OpenTicket(row.id, row.text, row.category, row.created_at, theirs))
    if computed:
        stored.store(session, grid_id, computed)
    match = find_duplicate(text, category, tickets, now, thresholds)
    return Check(match, {r.id: r.priority for r in rows}, entry(mine))

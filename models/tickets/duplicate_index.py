"""The stored duplicate features of tickets and the pruned candidate read (see nlp/duplicate_index.py).

Features are written once, when a ticket is filed (`add`). A ticket filed without them (a 12345
work order, a ticket from before migration 0021) or whose text changed (`forget`, called on every
ORM change of `tickets.text`) is pending: every duplicate check of its grid reads the pending
tickets of the window in full, scores them from their text and stores their features (`store`), so
each is computed once. Category, status and priority are read from the ticket itself, never stored
here: 改类, 合并/撤销合并, 办结 and 重办 need nothing updated.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from typing import Any, NamedTuple

from sqlalchemy import (
    BindParameter,
    Connection,
    Select,
    bindparam,
    delete,
    event,
    insert,
    inspect,
    select,
    union,
    update,
)
from sqlalchemy.orm import Mapper, Session

from gridbot.models.db import is_postgres
from gridbot.models.entities import Ticket, TicketDupFeatures, TicketDupKey
from gridbot.models.enums import OPEN_STATUSES, Priority


@dataclass(frozen=True)
class Entry:
    """What is stored of one ticket: its features as JSON and the keys it is found by."""

    data: str
    keys: frozenset[str]


class Candidate(NamedTuple):
    """An open ticket read for a duplicate check; `data` is None while its features are pending."""

    id: int
    text: str
    category: str
    created_at: datetime
    priority: Priority
    data: str | None


def _key_rows(
    ticket_id: int, grid_id: int, created_at: datetime, keys: Iterable[str]
) -> list[dict[str, Any]]:
    return [
        {"ticket_id": ticket_id, "key": k, "grid_id": grid_id, "created_at": created_at} for k in sorted(keys)
    ]


def add(session: Session, ticket: Ticket, entry: Entry | None) -> None:
    """Store a new ticket's features and keys (None: pending, computed by the next check); one
    statement on PostgreSQL (the features' INSERT in a WITH of the keys' multi-row INSERT)."""
    features = insert(TicketDupFeatures).values(
        ticket_id=ticket.id,
        grid_id=ticket.grid_id,
        created_at=ticket.created_at,
        data=entry.data if entry else None,
    )
    conn = session.connection()
    if entry is None or not entry.keys:
        conn.execute(features)
        return
    keys = insert(TicketDupKey).values(_key_rows(ticket.id, ticket.grid_id, ticket.created_at, entry.keys))
    if is_postgres(session):
        conn.execute(keys.add_cte(features.cte("features")))
    else:
        conn.execute(features)
        conn.execute(keys)


def store(session: Session, grid_id: int, computed: Mapping[Candidate, Entry]) -> int:
    """Store features computed for candidates read pending (or of another version); returns how many.

    A row another check stored meanwhile is left alone: the update only matches the data it read. Storing is
    only a saving for later checks, so on PostgreSQL a row another transaction holds is skipped, never waited
    for: checks of one grid running in parallel (several rooms at once) would otherwise lock the same pending
    rows in different orders and deadlock, and a deadlock fails the resident's message.
    """
    stored = 0
    skip_locked = is_postgres(session)
    for c, entry in sorted(computed.items(), key=lambda item: item[0].id):
        same = TicketDupFeatures.data.is_(None) if c.data is None else TicketDupFeatures.data == c.data
        mine = TicketDupFeatures.ticket_id == c.id
        if skip_locked:
            free = (
                select(TicketDupFeatures.ticket_id)
                .where(TicketDupFeatures.ticket_id == c.id, same)
                .with_for_update(skip_locked=True)
                .scalar_subquery()
            )
            mine = TicketDupFeatures.ticket_id == free
        result = session.execute(
            update(TicketDupFeatures)
            .where(mine, same)
            .values(data=entry.data)
            .execution_options(synchronize_session=False)
        )
        if getattr(result, "rowcount", 0) != 1:
            continue
        session.execute(delete(TicketDupKey).where(TicketDupKey.ticket_id == c.id))
        if entry.keys:
            session.execute(insert(TicketDupKey), _key_rows(c.id, grid_id, c.created_at, entry.keys))
        stored += 1
    return stored


def forget(conn: Connection, ticket_id: int) -> None:
    """Set a ticket's features pending (its text changed): the next check recomputes them."""
    conn.execute(update(TicketDupFeatures).where(TicketDupFeatures.ticket_id == ticket_id).values(data=None))
    conn.execute(delete(TicketDupKey).where(TicketDupKey.ticket_id == ticket_id))


@event.listens_for(Ticket, "after_update")
def _text_changed(_mapper: Mapper[Ticket], conn: Connection, ticket: Ticket) -> None:
    if inspect(ticket).attrs.text.history.has_changes():
        forget(conn, ticket.id)


def candidates(
    session: Session,
    grid_id: int,
    since: datetime,
    category: str,
    lookups: Sequence[tuple[str, bool]],
    per_key: int,
    recent: int,
) -> list[Candidate]:
    """Open tickets of the grid created since `since` that a report could be a duplicate of.

    Bounded, whatever the number of open tickets: the newest `per_key` under each (key,
    same-category) lookup, the newest `recent` of `category`, and the pending ones.
    """
    statement = _statement(tuple(same for _, same in lookups), per_key, recent)
    params: dict[str, Any] = {"grid_id": grid_id, "since": since, "category": category}
    params.update({f"key_{i}": key for i, (key, _) in enumerate(lookups)})
    rows = session.execute(statement, params).all()
    return [Candidate(r[0], r[1], r[2], r[3], r[4], r[5]) for r in rows]


@lru_cache(maxsize=256)
def _statement(
    same_category: tuple[bool, ...], per_key: int, recent: int
) -> Select[int, str, str, datetime, Priority, str | None]:
    """The candidate read for lookups of this shape, built once (building it costs more than running it)."""
    grid_id: BindParameter[int] = bindparam("grid_id")
    since: BindParameter[datetime] = bindparam("since")
    category: BindParameter[str] = bindparam("category")
    is_open = Ticket.status.in_(OPEN_STATUSES)
    parts: list[Select[Any]] = []
    for i, same in enumerate(same_category):
        q = (
            select(TicketDupKey.ticket_id.label("id"))
            .join(Ticket, Ticket.id == TicketDupKey.ticket_id)
            .where(TicketDupKey.grid_id == grid_id, TicketDupKey.key == bindparam(f"key_{i}"))
            .where(TicketDupKey.created_at >= since, is_open)
        )
        if same:
            q = q.where(Ticket.category == category)
        parts.append(q.order_by(TicketDupKey.created_at.desc()).limit(per_key))
    parts.append(
        select(Ticket.id.label("id"))
        .where(Ticket.grid_id == grid_id, Ticket.created_at >= since, Ticket.category == category, is_open)
        .order_by(Ticket.created_at.desc())
        .limit(recent)
    )
    parts.append(
        select(TicketDupFeatures.ticket_id.label("id")).where(
            TicketDupFeatures.grid_id == grid_id,
            TicketDupFeatures.data.is_(None),
            TicketDupFeatures.created_at >= since,
        )
    )
    # each part in a subquery of its own: SQLite allows ORDER BY/LIMIT only on a whole compound select;
    # the tickets are joined to the ids (not filtered by IN), so the read never walks the grid's tickets
    ids = union(*(select(p.subquery().c.id) for p in parts)).subquery()
    return (
        select(
            Ticket.id,
            Ticket.text,
            Ticket.category,
            Ticket.created_at,
            Ticket.priority,
            TicketDupFeatures.data,
        )
        .select_from(ids)
        .join(Ticket, Ticket.id == ids.c.id)
        .outerjoin(TicketDupFeatures, TicketDupFeatures.ticket_id == Ticket.id)
        .where(is_open)
    )

"""The outbox: what the bot owes the groups, written in the same transaction as its cause."""

from __future__ import annotations

import logging
import random
import threading
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, cast

from sqlalchemy import (
    Connection,
    Engine,
    Select,
    Table,
    bindparam,
    case,
    event,
    func,
    or_,
    select,
    text,
    update,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session, SessionTransaction, sessionmaker

from gridbot.models.db import attach, is_postgres
from gridbot.models.entities import ChatGroup, Outbox
from gridbot.models.enums import RESERVED_LANE, OutboxKind, OutboxStatus

logger = logging.getLogger(__name__)

_MAX_BACKOFF = timedelta(hours=1)
CHANNEL = "gridbot_outbox"  # PostgreSQL NOTIFY channel: a committed transaction queued rows
_NEW_ROWS = "gridbot_outbox_new"  # session.info flag: this transaction queued rows
_NOTIFIED = "gridbot_outbox_notified"  # session.info flag: and an INSERT of them sent the NOTIFY
_TABLE = cast(Table, Outbox.__table__)
# the room's account, for a room row whose account the caller does not hold: read by the INSERT
_ROOM_ACCOUNT = (
    select(ChatGroup.bot_account).where(ChatGroup.room_id == bindparam("account_room")).scalar_subquery()
)


def _insert(dialect: Any, read_account: bool) -> Any:
    """INSERT … ON CONFLICT (dedupe_key) DO NOTHING RETURNING the id (and the account, when it reads
    it); on PostgreSQL the row inserted also sends the NOTIFY (delivered at commit, as
    `_notify_other_processes` would send it), so the commit needs no statement of its own."""
    stmt = dialect.insert(_TABLE)
    if read_account:
        stmt = stmt.values(bot_account=_ROOM_ACCOUNT)
    returned: list[Any] = [_TABLE.c.id, _TABLE.c.bot_account] if read_account else [_TABLE.c.id]
    if dialect is postgresql:
        returned.append(func.pg_notify(CHANNEL, ""))
    return stmt.on_conflict_do_nothing(index_elements=["dedupe_key"]).returning(*returned)


# built once: every reply is queued through them (values bound; defaults filled in as for any insert)
_INSERTS = {
    (name, read_account): _insert(dialect, read_account)
    for name, dialect in (("postgresql", postgresql), ("sqlite", sqlite))
    for read_account in (False, True)
}
_UNSET = dict.fromkeys(_TABLE.c.keys())
_wakers: list[Callable[[], None]] = []
_wakers_lock = threading.Lock()


def announce(session: Session) -> None:
    """Wake the senders when this transaction commits (`enqueue` does it; call it for rows added otherwise).

    In this process the subscribed senders are called after the commit; on PostgreSQL a NOTIFY, sent
    at commit, reaches the senders of every other process too.
    """
    session.info[_NEW_ROWS] = True


def subscribe(wake: Callable[[], None]) -> Callable[[], None]:
    """Call `wake` (from the committing thread) after each commit that queued rows; returns the unsubscribe."""
    with _wakers_lock:
        _wakers.append(wake)

    def unsubscribe() -> None:
        with _wakers_lock:
            if wake in _wakers:
                _wakers.remove(wake)

    return unsubscribe


@event.listens_for(Session, "before_commit")
def _notify_other_processes(session: Session) -> None:
    if session.info.get(_NEW_ROWS) and not session.info.get(_NOTIFIED) and is_postgres(session):
        session.execute(text("SELECT pg_notify(:channel, '')"), {"channel": CHANNEL})


@event.listens_for(Session, "after_commit")
def _wake_this_process(session: Session) -> None:
    session.info.pop(_NOTIFIED, None)
    if session.info.pop(_NEW_ROWS, False):
        with _wakers_lock:
            wakers = list(_wakers)
        for wake in wakers:
            wake()


@event.listens_for(Session, "after_soft_rollback")
def _forget(session: Session, previous: SessionTransaction) -> None:
    # a savepoint rolled back takes its NOTIFY with it (the commit sends one for the rows kept), not
    # the rows queued before it ("after_rollback" also fires for a savepoint: it dropped their wake-up)
    session.info.pop(_NOTIFIED, None)
    if not previous.nested:
        session.info.pop(_NEW_ROWS, None)


def enqueue(
    session: Session,
    *,
    dedupe_key: str,
    kind: OutboxKind,
    text: str,
    now: datetime,
    room_id: str | None = None,
    recipient_platform_id: str | None = None,
    mention_ids: Sequence[str] = (),
    ticket_id: int | None = None,
    bot_account: str | None = None,
) -> Outbox:
    """Queue one outbound message; a second call with the same `dedupe_key` returns the first row.

    A room message goes out through the bot account that serves the room (the group's
    `bot_account`, recorded as messages arrive); a row without an account may go through any.
    """
    values = {
        "dedupe_key": dedupe_key,
        "kind": kind,
        "text": text,
        "room_id": room_id,
        "recipient_platform_id": recipient_platform_id,
        "mention_ids": list(mention_ids),
        "ticket_id": ticket_id,
        "bot_account": bot_account,
        "status": OutboxStatus.PENDING,
        "attempts": 0,
        "created_at": now,
        "next_attempt_at": now,
    }
    # one INSERT … ON CONFLICT DO NOTHING: a key queued before (or by a transaction committing
    # meanwhile) returns no id, and that row is returned instead
    postgres = is_postgres(session)
    dialect = "postgresql" if postgres else "sqlite"
    if bot_account is None and room_id is not None:  # the room's account, read by the INSERT itself
        session.flush()  # the room as this transaction changed it (a no-op with nothing pending)
        del values["bot_account"]
        stmt = _INSERTS[dialect, True]
        row = session.connection().execute(stmt, values | {"account_room": room_id}).first()
        row_id, values["bot_account"] = (None, None) if row is None else row[:2]
    else:
        row_id = session.connection().execute(_INSERTS[dialect, False], values).scalar()
    if row_id is None:
        return session.scalars(select(Outbox).where(Outbox.dedupe_key == dedupe_key)).one()
    announce(session)
    if postgres:
        session.info[_NOTIFIED] = True
    loaded = {
        "created_at": now.astimezone(UTC),
        "next_attempt_at": now.astimezone(UTC),
    }  # as loading sets them
    return attach(session, Outbox, {**_UNSET, **values, **loaded, "id": row_id})


# ---- delivery: the sender loop claims rows, sends them paced, and marks the outcome ------------
#
# The one window that is not exactly-once: a row claimed (SENDING) by a process that dies after the
# platform accepted the message but before mark_sent committed. A sender restarted under the same
# instance id takes such rows back at once (orphaned_claims); a platform that can say what it
# received settles them exactly (delivered → SENT), otherwise they go out again (at-least-once).
# Rows of an instance that never comes back are released after a timeout (release_stale).
# A SENDING row's next_attempt_at holds its claim time (the entity has no claimed_at column).


@dataclass(frozen=True)
class Backlog:
    """What an idle sender needs to know, from one indexed query over the undelivered rows only."""

    due: int  # PENDING rows due by the instant asked about
    sending: int  # rows some sender holds (SENDING)
    next_at: datetime | None  # the earliest next attempt of a PENDING row


def _backlog_statement() -> Select[int, int, datetime | None]:
    pending = Outbox.status == OutboxStatus.PENDING
    due_by = bindparam("due_by", type_=Outbox.__table__.c.next_attempt_at.type)
    return select(
        func.coalesce(func.sum(case((pending & (Outbox.next_attempt_at <= due_by), 1), else_=0)), 0),
        func.coalesce(func.sum(case((Outbox.status == OutboxStatus.SENDING, 1), else_=0)), 0),
        func.min(case((pending, Outbox.next_attempt_at))),
    ).where(Outbox.status.in_((OutboxStatus.PENDING, OutboxStatus.SENDING)))


# built once: the idle round runs it every time the sender wakes, and building it cost more than running it
_BACKLOG = _backlog_statement()


def backlog(session: Session | Connection, due_by: datetime) -> Backlog:
    """PENDING and SENDING rows through ix_outbox_due (status, next_attempt_at): SENT history is not read."""
    due, sending, next_at = session.execute(_BACKLOG, {"due_by": due_by}).one()
    if isinstance(next_at, str):  # an aggregate over a CASE bypasses the column type on SQLite
        next_at = datetime.fromisoformat(next_at)
    if next_at is not None and next_at.tzinfo is None:
        next_at = next_at.replace(tzinfo=due_by.tzinfo)
    return Backlog(int(due), int(sending), next_at)


def idle_backlog(sessions: sessionmaker[Session], due_by: datetime) -> Backlog:
    """The sender's idle check in one round trip: one statement outside a transaction.

    A transaction would add a BEGIN and a ROLLBACK round trip to every idle round; a single
    statement sees one snapshot either way.
    """
    engine = sessions.kw["bind"]
    assert isinstance(engine, Engine)
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        return backlog(conn, due_by)


def claim_due(
    session: Session,
    now: datetime,
    limit: int,
    worker_id: str,
    account: str | None = None,
    *,
    lane_only: bool = False,
    held_rooms: Collection[str] = (),
) -> list[Outbox]:
    """Claim up to `limit` due PENDING rows, the reserved lane first, then oldest first, as SENDING.

    With `account`, only rows for that bot account or for any account (rooms another account
    serves are left to its sender). `lane_only` (the account spent its budget) claims only
    RESERVED_LANE rows; rows to `held_rooms` (rooms that spent theirs) wait unless in the lane.
    """
    stmt = select(Outbox).where(Outbox.status == OutboxStatus.PENDING, Outbox.next_attempt_at <= now)
    if account is not None:
        stmt = stmt.where(or_(Outbox.bot_account.is_(None), Outbox.bot_account == account))
    lane = Outbox.kind.in_(sorted(RESERVED_LANE))
    if lane_only:
        stmt = stmt.where(lane)
    elif held_rooms:
        stmt = stmt.where(or_(lane, Outbox.room_id.is_(None), Outbox.room_id.not_in(sorted(held_rooms))))
    stmt = stmt.order_by(case((lane, 0), else_=1), Outbox.next_attempt_at, Outbox.id).limit(limit)
    if is_postgres(session):
        # concurrent senders take disjoint rows instead of queueing on each other's locks
        stmt = stmt.with_for_update(skip_locked=True)
    rows = list(session.scalars(stmt))
    for row in rows:
        row.status = OutboxStatus.SENDING
        row.claimed_by = worker_id
        row.attempts += 1
        row.next_attempt_at = now
    session.flush()
    return rows


def sent_since(session: Session, since: datetime, account: str | None) -> tuple[int, dict[str, int]]:
    """Rows sent since `since` by the account (all rows when None), and per room.

    Both read only the index entries of rows sent since `since` (ix_outbox_sent_day: status, sent_at,
    room, account), so the cost follows today's volume, not the months of history.
    """
    sent = (Outbox.status == OutboxStatus.SENT, Outbox.sent_at >= since)
    by_account = select(func.count()).select_from(Outbox).where(*sent)
    if account is not None:
        by_account = by_account.where(Outbox.bot_account == account)
    per_room = session.execute(
        select(Outbox.room_id, func.count())
        .where(*sent, Outbox.room_id.is_not(None))
        .group_by(Outbox.room_id)
    ).all()
    return int(session.scalar(by_account) or 0), {str(room): int(n) for room, n in per_room}


def mark_sent(
    session: Session, row_id: int, now: datetime, platform_message_id: str | None, account: str | None = None
) -> bool:
    """Record a successful send (by `account`, kept on the row for its budget); False if already SENT or DEAD."""
    result = session.execute(
        update(Outbox)
        .where(Outbox.id == row_id, Outbox.status.in_((OutboxStatus.SENDING, OutboxStatus.PENDING)))
        .values(
            status=OutboxStatus.SENT,
            sent_at=now,
            platform_message_id=platform_message_id,
            bot_account=func.coalesce(Outbox.bot_account, account),
        )
        .execution_options(synchronize_session="fetch")
    )
    return _rowcount(result) == 1


def mark_failed(
    session: Session,
    row_id: int,
    now: datetime,
    error: str,
    backoff_base_s: float,
    max_attempts: int,
    *,
    rng: random.Random | None = None,
) -> OutboxStatus | None:
    """Record a failed send: retry later with exponential backoff and jitter, DEAD after max attempts."""
    row = session.get(Outbox, row_id)
    if row is None or row.status in (OutboxStatus.SENT, OutboxStatus.DEAD):
        return None
    row.last_error = error[:200]
    row.claimed_by = None
    if row.attempts >= max_attempts:
        row.status = OutboxStatus.DEAD
        # a dead letter says whom it failed to reach and why (GET /outbox/dead lists them too)
        logger.error(
            "outbox %d dead after %d attempts: %s to %s (ticket %s): %s",
            row.id,
            row.attempts,
            row.kind.value,
            f"room {row.room_id}" if row.room_id else f"contact {row.recipient_platform_id}",
            row.ticket_id if row.ticket_id is not None else "-",
            row.last_error,
        )
    else:
        # "equal jitter": at least half the exponential delay, so retries from many rows spread out
        delay = min(timedelta(seconds=backoff_base_s * 2 ** max(row.attempts - 1, 0)), _MAX_BACKOFF)
        row.status = OutboxStatus.PENDING
        row.next_attempt_at = now + delay / 2 + delay / 2 * (rng or random).random()
    session.flush()
    return row.status


def release_stale(session: Session, now: datetime, older_than_s: float) -> int:
    """Put SENDING rows claimed longer than `older_than_s` ago back to PENDING (their sender died)."""
    result = session.execute(
        update(Outbox)
        .where(
            Outbox.status == OutboxStatus.SENDING,
            Outbox.next_attempt_at <= now - timedelta(seconds=older_than_s),
        )
        .values(status=OutboxStatus.PENDING, claimed_by=None, next_attempt_at=now)
        .execution_options(synchronize_session="fetch")
    )
    return _rowcount(result)


def orphaned_claims(session: Session, instance_prefix: str, current_worker: str) -> list[int]:
    """Ids of SENDING rows claimed by earlier processes of this instance (claims start with the prefix)."""
    stmt = select(Outbox.id).where(
        Outbox.status == OutboxStatus.SENDING,
        Outbox.claimed_by.startswith(instance_prefix, autoescape=True),
        Outbox.claimed_by != current_worker,
    )
    return list(session.scalars(stmt.order_by(Outbox.id)))


def renew_claims(session: Session, ids: Sequence[int], worker_id: str, now: datetime) -> list[int]:
    """Of `ids`, those this worker still holds, their claim time renewed (so none is released as stale)."""
    held = list(
        session.scalars(
            select(Outbox.id).where(
                Outbox.id.in_(ids), Outbox.status == OutboxStatus.SENDING, Outbox.claimed_by == worker_id
            )
        )
    )
    if held:
        session.execute(
            update(Outbox)
            .where(Outbox.id.in_(held), Outbox.claimed_by == worker_id)
            .values(next_attempt_at=now)
            .execution_options(synchronize_session=False)
        )
    return sorted(held)


def claims_of(session: Session, worker_id: str) -> list[int]:
    """Ids of the SENDING rows claimed by this worker."""
    stmt = select(Outbox.id).where(Outbox.status == OutboxStatus.SENDING, Outbox.claimed_by == worker_id)
    return list(session.scalars(stmt.order_by(Outbox.id)))


def release(session: Session, row_id: int, now: datetime) -> None:
    """Put one SENDING row back to PENDING, due now (its attempt did not happen)."""
    session.execute(
        update(Outbox)
        .where(Outbox.id == row_id, Outbox.status == OutboxStatus.SENDING)
        .values(status=OutboxStatus.PENDING, claimed_by=None, next_attempt_at=now)
        .execution_options(synchronize_session="fetch")
    )


def pending_count(session: Session) -> int:
    """Rows not yet delivered: PENDING or SENDING."""
    stmt = select(func.count()).where(Outbox.status.in_((OutboxStatus.PENDING, OutboxStatus.SENDING)))
    return int(session.scalar(stmt) or 0)


def lag(session: Session, now: datetime) -> timedelta:
    """Age of the oldest undelivered row (zero when the outbox is drained)."""
    oldest = session.scalar(
        select(func.min(Outbox.created_at)).where(
            Outbox.status.in_((OutboxStatus.PENDING, OutboxStatus.SENDING))
        )
    )
    if oldest is None:
        return timedelta()
    if oldest.tzinfo is None:  # an aggregate bypasses the column type on SQLite
        oldest = oldest.replace(tzinfo=now.tzinfo)
    return max(now - oldest, timedelta())


def _rowcount(result: object) -> int:
    return int(getattr(result, "rowcount", 0) or 0)

"""Inbound messages: persisted first, keyed by platform id, so redelivery is a no-op and nothing is lost."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any, Protocol, cast

from sqlalchemy import Table, bindparam, exists, inspect, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import flag_modified, set_committed_value

from gridbot.models.db import attach, is_postgres
from gridbot.models.entities import ChatGroup, DirectoryVersion, Message
from gridbot.models.entities.directory_version import DIRECTORY_ROW
from gridbot.models.enums import MessageDirection, MessageStatus, MessageType, Role

MAX_STORED_TEXT = 20_000  # characters kept of one message; the rest is cut (oversized input)

# Built once: every message runs them, and building a statement costs more than running it. The
# inserts take their values as parameters (one compiled form per dialect, cached by SQLAlchemy).
_TABLE = cast(Table, Message.__table__)
_INSERTS = {
    "postgresql": postgresql.insert(_TABLE)
    .on_conflict_do_nothing(index_elements=["platform_id"])
    .returning(_TABLE.c.id, _TABLE.c.platform_id),
    "sqlite": sqlite.insert(_TABLE)
    .on_conflict_do_nothing(index_elements=["platform_id"])
    .returning(_TABLE.c.id, _TABLE.c.platform_id),
}
_COLUMNS = (
    "platform_id",
    "direction",
    "group_id",
    "grid_id",
    "sender_id",
    "sender_role",
    "msg_type",
    "text",
    "text_masked",
    "mentions",
    "quoted_platform_id",
    "sent_at",
    "received_at",
    "status",
)


def _if_current(dialect: Any) -> Any:
    """INSERT … SELECT the row's values WHERE the directory version is the one given."""
    values = select(*(bindparam(c, type_=_TABLE.c[c].type) for c in _COLUMNS)).where(
        exists().where(DirectoryVersion.id == DIRECTORY_ROW, DirectoryVersion.version == bindparam("version"))
    )
    return (
        dialect.insert(_TABLE)
        .from_select(list(_COLUMNS), values)
        .on_conflict_do_nothing(index_elements=["platform_id"])
        .returning(_TABLE.c.id)
    )


_INSERTS_IF_CURRENT = {"postgresql": _if_current(postgresql), "sqlite": _if_current(sqlite)}
_PENDING = select(Message).where(
    Message.id == bindparam("message_id"), Message.status == MessageStatus.PENDING
)
_PENDING_LOCKED = _PENDING.with_for_update()
_ATTEMPTS = select(_TABLE.c.attempts).where(
    _TABLE.c.id == bindparam("message_id"), _TABLE.c.status == MessageStatus.PENDING
)
_ATTEMPTS_LOCKED = _ATTEMPTS.with_for_update()
_ATTEMPTS_MANY = select(_TABLE.c.id, _TABLE.c.attempts).where(
    _TABLE.c.id.in_(bindparam("message_ids", expanding=True)), _TABLE.c.status == MessageStatus.PENDING
)
_ATTEMPTS_MANY_LOCKED = _ATTEMPTS_MANY.order_by(_TABLE.c.id).with_for_update()
_UNSET = dict.fromkeys(_TABLE.c.keys())  # a fresh row's columns beyond `inbound_row`'s hold NULL


class Placement(Protocol):
    """Where a message is stored: a `ChatGroup`, or anything else holding its id and grid id."""

    @property
    def id(self) -> int: ...

    @property
    def grid_id(self) -> int | None: ...


def group_for_room(session: Session, room_id: str) -> ChatGroup | None:
    """The group record of a room (None when the bot has never seen it bound)."""
    return session.scalar(select(ChatGroup).where(ChatGroup.room_id == room_id))


def group_by_id(session: Session, group_id: int) -> ChatGroup | None:
    """A chat group by its id."""
    return session.get(ChatGroup, group_id)


def record_inbound(session: Session, row: dict[str, Any]) -> int | None:
    """Store one inbound message (a row from `inbound_row`) as PENDING and return its id; None if this
    platform id was stored.

    One INSERT … ON CONFLICT DO NOTHING: a redelivery, or another instance storing the same delivery
    a moment earlier, is told apart by the missing id, with no lookup first and no savepoint.
    """
    return record_many(session, [row]).get(row["platform_id"])


def inbound_row(
    *,
    platform_id: str,
    group: Placement | None,
    sender_id: int | None,
    sender_role: Role | None,
    msg_type: MessageType,
    text: str,
    text_masked: str,
    sent_at: datetime,
    now: datetime,
    mentions: Sequence[str] = (),
    quoted_platform_id: str | None = None,
) -> dict[str, Any]:
    """The column values of one inbound message stored as PENDING (for `record_many`)."""
    return {
        "platform_id": platform_id,
        "direction": MessageDirection.INBOUND,
        "group_id": group.id if group else None,
        "grid_id": group.grid_id if group else None,
        "sender_id": sender_id,
        "sender_role": sender_role,
        "msg_type": msg_type,
        "text": text[:MAX_STORED_TEXT],
        "text_masked": text_masked[:MAX_STORED_TEXT],
        "mentions": list(mentions),
        "quoted_platform_id": quoted_platform_id,
        "sent_at": sent_at,
        "received_at": now,
        "status": MessageStatus.PENDING,
    }


def record_if_current(session: Session, row: dict[str, Any], version: int) -> int | None:
    """Store one row from `inbound_row` if the directory is still at `version`, in one statement.

    For a sender whose room, grid and roles the caller holds copies of for that version: the
    version is checked in the statement that stores the row. None when nothing was stored — a
    redelivery, or the directory moved — and the caller takes the full path to find out which.
    """
    stmt = _INSERTS_IF_CURRENT["postgresql" if is_postgres(session) else "sqlite"]
    message_id: int | None = session.connection().execute(stmt, {**row, "version": version}).scalar()
    return message_id


def record_many(session: Session, rows: Sequence[dict[str, Any]]) -> dict[str, int]:
    """Store inbound rows in one INSERT … ON CONFLICT DO NOTHING; {platform id: id} of those stored now.

    A platform id missing from the answer was stored before (a redelivery, another instance).
    """
    if not rows:
        return {}
    stmt = _INSERTS["postgresql" if is_postgres(session) else "sqlite"]
    conn = session.connection()
    if len(rows) == 1:
        result = conn.execute(stmt, dict(rows[0]))
    else:  # one statement for the batch (insertmanyvalues), answering the rows it stored
        result = conn.execute(stmt, [dict(r) for r in rows])
    return {platform_id: message_id for message_id, platform_id in result}


_VERDICT = "gridbot.verdict"


def classified(message: Message, classification: dict[str, Any]) -> None:
    """Keep the classifier's verdict on the message (the engagement log and training data use it).

    Written by `finish`'s UPDATE in the same transaction, not before: set as plain attributes, each
    query the route runs in between (duplicate check, fair use, …) would flush them first, one more
    UPDATE of the row. Nothing reads them back before `finish`.
    """
    verdict = {
        "classification": classification,
        "kind": classification.get("kind"),
        "category": classification.get("category"),
        "priority": classification.get("priority"),
        "confidence": classification.get("confidence"),
    }
    state = inspect(message)
    for key, value in verdict.items():
        set_committed_value(message, key, value)  # held in memory, not dirty (no autoflush writes it)
    state.info[_VERDICT] = verdict


def finish(
    message: Message,
    status: MessageStatus,
    *,
    ticket_id: int | None = None,
    error: str | None = None,
) -> None:
    """Record how an inbound message was handled (and the verdict `classified` kept, in one UPDATE)."""
    for key, value in inspect(message).info.pop(_VERDICT, {}).items():
        if key in message.__dict__ and message.__dict__[key] is value:
            flag_modified(message, key)
        else:  # expired and loaded again meanwhile: written as a plain change
            setattr(message, key, value)
    message.status = status
    message.attempts += 1
    if ticket_id is not None:
        message.ticket_id = ticket_id
    message.error = error[:200] if error else None


def pending(session: Session, *, received_before: datetime | None = None, limit: int = 500) -> list[Message]:
    """Inbound messages persisted but not yet handled (after a crash or an outage), oldest first."""
    stmt = select(Message).where(
        Message.direction == MessageDirection.INBOUND, Message.status == MessageStatus.PENDING
    )
    if received_before is not None:
        stmt = stmt.where(Message.received_at < received_before)
    return list(session.scalars(stmt.order_by(Message.id).limit(limit)))


def stored(session: Session, platform_id: str) -> tuple[int, MessageStatus] | None:
    """(id, status) of the message stored under this platform id, if any."""
    row = session.execute(
        select(Message.id, Message.status).where(Message.platform_id == platform_id)
    ).first()
    return None if row is None else (row[0], row[1])


def claim_pending(session: Session, message_id: int) -> Message | None:
    """The message if it still awaits routing, row-locked on PostgreSQL so one instance routes it."""
    stmt = _PENDING_LOCKED if is_postgres(session) else _PENDING
    return session.scalar(stmt, {"message_id": message_id})


def claim_stored(session: Session, message_id: int, row: dict[str, Any]) -> Message | None:
    """`claim_pending` for a row this process stored just now (`row`, from `inbound_row`): the lock
    reads only the row's attempts, the one column another instance may have changed while it
    waited (`count_attempt`), and the message object is built from `row` instead of loaded."""
    stmt = _ATTEMPTS_LOCKED if is_postgres(session) else _ATTEMPTS
    attempts = session.connection().execute(stmt, {"message_id": message_id}).scalar()
    if attempts is None:
        return None
    return _attached(session, message_id, row, attempts)


def claim_stored_many(session: Session, rows: Mapping[int, dict[str, Any]]) -> dict[int, Message]:
    """The messages of a batch this process stored just now ({id: row from `inbound_row`}) still
    awaiting routing, row-locked in id order on PostgreSQL; as `claim_stored` claims one, the lock
    reads only their attempts and the objects are built from `rows`."""
    stmt = _ATTEMPTS_MANY_LOCKED if is_postgres(session) else _ATTEMPTS_MANY
    found = session.connection().execute(stmt, {"message_ids": list(rows)})
    return {i: _attached(session, i, rows[i], attempts) for i, attempts in found}


def _attached(session: Session, message_id: int, row: dict[str, Any], attempts: int) -> Message:
    values = {**_UNSET, **row, "id": message_id, "attempts": attempts}
    for stamp in ("sent_at", "received_at"):  # as the UTC column type loads them
        values[stamp] = values[stamp].astimezone(UTC)
    return attach(session, Message, values)


def count_attempt(session: Session, message_id: int) -> int | None:
    """Count one more routing attempt of a PENDING message (before it starts); the new count."""
    message = claim_pending(session, message_id)
    if message is None:
        return None
    message.attempts += 1
    session.flush()
    return message.attempts


def record_outbound(
    session: Session, *, platform_id: str, group: ChatGroup | None, text: str, text_masked: str, now: datetime
) -> None:
    """Keep a copy of what the bot said (for the audit trail and the engagement log)."""
    if session.scalar(select(Message.id).where(Message.platform_id == platform_id)) is not None:
        return
    session.add(
        Message(
            platform_id=platform_id,
            direction=MessageDirection.OUTBOUND,
            group_id=group.id if group else None,
            grid_id=group.grid_id if group else None,
            sender_role=Role.SYSTEM,
            msg_type=MessageType.TEXT,
            text=text,
            text_masked=text_masked,
            sent_at=now,
            received_at=now,
            status=MessageStatus.PROCESSED,
        )
    )

"""Micro-batches: messages of several rooms stored in one INSERT, classified in one call, routed in
one transaction, each message keeping what it is promised alone (docs/reliability.md).

- **Persist first (G2).** The batch's rows are committed PENDING in one `INSERT … ON CONFLICT DO
  NOTHING RETURNING id, platform_id` before any is routed; a crash after that leaves them for
  redelivery or `recover_pending`, which route them one at a time.
- **Exactly once (G1).** The route claims the batch's rows (`SELECT … FOR UPDATE`, in id order)
  and skips those no longer PENDING; each is marked PROCESSED in the transaction that did its work.
- **Room order (G11).** The caller holds the lock of every room in the batch; a room's messages are
  routed in arrival order, and once one of them leaves the batch (below) the rest of that room's
  follow it, in order, after the batch commits.
- **One failure costs one message, not the batch.** A command (which may be refused) runs under a
  savepoint: refused (a `TicketError`), what it wrote is undone and the refusal recorded and
  answered in the batch, as the error boundary does for one message; any other error, it and its
  room's later messages are routed alone after the commit, through the usual error boundary. Any other failure rolls the batch's route back and every
  message is routed alone; a failure while storing (the database down included) sends every
  message through `Conversation.process`, which spools or raises as for one message.
- Anything the batch does not take (a private chat, media, an unbound room, a redelivery, a
  repeated id) goes through `Conversation.process` with the rest of its room, one message at a
  time and in order; the other rooms stay in the batch. With a non-empty spool every message goes
  one at a time (behind what waits there).
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from gridbot.handlers import commands
from gridbot.handlers.storable import inbound_row, storable
from gridbot.handlers.types import IncomingMessage, Outcome
from gridbot.models import bot_metrics, failpoints
from gridbot.models.enums import MessageStatus, MessageType, Role
from gridbot.models.errors import TicketError
from gridbot.models.messaging import inbox
from gridbot.models.org import newcomers, snapshots
from gridbot.models.org.newcomers import Newcomer
from gridbot.nlp.pii import mask_name

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from gridbot.handlers.conversation import Conversation

logger = logging.getLogger(__name__)


def process_batch(conv: Conversation, msgs: Sequence[IncomingMessage]) -> list[Outcome]:
    """Persist, classify and route `msgs` together; one outcome per message, in order.

    A room with a message the batch does not take goes one message at a time, the others together.
    """
    if len(msgs) < 2 or (conv.spool is not None and len(conv.spool)):
        return [conv.process(m) for m in msgs]
    apart = _rooms_apart(conv, msgs)
    outcomes = _together(conv, [(i, m) for i, m in enumerate(msgs) if m.room_id not in apart])
    for i, m in enumerate(msgs):
        if m.room_id in apart:
            outcomes[i] = conv.process(m)
    return [outcomes[i] for i in range(len(msgs))]


def _rooms_apart(conv: Conversation, msgs: Sequence[IncomingMessage]) -> set[str]:
    """Rooms with a message only one at a time takes: private, media, a repeated id, a redelivery."""
    ids = Counter(m.platform_id for m in msgs)
    return {
        m.room_id
        for m in msgs
        if m.is_private
        or m.msg_type is not MessageType.TEXT
        or ids[m.platform_id] > 1
        or conv.coordinator.seen_message(m.platform_id)
    }


def _together(conv: Conversation, items: Sequence[tuple[int, IncomingMessage]]) -> dict[int, Outcome]:
    """{index: outcome} of batchable messages, stored in one INSERT and routed in one transaction."""
    if len(items) < 2:
        return {i: conv.process(m) for i, m in items}
    ready = [(i, storable(m)) for i, m in items]
    try:
        stored, version, unbound = _persist(conv, [m for _, m in ready])
    except Exception as exc:  # the database, say: each message on its own
        logger.warning("batch of %d not stored (%s): one at a time", len(items), type(exc).__name__)
        return {i: conv.process(m) for i, m in items}
    fresh = [(m, *stored[m.platform_id]) for _, m in ready if m.platform_id in stored]
    for _ in fresh:
        failpoints.hit("inbound.persisted")
    routed = _route(conv, fresh, version)
    outcomes: dict[int, Outcome] = {}
    for (i, original), (_, m) in zip(items, ready, strict=True):
        if m.room_id in unbound:  # only an admin's 绑定 is taken there, one at a time
            outcomes[i] = conv.process(original)
            continue
        # not stored now: a redelivery (stored before), what one message at a time does with it
        outcome = routed.get(m.platform_id) or conv._process(m)
        bot_metrics.count_processed(outcome.status)
        outcomes[i] = outcome
    return outcomes


def _persist(
    conv: Conversation, msgs: Sequence[IncomingMessage]
) -> tuple[dict[str, tuple[int, dict[str, Any]]], int | None, set[str]]:
    """Store the batch in one INSERT: ({platform id: (message id, row)} of the rows stored now, the
    directory version, the rooms not bound to a grid, whose messages were left out)."""
    now = conv.clock()
    unbound: set[str] = set()
    with conv.sessions.begin() as session:
        version = conv.directory.check(session)
        groups = {}
        for room_id in dict.fromkeys(m.room_id for m in msgs):
            group = conv.directory.group(session, room_id, version)
            if group is None or group.grid_id is None:
                unbound.add(room_id)  # nobody met there is stored: the one-message path decides
            else:
                groups[room_id] = group
        bound = [m for m in msgs if m.room_id in groups]
        senders = _senders(conv, session, bound, version)
        rows = []
        residents: list[tuple[int, int]] = []  # people first seen now: their resident role, in one INSERT
        for msg in bound:
            group = groups[msg.room_id]
            assert group.grid_id is not None
            if conv.account and group.bot_account != conv.account:
                group.bot_account = conv.account
            sender = senders[msg.sender_id]
            if sender.created:
                role: Role | None = Role.RESIDENT
                residents.append((sender.person.id, group.grid_id))
            else:
                role = conv._role(session, sender.person, group, version)
            rows.append(inbound_row(msg, group, sender.person.id, role, now))
        newcomers.add_residents(session, residents)
        ids = inbox.record_many(session, rows)
        stored = {r["platform_id"]: (ids[r["platform_id"]], r) for r in rows if r["platform_id"] in ids}
        grids: dict[int, set[int]] = {}
        for person_id, grid_id in residents:
            grids.setdefault(person_id, set()).add(grid_id)
        made = [
            snapshots.created(s.person, grids.get(s.person.id, ())) for s in senders.values() if s.created
        ]
    conv.directory.hold_created(made, version)  # committed: the route reads them from memory
    return stored, version, unbound


def _senders(
    conv: Conversation, session: Session, msgs: Sequence[IncomingMessage], version: int | None
) -> dict[str, Newcomer]:
    """The batch's senders in a few statements, not a few each: the held copies and one read for
    the rest, their roles in one read, and those never seen claimed or created together."""
    people = conv.directory.people(session, (m.sender_id for m in msgs), version)
    conv.directory.actors(session, people.values(), version)  # before any write: they may be copied
    out = {pid: Newcomer(person, created=False) for pid, person in people.items()}
    first = {m.sender_id: m for m in msgs if m.sender_id not in people}
    named = {pid: (mask_name(m.sender_name) or "", m.sender_handles) for pid, m in first.items()}
    out.update(newcomers.ensure_people(session, named))
    for m in msgs:
        if m.sender_id in people:
            conv.renamed(people[m.sender_id], m)
    return out


def _route(
    conv: Conversation,
    fresh: Sequence[tuple[IncomingMessage, int, dict[str, Any]]],
    version: int | None,
) -> dict[str, Outcome]:
    """Route the stored batch in one transaction; messages that left it are routed alone after.
    `fresh`: each message with its id and the row stored (the claimed objects are built from it)."""

    if not fresh:
        return {}
    texts = list(dict.fromkeys(m.text for m, _, _ in fresh))
    outcomes: dict[str, Outcome] = {}
    alone: list[tuple[IncomingMessage, int]] = []
    try:
        verdicts = dict(zip(texts, conv.classifier().classify_batch(texts), strict=True))
        with conv.verdicts(verdicts), conv.sessions.begin() as session:
            claimed = inbox.claim_stored_many(session, {message_id: row for _, message_id, row in fresh})
            # senders not held (claimed from the sheet in the persist): their rows and roles in two reads
            people = conv.directory.people(session, (m.sender_id for m, _, _ in fresh), version)
            conv.directory.actors(session, people.values(), version)
            left: set[str] = set()  # rooms one of whose messages left the batch
            for msg, message_id, _ in fresh:
                message = claimed.get(message_id)
                if message is None:  # another instance (or an earlier delivery) routed it
                    outcomes[msg.platform_id] = Outcome("duplicate")
                    continue
                if msg.room_id in left:
                    alone.append((msg, message_id))
                    continue
                ctx = conv._context(session, msg, message, version)
                if commands.find(msg.text) is None:
                    outcome = conv._dispatch(ctx)  # a failure here sends the whole batch alone
                    inbox.finish(message, MessageStatus.PROCESSED, ticket_id=outcome.ticket)
                else:
                    try:
                        with session.begin_nested():  # a refused command costs only its own message
                            outcome = conv._dispatch(ctx)
                            inbox.finish(message, MessageStatus.PROCESSED, ticket_id=outcome.ticket)
                    except TicketError as exc:
                        # refused (no such ticket, a move not allowed): what it wrote is undone, and
                        # the refusal is recorded and answered here as alone; the room stays
                        error = type(exc).__name__
                        conv.answer_failure(
                            session, msg, message, exc.user_message, MessageStatus.PROCESSED, error
                        )
                        outcome = Outcome("refused")
                    except Exception:
                        left.add(msg.room_id)
                        alone.append((msg, message_id))
                        continue
                outcomes[msg.platform_id] = outcome
                failpoints.hit("route.dispatched")
    except Exception as exc:
        logger.warning("batch of %d not routed (%s): one at a time", len(fresh), type(exc).__name__)
        return {msg.platform_id: conv._route(msg, message_id) for msg, message_id, _ in fresh}
    for platform_id in outcomes:
        conv.coordinator.remember_message(platform_id)
    for msg, message_id in alone:
        outcomes[msg.platform_id] = conv._route(msg, message_id)
    return outcomes

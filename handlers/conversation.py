"""The conversation: persist every message first, route it, and never let one message stop the rest.

Per message: (1) one transaction stores it (UNIQUE platform id: redelivery is a no-op); (2) another
routes it — commands, ratings, classification, tickets — and queues every reply in the outbox in
the same transaction; (3) if that fails, the error boundary records the failure and queues a reply
(the user error's Chinese message, or a generic apology). A crash between (1) and (2) leaves the
message PENDING: its redelivery or `recover_pending` routes it then. A message that keeps killing
the process is given up after `MAX_RECOVERIES` and answered with the apology. When the database is
unreachable at (1) the message waits in the local spool; at (2), it stays PENDING for recovery.
"""

from __future__ import annotations

import functools
import logging
import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import AsyncExitStack, contextmanager
from datetime import datetime, timedelta
from typing import Any

import anyio
from sqlalchemy.orm import Session, sessionmaker

from gridbot.handlers import batch, commands, evidence, intake, knowledge, notices
from gridbot.handlers.admin import ADMIN_COMMANDS
from gridbot.handlers.context import Context
from gridbot.handlers.participation import PARTICIPATION_COMMANDS
from gridbot.handlers.spool import Spool
from gridbot.handlers.storable import inbound_row, rebuild, storable
from gridbot.handlers.types import IncomingMessage, MemberChange, Outcome
from gridbot.models import bot_metrics, failpoints
from gridbot.models.attachments import records as attachment_records
from gridbot.models.attachments.kit import AttachmentKit
from gridbot.models.db import database_down
from gridbot.models.entities import ChatGroup, Message, Person
from gridbot.models.enums import ADMIN_ROLES, MessageStatus, MessageType, OutboxKind, Role, TicketSource
from gridbot.models.errors import TicketError
from gridbot.models.messaging import engagement, inbox
from gridbot.models.messaging.coordination import Coordinator
from gridbot.models.messaging.outbox import enqueue
from gridbot.models.org import directory, newcomers, snapshots
from gridbot.models.org.newcomers import Newcomer
from gridbot.models.org.snapshots import DirectoryCache
from gridbot.models.settings import FairUseSettings, NLPSettings
from gridbot.models.tickets.sla import SLAPolicy
from gridbot.models.wording import residents
from gridbot.nlp.classifier import Classification, Classifier
from gridbot.nlp.pii import mask_name
from gridbot.nlp.taxonomy import Taxonomy

logger = logging.getLogger(__name__)
MAX_RECOVERIES = 3  # a message that killed the process this often is answered with the apology
RECOVERY_GRACE_S = 10.0  # periodic recovery leaves younger PENDING messages to the instance routing them


def _ranked(held: set[Role]) -> Role | None:
    """The role a message is stored under: the highest staff role held, else resident (if held)."""
    for role in (Role.GRID_LEADER, Role.GRIDWORKER, Role.PARTTIME_GRIDWORKER, *sorted(ADMIN_ROLES)):
        if role in held:
            return role
    return Role.RESIDENT if Role.RESIDENT in held else None


class Conversation:
    """Handles inbound messages and membership changes; talks to the outbox, never to a transport."""

    def __init__(
        self,
        session_factory: sessionmaker[Session],
        classifier: Callable[[], Classifier],
        taxonomy: Taxonomy,
        policy: SLAPolicy,
        coordinator: Coordinator,
        nlp_settings: NLPSettings,
        clock: Callable[[], datetime],
        spool: Spool | None = None,
        fair_use: FairUseSettings | None = None,
        attachments: AttachmentKit | None = None,
    ) -> None:
        self.sessions = session_factory
        self.attachments = attachments
        self.spool = spool
        self.account: str | None = None  # the bot account messages arrive through (once logged in)
        self.classifier = classifier
        self.taxonomy = taxonomy
        self.policy = policy
        self.coordinator = coordinator
        self.nlp = nlp_settings
        self.fair_use = fair_use or FairUseSettings()
        self.clock = clock
        self._room_locks: dict[str, anyio.Lock] = {}
        self._ahead = threading.local()  # a batch's classifications, computed in one call
        self.directory = DirectoryCache()  # rooms, grids, senders, roles: checked once per message
        commands.install(ADMIN_COMMANDS)  # the administrators' commands, installed explicitly
        commands.install(PARTICIPATION_COMMANDS)  # 积分 (answers that it is off unless enabled)

    async def handle(self, msg: IncomingMessage) -> Outcome:
        """Process one message; messages of one room are handled in arrival order."""
        async with self._room_lock(msg.room_id):
            return await anyio.to_thread.run_sync(self.process, msg)

    async def handle_batch(self, msgs: Sequence[IncomingMessage]) -> list[Outcome]:
        """Process messages of several rooms together (`handlers/batch.py`); one outcome each, in order.

        Holds every room's lock (taken in one order, so batches and single messages never deadlock).
        """
        async with AsyncExitStack() as stack:
            for room_id in sorted({m.room_id for m in msgs}):
                await stack.enter_async_context(self._room_lock(room_id))
            return await anyio.to_thread.run_sync(self.process_batch, msgs)

    def process_batch(self, msgs: Sequence[IncomingMessage]) -> list[Outcome]:
        """The batch path, synchronous (runs in a worker thread)."""
        return batch.process_batch(self, msgs)

    @contextmanager
    def verdicts(self, ahead: dict[str, Classification]) -> Iterator[None]:
        """Classifications computed ahead for these texts, used by this thread's `_classify` meanwhile."""
        self._ahead.verdicts = ahead
        try:
            yield
        finally:
            self._ahead.verdicts = None

    def _room_lock(self, room_id: str) -> anyio.Lock:
        return self._room_locks.setdefault(room_id, anyio.Lock())

    def process(self, msg: IncomingMessage) -> Outcome:
        """Persist, then route inside the error boundary (synchronous; runs in a worker thread)."""
        if msg.is_private:
            outcome = self._private(msg)
        elif self.spool is not None and len(self.spool):
            # the database was down a moment ago: keep arrival order behind what waits in the spool
            self.spool.append(storable(msg))
            outcome = Outcome("spooled")
        else:
            outcome = self._process(msg)
        bot_metrics.count_processed(outcome.status)
        return outcome

    def _process(self, msg: IncomingMessage, *, spool_if_down: bool = True) -> Outcome:
        if self.coordinator.seen_message(msg.platform_id):
            return Outcome("duplicate")
        msg = storable(msg)
        try:
            stored = self._persist(msg)
        except Exception as exc:
            if self.spool is None or not spool_if_down or not database_down(exc):
                raise
            logger.warning("database unreachable (%s): message spooled locally", type(exc).__name__)
            self.spool.append(msg)  # the downloaded file stays in incoming/ until then
            return Outcome("spooled")
        if self.attachments is not None:  # stored (or refused) with the message: the download goes
            self.attachments.store.discard_incoming(msg.attachment_path)
        if stored is None:
            return Outcome("ignored")
        message_id, row, version = stored
        failpoints.hit("inbound.persisted")
        if row is None:
            # delivered again: finished before, or stored by a process that died before routing it
            outcome = self._recover(msg, message_id)
            return Outcome("duplicate") if outcome is None else outcome
        return self._route(msg, message_id, version, row)

    def _private(self, msg: IncomingMessage) -> Outcome:
        """A private message to the bot: answered with where to report (once, even if redelivered)."""
        if msg.msg_type is not MessageType.TEXT or not msg.sender_id:
            return Outcome("ignored")  # system notices, stickers: nothing a person asked
        if self.coordinator.seen_message(msg.platform_id):
            return Outcome("duplicate")
        with self.sessions.begin() as session:
            enqueue(
                session,
                dedupe_key=f"reply:{msg.platform_id}:private",
                kind=OutboxKind.REPLY,
                text=residents.PRIVATE_REPLY,
                now=self.clock(),
                recipient_platform_id=msg.sender_id,
            )
        self.coordinator.remember_message(msg.platform_id)
        return Outcome("private")

    def drain_spool(self) -> int:
        """Process what waits in the spool, in order, until the database fails again; how many."""
        if self.spool is None:
            return 0

        def one(msg: IncomingMessage) -> bool:
            try:
                self._process(msg, spool_if_down=False)
            except Exception as exc:
                if database_down(exc):
                    return False
                raise
            return True

        return self.spool.drain(one)

    def _persist(self, msg: IncomingMessage) -> tuple[int, dict[str, Any] | None, int | None] | None:
        """(message id, the row stored just now or None if it was stored before, directory version),
        or None for a room the bot does not serve."""
        now = self.clock()
        if (fast := self._persist_known(msg, now)) is not None:
            return fast
        with self.sessions.begin() as session:
            version = self.directory.check(session)
            group = self.directory.group(session, msg.room_id, version)
            if group is None or group.grid_id is None:
                # unbound rooms are ignored, except an admin binding them (the command is matched
                # here only for unbound rooms: routing matches commands for bound ones)
                found = commands.find(msg.text)
                if found is None or found[0].name != "绑定":
                    known = inbox.stored(session, msg.platform_id)  # stored before an unbinding
                    return None if known is None else (known[0], None, version)
            if group is None:
                group = ChatGroup(room_id=msg.room_id, topic=msg.room_topic, created_at=now)
                session.add(group)
                session.flush()
            if self.account and group.bot_account != self.account:
                group.bot_account = self.account  # replies to this room go out through this account
            sender = self._sender(session, msg, version)
            role = self._role(session, sender.person, group, version, sender.created)
            row = inbound_row(msg, group, sender.person.id, role, now)
            message_id = inbox.record_inbound(session, row)
            if message_id is None:  # delivered before, or another instance stored it a moment ago
                again = inbox.stored(session, msg.platform_id)
                return None if again is None else (again[0], None, version)
            if self.attachments is not None and msg.msg_type in attachment_records.MEDIA:
                stored = session.get(Message, message_id)  # media only: text messages need no row object
                assert stored is not None
                attachment_records.record(session, self.attachments.store, stored, msg.attachment_path, now)
            grids = [group.grid_id] if role is Role.RESIDENT and group.grid_id is not None else []
            made = [snapshots.created(sender.person, grids)] if sender.created else []
        self.directory.hold_created(made, version)  # committed: the route reads them from memory
        return message_id, row, version

    def _persist_known(
        self, msg: IncomingMessage, now: datetime
    ) -> tuple[int, dict[str, Any] | None, int | None] | None:
        """A text from a sender whose copies are all held, in a bound room: stored by one statement
        that checks the directory version as it inserts (G12 as `_persist` keeps it), from the copies
        in memory (no query, no ORM object). None when the full path must decide: a copy missing, a
        rename, a new account, a newcomer to the grid, a redelivery, the directory moved."""
        known = self.directory.known(msg.room_id, msg.sender_id)
        if known is None or msg.msg_type is not MessageType.TEXT or known.group.grid_id is None:
            return None
        if self.account and known.bot_account != self.account:
            return None
        name = mask_name(msg.sender_name) or ""
        if name and known.person_name != name and not known.imported:
            return None
        role = _ranked(set(known.roles))
        if role is None:
            return None  # a newcomer to this grid: the full path makes them a resident
        row = inbound_row(msg, known.group, known.person_id, role, now)
        with self.sessions.begin() as session:
            message_id = inbox.record_if_current(session, row, known.version)
            if message_id is None:
                # a redelivery, or the directory moved: the transaction wrote nothing; the full path
                # tells which (rolled back rather than committed, as nothing was stored)
                session.rollback()
                return None
        return message_id, row, known.version

    def _sender(self, session: Session, msg: IncomingMessage, version: int | None) -> Newcomer:
        """The sender, created on first sight; the display name follows renames (see ensure_person)."""
        person = self.directory.person(session, msg.sender_id, version)
        if person is None:
            name = mask_name(msg.sender_name) or ""
            return newcomers.ensure_people(session, {msg.sender_id: (name, msg.sender_handles)})[
                msg.sender_id
            ]
        self.renamed(person, msg)
        return Newcomer(person, created=False)

    @staticmethod
    def renamed(person: Person, msg: IncomingMessage) -> None:
        """The display name follows renames, except an imported person's official one."""
        name = mask_name(msg.sender_name) or ""
        if name and person.name != name and not directory.imported(person):
            person.name = name

    def _role(
        self, session: Session, person: Person, group: ChatGroup, version: int | None, created: bool = False
    ) -> Role | None:
        """The sender's role in this grid; unknown members of a bound group become residents
        (`created`: the person was created in this transaction and holds no role to look up)."""
        if group.grid_id is None:
            return None
        if created:
            newcomers.add_residents(session, [(person.id, group.grid_id)])
            return Role.RESIDENT
        grid = self.directory.grid(session, group.grid_id, version)
        assert grid is not None
        held = self.directory.actor(session, person, version).roles_for(grid)
        if (role := _ranked(held)) is not None:
            return role
        directory.assign_role(session, person, Role.RESIDENT, grid=grid)
        self.directory.forget_actor(person.id)
        return Role.RESIDENT

    def _route(
        self,
        msg: IncomingMessage,
        message_id: int,
        version: int | None = None,
        row: dict[str, Any] | None = None,
    ) -> Outcome:
        """Route a stored message in one transaction; `version`: the directory version the persist
        just read (its copies are still current), or None to read it again; `row`: what the persist
        stored just now (the message is built from it rather than loaded), or None."""
        try:
            with self.sessions.begin() as session:
                if row is None:
                    message = inbox.claim_pending(session, message_id)
                else:
                    message = inbox.claim_stored(session, message_id, row)
                if message is None:  # another instance (or an earlier delivery) routed it
                    return Outcome("duplicate")
                ctx = self._context(session, msg, message, version)
                outcome = self._dispatch(ctx)
                inbox.finish(ctx.message, MessageStatus.PROCESSED, ticket_id=outcome.ticket)
                failpoints.hit("route.dispatched")
        except TicketError as exc:
            self._fail(msg, message_id, exc.user_message, MessageStatus.PROCESSED, type(exc).__name__)
            outcome = Outcome("refused")
        except Exception as exc:
            if database_down(exc):
                # not the message's fault: it stays PENDING and is routed once the database is back
                logger.warning("database unreachable (%s) routing message %s", type(exc).__name__, message_id)
                return Outcome("deferred")
            logger.exception("message %s failed in its handler", message_id)
            self._fail(msg, message_id, residents.APOLOGY, MessageStatus.FAILED, "handler error")
            outcome = Outcome("failed")
        self.coordinator.remember_message(msg.platform_id)
        return outcome

    def _recover(self, msg: IncomingMessage, message_id: int) -> Outcome | None:
        """Route a PENDING message again, unless it already failed too often; None if not pending."""
        with self.sessions.begin() as session:
            attempts = inbox.count_attempt(session, message_id)
        if attempts is None:
            self.coordinator.remember_message(msg.platform_id)
            return None
        if attempts > MAX_RECOVERIES:
            logger.error("message %s given up after %d interrupted attempts", message_id, attempts - 1)
            self._fail(msg, message_id, residents.APOLOGY, MessageStatus.FAILED, "interrupted too often")
            return Outcome("failed")
        return self._route(msg, message_id)

    def _context(
        self, session: Session, msg: IncomingMessage, message: Message, version: int | None = None
    ) -> Context:
        assert message.group_id is not None
        if version is None:
            version = self.directory.check(session)
        group = self.directory.group(session, msg.room_id, version)
        if group is None or group.id != message.group_id:
            group = inbox.group_by_id(session, message.group_id)
        person = self.directory.person(session, msg.sender_id, version)
        assert group is not None and person is not None
        return Context(
            session=session,
            msg=msg,
            message=message,
            person=person,
            actor=self.directory.actor(session, person, version),
            group=group,
            grid=self.directory.grid(session, group.grid_id, version),
            now=self.clock(),
            policy=self.policy,
            taxonomy=self.taxonomy,
            classify=self._classify,
            nlp=self.nlp,
            attachments=self.attachments,
            staff=functools.partial(self.directory.grid_staff, session, version=version),
        )

    def _classify(self, text: str) -> Classification:
        ahead: dict[str, Classification] | None = getattr(self._ahead, "verdicts", None)
        if ahead is not None and (known := ahead.get(text)) is not None:
            return known
        with bot_metrics.timing_classification():
            return self.classifier().classify(text)

    def _dispatch(self, ctx: Context) -> Outcome:
        found = commands.find(ctx.msg.text) if ctx.msg.msg_type is MessageType.TEXT else None
        staff = ctx.is_worker or ctx.is_admin
        if found is not None and (staff or commands.looks_deliberate(found[1], found[0])):
            commands.run(ctx, *found)  # a resident's gridworker command is refused in there
            return Outcome("command", kind=found[0].name)
        if ctx.msg.msg_type in attachment_records.MEDIA and ctx.grid is not None:
            return Outcome("evidence", ticket=evidence.on_media(ctx))
        if ctx.msg.msg_type is not MessageType.TEXT or ctx.grid is None:
            return Outcome("logged")
        if staff:
            return self._staff_message(ctx)
        if notices.try_ack(ctx):  # 收到 to a notice (知晓率): recorded, not classified
            return Outcome("ack")
        if knowledge.try_escalate(ctx):  # 人工 after an answer from the knowledge base
            return Outcome("escalated")
        rating = intake.try_rating(ctx, self._classify)
        if rating.outcome is intake.Rated.DONE:
            return Outcome("rating")
        if rating.outcome is intake.Rated.NOT_A_RATING and (number := intake.try_follow_up(ctx)):
            return Outcome("follow-up", ticket=number)
        # a score followed by a new report: the report is what follows the score
        classification = self._classify(rating.report or ctx.msg.text)
        inbox.classified(ctx.message, classification.to_dict())
        if (answered := knowledge.try_answer(ctx, classification)) is not None:
            return Outcome("answered", ticket=answered, kind="question")
        if not classification.actionable:
            if ctx.msg.mentions_bot:  # addressed to the bot: never silence
                ctx.reply(residents.GREETING)
            return Outcome("chatter", kind=classification.kind)
        if (thread := intake.try_emergency_thread(ctx, classification)) is not None:
            return Outcome("thread", ticket=thread)
        number = intake.file_report(ctx, classification, self.nlp, self.fair_use)
        if number is not None:  # photos sent just before the report are its evidence
            evidence.collect_for_report(ctx, number)
        if rating.waiting is not None:
            ctx.reply(residents.rating_separately(f"#{rating.waiting}"))
        return Outcome("ticket", ticket=number, kind=classification.kind)

    def _staff_message(self, ctx: Context) -> Outcome:
        """A staff member's ordinary message: an @-reply to residents, or a patrol finding."""
        if ctx.msg.mentions:
            category = self._classify(ctx.msg.text).category
            return Outcome("worker", ticket=intake.worker_mentions_reporter(ctx, category))
        if not ctx.is_worker or not intake.looks_like_patrol_finding(ctx.msg.text):
            if ctx.msg.mentions_bot:
                ctx.reply(residents.GREETING)
            return Outcome("worker")
        c = self._classify(ctx.msg.text)
        if not c.actionable or c.needs_review:
            if ctx.msg.mentions_bot:
                ctx.reply(residents.GREETING)
            return Outcome("worker")
        inbox.classified(ctx.message, c.to_dict())
        number = intake.file_report(ctx, c, self.nlp, source=TicketSource.PATROL)
        if number is not None:  # the photos taken on patrol, sent just before
            evidence.collect_for_report(ctx, number)
        return Outcome("ticket", ticket=number, kind=c.kind)

    def _fail(
        self, msg: IncomingMessage, message_id: int, text: str, status: MessageStatus, error: str
    ) -> None:
        """The error boundary's second transaction: record the failure and answer the sender."""
        try:
            with self.sessions.begin() as session:
                message = inbox.claim_pending(session, message_id)
                if message is None:  # finished meanwhile (another instance): nothing to answer
                    return
                self.answer_failure(session, msg, message, text, status, error)
        except Exception:
            logger.exception("could not record the failure of message %s", message_id)

    def answer_failure(
        self,
        session: Session,
        msg: IncomingMessage,
        message: Message,
        text: str,
        status: MessageStatus,
        error: str,
    ) -> None:
        """Record that `message` failed and answer its sender with `text`, in the caller's transaction."""
        inbox.finish(message, status, error=error)
        enqueue(
            session,
            dedupe_key=f"reply:{msg.platform_id}:error",
            kind=OutboxKind.REPLY,
            text=text,
            now=self.clock(),
            room_id=msg.room_id,
            mention_ids=(msg.sender_id,),
        )

    async def recover_pending(self, grace_s: float = 0.0) -> int:
        """Route messages stored but never routed (a crash, an outage); returns how many were taken.

        `grace_s` leaves messages younger than that to whichever instance is routing them now.
        """
        cutoff = self.clock() - timedelta(seconds=grace_s) if grace_s else None
        with self.sessions() as session:
            rows = [(m.id, rebuild(session, m)) for m in inbox.pending(session, received_before=cutoff)]
        taken = 0
        for message_id, msg in rows:
            if msg is None:
                continue
            async with self._room_lock(msg.room_id):
                outcome = await anyio.to_thread.run_sync(self._recover, msg, message_id)
            taken += outcome is not None
        return taken

    async def on_member_change(self, change: MemberChange) -> None:
        """Log joins and leaves and the new member count (for 入群率)."""
        await anyio.to_thread.run_sync(self._member_change, change)

    def _member_change(self, change: MemberChange) -> None:
        with self.sessions.begin() as session:
            group = inbox.group_for_room(session, change.room_id)
            if group is None:
                return
            for platform_id, name in change.members:
                person = directory.ensure_person(session, platform_id, mask_name(name) or "")
                engagement.record_member_event(session, group.id, person.id, change.kind, change.at)
            if change.member_count is not None:
                engagement.record_member_snapshot(session, group.id, change.member_count, change.at)

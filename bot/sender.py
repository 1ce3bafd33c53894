"""The outbox sender: paces queued messages out through a transport and records what was sent.

Pacing protects the WeChat account: at least `min_interval_s` between sends per bot account and per
room (shared by all instances through the coordinator), replies to one room queued within
`merge_window_s` of each other go out as one message, failures back off exponentially.

Daily budgets (Asia/Shanghai days) cap the volume per bot account (`daily_budget`) and per room
(`daily_budget_per_room`), counted from the outbox's own SENT rows through an index: a flood in one
room holds that room's replies, not every group's. Urgent alerts and escalations (RESERVED_LANE) are
claimed first and never held by a budget.

Waking: an idle round is one indexed query over the undelivered rows (`outbox.backlog`); the loop
then sleeps until a commit that queued rows wakes it (in this process through `outbox.subscribe`,
from other processes through PostgreSQL LISTEN/NOTIFY), until the next row falls due, or at the
latest after `safety_poll_s` (rows inserted behind `enqueue`'s back, a lost notification).
"""

from __future__ import annotations

import contextlib
import logging
import os
import threading
import uuid
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta
from typing import Any

import anyio
import anyio.from_thread
import anyio.lowlevel
from sqlalchemy.orm import Session, sessionmaker

from gridbot.handlers.types import ConfirmingSender, OutgoingMessage, Sender
from gridbot.models import failpoints
from gridbot.models.db import database_down
from gridbot.models.entities import Outbox
from gridbot.models.enums import STAFF_KINDS
from gridbot.models.messaging import inbox, outbox
from gridbot.models.messaging.coordination import Coordinator
from gridbot.models.metrics import LOCAL_TZ
from gridbot.models.settings import OutboxSettings
from gridbot.nlp.pii import mask

logger = logging.getLogger(__name__)
STALE_CLAIM_S = 300.0


class OutboxSender:
    """Delivers due outbox rows; safe to run in several processes at once."""

    def __init__(
        self,
        session_factory: sessionmaker[Session],
        transport: Sender,
        coordinator: Coordinator,
        settings: OutboxSettings,
        clock: Callable[[], datetime],
        sleep: Callable[[float], Awaitable[None]] = anyio.sleep,
        account: str | None = None,
        instance_id: str = "local",
    ) -> None:
        self.sessions = session_factory
        self.transport = transport
        self.coordinator = coordinator
        self.settings = settings
        self.clock = clock
        self.sleep = sleep
        # the bot account this sender speaks as: it paces per account and claims only rooms the
        # account serves (None: any room; set once the transport has logged in)
        self.account = account
        # "<instance>/<incarnation>": a restarted instance knows its predecessor's claims are orphaned
        self.instance_id = instance_id[:40]  # claimed_by holds 64 characters
        self.worker_id = f"{self.instance_id}/{os.getpid()}-{uuid.uuid4().hex[:8]}"
        self.sent = 0
        # delivered by the transport but not yet recorded (the database failed): recorded first next round
        self._unrecorded: list[tuple[list[int], str | None, OutgoingMessage]] = []
        self._round = anyio.Lock()  # one round at a time: a round settles the claims of the last
        self._held: tuple[bool, set[str]] = (False, set())  # the budgets' state last logged
        self.next_due: datetime | None = None  # when the earliest waiting row falls due (idle rounds)
        self.rounds = 0
        self.listening = threading.Event()  # set while the LISTEN connection is up (PostgreSQL)

    def _claim(self, limit: int) -> list[tuple[str | None, list[Outbox]]]:
        now = self.clock()
        self.rounds += 1
        # a row waits out the merge window, so replies to one room in a burst leave as one message
        window = timedelta(seconds=self.settings.merge_window_s)
        if not self._unrecorded:
            waiting = outbox.idle_backlog(self.sessions, now - window)
            if waiting.due == 0 and waiting.sending == 0:  # idle: nothing to claim, release or settle
                self.next_due = waiting.next_at + window if waiting.next_at else None
                return []
        self.next_due = None
        with self.sessions.begin() as session:
            self._settle_own_claims(session, now)
            outbox.release_stale(session, now, STALE_CLAIM_S)
            lane_only, held_rooms = self._budgets(session, now)
            rows = outbox.claim_due(
                session,
                now - window,
                limit,
                self.worker_id,
                self.account,
                lane_only=lane_only,
                held_rooms=held_rooms,
            )
        failpoints.hit("outbox.claimed")
        groups: dict[tuple[str | None, str | None, bool], list[Outbox]] = {}
        for row in rows:
            # staff-facing rows (reminders, alarms) never merge with residents' replies: a channel
            # that cannot post in the room delivers them privately, the replies as a handoff
            key = (row.room_id, None if row.room_id else row.recipient_platform_id, row.kind in STAFF_KINDS)
            groups.setdefault(key, []).append(row)
        return [(room, batch) for (room, _, _), batch in groups.items()]

    def _settle_own_claims(self, session: Session, now: datetime) -> None:
        """Rows this sender claimed in a round the database cut short: record what went out, release the rest."""
        for ids, platform_id, message in self._unrecorded:
            self._record_sent(session, ids, platform_id, message, now, self.account)
        delivered = {i for ids, _, _ in self._unrecorded for i in ids}
        for row_id in outbox.claims_of(session, self.worker_id):
            if row_id not in delivered:
                outbox.release(session, row_id, now)
        self._unrecorded = []

    def _budgets(self, session: Session, now: datetime) -> tuple[bool, set[str]]:
        """(the account spent its daily budget, rooms that spent theirs); logged when either changes."""
        local = now.astimezone(LOCAL_TZ)
        midnight = local.replace(hour=0, minute=0, second=0, microsecond=0)
        by_account, per_room = outbox.sent_since(session, midnight, self.account)
        lane_only = by_account >= self.settings.daily_budget
        held = {room for room, n in per_room.items() if n >= self.settings.daily_budget_per_room}
        if (lane_only, held) != self._held:
            self._held = (lane_only, held)
            if lane_only:
                logger.warning(
                    "daily send budget of %d reached for this account; only alerts and escalations go out",
                    self.settings.daily_budget,
                )
            if held:
                logger.warning(
                    "daily send budget of %d reached in %d rooms; their replies wait, alerts still go out",
                    self.settings.daily_budget_per_room,
                    len(held),
                )
        return lane_only, held

    async def drain_once(self, limit: int = 50) -> int:
        """Send what is due now; returns the number of outbox rows delivered."""
        async with self._round:
            return await self._drain(limit)

    async def _drain(self, limit: int) -> int:
        batches = await anyio.to_thread.run_sync(self._claim, limit)
        delivered = 0
        for room, rows in batches:
            message = _merge(rows)
            # in a thread: a hung Redis must not stall the event loop (and every other task with it)
            wait = await anyio.to_thread.run_sync(
                self.coordinator.acquire_send_slot,
                self.account or "default",
                room,
                self.settings.min_interval_s,
            )
            if wait > 0:
                await self.sleep(wait)
            # a long round (many rooms at the shared pace) must not outlive its claims: renew them,
            # and skip rows another sender took back meanwhile (else both would send them)
            held = await anyio.to_thread.run_sync(self._renew, [r.id for r in rows])
            if len(held) < len(rows):
                rows = [r for r in rows if r.id in held]
                if not rows:
                    continue
                message = _merge(rows)
            try:
                platform_id = await self.transport.send(message)
            except Exception as exc:  # a failed send is retried later, never lost
                logger.warning(
                    "send to %s failed (%s); %d rows back off",
                    room or f"contact {rows[0].recipient_platform_id}",
                    type(exc).__name__,
                    len(rows),
                )
                await anyio.to_thread.run_sync(self._failed, [r.id for r in rows], type(exc).__name__)
                continue
            failpoints.hit("outbox.sent")
            ids = [r.id for r in rows]
            self._unrecorded.append((ids, platform_id, message))
            await anyio.to_thread.run_sync(self._sent, ids, platform_id, message)
            self._unrecorded.pop()
            delivered += len(rows)
        self.sent += delivered
        return delivered

    def _renew(self, ids: list[int]) -> set[int]:
        with self.sessions.begin() as session:
            return set(outbox.renew_claims(session, ids, self.worker_id, self.clock()))

    def _sent(self, ids: list[int], platform_id: str | None, message: OutgoingMessage) -> None:
        with self.sessions.begin() as session:
            self._record_sent(session, ids, platform_id, message, self.clock(), self.account)

    @staticmethod
    def _record_sent(
        session: Session,
        ids: list[int],
        platform_id: str | None,
        message: OutgoingMessage,
        now: datetime,
        account: str | None,
    ) -> None:
        for row_id in ids:
            outbox.mark_sent(session, row_id, now, platform_id, account)
        group = inbox.group_for_room(session, message.room_id) if message.room_id else None
        inbox.record_outbound(
            session,
            platform_id=platform_id or f"out:{ids[0]}",
            group=group,
            text=message.text,
            text_masked=mask(message.text),
            now=now,
        )

    def _failed(self, ids: list[int], error: str) -> None:
        now = self.clock()
        with self.sessions.begin() as session:
            for row_id in ids:
                outbox.mark_failed(
                    session, row_id, now, error, self.settings.backoff_base_s, self.settings.max_attempts
                )

    async def recover_claims(self) -> int:
        """Take back rows an earlier process of this instance claimed and never finished.

        A ConfirmingSender says which of them the platform already accepted: those are marked SENT,
        the rest go back to PENDING. Other senders cannot tell, so all go back (at-least-once).
        """
        orphaned = await anyio.to_thread.run_sync(self._orphaned)
        if not orphaned:
            return 0
        delivered: set[int] = set()
        if isinstance(self.transport, ConfirmingSender):
            delivered = await self.transport.confirm_delivered(orphaned) or set()
        await anyio.to_thread.run_sync(self._settle, orphaned, delivered)
        logger.info(
            "took back %d outbox rows of a previous run: %d had been delivered, %d go out again",
            len(orphaned),
            len(delivered),
            len(orphaned) - len(delivered),
        )
        return len(orphaned)

    def _orphaned(self) -> list[int]:
        with self.sessions() as session:
            return outbox.orphaned_claims(session, f"{self.instance_id}/", self.worker_id)

    def _settle(self, ids: list[int], delivered: set[int]) -> None:
        now = self.clock()
        with self.sessions.begin() as session:
            for row_id in ids:
                if row_id in delivered:
                    outbox.mark_sent(session, row_id, now, None)
                else:
                    outbox.release(session, row_id, now)

    async def run(self, stop: anyio.Event, poll_s: float | None = None) -> None:
        """Drain the outbox until `stop` is set, sleeping while idle until woken (see the module docstring).

        A database outage pauses it, never ends it. `poll_s` overrides the safety poll.
        """
        safety = self.settings.safety_poll_s if poll_s is None else poll_s
        waker = _Waker()
        unsubscribe = outbox.subscribe(waker.set)
        try:
            async with anyio.create_task_group() as tg:
                if self._listens():
                    tg.start_soon(self._listen, waker, stop)
                await self._loop(stop, waker, safety)
                tg.cancel_scope.cancel()
        finally:
            unsubscribe()

    async def _loop(self, stop: anyio.Event, waker: _Waker, safety: float) -> None:
        while not stop.is_set():
            waker.clear()
            try:
                delivered = await self.drain_once()
            except Exception as exc:
                if not database_down(exc):
                    raise
                logger.warning("outbox paused: database unreachable (%s)", type(exc).__name__)
                delivered, self.next_due = 0, None
                nap = max(safety, 2.0)
            else:
                nap = safety
                if self.next_due is not None:  # an idle round saw when the next row falls due
                    until = (self.next_due - self.clock()).total_seconds()
                    nap = min(safety, max(until, 0.01))
            if delivered == 0:
                with anyio.move_on_after(nap):
                    await waker.wait(stop)

    def _listens(self) -> bool:
        return (
            self.sessions.kw.get("bind") is not None and self.sessions.kw["bind"].dialect.name == "postgresql"
        )

    async def _listen(self, waker: _Waker, stop: anyio.Event) -> None:
        """LISTEN for other processes' commits on a connection of its own (in a thread); reconnects."""
        quit_ = threading.Event()
        try:
            while not stop.is_set():
                try:
                    await anyio.to_thread.run_sync(
                        self._listen_blocking, waker, quit_, abandon_on_cancel=True
                    )
                except Exception as exc:  # the database went away: the safety poll covers the gap
                    logger.warning("outbox LISTEN lost (%s); retrying", type(exc).__name__)
                    await anyio.sleep(5.0)
        finally:
            quit_.set()

    def _listen_blocking(self, waker: _Waker, quit_: threading.Event) -> None:
        engine: Any = self.sessions.kw["bind"]
        raw = engine.raw_connection()
        raw.detach()  # a connection of its own, out of the pool, in autocommit (notifications arrive idle)
        conn = raw.dbapi_connection
        try:
            conn.autocommit = True
            conn.execute(f"LISTEN {outbox.CHANNEL}")
            self.listening.set()
            while not quit_.is_set():
                for _ in conn.notifies(timeout=0.5, stop_after=1):
                    waker.set()
        finally:
            self.listening.clear()
            conn.close()


class _Waker:
    """An event any thread may set (a committing worker thread, the LISTEN thread, the loop itself)."""

    def __init__(self) -> None:
        self._flag = threading.Event()
        self._event = anyio.Event()
        self._loop_thread = threading.get_ident()
        self._token = anyio.lowlevel.current_token()

    def set(self) -> None:
        self._flag.set()
        if threading.get_ident() == self._loop_thread:
            self._event.set()
        else:
            with contextlib.suppress(RuntimeError):  # RuntimeError: the loop has ended
                anyio.from_thread.run_sync(self._event.set, token=self._token)

    def clear(self) -> None:
        self._flag.clear()
        if self._event.is_set():
            self._event = anyio.Event()

    async def wait(self, stop: anyio.Event) -> None:
        """Until set (or `stop`)."""
        if self._flag.is_set():
            return
        async with anyio.create_task_group() as tg:

            async def on_stop() -> None:
                await stop.wait()
                tg.cancel_scope.cancel()

            tg.start_soon(on_stop)
            await self._event.wait()
            tg.cancel_scope.cancel()


def _merge(rows: list[Outbox]) -> OutgoingMessage:
    """One message for several rows due to the same room: texts joined, mentions united."""
    mentions = tuple(dict.fromkeys(m for r in rows for m in (r.mention_ids or []) if m))
    text = "\n\n".join(r.text for r in rows)
    first = rows[0]
    return OutgoingMessage(
        text=text,
        room_id=first.room_id,
        mention_ids=mentions,
        to_contact_id=None if first.room_id else first.recipient_platform_id,
        outbox_ids=tuple(r.id for r in rows),
    )

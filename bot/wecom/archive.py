"""Residents' messages from the WeCom archive (会话内容存档) into the persist-first inbox.

One pull: read the durable cursor, fetch the items after it, decrypt each (RSA for its random key,
then the SDK's DecryptData), hand group messages of the rooms the bot serves to the conversation,
then advance the cursor in one transaction with what was skipped. The conversation stores each
message under a UNIQUE platform id (`wecom:<msgid>`), so an item pulled again after a crash is a
no-op: pull at-least-once + idempotent persist = exactly-once into the inbox.

- Consent: an external member (residents on personal WeChat) who has not agreed to the archive is
  skipped and counted (`skipped_no_consent` on the cursor, and a Prometheus counter).
- A staff member's message that carries the text of an open handoff closes it (the gridworker
  posted the bot's reply); it is the bot's reply, so it is not routed again.
- Lag: when a pull returns a full batch there is more waiting; the lag is the age of the newest
  message taken. WeCom keeps messages 5 days: a lag above `archive_lag_alert_minutes` is logged
  as an alert and exported as `gridbot_wecom_archive_lag_seconds`.
- Pacing: a full batch is followed at once by the next; otherwise the puller waits `archive_poll_s`.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import anyio
from prometheus_client import Counter, Gauge
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from gridbot.bot.wecom.finance import ArchiveSource, KeyRing
from gridbot.handlers.types import IncomingMessage
from gridbot.models.entities import ChatGroup, Person, utcnow
from gridbot.models.enums import MessageType
from gridbot.models.messaging import cursors
from gridbot.models.tickets import handoffs

logger = logging.getLogger(__name__)
SOURCE = "wecom-archive"

ARCHIVE_LAG = Gauge(
    "gridbot_wecom_archive_lag_seconds", "Age of the newest archived message taken when more wait"
)
ARCHIVE_SKIPPED = Counter("gridbot_wecom_archive_skipped_total", "Archived messages not taken", ["reason"])
ARCHIVE_TAKEN = Counter("gridbot_wecom_archive_taken_total", "Archived group messages handed to the inbox")

Consent = Callable[[str, str], Awaitable[bool]]  # (roomid, external sender id) -> agreed


def is_external(user_id: str) -> bool:
    """External contacts' ids start with wo/wm (personal WeChat residents); employees' are userids."""
    return user_id.startswith(("wo", "wm"))


@dataclass
class PullResult:
    """What one pull did."""

    fetched: int = 0
    taken: int = 0
    skipped_no_consent: int = 0
    handoffs_closed: int = 0
    ignored: int = 0
    seq: int = 0
    lag_s: float = 0.0

    @property
    def full(self) -> bool:
        return self.fetched > 0 and self.lag_s > 0


class ConsentCache:
    """Who agreed to the archive per room, from `msgaudit/check_room_agree`, cached for `ttl_s`."""

    def __init__(self, check: Callable[[str], Awaitable[dict[str, bool]]], ttl_s: float) -> None:
        self.check = check
        self.ttl_s = ttl_s
        self._rooms: dict[str, tuple[float, dict[str, bool]]] = {}

    async def __call__(self, roomid: str, user_id: str) -> bool:
        cached = self._rooms.get(roomid)
        fresh = cached is not None and cached[0] > time.monotonic()
        if cached is None or not fresh or user_id not in cached[1]:  # a new member: ask again
            self._rooms[roomid] = (time.monotonic() + self.ttl_s, await self.check(roomid))
        return self._rooms[roomid][1].get(user_id, False)


class ArchivePuller:
    """Pulls the archive into the conversation; one instance at a time (a coordinator lock)."""

    def __init__(
        self,
        sessions: sessionmaker[Session],
        source: ArchiveSource,
        keys: KeyRing,
        consent: Consent,
        on_message: Callable[[IncomingMessage], Awaitable[object]],
        *,
        batch: int = 500,
        lag_alert_s: float = 3600.0,
        fetch_timeout_s: float = 60.0,
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        self.fetch_timeout_s = fetch_timeout_s
        self.sessions = sessions
        self.source = source
        self.keys = keys
        self.consent = consent
        self.on_message = on_message
        self.batch = batch
        self.lag_alert_s = lag_alert_s
        self.clock = clock

    def _cursor(self) -> int:
        with self.sessions.begin() as session:
            return cursors.cursor(session, SOURCE).seq

    def _open(self, item_seq: int, random_key_enc: str, msg_enc: str) -> dict[str, Any]:
        return self.source.decrypt(self.keys.random_key(random_key_enc), msg_enc)

    async def pull_once(self) -> PullResult:
        """One batch; raises ArchiveError (the cursor stays) when the archive cannot be read."""
        seq = await anyio.to_thread.run_sync(self._cursor)
        # the SDK honours its own timeout; this bound only keeps a stuck library call from
        # stalling the puller forever (the thread is abandoned, the cursor stays)
        with anyio.fail_after(self.fetch_timeout_s):
            items = await anyio.to_thread.run_sync(self.source.fetch, seq, self.batch, abandon_on_cancel=True)
        result = PullResult(fetched=len(items), seq=seq)
        newest: datetime | None = None
        handed: list[Awaitable[object]] = []  # handed over in order; the dispatcher batches them
        for item in items:
            plain = await anyio.to_thread.run_sync(
                self._open, item.seq, item.encrypt_random_key, item.encrypt_chat_msg
            )
            sent_at = datetime.fromtimestamp(int(plain.get("msgtime", 0)) / 1000, UTC)
            newest = max(newest, sent_at) if newest else sent_at
            if (handing := await self._take(plain, sent_at, result, handed)) is not None:
                handed.append(handing)
            result.seq = max(result.seq, item.seq)
        await _all_handled(handed)  # before the cursor moves past them; the first failure raises
        if len(items) >= self.batch and newest is not None:
            result.lag_s = max((self.clock() - newest).total_seconds(), 0.0)
        await anyio.to_thread.run_sync(self._advance, result, newest)
        ARCHIVE_LAG.set(result.lag_s)
        if result.lag_s > self.lag_alert_s:
            logger.warning(
                "wecom archive lag %.0f min (alert above %.0f): WeCom keeps messages 5 days only",
                result.lag_s / 60,
                self.lag_alert_s / 60,
            )
        return result

    async def _take(
        self, plain: dict[str, Any], sent_at: datetime, result: PullResult, handed: list[Awaitable[object]]
    ) -> Awaitable[object] | None:
        """Hand a group message to the conversation; what to await for it (None: not handed over).

        `handed` are the pull's earlier messages still being handled: a staff reply that may close a
        handoff waits for them, so a handoff opened earlier in the same pull is open before it is closed.
        """
        roomid = str(plain.get("roomid") or "")
        sender = str(plain.get("from") or "")
        text = _text(plain)
        if plain.get("action") != "send" or not roomid or not sender:
            result.ignored += 1
            ARCHIVE_SKIPPED.labels("not_a_group_message").inc()
            return None
        served, name = await anyio.to_thread.run_sync(self._room_and_name, roomid, sender)
        if not served:
            result.ignored += 1
            ARCHIVE_SKIPPED.labels("room_not_served").inc()
            return None
        if is_external(sender):
            if not await self.consent(roomid, sender):
                result.skipped_no_consent += 1
                ARCHIVE_SKIPPED.labels("no_consent").inc()
                return None
        elif text:
            await _all_handled(handed)
            handed.clear()
            closed = await anyio.to_thread.run_sync(self._close_handoffs, roomid, text, plain, sent_at)
            if closed:
                result.handoffs_closed += closed
                return None
        kind = _MSG_TYPES.get(str(plain.get("msgtype")), MessageType.OTHER)
        msg = IncomingMessage(
            platform_id=f"wecom:{plain.get('msgid')}",
            room_id=roomid,
            sender_id=sender,
            sender_name=name,
            text=text,
            sent_at=sent_at,
            msg_type=kind,
        )
        result.taken += 1
        ARCHIVE_TAKEN.inc()
        return self.on_message(msg)

    def _room_and_name(self, roomid: str, sender: str) -> tuple[bool, str]:
        """(the conversation should see this room's messages, the sender's display name).

        A group the archive shows for the first time is recorded as one the bot may not post in;
        its messages still reach the conversation, which ignores them until staff bind it (绑定).
        """
        with self.sessions.begin() as session:
            group = session.scalar(select(ChatGroup).where(ChatGroup.room_id == roomid))
            if group is None:
                session.add(ChatGroup(room_id=roomid, can_post=False, created_at=self.clock()))
            served = group is None or not group.can_post
            person = session.scalar(select(Person).where(Person.platform_id == sender))
            name = person.name if person else ("居民" + sender[-4:] if is_external(sender) else sender)
        return served, name

    def _close_handoffs(self, roomid: str, text: str, plain: dict[str, Any], at: datetime) -> int:
        with self.sessions.begin() as session:
            return len(handoffs.close_matching(session, roomid, text, f"wecom:{plain.get('msgid')}", at))

    def _advance(self, result: PullResult, newest: datetime | None) -> None:
        with self.sessions.begin() as session:
            row = cursors.cursor(session, SOURCE, lock=True)
            if result.seq > row.seq:
                row.seq = result.seq
                row.skipped_no_consent += result.skipped_no_consent
            if newest is not None:
                row.last_message_at = max(row.last_message_at or newest, newest)
            row.lag_s = result.lag_s
            row.updated_at = self.clock()

    async def run(self, stop: anyio.Event, poll_s: float) -> None:
        """Pull until `stop`: at once after a full batch, every `poll_s` otherwise; errors back off."""
        delay = poll_s
        while not stop.is_set():
            try:
                result = await self.pull_once()
                delay = 0.0 if result.full else poll_s
            except Exception as exc:
                logger.warning("wecom archive pull failed: %s", exc)
                delay = min(max(delay * 2, poll_s), 300.0)
            if delay:
                with anyio.move_on_after(delay):
                    await stop.wait()


# media (GetMediaData) is not fetched: such messages are logged by type only
_MSG_TYPES = {
    "text": MessageType.TEXT,
    "mixed": MessageType.TEXT,
    "image": MessageType.IMAGE,
    "emotion": MessageType.IMAGE,
    "file": MessageType.FILE,
    "voice": MessageType.VOICE,
}


def _text(plain: dict[str, Any]) -> str:
    kind = plain.get("msgtype")
    if kind == "text":
        return str((plain.get("text") or {}).get("content") or "")
    if kind == "mixed":
        items = (plain.get("mixed") or {}).get("item") or []
        parts = []
        for i in items:
            if i.get("type") == "text":
                try:  # each item's content is itself a JSON string
                    parts.append(str(json.loads(i.get("content") or "{}").get("content") or ""))
                except ValueError:
                    parts.append(str(i.get("content") or ""))
        return "".join(parts)
    return ""


async def _all_handled(handed: list[Awaitable[object]]) -> None:
    """Await every handed-over message (all of them settle), then raise the first failure."""
    results = await asyncio.gather(*handed, return_exceptions=True)
    for outcome in results:
        if isinstance(outcome, BaseException):
            raise outcome

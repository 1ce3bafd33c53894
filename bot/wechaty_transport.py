"""The WeChat transport: python-wechaty as a client of a Wechaty puppet service (gRPC).

python-wechaty's own `Wechaty.start()` swallows connection errors, sleeps 60 s and restarts, and
its plugin manager cannot log in twice in one instance. So this adapter drives the puppet layer
itself: one `Wechaty` instance a connection (for its Room/Contact/Message classes), our own
listeners on the puppet's events, and `PuppetService.start()` (which streams events until the
connection ends) in a task we own. Every wait is bounded; a dropped connection after login is
retried within seconds (capped exponential backoff with jitter) on a new instance. Rooms are
handled concurrently, each room in arrival order (`bot.dispatch`). Messages sent while the bot
is away reach it afterwards through the gateway, which keeps undelivered events until the bot
has fetched them (gateway/README.md).
"""

from __future__ import annotations

import asyncio
import contextlib
import importlib
import io
import logging
import os
import random
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import quote

from gridbot.bot.dispatch import RoomDispatcher
from gridbot.bot.transport import OnMemberChange, OnMessage, TransportError, TransportStatus
from gridbot.bot.wechaty_compat import describe, load_wechaty, new_puppet_options
from gridbot.bot.wechaty_messages import to_incoming, to_member_change
from gridbot.handlers.types import OutgoingMessage
from gridbot.models.enums import MemberEventKind

logger = logging.getLogger(__name__)

# wechaty ScanStatus: 2 Waiting (a QR code to show), 5 Timeout (a new one follows), 3 Scanned
SCAN_SHOWN = frozenset({2})
SCAN_SCANNED = 3


def qr_link(qrcode: str) -> str:
    """A link that renders the QR code in a browser (the usual Wechaty one)."""
    return "https://wechaty.js.org/qrcode/" + quote(qrcode, safe="")


def terminal_qr(qrcode: str) -> str:
    """The QR code drawn with text, for scanning straight off the terminal or log."""
    import qrcode as qr

    code = qr.QRCode(border=1)
    code.add_data(qrcode)
    out = io.StringIO()
    code.print_ascii(out=out, invert=True)
    return out.getvalue()


_INFLIGHT = 32  # messages converted concurrently (each costs a few gRPC calls)


@dataclass
class _Connection:
    bot: Any  # wechaty.Wechaty
    stream: asyncio.Task[None]  # PuppetService.start(): ends when the connection does


class WechatyTransport:
    """Room messages in, replies out, through a Wechaty puppet service."""

    def __init__(
        self,
        endpoint: str,
        token: str,
        bot_name: str = "",
        plugin_port: int = 5000,
        login_timeout_s: float = 30.0,
        cache_dir: Path | None = None,
        *,
        send_timeout_s: float = 15.0,
        attachment_timeout_s: float = 20.0,
        reconnect: bool = True,
        backoff_s: tuple[float, float] = (0.5, 5.0),
        max_rooms: int = 8,
        scan_wait_s: float = 600.0,
        incoming_dir: Path | None = None,
    ) -> None:
        host, sep, port = endpoint.rpartition(":")
        if not sep or not host or not port.isdigit():
            raise ValueError("endpoint must be host:port")
        self.endpoint, self._host, self._port = endpoint, host, int(port)
        self._token = token
        self._bot_name = bot_name
        self._plugin_port = plugin_port
        self._login_timeout_s = login_timeout_s
        self._cache_dir = cache_dir or Path(tempfile.gettempdir()) / "gridbot-wechaty"
        # photos, files and voice are downloaded here (the attachments directory's incoming/), then
        # kept by content hash or refused when their message is stored (models.attachments)
        self._incoming = incoming_dir or self._cache_dir / "attachments"
        self._send_timeout_s = send_timeout_s
        self._attachment_timeout_s = attachment_timeout_s
        self._reconnect = reconnect
        self._backoff_s = backoff_s
        self._max_rooms = max_rooms
        # (bot, message id) per room: the full conversion runs in the room's turn, so a burst in one
        # room does not hold up reading another room's messages
        self._dispatch: RoomDispatcher[tuple[Any, str]] | None = None
        self._scan_wait_s = scan_wait_s  # after a QR code is shown, how long an operator has to scan it
        # called (in the event loop) when the login state changes: a QR code to scan, login, logout
        self.on_status: Callable[[], None] | None = None
        self.status = TransportStatus(name="wechaty")
        # Set on each drop / each re-login after a drop (each clears the other): for watchers and tests.
        self.disconnected = asyncio.Event()
        self.reconnected = asyncio.Event()
        self._conn: _Connection | None = None
        self._on_message: OnMessage | None = None
        self._on_member_change: OnMemberChange | None = None
        self._inbox: asyncio.Queue[asyncio.Task[tuple[Any, str, str] | None]] = asyncio.Queue()
        self._slots = asyncio.Semaphore(_INFLIGHT)
        self._tasks: list[asyncio.Task[None]] = []
        self._stopping = False

    async def start(self, on_message: OnMessage, on_member_change: OnMemberChange) -> None:
        """Connect and log in; raise TransportError within the login timeout otherwise."""
        self._on_message, self._on_member_change = on_message, on_member_change
        self._dispatch = RoomDispatcher(self._handle, self._max_rooms)
        self._stopping = False
        self._conn = await self._connect()
        self._tasks = [asyncio.create_task(self._deliver()), asyncio.create_task(self._supervise())]

    async def stop(self) -> None:
        """Disconnect cleanly."""
        self._stopping = True
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self._tasks = []
        while not self._inbox.empty():
            self._inbox.get_nowait().cancel()
        if self._dispatch is not None:
            await self._dispatch.close()
        if self._conn is not None:
            await self._close(self._conn)
            self._conn = None
        self.status.connected = self.status.logged_in = False

    async def send(self, message: OutgoingMessage) -> str | None:
        """Deliver one message; return the platform message id when the puppet tells it."""
        conn = self._conn
        if conn is None or not self.status.logged_in:
            raise TransportError(f"not logged in to the puppet service at {self.endpoint}")
        bot = conn.bot
        try:
            if message.room_id:
                room = bot.Room.load(message.room_id)
                said = room.say(message.text, mention_ids=list(message.mention_ids) or None)
            elif message.to_contact_id:
                said = bot.Contact.load(message.to_contact_id).say(message.text)
            else:
                raise ValueError("an OutgoingMessage needs a room_id or a to_contact_id")
            sent = await asyncio.wait_for(said, self._send_timeout_s)
        except ValueError:
            raise
        except TimeoutError as exc:
            raise TransportError(f"sending timed out after {self._send_timeout_s:g} s") from exc
        except Exception as exc:  # grpclib/puppet errors are untyped from here
            self.status.last_error = describe(exc, self.endpoint)
            raise TransportError(f"sending failed: {self.status.last_error}") from exc
        return str(sent.message_id) if sent is not None else None

    # -- connecting ------------------------------------------------------------------------------

    async def _connect(self) -> _Connection:
        """One connection attempt, bounded by the login timeout."""
        wechaty = load_wechaty(self._cache_dir, self._token)  # a one-off import, not network time
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self._login_timeout_s
        try:
            # python-wechaty probes the port with a blocking telnet; fail fast and clearly first.
            _, writer = await asyncio.wait_for(
                asyncio.open_connection(self._host, self._port), self._login_timeout_s
            )
            writer.close()
        except (OSError, TimeoutError) as exc:
            raise self._failed(describe(exc, self.endpoint)) from exc
        os.environ["WECHATY_PUPPET_SERVICE_ENDPOINT"] = self.endpoint
        os.environ["WECHATY_PUPPET_SERVICE_TOKEN"] = self._token
        # A fresh PuppetOptions: python-wechaty would otherwise store the token in a shared default.
        options = wechaty.WechatyOptions(port=self._plugin_port, puppet_options=new_puppet_options())
        bot = wechaty.Wechaty(options)
        await bot.init_puppet()  # a fresh PuppetService: reads the endpoint and token now
        for user_class in ("Contact", "ContactSelf", "Room", "Tag"):
            # Their object caches are class-level dicts shared by every instance: cached objects
            # would keep talking to a previous (stopped) puppet.
            getattr(bot, user_class)._pool = {}
        logged_in, scanned = asyncio.Event(), asyncio.Event()
        self._listen(bot, logged_in, scanned)
        conn = _Connection(bot, asyncio.create_task(bot.puppet.start()))
        waiter = asyncio.create_task(logged_in.wait())
        while True:
            # Keep a little of the budget for closing down, so the error comes within the timeout.
            remaining = max(0.0, deadline - loop.time() - min(1.0, self._login_timeout_s / 10))
            scan = asyncio.create_task(scanned.wait())
            await asyncio.wait(
                {waiter, conn.stream, scan}, timeout=remaining, return_when=asyncio.FIRST_COMPLETED
            )
            scan.cancel()
            if not scanned.is_set() or logged_in.is_set() or conn.stream.done():
                break
            scanned.clear()  # a (new) QR code is shown: the operator gets the scan time from now
            deadline = max(deadline, loop.time() + self._scan_wait_s)
        waiter.cancel()
        if logged_in.is_set():
            self.status.connected = True
            return conn
        if conn.stream.done() and not conn.stream.cancelled() and conn.stream.exception() is not None:
            reason = describe(conn.stream.exception() or RuntimeError(), self.endpoint)
        elif conn.stream.done():
            reason = f"the puppet service at {self.endpoint} closed the connection before login"
        elif self.status.login_url:
            reason = f"the login QR code was not scanned within {self._scan_wait_s:g} s"
        else:
            reason = f"no login from the puppet service at {self.endpoint} within {self._login_timeout_s:g} s (wrong token?)"
        await self._close(conn, polite=False)
        raise self._failed(reason)

    def _failed(self, reason: str) -> TransportError:
        self.status.connected = self.status.logged_in = False
        self.status.last_error = reason
        return TransportError(reason)

    async def _close(self, conn: _Connection, *, polite: bool = True) -> None:
        """Stop the puppet (politely if it is logged in), close the channel, end the stream task."""
        puppet = conn.bot.puppet
        channel = getattr(puppet, "channel", None)
        if polite:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(puppet.stop(), 2)
        if channel is not None:  # PuppetService.stop() skips this when its stop RPC fails
            channel.close()
        # PuppetService.start() awaits another RPC in a `finally`: one cancel may not end it.
        for _ in range(10):
            if conn.stream.done():
                break
            conn.stream.cancel()
            await asyncio.wait({conn.stream}, timeout=0.1)
        if conn.stream.done() and not conn.stream.cancelled():
            conn.stream.exception()  # retrieved: it was reported through status already
        if channel is not None:  # grpclib reconnects lazily if that `finally` RPC ran
            channel.close()

    async def _supervise(self) -> None:
        """Watch the event stream; after a drop, reconnect with exponential backoff."""
        while not self._stopping and self._conn is not None:
            conn = self._conn
            try:
                await asyncio.shield(conn.stream)
                reason = f"the puppet service at {self.endpoint} ended the event stream"
            except Exception as exc:
                reason = describe(exc, self.endpoint)
            self.status.connected = self.status.logged_in = False
            self.status.last_error = reason
            self.reconnected.clear()
            self.disconnected.set()
            logger.warning("wechaty: disconnected: %s", reason)
            await self._close(conn, polite=False)
            if not self._reconnect:
                self._conn = None
                return
            self._conn = await self._reconnect_with_backoff()

    async def _reconnect_with_backoff(self) -> _Connection:
        delay, ceiling = self._backoff_s
        while True:
            # "equal jitter": instances dropped together do not reconnect in lockstep
            await asyncio.sleep(delay / 2 + random.random() * delay / 2)  # the backoff itself
            try:
                conn = await self._connect()
            except TransportError as exc:
                delay = min(delay * 2, ceiling)
                logger.warning("wechaty: reconnect failed (next try within %.1f s): %s", delay, exc)
                continue
            logger.info("wechaty: reconnected to %s", self.endpoint)
            self.disconnected.clear()
            self.reconnected.set()
            return conn

    # -- events ----------------------------------------------------------------------------------

    def _changed(self) -> None:
        if self.on_status is not None:
            try:
                self.on_status()
            except Exception:  # reporting must never break the connection
                logger.exception("wechaty: could not record the login state")

    def _listen(self, bot: Any, logged_in: asyncio.Event, scanned: asyncio.Event) -> None:
        puppet = bot.puppet

        def on_scan(payload: Any) -> None:
            qrcode = str(getattr(payload, "qrcode", "") or "")
            status = int(getattr(payload, "status", 0) or 0)
            if qrcode and status in SCAN_SHOWN:
                self.status.connected = True  # the gateway answers; only the account is not in
                self.status.login_url = qr_link(qrcode)
                logger.warning(
                    "wechaty: scan this QR code with the bot's WeChat account to log in: %s\n%s",
                    self.status.login_url,
                    terminal_qr(qrcode),
                )
                scanned.set()
            elif status == SCAN_SCANNED:
                logger.warning("wechaty: QR code scanned: confirm the login on the phone")
            self._changed()

        async def on_login(payload: Any) -> None:
            me = bot.ContactSelf.load(payload.contact_id)
            await me.ready()
            self.status.bot_id, self.status.bot_name = str(payload.contact_id), str(me.name or "")
            self.status.logged_in = True
            self.status.login_url = None
            logger.info("wechaty: logged in as %s", payload.contact_id)
            logged_in.set()
            self._changed()

        def on_logout(payload: Any) -> None:
            self.status.logged_in = False
            self.status.last_error = "the WeChat account was logged out"
            logger.warning(
                "wechaty: the WeChat account %s was logged out (kicked off, logged out on the phone, or the "
                "session expired). Messages are not received until it logs in again: watch this log for a "
                "new QR code, or restart the gateway and the bot (docs/zh/部署手册.md, 登录微信)",
                getattr(payload, "contact_id", "?"),
            )
            self._changed()

        def on_message(payload: Any) -> None:
            # Called in arrival order: look up the room now (one payload fetch), queue in that order.
            self._inbox.put_nowait(asyncio.create_task(self._room_of(bot, payload.message_id)))

        def on_room_topic(payload: Any) -> None:
            bot.Room.load(payload.room_id).payload = None  # next ready() fetches the new topic

        def on_error(payload: Any) -> None:
            logger.warning("wechaty: puppet error event")

        puppet.on("scan", on_scan)
        puppet.on("login", on_login)
        puppet.on("logout", on_logout)
        puppet.on("message", on_message)
        puppet.on("room-topic", on_room_topic)
        puppet.on("error", on_error)
        puppet.on("room-join", lambda p: self._member_event(bot, MemberEventKind.JOIN, p, p.invited_ids))
        puppet.on("room-leave", lambda p: self._member_event(bot, MemberEventKind.LEAVE, p, p.removed_ids))

    async def _room_of(self, bot: Any, message_id: str) -> tuple[Any, str, str] | None:
        """(bot, message id, room key) once the message's payload is known; None if unreadable."""
        async with self._slots:
            try:
                msg = bot.Message.load(message_id)
                await msg.ready()
                payload = msg.payload
                return bot, message_id, str(payload.room_id or f"private:{payload.from_id}")
            except Exception:
                logger.exception("wechaty: message %s could not be read", message_id)
                return None

    async def _handle(self, item: tuple[Any, str]) -> None:
        """In the room's turn: build the IncomingMessage and hand it to the conversation."""
        bot, message_id = item
        incoming = await self._convert(bot, message_id)
        if incoming is None or self._on_message is None:
            return
        self.status.last_message_at = datetime.now(UTC)
        await self._on_message(incoming)  # stored (or spooled) once this returns
        await self._acknowledge(bot, message_id)

    async def _acknowledge(self, bot: Any, message_id: str) -> None:
        """Tell the gateway the message is ours now, so it is not delivered again after a restart.

        The gateway (gateway/durable.js) reads the puppet-service `DirtyPayload` call on a message it
        holds as this acknowledgement; other puppet services just drop their cached payload.
        """
        try:
            types = importlib.import_module("wechaty_puppet.schemas.types")  # loaded with wechaty
            ack = bot.puppet.dirty_payload(types.PayloadType.PAYLOAD_TYPE_MESSAGE, message_id)
            await asyncio.wait_for(ack, self._send_timeout_s)
        except Exception as exc:  # the next login replays it; the UNIQUE platform id makes that a no-op
            logger.info("wechaty: message %s not acknowledged (%s)", message_id, type(exc).__name__)

    async def _convert(self, bot: Any, message_id: str) -> Any:
        async with self._slots:
            try:
                msg = bot.Message.load(message_id)
                await msg.ready()
                names = tuple(n for n in (self._bot_name, self.status.bot_name or "") if n)
                return await to_incoming(
                    msg,
                    self.status.bot_id or "",
                    names,
                    self._incoming,
                    self._attachment_timeout_s,
                )
            except Exception:
                logger.exception("wechaty: message %s could not be read", message_id)
                return None

    async def _deliver(self) -> None:
        """Hand messages, in arrival order, to their room's queue (rooms run concurrently)."""
        while True:
            task = await self._inbox.get()
            found = await task
            if found is None or self._dispatch is None:
                continue
            bot, message_id, key = found
            self._dispatch.submit(key, (bot, message_id))

    async def _member_event(self, bot: Any, kind: MemberEventKind, payload: Any, ids: list[str]) -> None:
        try:
            change = await to_member_change(bot, kind, payload, ids)
            if self._on_member_change is not None:
                await self._on_member_change(change)
        except Exception:
            logger.exception("wechaty: %s event in room %s not handled", kind.value, payload.room_id)

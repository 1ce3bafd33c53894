"""The staff channel over the WeCom AI bot (智能机器人) long connection, through the official SDK.

Gridworkers DM the bot (or @ it in a staff group); the SDK delivers `aibot_msg_callback` frames
(text, mixed) and `aibot_event_callback` frames (template card button clicks). The bot sends
proactively with `aibot_send_msg` (markdown, template cards). The SDK keeps the connection: `ping`
heartbeats, reconnect with exponential backoff; here we only wait for the first authentication.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import ssl
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from gridbot.bot.transport import TransportError
from gridbot.models.settings import WeComSettings

logger = logging.getLogger(__name__)

MARKDOWN_LIMIT = 4000  # characters the bot puts in one markdown message (WeCom caps it at 4096 bytes)


@dataclass(frozen=True)
class BotText:
    """A text (or the text of a mixed message) a staff member sent the bot."""

    msgid: str
    userid: str
    chattype: str  # "single" or "group"
    chatid: str | None
    text: str


@dataclass(frozen=True)
class CardClick:
    """A template-card button a staff member tapped."""

    msgid: str
    userid: str
    event_key: str
    task_id: str | None


OnText = Callable[[BotText, dict[str, Any]], Awaitable[None]]
OnClick = Callable[[CardClick, dict[str, Any]], Awaitable[None]]


class _SdkLogger:
    """The SDK's logger interface over `logging` (it never sees a secret: frames are logged at debug)."""

    def debug(self, message: str, *args: Any) -> None:
        logger.debug("aibot: %s", message)

    def info(self, message: str, *args: Any) -> None:
        logger.debug("aibot: %s", message)

    def warn(self, message: str, *args: Any) -> None:
        logger.warning("aibot: %s", message)

    def error(self, message: str, *args: Any) -> None:
        logger.warning("aibot: %s", message)


def _text_of(body: dict[str, Any]) -> str:
    if body.get("msgtype") == "text":
        return str((body.get("text") or {}).get("content") or "")
    if body.get("msgtype") == "mixed":
        items = (body.get("mixed") or {}).get("msg_item") or []
        return "".join(
            str((i.get("text") or {}).get("content") or "") for i in items if i.get("msgtype") == "text"
        )
    return ""


def strip_mention(text: str, bot_name: str | None) -> str:
    """Drop a leading @bot mention (group messages carry it)."""
    text = text.strip()
    if text.startswith("@"):
        head, _, rest = text.partition(" ")
        if bot_name is None or head[1:] == bot_name or rest:
            return rest.strip()
    return text


class AiBotChannel:
    """One AI-bot connection: receive staff texts and card clicks, send markdown and cards."""

    def __init__(
        self,
        settings: WeComSettings,
        on_text: OnText,
        on_click: OnClick,
        bot_name: str | None = None,
    ) -> None:
        try:
            import aibot
            import aibot.ws
        except ImportError as exc:  # pragma: no cover - depends on the install
            raise TransportError(
                "企业微信智能机器人 SDK 未安装：pip install 'gridbot[wecom]'（wecom-aibot-python-sdk）"
            ) from exc
        if not settings.bot_id or settings.bot_secret is None:
            raise TransportError(
                "GRIDBOT_WECOM__BOT_ID / GRIDBOT_WECOM__BOT_SECRET 未设置：在企业微信管理后台「智能机器人」"
                "中以长连接方式创建机器人，把 Bot ID 和 Secret 填入"
            )
        if settings.bot_ca_file is not None:
            # the SDK builds one TLS context for all its connections; trust the operator's CA there too
            ctx: ssl.SSLContext = aibot.ws._SSL_CONTEXT
            ctx.load_verify_locations(cafile=str(settings.bot_ca_file))
        self.settings = settings
        self.on_text = on_text
        self.on_click = on_click
        self.bot_name = bot_name
        self.connected = False
        self.last_error: str | None = None
        self._authenticated = asyncio.Event()
        self._failed: asyncio.Future[str] | None = None
        options = aibot.WSClientOptions(
            bot_id=settings.bot_id,
            secret=settings.bot_secret.get_secret_value(),
            ws_url=settings.bot_ws_url,
            heartbeat_interval=int(settings.bot_heartbeat_s * 1000),
            max_reconnect_attempts=-1,  # a bot process keeps trying; the watchdog reports the outage
            logger=_SdkLogger(),
        )
        self.client = aibot.WSClient(options)
        self.client.on("authenticated", self._on_authenticated)
        self.client.on("disconnected", self._on_disconnected)
        self.client.on("error", self._on_error)
        self.client.on("message", self._on_message)
        self.client.on("event.template_card_event", self._on_card)
        self._connect_task: asyncio.Task[Any] | None = None
        self._reconnector: asyncio.Task[None] | None = None
        self._stopping = False

    def _on_authenticated(self) -> None:
        self.connected = True
        self.last_error = None
        self._authenticated.set()
        logger.info("wecom ai bot: connected and authenticated")

    def _on_disconnected(self, reason: str) -> None:
        self.connected = False
        self.last_error = f"disconnected: {reason}"
        logger.warning("wecom ai bot: disconnected (%s)", reason)

    async def _supervise(self, check_s: float = 1.0) -> None:
        """Reconnect whenever the connection is gone, with backoff, until stopped.

        SDK 1.0.2 does not come back by itself after a server-side close: with websockets >= 14 its
        receive loop ends quietly on a clean close (no disconnect event, no reconnect), and its own
        reconnect runs inside the receive task it then cancels. This supervisor notices the closed
        socket and starts the SDK's connect from a task of its own.
        """
        delay = 1.0
        while not self._stopping:
            await asyncio.sleep(check_s)
            if self._stopping or self.client.is_connected:
                delay = 1.0
                continue
            if self.connected:
                self._on_disconnected("connection closed")
            self._authenticated.clear()
            manager = self.client._ws_manager
            manager._reconnect_attempts = 0
            self._connect_task = asyncio.ensure_future(manager.connect())
            try:
                await asyncio.wait_for(self._authenticated.wait(), timeout=max(delay, 5.0))
            except TimeoutError:
                await asyncio.sleep(delay)
                delay = min(delay * 2, 60.0)

    def _on_error(self, error: Exception) -> None:
        self.last_error = str(error)[:200]
        if "Authentication failed" in str(error) and self._failed is not None and not self._failed.done():
            self._failed.set_result(str(error))

    async def _on_message(self, frame: dict[str, Any]) -> None:
        body = frame.get("body") or {}
        userid = str((body.get("from") or {}).get("userid") or "")
        text = strip_mention(_text_of(body), self.bot_name)
        if not userid or not text:
            return
        msg = BotText(
            msgid=str(body.get("msgid") or frame.get("headers", {}).get("req_id", "")),
            userid=userid,
            chattype=str(body.get("chattype") or "single"),
            chatid=body.get("chatid"),
            text=text,
        )
        try:
            await self.on_text(msg, frame)
        except Exception:
            logger.exception("wecom ai bot: message %s not handled", msg.msgid)

    async def _on_card(self, frame: dict[str, Any]) -> None:
        body = frame.get("body") or {}
        event = (body.get("event") or {}).get("template_card_event") or {}
        click = CardClick(
            msgid=str(body.get("msgid") or frame.get("headers", {}).get("req_id", "")),
            userid=str((body.get("from") or {}).get("userid") or ""),
            event_key=str(event.get("event_key") or ""),
            task_id=event.get("task_id"),
        )
        if not click.userid or not click.event_key:
            return
        try:
            await self.on_click(click, frame)
        except Exception:
            logger.exception("wecom ai bot: card click %s not handled", click.msgid)

    async def start(self, timeout_s: float) -> None:
        """Connect and authenticate, or raise TransportError within `timeout_s`."""
        loop = asyncio.get_running_loop()
        self._failed = loop.create_future()
        # the SDK's connect() retries inside itself while the endpoint is down: run it aside
        self._connect_task = asyncio.ensure_future(self.client.connect())
        waiter: asyncio.Future[Any] = asyncio.ensure_future(self._authenticated.wait())
        pending: set[asyncio.Future[Any]] = {waiter, self._failed}
        done, _ = await asyncio.wait(pending, timeout=timeout_s, return_when="FIRST_COMPLETED")
        if waiter not in done:
            waiter.cancel()
            reason = self._failed.result() if self._failed in done else (self.last_error or "no answer")
            await self.stop()
            raise TransportError(
                f"企业微信智能机器人未能连接（{self.settings.bot_ws_url}）：{reason}。"
                "请检查 GRIDBOT_WECOM__BOT_ID / BOT_SECRET 与网络"
            )
        self._reconnector = asyncio.ensure_future(self._supervise())

    async def send_markdown(self, chatid: str, text: str) -> str:
        """Send a markdown message to a user (userid) or a staff group (chatid); the request id."""
        frame = await self.client.send_message(
            chatid, {"msgtype": "markdown", "markdown": {"content": text[:MARKDOWN_LIMIT]}}
        )
        return str((frame.get("headers") or {}).get("req_id") or "")

    async def send_card(self, chatid: str, card: dict[str, Any]) -> str:
        """Send a template card; the request id."""
        frame = await self.client.send_message(chatid, {"msgtype": "template_card", "template_card": card})
        return str((frame.get("headers") or {}).get("req_id") or "")

    async def reply_text(self, frame: dict[str, Any], text: str) -> None:
        """Answer a received frame directly (for people the bot does not serve)."""
        await self.client.reply(frame, {"msgtype": "markdown", "markdown": {"content": text}})

    async def stop(self) -> None:
        """Disconnect (stops reconnecting)."""
        self._stopping = True
        if self._reconnector is not None and not self._reconnector.done():
            self._reconnector.cancel()
        if self.client.is_connected or self._connect_task is not None:
            self.client._started = True  # disconnect() is a no-op on a client that never connected
            self.client.disconnect()
        if self._connect_task is not None and not self._connect_task.done():
            self._connect_task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):  # its failure was logged
                await self._connect_task
        self.connected = False

"""The transport protocol: every chat platform adapter (wechaty, console, replay) implements it.

Handlers never see a transport; `bot.app` wires a transport's callbacks to the handlers and
delivers the outbox through `Transport.send`.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from gridbot.handlers.types import IncomingMessage, MemberChange, OutgoingMessage

OnMessage = Callable[[IncomingMessage], Awaitable[object]]
OnMemberChange = Callable[[MemberChange], Awaitable[None]]


class TransportError(RuntimeError):
    """The platform cannot be used (bad token, unreachable endpoint, logged out): a clear reason."""


@dataclass
class TransportStatus:
    """What the watchdog and the API report about a connection."""

    name: str
    connected: bool = False
    logged_in: bool = False
    bot_id: str | None = None
    bot_name: str | None = None
    last_message_at: datetime | None = None
    last_error: str | None = None
    # the login QR code's link while the puppet waits for an operator to scan it; None otherwise
    login_url: str | None = None


class Transport(Protocol):
    """A chat platform connection."""

    status: TransportStatus

    async def start(self, on_message: OnMessage, on_member_change: OnMemberChange) -> None:
        """Connect and log in (raise TransportError within the login timeout otherwise)."""
        ...

    async def send(self, message: OutgoingMessage) -> str | None:
        """Deliver one message; return the platform message id when known."""
        ...

    async def stop(self) -> None:
        """Disconnect cleanly."""
        ...

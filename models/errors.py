"""User errors of the domain: each carries a Chinese message the group or the API may show."""

from __future__ import annotations


class TicketError(Exception):
    """A ticket operation refused for a reason the user can act on."""

    def __init__(self, user_message: str) -> None:
        super().__init__(user_message)
        self.user_message = user_message


class TicketNotFound(TicketError):
    """No ticket with that number (or not visible to the caller)."""

    def __init__(self, number: int | str) -> None:
        super().__init__(f"没有找到工单 #{number}，请核对编号")
        self.number = number


class TransitionNotAllowed(TicketError):
    """The ticket's status does not allow this action."""


class PermissionDenied(TicketError):
    """The actor's role or grid scope does not allow this action."""


class ConcurrentUpdate(TicketError):
    """Someone else changed the ticket first (optimistic concurrency)."""


class PhotoRequired(TransitionNotAllowed):
    """The category's policy asks for a 处置后照片 before 办结, and none is attached."""

"""Dead letters: reminders, escalations and replies the bot gave up delivering, with whom and why."""

from __future__ import annotations

from fastapi import APIRouter

from gridbot.api.auth import PrincipalDep
from gridbot.api.deps import SessionDep
from gridbot.api.errors import ERROR_RESPONSES
from gridbot.api.params import Cursor, Limit, paged
from gridbot.api.schemas import DeadLetterOut, DeadLetterPage
from gridbot.models import listings as queries
from gridbot.nlp.pii import mask

router = APIRouter(prefix="/outbox", tags=["operations"], responses=ERROR_RESPONSES)


@router.get("/dead")
def dead_letters(
    principal: PrincipalDep, session: SessionDep, limit: Limit = 50, cursor: Cursor = None
) -> DeadLetterPage:
    """Undeliverable messages of the caller's grids, newest first (text masked)."""
    page = paged(lambda: queries.dead_letters_in_scope(session, principal.region_path, limit, cursor))
    return DeadLetterPage(
        items=[
            DeadLetterOut(
                id=row.id,
                kind=row.kind.value,
                room_id=row.room_id,
                recipient=row.recipient_platform_id,
                ticket=row.ticket_id,
                attempts=row.attempts,
                last_error=row.last_error,
                created_at=row.created_at,
                text=mask(row.text),
            )
            for row in page.items
        ],
        next_cursor=page.next_cursor,
    )

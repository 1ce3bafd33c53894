"""Group messages of the caller's grids, masked."""

from __future__ import annotations

from fastapi import APIRouter

from gridbot.api import present
from gridbot.api.auth import PrincipalDep, require_grid
from gridbot.api.deps import SessionDep
from gridbot.api.errors import ERROR_RESPONSES, ErrorOut
from gridbot.api.params import Cursor, GridId, Limit, paged
from gridbot.api.schemas import MessagePage
from gridbot.models import listings as queries

router = APIRouter(prefix="/messages", tags=["messages"], responses=ERROR_RESPONSES)


@router.get("", responses={404: {"model": ErrorOut}})
def list_messages(
    principal: PrincipalDep,
    session: SessionDep,
    grid: GridId = None,
    limit: Limit = 50,
    cursor: Cursor = None,
) -> MessagePage:
    """Messages newest first; residents' personal data masked."""
    if grid is not None:
        require_grid(session, principal, grid)
    page = paged(lambda: queries.messages_in_scope(session, principal.region_path, limit, cursor, grid))
    return MessagePage(
        items=[present.message(m, name) for m, name in page.items], next_cursor=page.next_cursor
    )

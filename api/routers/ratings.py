"""Residents' ratings of resolved tickets in the caller's grids."""

from __future__ import annotations

from fastapi import APIRouter

from gridbot.api import present
from gridbot.api.auth import PrincipalDep, require_grid
from gridbot.api.deps import SessionDep
from gridbot.api.errors import ERROR_RESPONSES, ErrorOut
from gridbot.api.params import Cursor, GridId, Limit, paged
from gridbot.api.schemas import RatingPage
from gridbot.models import listings as queries

router = APIRouter(prefix="/ratings", tags=["ratings"], responses=ERROR_RESPONSES)


@router.get("", responses={404: {"model": ErrorOut}})
def list_ratings(
    principal: PrincipalDep,
    session: SessionDep,
    grid: GridId = None,
    limit: Limit = 50,
    cursor: Cursor = None,
) -> RatingPage:
    """Ratings newest first; comments masked."""
    if grid is not None:
        require_grid(session, principal, grid)
    page = paged(lambda: queries.ratings_in_scope(session, principal.region_path, limit, cursor, grid))
    return RatingPage(items=[present.rating(r, t) for r, t in page.items], next_cursor=page.next_cursor)

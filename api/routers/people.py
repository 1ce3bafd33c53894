"""People and their roles in the caller's subtree; phone numbers masked."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from gridbot.api import present
from gridbot.api.auth import PrincipalDep, require_grid
from gridbot.api.deps import SessionDep
from gridbot.api.errors import ERROR_RESPONSES, ErrorOut
from gridbot.api.params import Cursor, GridId, Limit, paged
from gridbot.api.schemas import PersonPage
from gridbot.models import listings as queries
from gridbot.models.enums import Role

router = APIRouter(prefix="/people", tags=["people"], responses=ERROR_RESPONSES)


@router.get("", responses={404: {"model": ErrorOut}})
def list_people(
    principal: PrincipalDep,
    session: SessionDep,
    role: Annotated[Role | None, Query()] = None,
    grid: GridId = None,
    limit: Limit = 50,
    cursor: Cursor = None,
) -> PersonPage:
    """Active role assignments held in the caller's grids and regions."""
    if grid is not None:
        require_grid(session, principal, grid)
    page = paged(lambda: queries.people_in_scope(session, principal.region_path, limit, cursor, role, grid))
    return PersonPage(
        items=[present.person_role(ra, p) for ra, p, _g, _r in page.items], next_cursor=page.next_cursor
    )

"""Notices with acknowledgement: post to a grid or to every group of a community/street, read 知晓率."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from typing import Annotated

from fastapi import APIRouter, Path
from pydantic import BaseModel, Field, model_validator

from gridbot.api.auth import PrincipalDep, require_grid, require_region
from gridbot.api.deps import ServicesDep, SessionDep
from gridbot.api.errors import ERROR_RESPONSES, ApiError, ErrorOut, not_found
from gridbot.api.schemas import DB_INT_MAX, Note
from gridbot.models.entities import utcnow
from gridbot.models.messaging import notices
from gridbot.models.tickets.announce import grid_room

router = APIRouter(prefix="/notices", tags=["notices"], responses=ERROR_RESPONSES)


class NoticeIn(BaseModel):
    """A notice for one grid's group, or for every bound group under a region."""

    text: Note
    grid_id: int | None = Field(None, ge=1, le=DB_INT_MAX)
    region_id: int | None = Field(None, ge=1, le=DB_INT_MAX)
    remind_after_minutes: int | None = Field(None, ge=1, le=7 * 24 * 60)

    @model_validator(mode="after")
    def _one_target(self) -> NoticeIn:
        if (self.grid_id is None) == (self.region_id is None):
            raise ValueError("give exactly one of grid_id and region_id")
        return self


class NoticeOut(BaseModel):
    """知晓率 of one notice."""

    id: int
    grid_id: int
    text: str
    created_at: datetime
    total: int
    acked: int
    rate: float | None
    pending: list[str] = Field(description="display names of members who have not confirmed")
    reminded_at: datetime | None


def _out(st: notices.NoticeStatus) -> NoticeOut:
    return NoticeOut(
        id=st.notice_id,
        grid_id=st.grid_id,
        text=st.text,
        created_at=st.created_at,
        total=st.total,
        acked=st.acked,
        rate=st.rate,
        pending=[name for _, name, _ in st.pending],
        reminded_at=st.reminded_at,
    )


@router.post("", status_code=201, responses={404: {"model": ErrorOut}, 409: {"model": ErrorOut}})
def post_notice(body: NoticeIn, principal: PrincipalDep, services: ServicesDep) -> list[NoticeOut]:
    """Post a notice; region-wide it goes to every bound group, paced by the bot's outbox."""
    now = utcnow()
    minutes = body.remind_after_minutes or services.settings.notices.remind_after_minutes
    with services.sessions.begin() as session:
        if body.grid_id is not None:
            grid = require_grid(session, principal, body.grid_id)
            room = grid_room(session, grid.id)
            if room is None:
                raise ApiError(409, "no_group", f"网格 {grid.code} 还没有绑定的群")
            posted = [
                notices.post(
                    session,
                    grid_id=grid.id,
                    room_id=room,
                    author_id=principal.actor.person_id,
                    text=body.text,
                    now=now,
                    remind_after=timedelta(minutes=minutes),
                )
            ]
        else:
            assert body.region_id is not None
            region = require_region(session, principal, body.region_id)
            posted = notices.post_in_region(
                session,
                region_path=region.path,
                author_id=principal.actor.person_id,
                text=body.text,
                now=now,
                remind_after=timedelta(minutes=minutes),
                batch=uuid.uuid4().hex,
            )
        statuses = [notices.status(session, n.id) for n in posted]
    return [_out(st) for st in statuses if st is not None]


@router.get("/{notice_id}", responses={404: {"model": ErrorOut}})
def get_notice(
    notice_id: Annotated[int, Path(ge=1, le=DB_INT_MAX)], principal: PrincipalDep, session: SessionDep
) -> NoticeOut:
    """知晓率 of a notice and who has not confirmed."""
    st = notices.status(session, notice_id)
    if st is None:
        raise not_found(f"通知 {notice_id}")
    require_grid(session, principal, st.grid_id)
    return _out(st)

"""One counter that moves whenever the directory changes, so every process can trust its caches.

A bot keeps rooms, people, grids and roles in memory (`models/org/snapshots.py`) and reads this
one row per message: any change to a group, grid, region, role or a person's identity bumps it in
the transaction that makes the change, so every instance drops its copies before its next message.
The bump is a session hook: ORM writes from the bot, the API or the CLI all count. Writes that go
around the ORM (the seed's COPY, Core UPDATEs) call `bump` themselves.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import BigInteger, event, update
from sqlalchemy.orm import Mapped, Session, mapped_column

from gridbot.models.entities.base import Base
from gridbot.models.entities.region import ChatGroup, Grid, Person, Region, RoleAssignment
from gridbot.models.enums import Role

DIRECTORY_ROW = 1


class DirectoryVersion(Base):
    """The single row (id 1) whose version counts directory changes."""

    __tablename__ = "directory_version"

    id: Mapped[int] = mapped_column(primary_key=True)
    version: Mapped[int] = mapped_column(BigInteger, default=0)


def bump(session: Session) -> None:
    """Count one directory change (in the caller's transaction)."""
    session.execute(
        update(DirectoryVersion)
        .where(DirectoryVersion.id == DIRECTORY_ROW)
        .values(version=DirectoryVersion.version + 1)
        .execution_options(synchronize_session=False)
    )


_ALWAYS = (ChatGroup, Grid, Region)
_DIRECTORY = (ChatGroup, Grid, Region, RoleAssignment, Person)
# set on a session that wrote any directory row: what it reads may not be committed, so not cached
WRITTEN = "gridbot.directory_written"


def _changes_directory(session: Session) -> bool:
    for obj in session.new:
        # a newcomer's resident role and a new person row change no copy anyone holds
        if isinstance(obj, _ALWAYS) or (isinstance(obj, RoleAssignment) and obj.role is not Role.RESIDENT):
            return True
    if any(isinstance(obj, _DIRECTORY) for obj in session.deleted):
        return True
    return any(isinstance(obj, _DIRECTORY) and session.is_modified(obj) for obj in session.dirty)


@event.listens_for(Session, "after_flush")
def _bump_on_change(session: Session, _context: Any) -> None:
    if any(isinstance(obj, _DIRECTORY) for obj in (*session.new, *session.deleted, *session.dirty)):
        session.info[WRITTEN] = True
        if _changes_directory(session):
            bump(session)

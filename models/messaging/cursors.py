"""Intake cursors: how far a pulled message source (an archive) has been read, durably."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from gridbot.models.entities import IntakeCursor


def cursor(session: Session, source: str, *, lock: bool = False) -> IntakeCursor:
    """The cursor of `source` (created at 0); `lock` holds it for this transaction."""
    stmt = select(IntakeCursor).where(IntakeCursor.source == source)
    row = session.scalar(stmt.with_for_update() if lock else stmt)
    if row is None:
        try:
            with session.begin_nested():  # another session may create it at the same moment
                row = IntakeCursor(source=source, seq=0, skipped_no_consent=0, lag_s=0.0)
                session.add(row)
        except IntegrityError:
            row = session.scalars(stmt.with_for_update() if lock else stmt).one()
    return row

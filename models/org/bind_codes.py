"""One-time bind codes: how a group gets bound to a grid before the bot knows anyone's WeChat id.

An operator issues a code for a grid (`gridbot grid bind-code`), optionally for one imported
person; whoever posts `绑定 <code>` in the group within its lifetime binds the group, and if the
code names a person, the poster becomes that person (their platform id is recorded). Only the
SHA-256 of a code is stored; a code works once.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from gridbot.models.entities import BindCode, Grid, Person, utcnow
from gridbot.models.org.directory import DirectoryError

ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O, 1/I: read aloud and typed on a phone
CODE_LENGTH = 8  # 32^8 ≈ 1.1e12 codes: not guessable within a lifetime
DEFAULT_TTL = timedelta(minutes=30)


class BindCodeError(DirectoryError):
    """The code cannot be used; `user_message` says why, in Chinese."""


def _normalize(code: str) -> str:
    return "".join(ch for ch in code.upper() if ch.isalnum())


def code_hash(code: str) -> str:
    """The stored form of a code."""
    return hashlib.sha256(_normalize(code).encode()).hexdigest()


def looks_like_code(text: str) -> bool:
    """Whether `绑定 <text>` carries a bind code rather than a grid code."""
    norm = _normalize(text)
    return len(norm) == CODE_LENGTH and all(ch in ALPHABET for ch in norm) and "-" in text.strip()


def issue(
    session: Session,
    grid: Grid,
    person: Person | None = None,
    ttl: timedelta = DEFAULT_TTL,
    now: datetime | None = None,
) -> tuple[BindCode, str]:
    """A new code for `grid` (and optionally an imported person), as 'ABCD-EFGH'; shown once."""
    now = now or utcnow()
    raw = "".join(secrets.choice(ALPHABET) for _ in range(CODE_LENGTH))
    plain = f"{raw[:4]}-{raw[4:]}"
    row = BindCode(
        code_hash=code_hash(plain),
        grid_id=grid.id,
        person_id=person.id if person else None,
        created_at=now,
        expires_at=now + ttl,
    )
    session.add(row)
    session.flush()
    return row, plain


def peek(session: Session, code: str, now: datetime | None = None) -> BindCode:
    """The code's row if it can still be used (nothing is marked); BindCodeError otherwise."""
    now = now or utcnow()
    row = session.scalar(select(BindCode).where(BindCode.code_hash == code_hash(code)))
    if row is None:
        raise BindCodeError("绑定码不正确，请核对后重发（注意区分字母和数字）")
    if row.used_at is not None:
        raise BindCodeError("该绑定码已使用过，请让管理员重新生成：gridbot grid bind-code 网格编码")
    if row.expires_at <= now:
        raise BindCodeError("该绑定码已过期，请让管理员重新生成：gridbot grid bind-code 网格编码")
    return row


def redeem(session: Session, code: str, room_id: str, now: datetime | None = None) -> BindCode:
    """Use a code once: the row, now marked used; BindCodeError when unknown, used or expired."""
    now = now or utcnow()
    row = peek(session, code, now)
    # a conditional update: two groups racing for one code, only one wins
    won = session.execute(
        update(BindCode)
        .where(BindCode.id == row.id, BindCode.used_at.is_(None))
        .values(used_at=now, used_in_room=room_id)
        .execution_options(synchronize_session=False)
    )
    if won.rowcount != 1:  # type: ignore[attr-defined]
        raise BindCodeError("该绑定码已使用过，请让管理员重新生成：gridbot grid bind-code 网格编码")
    session.refresh(row)
    return row

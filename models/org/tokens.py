"""API tokens: create (the plain token is returned once), verify, revoke, list.

A token is `gb_<43 random url-safe characters>`; only sha256(token) is stored, so a stolen database does not
yield usable tokens. Verification is one indexed lookup by hash.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from gridbot.models.entities import ApiToken, Person, Region, utcnow
from gridbot.models.enums import ADMIN_LEVEL, ADMIN_ROLES, Role
from gridbot.models.org.directory import Actor, DirectoryError

PREFIX = "gb_"
LAST_USED_RESOLUTION = timedelta(minutes=1)


class TokenInvalid(Exception):
    """The presented token is unknown, malformed, expired or revoked (the reason is for logs only)."""


@dataclass(frozen=True)
class TokenPrincipal:
    """Who a verified token speaks for: its role over a region subtree, as a lifecycle Actor."""

    token_id: int
    name: str
    role: Role
    region_id: int
    region_path: str
    actor: Actor


def hash_token(token: str) -> str:
    """The stored form of a token."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def find_region(session: Session, ref: str) -> Region:
    """A region by code or numeric id, or DirectoryError."""
    region = session.scalar(select(Region).where(Region.code == ref))
    if region is None and ref.isdigit():
        region = session.get(Region, int(ref))
    if region is None:
        raise DirectoryError(f"没有找到区域 {ref}")
    return region


def create_token(
    session: Session,
    *,
    role: Role,
    region: Region,
    name: str,
    expires_in: timedelta | None = None,
    now: datetime | None = None,
) -> tuple[ApiToken, str]:
    """A new token for an admin role over `region`; returns the row and the plain token (shown once)."""
    if role not in ADMIN_ROLES or ADMIN_LEVEL[role] is not region.level:
        raise DirectoryError("令牌角色必须是与区域层级相符的管理员角色")
    now = now or utcnow()
    person = Person(name=name[:100], created_at=now)
    session.add(person)
    plain = PREFIX + secrets.token_urlsafe(32)
    row = ApiToken(
        token_hash=hash_token(plain),
        name=name,
        role=role,
        region_id=region.id,
        created_at=now,
        expires_at=now + expires_in if expires_in else None,
    )
    session.add(row)
    session.flush()
    person.platform_id = f"api-token:{row.id}"
    row.person_id = person.id
    session.flush()
    return row, plain


def verify_token(session: Session, token: str, now: datetime | None = None) -> TokenPrincipal:
    """The principal of a valid token; TokenInvalid otherwise. Records last use."""
    if not token.startswith(PREFIX) or len(token) > 200:
        raise TokenInvalid("malformed")
    row = session.scalar(select(ApiToken).where(ApiToken.token_hash == hash_token(token)))
    if row is None:
        raise TokenInvalid("unknown")
    now = now or utcnow()
    if row.revoked_at is not None:
        raise TokenInvalid("revoked")
    if row.expires_at is not None and row.expires_at <= now:
        raise TokenInvalid("expired")
    region = session.get(Region, row.region_id)
    if region is None:
        raise TokenInvalid("region gone")
    if row.last_used_at is None or now - row.last_used_at > LAST_USED_RESOLUTION:
        row.last_used_at = now  # not on every request: one write a minute per token is enough
    actor = Actor(
        person_id=row.person_id,
        name=row.name,
        roles=frozenset({(row.role, None, region.path)}),
    )
    return TokenPrincipal(row.id, row.name, row.role, region.id, region.path, actor)


def revoke_token(session: Session, token_id: int, now: datetime | None = None) -> ApiToken:
    """Revoke a token by id (idempotent); DirectoryError when there is no such token."""
    row = session.get(ApiToken, token_id)
    if row is None:
        raise DirectoryError(f"没有编号为 {token_id} 的令牌")
    if row.revoked_at is None:
        row.revoked_at = now or utcnow()
    return row


def list_tokens(session: Session) -> list[ApiToken]:
    """Every token, newest first (hashes only; plain tokens are never stored)."""
    return list(session.scalars(select(ApiToken).order_by(ApiToken.id.desc())))

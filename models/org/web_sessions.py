"""Browser sessions: the dashboard's sign-in (API token → short-lived cookie) and the gridworkers'
one-time sign-in links for the work page. Only sha256 of each secret is stored.

An admin session lives ADMIN_TTL and ends with its token (revoked or expired token: session void).
A worker link is good once, for LINK_TTL; redeeming it opens a WORKER_TTL session for that person.
"""

from __future__ import annotations

import secrets
from datetime import datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from gridbot.models.entities import ApiToken, Person, WebSession
from gridbot.models.org.directory import Actor, actor_for
from gridbot.models.org.tokens import TokenInvalid, TokenPrincipal, hash_token, principal_of, verify_token

ADMIN = "admin"
WORKER = "worker"
WORKER_LINK = "worker_link"
ADMIN_TTL = timedelta(hours=4)
WORKER_TTL = timedelta(hours=12)
LINK_TTL = timedelta(minutes=15)
MAX_SECRET = 200


class SessionInvalid(Exception):
    """Unknown, expired, used or revoked (the reason is for logs only)."""


def _new(
    session: Session, kind: str, now: datetime, ttl: timedelta, **ids: int | None
) -> tuple[WebSession, str]:
    plain = secrets.token_urlsafe(32)
    row = WebSession(secret_hash=hash_token(plain), kind=kind, created_at=now, expires_at=now + ttl, **ids)
    session.add(row)
    session.flush()
    return row, plain


def _live(session: Session, secret: str, kind: str, now: datetime) -> WebSession:
    if not secret or len(secret) > MAX_SECRET:
        raise SessionInvalid("malformed")
    row = session.scalar(
        select(WebSession).where(WebSession.secret_hash == hash_token(secret), WebSession.kind == kind)
    )
    if row is None:
        raise SessionInvalid("unknown")
    if row.revoked_at is not None or row.used_at is not None:
        raise SessionInvalid("revoked or used")
    if row.expires_at <= now:
        raise SessionInvalid("expired")
    return row


def open_admin_session(session: Session, token: str, now: datetime) -> tuple[TokenPrincipal, str, datetime]:
    """Sign in with an API token: (principal, the cookie secret, its expiry); TokenInvalid if the token is bad."""
    principal = verify_token(session, token, now)
    row, plain = _new(session, ADMIN, now, ADMIN_TTL, token_id=principal.token_id)
    return principal, plain, row.expires_at


def admin_principal(session: Session, secret: str, now: datetime) -> TokenPrincipal:
    """The principal behind a dashboard cookie; SessionInvalid / TokenInvalid when void."""
    row = _live(session, secret, ADMIN, now)
    token = session.get(ApiToken, row.token_id) if row.token_id is not None else None
    if token is None:
        raise SessionInvalid("token gone")
    return principal_of(session, token, now)


def close_session(session: Session, secret: str, now: datetime) -> None:
    """Sign out: the session (of any kind) is revoked; unknown secrets are ignored."""
    if secret and len(secret) <= MAX_SECRET:
        session.execute(
            update(WebSession)
            .where(WebSession.secret_hash == hash_token(secret), WebSession.revoked_at.is_(None))
            .values(revoked_at=now)
        )


def issue_worker_link(session: Session, person_id: int, now: datetime) -> str:
    """A one-time sign-in secret for a gridworker's work page (sent to them privately by the bot)."""
    _, plain = _new(session, WORKER_LINK, now, LINK_TTL, person_id=person_id)
    return plain


def redeem_worker_link(session: Session, secret: str, now: datetime) -> tuple[str, datetime]:
    """Exchange a one-time link for a work-page session: (cookie secret, expiry). SessionInvalid if void."""
    link = _live(session, secret, WORKER_LINK, now)
    link.used_at = now
    row, plain = _new(session, WORKER, now, WORKER_TTL, person_id=link.person_id)
    return plain, row.expires_at


def worker_actor(session: Session, secret: str, now: datetime) -> tuple[Person, Actor]:
    """The gridworker behind a work-page cookie, as a lifecycle Actor; SessionInvalid when void."""
    row = _live(session, secret, WORKER, now)
    person = session.get(Person, row.person_id) if row.person_id is not None else None
    if person is None:
        raise SessionInvalid("person gone")
    return person, actor_for(session, person)


__all__ = [
    "SessionInvalid",
    "TokenInvalid",
    "admin_principal",
    "close_session",
    "issue_worker_link",
    "open_admin_session",
    "redeem_worker_link",
    "worker_actor",
]

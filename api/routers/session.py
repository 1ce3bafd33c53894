"""The dashboard's sign-in: an API token typed into a form becomes a short-lived HttpOnly cookie.

The token travels once, in a POST body, never in a URL (so it is in no address bar, history,
bookmark or server log); the cookie is HttpOnly (scripts cannot read it), SameSite=Strict (other
sites cannot send it), Secure on HTTPS, and holds a random session secret, not the token.
"""

from __future__ import annotations

import logging

from fastapi import APIRouter, Request, Response
from pydantic import BaseModel, Field

from gridbot.api.auth import SESSION_COOKIE, PrincipalDep
from gridbot.api.deps import ServicesDep
from gridbot.api.errors import ERROR_RESPONSES, unauthorized
from gridbot.models.entities import utcnow
from gridbot.models.org.tokens import TokenInvalid
from gridbot.models.org.web_sessions import ADMIN_TTL, close_session, open_admin_session

logger = logging.getLogger(__name__)
router = APIRouter(prefix="/auth", tags=["session"], responses=ERROR_RESPONSES)


class LoginIn(BaseModel):
    """The API token, typed into the sign-in form."""

    token: str = Field(min_length=1, max_length=200)


class MeOut(BaseModel):
    """Who is signed in."""

    name: str
    role: str
    region_id: int


def set_cookie(response: Response, request: Request, name: str, value: str, max_age: int, path: str) -> None:
    """A session cookie: HttpOnly, SameSite=Strict, Secure when served over HTTPS."""
    response.set_cookie(
        name,
        value,
        max_age=max_age,
        path=path,
        httponly=True,
        samesite="strict",
        secure=request.url.scheme == "https",
    )


@router.post("/login", response_model=MeOut, summary="Sign in to the dashboard with an API token")
def login(body: LoginIn, request: Request, response: Response, services: ServicesDep) -> MeOut:
    """Sets the session cookie; 401 for an unknown, expired or revoked token."""
    try:
        with services.sessions.begin() as session:
            principal, secret, _ = open_admin_session(session, body.token.strip(), utcnow())
    except TokenInvalid as exc:
        logger.info("dashboard sign-in refused: %s", exc)
        raise unauthorized() from None
    set_cookie(response, request, SESSION_COOKIE, secret, int(ADMIN_TTL.total_seconds()), "/")
    return MeOut(name=principal.name, role=principal.role.value, region_id=principal.region_id)


@router.post("/logout", status_code=204, summary="Sign out of the dashboard")
def logout(request: Request, services: ServicesDep) -> Response:
    """Revokes the session and clears the cookie (also when already signed out)."""
    secret = request.cookies.get(SESSION_COOKIE)
    if secret:
        with services.sessions.begin() as session:
            close_session(session, secret, utcnow())
    response = Response(status_code=204)
    response.delete_cookie(SESSION_COOKIE, path="/", httponly=True, samesite="strict")
    return response


@router.get("/me", response_model=MeOut, summary="Who is signed in")
def me(principal: PrincipalDep) -> MeOut:
    """The signed-in administrator (401 when not signed in)."""
    return MeOut(name=principal.name, role=principal.role.value, region_id=principal.region_id)

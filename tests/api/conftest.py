"""API fixtures: the app on `any_engine` (SQLite and PostgreSQL) with the lifespan running, an HTTP
client through ASGITransport, tokens for each admin of `World`, and tickets to look at.

The resident's phone number PHONE is planted in ticket texts, messages, notes and Person.phone so
tests can assert it never leaves the API.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from gridbot.api.app import create_app
from gridbot.api.ratelimit import LocalRateLimiter
from gridbot.models.entities import Message, Person, Region, Ticket
from gridbot.models.enums import MessageDirection, Priority, Role, TicketKind
from gridbot.models.messaging.coordination import LocalCoordinator
from gridbot.models.org.tokens import create_token
from gridbot.models.settings import APISettings, DBSettings, Settings
from gridbot.models.tickets import service as service
from gridbot.models.tickets.sla import SLAPolicy, load_policy
from gridbot.nlp.pii import mask
from tests.conftest import World

PHONE = "13812345678"
T0 = datetime(2026, 3, 10, 1, 0, tzinfo=UTC)  # a Tuesday morning in Shanghai


@pytest.fixture
def anyio_backend() -> str:
    """Async tests run on asyncio (pytest-asyncio is not used)."""
    return "asyncio"


@pytest.fixture(scope="session")
def policy() -> SLAPolicy:
    """The bundled SLA policy."""
    return load_policy()


def api_settings(engine: Engine, rate_limit: int = 100_000, redis_url: str | None = None) -> Settings:
    """Settings for a test app on `engine` (no .env file, no environment surprises)."""
    settings = Settings(
        _env_file=None,  # type: ignore[call-arg]
        db=DBSettings(url=engine.url.render_as_string(hide_password=False)),
        api=APISettings(rate_limit_per_minute=rate_limit, cors_origins=["https://dashboard.example"]),
    )
    if redis_url:
        settings.redis.url = redis_url
    return settings


@pytest.fixture
def make_app(any_engine: Engine) -> Callable[..., FastAPI]:
    """Build an app on the test engine; keyword arguments go to `api_settings`."""

    def build(**kw: object) -> FastAPI:
        limiter = None if kw.get("redis_url") else LocalRateLimiter()
        return create_app(
            api_settings(any_engine, **kw),  # type: ignore[arg-type]
            engine=any_engine,
            coordinator=LocalCoordinator(),
            limiter=limiter,
        )

    return build


async def open_client(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    """An HTTP client on the app, with its lifespan running."""
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://test") as client,
    ):
        yield client


@pytest.fixture
async def client(make_app: Callable[..., FastAPI]) -> AsyncIterator[httpx.AsyncClient]:
    """A client on a default app."""
    async for c in open_client(make_app()):
        yield c


@dataclass
class Tokens:
    """Plain tokens (headers ready) of the World's admins, and the token person ids."""

    community: dict[str, str]
    other_community: dict[str, str]
    street: dict[str, str]
    city: dict[str, str]
    community_person: int


def bearer(token: str) -> dict[str, str]:
    """The Authorization header for a token."""
    return {"Authorization": f"Bearer {token}"}


def new_token(
    factory: sessionmaker[Session], role: Role, region_id: int, name: str, expires_in: timedelta | None = None
) -> tuple[int, str]:
    """Create a token; returns (id, plain token)."""
    with factory.begin() as session:
        region = session.get(Region, region_id)
        assert region is not None
        row, plain = create_token(session, role=role, region=region, name=name, expires_in=expires_in)
        return row.id, plain


@pytest.fixture
def tokens(world: World, session_factory: sessionmaker[Session]) -> Tokens:
    """One token per admin level of the World."""
    _, community = new_token(session_factory, Role.COMMUNITY_ADMIN, world.community, "孙主任")
    _, other = new_token(session_factory, Role.COMMUNITY_ADMIN, world.other_community, "钱主任")
    _, street = new_token(session_factory, Role.STREET_ADMIN, world.street, "赵科长")
    _, city = new_token(session_factory, Role.CITY_ADMIN, world.city, "市网格办")
    with session_factory() as session:
        from sqlalchemy import select

        from gridbot.models.entities import ApiToken

        person = session.scalar(select(ApiToken.person_id).where(ApiToken.name == "孙主任"))
    assert person is not None
    return Tokens(bearer(community), bearer(other), bearer(street), bearer(city), person)


def file_ticket(
    session: Session,
    policy: SLAPolicy,
    grid_id: int,
    reporter_id: int | None,
    text: str,
    now: datetime = T0,
) -> Ticket:
    """A resident's ticket, as the intake would file it (texts with personal data included)."""
    return service.open_ticket(
        session,
        grid_id=grid_id,
        kind=TicketKind.INCIDENT,
        category="environment",
        category_label="环境卫生",
        priority=Priority.NORMAL,
        text=text,
        text_masked=mask(text),
        reporter_id=reporter_id,
        now=now,
        policy=policy,
    )


@dataclass
class Seeded:
    """Ticket numbers: two in the community's grid, one in the other community's grid."""

    mine: int
    mine2: int
    other: int


@pytest.fixture
def seeded(world: World, session_factory: sessionmaker[Session], policy: SLAPolicy) -> Seeded:
    """Tickets and messages carrying PHONE, and residents whose Person.phone is PHONE."""
    with session_factory.begin() as session:
        for pid in (world.resident, world.other_resident):
            person = session.get(Person, pid)
            assert person is not None
            person.phone = PHONE
        text = f"3栋2单元楼道灯坏了，联系我{PHONE}"
        mine = file_ticket(session, policy, world.grid, world.resident, text)
        mine2 = file_ticket(session, policy, world.grid2, None, "垃圾桶满了", T0 + timedelta(minutes=5))
        other = file_ticket(session, policy, world.other_grid, world.other_resident, f"漏水 电话{PHONE}")
        for n, (grid, sender) in enumerate(
            ((world.grid, world.resident), (world.other_grid, world.other_resident))
        ):
            session.add(
                Message(
                    platform_id=f"msg-{n}",
                    direction=MessageDirection.INBOUND,
                    grid_id=grid,
                    sender_id=sender,
                    sender_role=Role.RESIDENT,
                    text=f"我的手机是{PHONE}，住5号楼1单元302室",
                    text_masked="",
                    sent_at=T0,
                )
            )
        return Seeded(mine.id, mine2.id, other.id)

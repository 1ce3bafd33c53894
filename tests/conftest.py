"""Shared fixtures: an embedded SQLite database, and the real PostgreSQL and Redis when configured.

Integration tests need GRIDBOT_TEST_DATABASE_URL / GRIDBOT_TEST_REDIS_URL. Without them they skip
with a reason; with them set (as .ci/run does) an unreachable server is a test failure, not a skip.
Each pytest process works in its own PostgreSQL schema and its own Redis database number, so
concurrent runs on one machine do not disturb each other.
"""

from __future__ import annotations

import os
import re
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine, create_engine, text
from sqlalchemy.orm import Session, sessionmaker

from gridbot.models.db import make_engine, make_session_factory, tune
from gridbot.models.entities import Base
from gridbot.models.migrate import upgrade
from gridbot.models.settings import DBSettings

REPO_ROOT = Path(__file__).resolve().parents[1]
SHARED_DATA = REPO_ROOT.parent / "shared" / "data"
PG_ENV = "GRIDBOT_TEST_DATABASE_URL"
REDIS_ENV = "GRIDBOT_TEST_REDIS_URL"


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A SQLite file migrated once per run; each test gets a copy (migrating per test is slow)."""
    path = tmp_path_factory.mktemp("template") / "gridbot.db"
    engine = make_engine(DBSettings(url=f"sqlite:///{path}"))
    upgrade(engine)
    with engine.connect() as conn:
        conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
    engine.dispose()
    return path


@pytest.fixture
def sqlite_engine(tmp_path: Path, sqlite_template: Path) -> Iterator[Engine]:
    """A migrated SQLite database file in a temporary directory (the embedded default)."""
    path = tmp_path / "gridbot.db"
    shutil.copyfile(sqlite_template, path)
    engine = make_engine(DBSettings(url=f"sqlite:///{path}"))
    yield engine
    engine.dispose()


@pytest.fixture(scope="session")
def pg_schema_engine() -> Iterator[Engine]:
    """A PostgreSQL engine bound to a schema private to this pytest process, migrated once."""
    url = os.environ.get(PG_ENV)
    if not url:
        pytest.skip(f"{PG_ENV} is not set: PostgreSQL integration tests skipped")
    schema = f"gridbot_test_{os.getpid()}"
    admin = create_engine(url)
    with admin.begin() as conn:
        conn.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    engine = tune(
        create_engine(
            url, connect_args={"options": f"-csearch_path={schema}", "connect_timeout": 5}, pool_size=10
        )
    )
    upgrade(engine)
    yield engine
    engine.dispose()
    with admin.begin() as conn:
        conn.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
    admin.dispose()


@pytest.fixture
def pg_engine(pg_schema_engine: Engine) -> Iterator[Engine]:
    """The PostgreSQL engine, emptied after each test (tests may commit from several sessions)."""
    yield pg_schema_engine
    tables = ", ".join(f'"{t.name}"' for t in Base.metadata.sorted_tables)
    with pg_schema_engine.begin() as conn:
        conn.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))


@pytest.fixture(params=["sqlite", "postgresql"])
def any_engine(request: pytest.FixtureRequest) -> Engine:
    """Runs a test on the embedded SQLite default and on the real PostgreSQL."""
    name = "sqlite_engine" if request.param == "sqlite" else "pg_engine"
    engine: Engine = request.getfixturevalue(name)
    return engine


@pytest.fixture
def session_factory(any_engine: Engine) -> sessionmaker[Session]:
    """Session factory over `any_engine`."""
    return make_session_factory(any_engine)


@pytest.fixture
def sqlite_session_factory(sqlite_engine: Engine) -> sessionmaker[Session]:
    """Session factory over the SQLite engine only (unit-level tests)."""
    return make_session_factory(sqlite_engine)


@pytest.fixture
def pg_session_factory(pg_engine: Engine) -> sessionmaker[Session]:
    """Session factory over the PostgreSQL engine only."""
    return make_session_factory(pg_engine)


@pytest.fixture
def redis_url() -> Iterator[str]:
    """A Redis URL on a database number private to this process, flushed before and after."""
    base = os.environ.get(REDIS_ENV)
    if not base:
        pytest.skip(f"{REDIS_ENV} is not set: Redis integration tests skipped")
    import redis

    url = base.rsplit("/", 1)[0] + f"/{1 + os.getpid() % 15}"
    client = redis.Redis.from_url(url)
    client.flushdb()
    yield url
    client.flushdb()
    client.close()


@pytest.fixture
def shared_data() -> Path:
    """The project's shared real-data folder (../shared/data), or skip when it is absent."""
    if not SHARED_DATA.is_dir():
        pytest.skip(f"{SHARED_DATA} is absent (not part of the project): skipped")
    return SHARED_DATA


class World:
    """A small administrative tree: one city, district, street, two communities and three grids.

    Attributes hold the ids (not ORM objects) so tests can use them across sessions.
    """

    city: int
    district: int
    street: int
    community: int
    other_community: int
    grid: int
    grid2: int
    other_grid: int
    room: str
    worker: int
    worker2: int
    parttime: int
    leader: int
    community_admin: int
    street_admin: int
    other_admin: int
    resident: int
    resident2: int
    other_resident: int


def build_world(session: Session) -> World:
    """Create the tree, people and roles of `World` (the caller commits)."""
    from gridbot.models.enums import Role
    from gridbot.models.org import directory as d

    w = World()
    city = d.create_region(session, "NJ", "南京市")
    district = d.create_region(session, "NJ-GL", "鼓楼区", city)
    street = d.create_region(session, "NJ-GL-HL", "华侨路街道", district)
    community = d.create_region(session, "NJ-GL-HL-01", "五台山社区", street)
    other_community = d.create_region(session, "NJ-GL-HL-02", "龙仓巷社区", street)
    grid = d.create_grid(session, "G001", "五台山第一网格", community, households=300)
    grid2 = d.create_grid(session, "G002", "五台山第二网格", community, households=250)
    other_grid = d.create_grid(session, "G101", "龙仓巷第一网格", other_community, households=200)
    d.bind_group(session, "room-g001@chatroom", grid, topic="五台山一网格群")

    def person(pid: str, name: str, role: Role, grid_: object = None, region: object = None) -> int:
        p = d.ensure_person(session, pid, name)
        d.assign_role(session, p, role, grid=grid_, region=region)  # type: ignore[arg-type]
        return p.id

    w.city, w.district, w.street = city.id, district.id, street.id
    w.community, w.other_community = community.id, other_community.id
    w.grid, w.grid2, w.other_grid = grid.id, grid2.id, other_grid.id
    w.room = "room-g001@chatroom"
    w.worker = person("wx-wang", "小王", Role.GRIDWORKER, grid)
    w.worker2 = person("wx-li", "李四", Role.GRIDWORKER, grid)
    w.parttime = person("wx-zhou", "周兼职", Role.PARTTIME_GRIDWORKER, grid)
    w.leader = person("wx-chen", "陈网格长", Role.GRID_LEADER, grid)
    w.community_admin = person("wx-sun", "孙主任", Role.COMMUNITY_ADMIN, region=community)
    w.street_admin = person("wx-zhao", "赵科长", Role.STREET_ADMIN, region=street)
    w.other_admin = person("wx-qian", "钱主任", Role.COMMUNITY_ADMIN, region=other_community)
    w.resident = person("wx-zhang", "张阿姨", Role.RESIDENT, grid)
    w.resident2 = person("wx-liu", "刘师傅", Role.RESIDENT, grid)
    w.other_resident = person("wx-wu", "吴大爷", Role.RESIDENT, other_grid)
    # a second worker in the other grid, so cross-grid checks have someone to fail
    person("wx-zheng", "郑网格员", Role.GRIDWORKER, other_grid)
    session.flush()
    return w


@pytest.fixture
def world(session_factory: sessionmaker[Session]) -> World:
    """`build_world` committed into `any_engine` (runs on SQLite and on PostgreSQL)."""
    with session_factory.begin() as session:
        return build_world(session)


_SKIPS: dict[str, tuple[int, set[str]]] = {}


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    """Count skipped tests per group (tests/<group>/) with the variables their reasons name."""
    if not report.skipped:
        return
    rel = Path(report.fspath).resolve().relative_to(REPO_ROOT / "tests").parts
    group = rel[0] if len(rel) > 1 else "tests"
    reason = str(report.longrepr[2] if isinstance(report.longrepr, tuple) else report.longrepr)
    count, names = _SKIPS.get(group, (0, set()))
    names |= set(re.findall(r"GRIDBOT_[A-Z_]+|\b(?:node|npm|chromium|docker compose)\b", reason))
    if "shared" in reason:
        names.add("../shared/data")
    _SKIPS[group] = (count + 1, names)


def pytest_sessionfinish(session: pytest.Session) -> None:
    """With GRIDBOT_SKIP_SUMMARY set (scripts/test), write one line: what was skipped and what runs it."""
    target = os.environ.get("GRIDBOT_SKIP_SUMMARY")
    if not target:
        return
    if not _SKIPS:
        line = "skipped: nothing"
    else:
        groups = [
            f"{group} ({count}{': ' + ', '.join(sorted(names)) if names else ''})"
            for group, (count, names) in sorted(_SKIPS.items())
        ]
        line = "skipped: " + "; ".join(groups) + " (set or install these to run them)"
    Path(target).write_text(line + "\n", encoding="utf-8")

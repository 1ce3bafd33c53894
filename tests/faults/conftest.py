"""Fault fixtures: private Redis and PostgreSQL servers a test may stop, restart, pause or flush.

The shared servers (GRIDBOT_TEST_DATABASE_URL, GRIDBOT_TEST_REDIS_URL) are never touched here.
Without redis-server or the PostgreSQL binaries these tests skip with the reason; with
GRIDBOT_FAULTS_REQUIRED=1 (CI) they fail instead.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import NoReturn

import pytest
from sqlalchemy import Engine, create_engine, text

from gridbot.models.db import make_engine
from gridbot.models.entities import Base
from gridbot.models.migrate import upgrade
from gridbot.models.settings import DBSettings
from gridbot.nlp.classifier import Classifier, load_classifier
from tests.faults.servers import PrivatePostgres, PrivateRedis, ServerUnavailable

REQUIRED_ENV = "GRIDBOT_FAULTS_REQUIRED"


def unavailable(reason: str) -> NoReturn:
    """Skip, or fail when the fault environment is required (CI)."""
    if os.environ.get(REQUIRED_ENV) == "1":
        pytest.fail(f"{REQUIRED_ENV}=1 but {reason}")
    pytest.skip(reason)


@pytest.fixture
def anyio_backend() -> str:
    """The live bot runs on asyncio, as `gridbot run` does."""
    return "asyncio"


@pytest.fixture(scope="session")
def fault_classifier() -> Classifier:
    """The default fast classifier, loaded once per run (it is read-only)."""
    return load_classifier()


@pytest.fixture
def private_redis(tmp_path: Path) -> Iterator[PrivateRedis]:
    """A running redis-server of this test's own (no persistence); stopped at the end."""
    try:
        server = PrivateRedis(tmp_path / "redis")
    except ServerUnavailable as exc:
        unavailable(str(exc))
    server.start()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def _postgres_cluster() -> Iterator[PrivatePostgres]:
    """One private PostgreSQL cluster per run, migrated (initdb and start take a few seconds)."""
    try:
        server = PrivatePostgres()
    except ServerUnavailable as exc:
        unavailable(str(exc))
    try:
        server.init()
        engine = create_engine(server.url)
        upgrade(engine)
        engine.dispose()
        yield server
    finally:
        server.destroy()


@pytest.fixture
def private_postgres(_postgres_cluster: PrivatePostgres) -> Iterator[PrivatePostgres]:
    """The private PostgreSQL, running; the test may stop it. Restarted and emptied afterwards."""
    _postgres_cluster.start()
    yield _postgres_cluster
    _postgres_cluster.start()
    tables = ", ".join(f'"{t.name}"' for t in Base.metadata.sorted_tables)
    engine = create_engine(_postgres_cluster.url)
    try:
        with engine.begin() as conn:
            conn.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))
    finally:
        engine.dispose()


@pytest.fixture
def private_pg_engine(private_postgres: PrivatePostgres) -> Iterator[Engine]:
    """An engine on the private PostgreSQL built as `gridbot run` builds it (pre-ping, connect timeout)."""
    engine = make_engine(DBSettings(url=private_postgres.url, pool_size=10))
    yield engine
    engine.dispose()

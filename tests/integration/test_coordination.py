"""Coordinator: the same behaviour in-process and through Redis; Redis down or flushed is harmless."""

from __future__ import annotations

import logging
from collections.abc import Iterator

import pytest
import redis

from gridbot.models.messaging.coordination import (
    SEEN_MAX,
    Coordinator,
    LocalCoordinator,
    RedisCoordinator,
    make_coordinator,
)
from gridbot.models.settings import RedisSettings, Settings

pytestmark = pytest.mark.integration


@pytest.fixture(params=["local", "redis"])
def coord(request: pytest.FixtureRequest) -> Iterator[Coordinator]:
    if request.param == "local":
        yield LocalCoordinator()
        return
    c = RedisCoordinator(request.getfixturevalue("redis_url"))
    yield c
    c.close()


def test_lock_is_exclusive_and_released(coord: Coordinator) -> None:
    with coord.lock("sweep", 30) as a:
        assert a.acquired and a.extend(30)
        with coord.lock("sweep", 30) as b:
            assert not b.acquired and not b.extend(30)
        with coord.lock("other", 30) as c:
            assert c.acquired
    with coord.lock("sweep", 30) as d:
        assert d.acquired


def test_seen_message_is_a_fast_path_remembered_only_when_told(coord: Coordinator) -> None:
    # checking does not remember: a process killed between the check and the database commit
    # must find the message unseen when it is delivered again
    assert coord.seen_message("msg-1") is False
    assert coord.seen_message("msg-1") is False
    coord.remember_message("msg-1")
    assert coord.seen_message("msg-1") is True
    assert coord.seen_message("msg-2") is False


def test_send_slots_pace_per_account_and_per_room(coord: Coordinator) -> None:
    assert coord.acquire_send_slot("bot-a", "room-1", 1.0) == 0
    assert 0.9 <= coord.acquire_send_slot("bot-a", "room-2", 1.0) <= 1.0  # same account
    assert 0.9 <= coord.acquire_send_slot("bot-b", "room-1", 1.0) <= 1.0  # same room
    assert coord.acquire_send_slot("bot-c", "room-3", 1.0) == 0
    assert 1.8 <= coord.acquire_send_slot("bot-a", None, 1.0) <= 2.0  # reservations queue up


def test_local_lock_expires_and_an_expired_owner_cannot_release_the_new_one() -> None:
    now = [0.0]
    coord = LocalCoordinator(clock=lambda: now[0])
    with coord.lock("sweep", 10) as old:
        assert old.acquired
        now[0] = 11.0
        with coord.lock("sweep", 10) as new:
            assert new.acquired and not old.extend(10)
    with coord.lock("sweep", 10) as again:
        assert again.acquired


def test_redis_lock_survives_a_stale_owner_release(redis_url: str) -> None:
    coord, client = RedisCoordinator(redis_url), redis.Redis.from_url(redis_url)
    with coord.lock("sweep", 30) as old:
        client.flushdb()  # the old owner's key is gone (as if it expired)
        with coord.lock("sweep", 30) as new:
            assert new.acquired and not old.extend(30)
        # leaving `old` must not delete a lock it no longer owns: re-take it to check
        with coord.lock("sweep", 30) as probe:
            assert probe.acquired
    client.close()


def test_redis_down_degrades_to_local_with_a_warning(caplog: pytest.LogCaptureFixture) -> None:
    coord = RedisCoordinator("redis://127.0.0.1:1/0", timeout_s=0.5)  # nothing listens there
    with caplog.at_level(logging.WARNING, logger="gridbot.models.messaging.coordination"):
        with coord.lock("sweep", 30) as a:
            assert a.acquired
            with coord.lock("sweep", 30) as b:
                assert not b.acquired
        assert coord.seen_message("m") is False
        coord.remember_message("m")
        assert coord.seen_message("m") is True
        assert coord.acquire_send_slot("bot", "room", 1.0) == 0
    assert [r.getMessage() for r in caplog.records].count(
        "Redis unavailable (ConnectionError): coordinating in-process only"
    ) == 1


def test_make_coordinator_follows_settings(redis_url: str) -> None:
    assert isinstance(make_coordinator(Settings(redis=RedisSettings(url=None))), LocalCoordinator)
    coord = make_coordinator(Settings(redis=RedisSettings(url=redis_url)))
    assert isinstance(coord, RedisCoordinator)
    coord.close()


def test_the_in_process_fast_path_is_bounded_and_forgets_the_oldest() -> None:
    coord = LocalCoordinator(clock=lambda: 0.0)
    for n in range(SEEN_MAX + 100):
        coord.remember_message(f"m{n}")
    assert not coord.seen_message("m0") and not coord.seen_message("m99")
    assert coord.seen_message("m100") and coord.seen_message(f"m{SEEN_MAX + 99}")
    assert coord.remembered == SEEN_MAX


def test_the_in_process_fast_path_drops_expired_ids() -> None:
    now = [0.0]
    coord = LocalCoordinator(clock=lambda: now[0])
    for n in range(1000):
        coord.remember_message(f"old{n}", ttl_s=60)
    now[0] = 61.0
    coord.remember_message("new", ttl_s=60)
    # memory follows the last minute of traffic, not SEEN_MAX
    assert coord.remembered == 1
    assert coord.seen_message("new") and not coord.seen_message("old999")

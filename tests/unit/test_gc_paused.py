"""Start-up runs with the cyclic garbage collector paused, and the collector is back afterwards."""

from __future__ import annotations

import gc
from collections.abc import Iterator

import pytest

from gridbot.runtime import gc_paused


@pytest.fixture(autouse=True)
def _collector_restored() -> Iterator[None]:
    yield
    gc.unfreeze()  # what the test froze goes back to the collector of this test process
    gc.enable()


def test_paused_inside_enabled_after_and_what_was_built_frozen() -> None:
    with gc_paused():
        assert not gc.isenabled()
        kept = [[n] for n in range(1000)]  # what start-up builds and the process keeps
    assert gc.isenabled()
    assert gc.get_freeze_count() >= len(kept)


def test_enabled_again_when_start_up_fails() -> None:
    with pytest.raises(RuntimeError), gc_paused():
        raise RuntimeError("the database is unreachable")
    assert gc.isenabled()


def test_a_caller_that_paused_the_collector_keeps_it_paused() -> None:
    gc.disable()
    frozen = gc.get_freeze_count()
    with gc_paused():
        assert not gc.isenabled()
    assert not gc.isenabled()
    assert gc.get_freeze_count() == frozen

"""The per-message memos stay bounded however many distinct messages a bot reads."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from gridbot.models.settings import Settings
from gridbot.nlp import duplicate_index, duplicates, memo
from gridbot.nlp.memo import Memo


@pytest.fixture(autouse=True)
def _default_sizes() -> Iterator[None]:
    yield
    duplicate_index.configure_memos()


def test_memo_keeps_the_most_recently_used_up_to_its_bound() -> None:
    calls: list[int] = []

    def square(n: int) -> int:
        calls.append(n)
        return n * n

    m = Memo(square, maxsize=2)
    assert [m(1), m(2), m(1), m(3)] == [1, 4, 1, 9]  # 3 evicts 2, the least recently used
    assert m(1) == 1 and m(2) == 4
    assert calls == [1, 2, 3, 2]
    info = m.cache_info()
    assert (info.hits, info.misses, info.maxsize, info.currsize) == (2, 4, 2, 2)


def test_resize_drops_the_oldest_and_zero_remembers_nothing() -> None:
    m = Memo(str, maxsize=10)
    for n in range(10):
        m(n)
    m.resize(3)
    assert m.cache_info().currsize == 3
    m(9)
    assert m.cache_info().hits == 1  # the newest stayed
    m.resize(0)
    m(9)
    assert m.cache_info().currsize == 0


def test_duplicate_features_stay_bounded_over_many_distinct_reports() -> None:
    duplicate_index.configure_memos(duplicate_cache=8, text_cache=4)
    for n in range(50):
        f = duplicates.features(f"3栋2单元楼道灯坏了 {n}")
        assert duplicate_index.load(duplicate_index.dump(f)) == f
    assert duplicates.features.cache_info().currsize == 4
    assert duplicate_index.load.cache_info().currsize == 8


def test_default_bounds() -> None:
    nlp = Settings(_env_file=None).nlp  # type: ignore[call-arg]
    assert (nlp.duplicate_cache, nlp.text_cache) == (memo.DUPLICATE_CACHE, memo.TEXT_CACHE) == (512, 256)


def test_bounds_come_from_the_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GRIDBOT_NLP__DUPLICATE_CACHE", "64")
    monkeypatch.setenv("GRIDBOT_NLP__TEXT_CACHE", "32")
    nlp = Settings(_env_file=None).nlp  # type: ignore[call-arg]
    assert (nlp.duplicate_cache, nlp.text_cache) == (64, 32)
    duplicate_index.configure_memos(nlp.duplicate_cache, nlp.text_cache)
    assert duplicate_index.load.cache_info().maxsize == 64
    assert duplicates.features.cache_info().maxsize == 32

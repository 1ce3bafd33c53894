"""The jieba prefix dictionary read back from the cache cuts exactly as one built from scratch."""

from __future__ import annotations

from pathlib import Path

import pytest

from gridbot.nlp import segment

TEXTS = [
    "3栋2单元门口的路灯坏了好几天了",
    "小区垃圾桶满了没人清理",
    "网格员什么时候来看看电梯",
    # the tokenizer's own route (ties, words unknown to the dictionary, letters and digits) must be jieba's
    "的的的的 研究生命起源 南京市长江大桥",
    "wifi密码abc123 嘅咗冇 𠮷野家",
]


def test_the_cached_dictionary_cuts_like_a_fresh_one(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(segment.CACHE_ENV, str(tmp_path))
    fresh = segment.build_tokenizer(use_cache=False)
    assert not list(tmp_path.iterdir())
    segment.build_tokenizer()  # builds it and writes the cache
    (written,) = tmp_path.iterdir()
    cached = segment.build_tokenizer()
    assert isinstance(cached.FREQ, segment.PrefixDict)
    for text in TEXTS:  # before anything unpacked the whole dictionary
        assert cached.lcut(text, HMM=False) == fresh.lcut(text, HMM=False)
        assert segment._cut_no_hmm(cached, text) == fresh.lcut(text, HMM=False)
        assert segment._cut_no_hmm(fresh, text) == fresh.lcut(text, HMM=False)  # a plain jieba dictionary
        assert cached.lcut_for_search(text) == fresh.lcut_for_search(text)
    cached.FREQ.unpack_all()
    assert cached.FREQ == fresh.FREQ and cached.total == fresh.total
    for text in TEXTS:
        assert cached.lcut(text, HMM=False) == fresh.lcut(text, HMM=False)
    written.write_bytes(b"not a dictionary")  # a torn or foreign file is rebuilt, never trusted
    rebuilt = segment.build_tokenizer()
    assert rebuilt.total == fresh.total and written.stat().st_size > 1000


def test_a_cache_of_the_old_format_is_rebuilt(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import marshal

    import jieba

    monkeypatch.setenv(segment.CACHE_ENV, str(tmp_path))
    path = segment.cache_path(jieba)
    path.write_bytes(marshal.dumps(({"路灯": 5, "路": 9}, 14)))  # one dict of words, not shards
    tok = segment.build_tokenizer()
    assert isinstance(tok.FREQ, dict) and tok.total > 1000  # built from jieba's dictionary
    assert tok.lcut("3栋2单元门口的路灯坏了", HMM=False)[-3:] == ["路灯", "坏", "了"]

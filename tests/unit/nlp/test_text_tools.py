"""jieba setup, urgency cues and location cues."""

from __future__ import annotations

import threading

import pytest

from gridbot.nlp import segment
from gridbot.nlp.cues import Location, chinese_number, location, same_place
from gridbot.nlp.urgency import active_cues, find_cues, is_urgent


def test_userdict_words_stay_whole() -> None:
    words = segment.cut("楼道里有人飞线充电，电瓶车停满了，窨井盖也没了")
    for w in ("飞线充电", "电瓶车", "窨井盖"):
        assert w in words


def test_userdict_has_enough_entries() -> None:
    assert len(segment.USERDICT_PATH.read_text(encoding="utf-8").splitlines()) >= 80


def test_stopwords_keep_question_words() -> None:
    assert "的" in segment.stopwords()
    assert "吗" not in segment.stopwords() and "怎么" not in segment.stopwords()
    assert "的" not in segment.words("电梯的按钮坏了")


def test_private_tokenizer_is_built_once_across_threads() -> None:
    seen: list[object] = []
    threads = [threading.Thread(target=lambda: seen.append(segment.tokenizer())) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len({id(s) for s in seen}) == 1
    import jieba

    assert seen[0] is not jieba.dt


@pytest.mark.parametrize(
    ("text", "kind"),
    [
        ("3栋着火了快来人", "fire"),
        ("楼道里全是浓烟", "fire"),
        ("厨房燃气泄漏了", "gas_leak"),
        ("电梯困人了，有个老人被困在里面", "trapped"),
        ("有人从楼梯摔下来流血了", "injured"),
        ("雨太大水灌进一楼家里了", "flooding"),
        ("楼下两个人打起来了", "fight"),
    ],
)
def test_urgency_cues(text: str, kind: str) -> None:
    assert kind in {c.kind for c in active_cues(text)}


@pytest.mark.parametrize(
    "text",
    [
        "没有着火，是邻居在烧烤",
        "如果着火了应该怎么逃生",
        "明天上午消防演练，会放烟雾弹，看到冒烟不要惊慌",
        "昨天被困电梯的大爷已经救出来了，没事了",
        "电动车推进楼里充电容易起火",
    ],
)
def test_negated_or_hypothetical_cues_are_not_urgent(text: str) -> None:
    assert find_cues(text), "the cue word is there"
    assert not is_urgent(text)


def test_chinese_numbers() -> None:
    assert [chinese_number(x) for x in ("12", "十二", "二十三", "一百零五", "两", "abc")] == [
        12,
        12,
        23,
        105,
        2,
        None,
    ]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("3栋2单元301室漏水", Location(3, 2, 301)),
        ("十二幢502", Location(12, None, 502)),
        ("5号楼1单元楼道灯", Location(5, 1, None)),
        ("住3-2-301", Location(3, 2, 301)),
        ("小区门口积水", Location()),
    ],
)
def test_location(text: str, expected: Location) -> None:
    assert location(text) == expected


def test_same_place() -> None:
    assert same_place(Location(3, 2), Location(3, None, 301))
    assert not same_place(Location(3, 2), Location(3, 1))
    assert not same_place(Location(3), Location(4))
    assert not same_place(Location(), Location())

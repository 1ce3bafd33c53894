from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from gridbot.nlp.duplicates import (
    MERGE,
    NEW,
    SUGGEST,
    OpenTicket,
    Thresholds,
    find_duplicate,
    text_similarity,
)

NOW = datetime(2026, 11, 20, 9, 0, tzinfo=UTC)
OPEN = [
    OpenTicket(41, "3栋2单元楼道灯坏了，晚上好黑", "property", NOW - timedelta(hours=3)),
    OpenTicket(42, "5栋门口的垃圾桶满了没人清", "sanitation", NOW - timedelta(hours=1)),
    OpenTicket(43, "小区北门路灯不亮", "facilities", NOW - timedelta(days=10)),
]


def test_similarity_bounds() -> None:
    assert text_similarity("楼道灯坏了", "楼道灯坏了") == pytest.approx(1.0)
    assert text_similarity("楼道灯坏了", "请问社保怎么交") == 0.0
    assert text_similarity("", "楼道灯坏了") == 0.0


@pytest.mark.parametrize(
    ("text", "category", "decision", "ticket"),
    [
        ("3栋2单元的楼道灯还是坏的，晚上好黑", "property", MERGE, 41),
        ("5栋垃圾堆着好几天了，臭死了", "sanitation", MERGE, 42),  # same building, same thing: 垃圾
        ("7栋楼道灯坏了", "property", SUGGEST, 41),  # another building: never merged, at most suggested
        ("北门路灯不亮", "facilities", NEW, None),  # ticket 43 is outside the window
    ],
)
def test_decisions(text: str, category: str, decision: str, ticket: int | None) -> None:
    match = find_duplicate(text, category, OPEN, NOW)
    assert match.decision == decision
    if ticket is not None:
        assert match.ticket_id == ticket


def test_thresholds_move_the_decision() -> None:
    text, cat = "3栋2单元楼道的灯也坏了，黑乎乎的", "property"  # the same place as ticket 41
    assert find_duplicate(text, cat, OPEN, NOW, Thresholds(merge=0.3, suggest=0.2)).decision == MERGE
    assert find_duplicate(text, cat, OPEN, NOW, Thresholds(merge=0.99, suggest=0.98)).decision == NEW


def test_different_places_are_never_merged_whatever_the_threshold() -> None:
    match = find_duplicate("7栋楼道灯坏了", "property", OPEN, NOW, Thresholds(merge=0.0, suggest=0.0))
    assert match.decision != MERGE and not match.same_place


def test_same_category_boosts() -> None:
    text = "3栋2单元楼道灯坏了"
    same = find_duplicate(text, "property", OPEN[:1], NOW)
    other = find_duplicate(text, "safety", OPEN[:1], NOW)
    assert same.score > other.score


def test_no_candidates() -> None:
    assert find_duplicate("楼道灯坏了", "property", [], NOW).decision == NEW


@pytest.mark.parametrize(
    ("text", "decision"),
    [
        ("是啊 路灯坏好久了", MERGE),  # agreeing, naming no place: the lamp already reported
        ("路灯的事有人管没", MERGE),  # chasing it
        ("村口路灯不亮，晚上骑车差点掉沟里", MERGE),  # same place, same thing, other words
        ("桥头的路灯也不亮了", SUGGEST),  # another place: at most a suggestion to the gridworker
        ("是啊 今天天气真好", NEW),  # agreeing with something else
    ],
)
def test_echoes_and_same_thing_join_the_ticket(text: str, decision: str) -> None:
    lamp = [OpenTicket(7, "村口那个路灯又不亮了 黑灯瞎火的", "facilities", NOW - timedelta(minutes=20))]
    category = "facilities" if "路灯" in text else None
    assert find_duplicate(text, category, lamp, NOW).decision == decision

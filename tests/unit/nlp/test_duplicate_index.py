"""Stored duplicate features round-trip, and every report the scorer would merge is read by its keys."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from gridbot.nlp.duplicate_index import dump, index_keys, load, lookups
from gridbot.nlp.duplicates import MERGE, OpenTicket, features, score

NOW = datetime(2026, 11, 20, 9, 0, tzinfo=UTC)
# (open ticket, new report): merged by the scorer, each by another of its rules
MERGED = [
    ("3栋2单元楼道灯又坏了，晚上黑灯瞎火的", "3栋2单元的楼道灯坏了好几天了，晚上太黑了"),  # same building
    ("三号楼电梯坏了", "3号楼电梯又停了"),  # Chinese numerals
    ("小区东门路灯不亮", "东门那边的路灯坏了"),  # landmark
    ("幸福路井盖松了", "幸福路上的井盖晃得厉害"),  # road
    ("小区路灯坏了", "小区路灯不亮"),  # neither names a place, same category
    ("村口路灯又不亮了", "是啊 路灯坏好久了"),  # an echo naming no place
]


@pytest.mark.parametrize("text", [t for pair in MERGED for t in pair] + ["", "3-2-301漏水"])
def test_stored_features_load_as_computed(text: str) -> None:
    assert load(dump(features(text))) == features(text)


def test_another_version_or_nothing_is_not_loaded() -> None:
    assert load(None) is None
    assert load(dump(features("电梯坏了")).replace('"v":1', '"v":0')) is None


@pytest.mark.parametrize(("ticket", "report"), MERGED)
def test_a_report_the_scorer_merges_shares_a_key_with_the_ticket(ticket: str, report: str) -> None:
    match = score(report, "property", OpenTicket(1, ticket, "property", NOW))
    assert match.decision == MERGE
    assert {x.key for x in lookups(features(report))} & index_keys(features(ticket))


def test_places_that_differ_share_no_key() -> None:
    assert not {x.key for x in lookups(features("8号楼楼道灯坏了"))} & index_keys(features("9号楼楼道灯坏了"))


def test_reports_naming_no_place_read_only_their_category() -> None:
    assert all(x.same_category for x in lookups(features("是啊 路灯坏好久了")))
    assert not any(x.same_category for x in lookups(features("3栋路灯坏了")))

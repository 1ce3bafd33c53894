from __future__ import annotations

import pytest

from gridbot.nlp.pii import find, id_checksum_ok, luhn_ok, mask

WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)


def make_id(body17: str) -> str:
    return body17 + "10X98765432"[sum(int(d) * w for d, w in zip(body17, WEIGHTS, strict=True)) % 11]


def make_card(body: str) -> str:
    for last in "0123456789":
        if luhn_ok(body + last):
            return body + last
    raise AssertionError


VALID_ID = make_id("32010219850321123")
WRONG_CHECK_ID = VALID_ID[:17] + ("0" if VALID_ID[17] != "0" else "1")


def test_id_checksum() -> None:
    assert id_checksum_ok(VALID_ID)
    assert id_checksum_ok("11010519491231002X")  # the GB 11643 sample number
    assert not id_checksum_ok(WRONG_CHECK_ID)
    assert not id_checksum_ok("12345")


def test_valid_id_is_masked_as_id() -> None:
    spans = find(f"我身份证号{VALID_ID}麻烦登记")
    assert [s.kind for s in spans] == ["id_card"]
    assert VALID_ID not in mask(f"我身份证号{VALID_ID}")


def test_invalid_id_is_not_an_id_but_still_masked() -> None:
    spans = find(f"身份证{WRONG_CHECK_ID}")
    assert [s.kind for s in spans] == ["digits"]
    assert WRONG_CHECK_ID not in mask(f"身份证{WRONG_CHECK_ID}")


def test_bank_card_luhn() -> None:
    card = make_card("622202123456789012")
    assert [s.kind for s in find(f"卡号{card}")] == ["bank_card"]
    grouped = " ".join(card[i : i + 4] for i in range(0, len(card), 4))
    assert [s.kind for s in find(f"卡号 {grouped} 谢谢")] == ["bank_card"]
    assert mask(f"卡号{card}") == "卡号[银行卡号]"


@pytest.mark.parametrize(
    ("text", "kind", "masked"),
    [
        ("电话13812345678找我", "mobile", "电话[手机号]找我"),
        ("打138 1234 5678", "mobile", "打[手机号]"),
        ("+86 13912345678", "mobile", "[手机号]"),
        ("座机025-83456789", "landline", "座机[电话]"),
        ("(0512)65432100", "landline", "[电话]"),
        ("苏A12345堵住消防通道了", "plate", "[车牌号]堵住消防通道了"),
        ("粤B·D12345", "plate", "[车牌号]"),  # new-energy plate, 8 characters
        ("京AD12345乱停", "plate", "[车牌号]乱停"),
        ("3栋2单元301室漏水", "address", "[门牌号]漏水"),
        ("12幢502的住户", "address", "[门牌号]的住户"),
        ("5号楼1单元502漏水到楼下了", "address", "[门牌号]漏水到楼下了"),
        ("住3-2-301", "address", "住[门牌号]"),
    ],
)
def test_detectors(text: str, kind: str, masked: str) -> None:
    assert [s.kind for s in find(text)] == [kind]
    assert mask(text) == masked


@pytest.mark.parametrize("text", ["3栋电梯坏了", "2024-05-01开会", "明天9点", "群里有120人", "物业费2.5元"])
def test_no_false_positives(text: str) -> None:
    assert mask(text) == text


def test_spans_are_ordered_and_disjoint() -> None:
    text = f"张三13812345678住3栋2单元301室，车苏A12345，身份证{VALID_ID}"
    spans = find(text)
    assert [s.kind for s in spans] == ["mobile", "address", "plate", "id_card"]
    assert all(a.end <= b.start for a, b in zip(spans, spans[1:], strict=False))
    assert all(text[s.start : s.end] == s.text for s in spans)


def test_empty_and_long_inputs() -> None:
    assert find("") == []
    assert mask("楼" * 5000) == "楼" * 5000


@pytest.mark.parametrize("text", ["3栋2单元楼道灯坏了", "5号楼1单元门口堆满垃圾", "12幢的电梯又停了"])
def test_a_building_or_stairwell_is_kept(text: str) -> None:
    """A building and unit locate a problem shared by many households, not a person: not masked."""
    assert mask(text) == text

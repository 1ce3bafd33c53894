"""Find and mask personal data in Chinese text: phones, ID and bank card numbers, plates, room addresses.

Decisions:
- An 18-character run counts as an ID-card number only when its GB 11643 checksum is valid.
  Any other run of 15-19 digits (a mistyped ID, a card failing Luhn, an old 15-digit ID) is still
  masked, as kind ``digits``: a long number in a resident's message is far more often personal than not.
- A bank card is 16-19 digits (optionally grouped by 4) that pass the Luhn check.
- A room-level address is a building number with a room, with or without the unit (3栋2单元301室,
  12幢502, 3-2-301), a unit with a room (2单元502), or a bare room (301室). A building or a stairwell
  alone (3栋, 5号楼1单元) is kept: it locates a problem shared by many households, not a person.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

TAGS = {
    "mobile": "[手机号]",
    "landline": "[电话]",
    "id_card": "[身份证号]",
    "bank_card": "[银行卡号]",
    "digits": "[长数字]",
    "plate": "[车牌号]",
    "address": "[门牌号]",
}

_NUM = "[0-9一二三四五六七八九十零〇两]"
_MOBILE_RE = re.compile(r"(?<![\d+])(?:\+?86[- ]?)?1[3-9]\d[- ]?\d{4}[- ]?\d{4}(?!\d)")
_LANDLINE_RE = re.compile(
    r"(?<!\d)(?:[(（]0\d{2,3}[)）]\s?|0\d{2,3}-)\d{7,8}(?:-\d{1,4})?(?!\d)"
    r"|(?<!\d)0(?:10|2\d|[3-9]\d{2})\d{7,8}(?!\d)"
    r"|(?<=电话|座机)[：: ]?\d{7,8}(?!\d)"
)
_LONG_RE = re.compile(
    r"(?<![\dA-Za-z])(?:\d{17}[\dXx]|\d{15,19}|\d{4}(?:[ -]\d{4}){3}(?:[ -]?\d{1,3})?)(?![\dA-Za-z])"
)
_PLATE_RE = re.compile(
    r"[京津沪渝冀豫云辽黑湘皖鲁新苏浙赣鄂桂甘晋蒙陕吉闽贵粤青藏川宁琼][A-HJ-NP-Za-hj-np-z][·•\s]?"
    r"(?:[A-HJ-NP-Za-hj-np-z0-9]{6}|[A-HJ-NP-Za-hj-np-z0-9]{4}[A-HJ-NP-Za-hj-np-z0-9挂学警])(?![A-Za-z0-9])"
)
_BUILDING = rf"{_NUM}{{1,4}}\s?(?:号楼|栋|幢|座|号院|号?楼)"
_UNIT = rf"{_NUM}{{1,3}}\s?(?:单元|门|号门)"
_ROOM = r"\d{3,4}\s?(?:室|号|房|户)?"
_ADDRESS_RE = re.compile(
    rf"{_BUILDING}[-—\s]?(?:{_UNIT}[-—\s]?)?{_ROOM}(?!\d)"
    rf"|(?<![\d-])\d{{1,3}}-\d{{1,2}}-\d{{3,4}}(?![\d-])"
    rf"|{_UNIT}[-—\s]?\d{{3,4}}\s?(?:室|号|房|户)?(?!\d)"
    r"|(?<!\d)\d{3,4}\s?(?:室|房间)"
)
_ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)


@dataclass(frozen=True)
class PiiSpan:
    """One piece of personal data: its kind, character offsets and the matched text."""

    kind: str
    start: int
    end: int
    text: str


def id_checksum_ok(number: str) -> bool:
    """True for an 18-character PRC resident ID number whose GB 11643 check character is right."""
    if len(number) != 18 or not number[:17].isdigit() or number[0] == "0":
        return False
    total = sum(int(d) * w for d, w in zip(number[:17], _ID_WEIGHTS, strict=True))
    return "10X98765432"[total % 11] == number[17].upper()


def luhn_ok(number: str) -> bool:
    """True when a digit string passes the Luhn check used by bank cards."""
    if not number.isdigit():
        return False
    total = 0
    for i, ch in enumerate(reversed(number)):
        d = int(ch)
        if i % 2 == 1:
            d = d * 2 - 9 if d > 4 else d * 2
        total += d
    return total % 10 == 0


def _long_kind(raw: str) -> str:
    digits = re.sub(r"[ -]", "", raw)
    if id_checksum_ok(digits):
        return "id_card"
    if 16 <= len(digits) <= 19 and luhn_ok(digits):
        return "bank_card"
    return "digits"


def find(text: str) -> list[PiiSpan]:
    """All personal-data spans in text, non-overlapping, in order."""
    if not text:
        return []
    found: list[PiiSpan] = []
    for m in _LONG_RE.finditer(text):
        found.append(PiiSpan(_long_kind(m.group()), m.start(), m.end(), m.group()))
    for kind, regex in (
        ("mobile", _MOBILE_RE),
        ("landline", _LANDLINE_RE),
        ("plate", _PLATE_RE),
        ("address", _ADDRESS_RE),
    ):
        for m in regex.finditer(text):
            if kind == "plate" and not any(c.isdigit() for c in m.group()):
                continue
            found.append(PiiSpan(kind, m.start(), m.end(), m.group()))
    # Earlier detectors win ties: long numbers before phones, so an ID is never split into a phone.
    order = {
        k: i
        for i, k in enumerate(("id_card", "bank_card", "digits", "mobile", "landline", "plate", "address"))
    }
    found.sort(key=lambda s: (s.start, -(s.end - s.start), order[s.kind]))
    spans: list[PiiSpan] = []
    for span in found:
        if spans and span.start < spans[-1].end:
            continue
        spans.append(span)
    return spans


def mask(text: str) -> str:
    """Text with every personal-data span replaced by a tag such as [手机号] or [门牌号]."""
    spans = find(text)
    if not spans:
        return text
    out, pos = [], 0
    for span in spans:
        out.append(text[pos : span.start])
        out.append(TAGS[span.kind])
        pos = span.end
    out.append(text[pos:])
    return "".join(out)

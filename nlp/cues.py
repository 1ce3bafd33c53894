"""Entity cues in a message: which building, unit and room it is about."""

from __future__ import annotations

import re
from dataclasses import dataclass

_DIGITS = {
    "零": 0,
    "〇": 0,
    "一": 1,
    "二": 2,
    "两": 2,
    "三": 3,
    "四": 4,
    "五": 5,
    "六": 6,
    "七": 7,
    "八": 8,
    "九": 9,
}
_NUM = "[0-9零〇一二两三四五六七八九十百]{1,4}"
_BUILDING_RE = re.compile(rf"({_NUM})\s?(?:号楼|栋|幢|座|号院|楼(?=\d|[一二三四五六七八九十]|单元|$))")
_UNIT_RE = re.compile(rf"({_NUM})\s?(?:单元|号门)")
_ROOM_RE = re.compile(
    r"(?<![\d-])(\d{3,4})\s?(?:室|房|号(?!楼))|(?<=单元)-?(\d{3,4})(?!\d)|(?<=[栋幢座])-?(\d{3,4})(?!\d)"
)
_TRIPLE_RE = re.compile(r"(?<![\d-])(\d{1,3})-(\d{1,2})-(\d{3,4})(?![\d-])")


@dataclass(frozen=True)
class Location:
    """Building, unit and room named in a message, as numbers when given (None when absent)."""

    building: int | None = None
    unit: int | None = None
    room: int | None = None

    def __bool__(self) -> bool:
        return any(v is not None for v in (self.building, self.unit, self.room))


def chinese_number(text: str) -> int | None:
    """Value of a small Arabic or Chinese numeral (12, 十二, 二十三, 一百零五); None if not one."""
    if text.isdigit():
        return int(text)
    if not text or any(ch not in _DIGITS and ch not in "十百" for ch in text):
        return None
    total, current = 0, 0
    for ch in text:
        if ch == "百":
            total += (current or 1) * 100
            current = 0
        elif ch == "十":
            total += (current or 1) * 10
            current = 0
        else:
            current = current * 10 + _DIGITS[ch] if current else _DIGITS[ch]
    return total + current


def location(text: str) -> Location:
    """The first building/unit/room mentioned in text (3栋2单元301室, 12幢502, 3-2-301)."""
    triple = _TRIPLE_RE.search(text)
    if triple:
        return Location(int(triple.group(1)), int(triple.group(2)), int(triple.group(3)))
    b = _BUILDING_RE.search(text)
    u = _UNIT_RE.search(text)
    r = _ROOM_RE.search(text)
    room_text = next((g for g in r.groups() if g), None) if r else None
    return Location(
        chinese_number(b.group(1)) if b else None,
        chinese_number(u.group(1)) if u else None,
        int(room_text) if room_text else None,
    )


def same_place(a: Location, b: Location) -> bool:
    """True when two locations share a building and do not contradict each other on unit or room."""
    if a.building is None or b.building is None or a.building != b.building:
        return False
    if a.unit is not None and b.unit is not None and a.unit != b.unit:
        return False
    return not (a.room is not None and b.room is not None and a.room != b.room)

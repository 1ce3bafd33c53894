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


# Shared places residents name instead of a building: gates, yards, facilities (synonyms folded).
_LANDMARKS = {
    "东门": "东门",
    "西门": "西门",
    "南门": "南门",
    "北门": "北门",
    "正门": "大门",
    "大门": "大门",
    "侧门": "侧门",
    "地下车库": "车库",
    "车库": "车库",
    "停车场": "停车场",
    "广场": "广场",
    "花园": "花园",
    "水池": "水池",
    "垃圾站": "垃圾站",
    "垃圾房": "垃圾站",
    "幼儿园": "幼儿园",
    "活动中心": "活动中心",
    "服务站": "服务站",
    "篮球场": "篮球场",
    "门卫": "门卫",
    "绿化带": "绿化带",
    "菜市场": "菜市场",
    "公交站": "公交站",
}
_LANDMARK_RE = re.compile("|".join(sorted(map(re.escape, _LANDMARKS), key=len, reverse=True)))
_ROAD_RE = re.compile(r"([\u4e00-\u9fa5]{2,4}?(?:路|街|巷|大道))(?![灯口面边])")
_NOT_ROADS = ("马路", "道路", "小路", "走路", "上路", "过路", "大街", "这条路", "那条路", "路上")


@dataclass(frozen=True)
class Place:
    """Where a report is: building/unit/room, and the shared landmarks and roads it names."""

    location: Location
    landmarks: frozenset[str]
    roads: frozenset[str]

    def __bool__(self) -> bool:
        return bool(self.location) or bool(self.landmarks) or bool(self.roads)


def place(text: str) -> Place:
    """Every place cue of a message."""
    landmarks = frozenset(_LANDMARKS[m] for m in _LANDMARK_RE.findall(text))
    roads = frozenset(r for r in _ROAD_RE.findall(text) if not any(n in r for n in _NOT_ROADS))
    return Place(location(text), landmarks, roads)


def strip_places(text: str) -> str:
    """The text without its place phrases, leaving what the problem is."""
    for pattern in (_TRIPLE_RE, _BUILDING_RE, _UNIT_RE, _ROOM_RE, _LANDMARK_RE, _ROAD_RE):
        text = pattern.sub(" ", text)
    return text


def places_agree(a: Place, b: Place) -> bool | None:
    """True: the same place; False: different places; None: nothing to compare (one or both vague)."""
    la, lb = a.location, b.location
    if la.building is not None and lb.building is not None:
        return same_place(la, lb)
    if a.landmarks and b.landmarks:
        return bool(a.landmarks & b.landmarks)
    if a.roads and b.roads:
        return bool(a.roads & b.roads)
    if (la.building is None) != (lb.building is None) and (la or lb):
        # one names a building, the other only a landmark or road: not the same spot
        return False if (a.landmarks or a.roads or b.landmarks or b.roads) else None
    return None

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
    "菜场": "菜市场",
    "农贸市场": "菜市场",
    "地铁站": "地铁站",
    "地铁口": "地铁站",
    "小学": "小学",
    "中学": "中学",
    "卫生院": "卫生院",
    "卫生室": "卫生院",
    # villages: a grid there is a village or part of one, and its places are these
    "村口": "村口",
    "村委会": "村委会",
    "村委": "村委会",
    "村部": "村委会",
    "大队部": "村委会",
    "祠堂": "祠堂",
    "晒谷场": "晒谷场",
    "晒场": "晒谷场",
    "桥头": "桥头",
    "河边": "河边",
    "河道": "河边",
    "池塘": "池塘",
    "水塘": "池塘",
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


# What a report is about: the thing that is broken or the nuisance, by its usual names. Two reports
# naming the same thing in the same place (or both nowhere in particular) are one problem even
# when the rest of their words differ (「路灯又不亮了 黑灯瞎火的」 / 「路灯不亮，骑车差点掉沟里」).
_OBJECTS = {
    "楼道灯": "楼道灯",
    "声控灯": "楼道灯",
    "感应灯": "楼道灯",
    "路灯": "路灯",
    "电梯": "电梯",
    "水管": "水管",
    "自来水管": "水管",
    "下水道": "下水道",
    "下水管": "下水道",
    "化粪池": "下水道",
    "窨井": "下水道",
    "污水": "下水道",
    "井盖": "井盖",
    "道闸": "道闸",
    "门禁": "单元门",
    "防盗门": "单元门",
    "单元门": "单元门",
    "空调": "空调",
    "健身器材": "健身器材",
    "垃圾": "垃圾",
    "流浪狗": "狗",
    "野狗": "狗",
    "狗": "狗",
    "流浪猫": "猫",
    "积水": "积水",
    "停水": "停水",
    "没水": "停水",
    "停电": "停电",
    "没电": "停电",
    "燃气": "燃气",
    "煤气": "燃气",
    "天然气": "燃气",
    "广场舞": "广场舞",
    "装修": "装修",
    "电钻": "装修",
    "违建": "违建",
    "违章建筑": "违建",
    "搭棚": "违建",
    "摆摊": "摊贩",
    "摊贩": "摊贩",
    "小摊": "摊贩",
    "占道": "摊贩",
    "瓷砖": "外墙",
    "墙皮": "外墙",
    "外墙": "外墙",
    "漏水": "漏水",
    "渗水": "漏水",
    "树枝": "树木",
    "大树": "树木",
    "飞线充电": "飞线充电",
    "楼道充电": "飞线充电",
}
_OBJECT_RE = re.compile("|".join(sorted(map(re.escape, _OBJECTS), key=len, reverse=True)))
# a message agreeing with or chasing a report already made: 「是啊 路灯坏好久了」, 「路灯的事有人管没」
_REFERS_BACK = re.compile(
    r"^(?:是啊|是的|对啊|对的|对|确实|同上|同样|\+1|我家也|我们家也|我们这也|我们也|我也|俺家也)"
    r"|有人管(?:吗|没|不)|没人管|管不管|怎么还|咋还|还没(?:有)?(?:修|处理|解决|人|弄|来|好)|还在|还是|依然|仍然"
    r"|(?:的|那)事(?:情)?(?:有|怎么|咋|到底)"
)


def objects(text: str) -> frozenset[str]:
    """The things a message is about (canonical names), from the lexicon above."""
    return frozenset(_OBJECTS[m] for m in _OBJECT_RE.findall(text))


def refers_back(text: str) -> bool:
    """Whether a message agrees with or chases something already reported rather than telling news."""
    return _REFERS_BACK.search(text.strip()) is not None

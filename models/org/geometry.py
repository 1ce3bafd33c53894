"""Grid positions for the dashboard's map: a centre point and/or a GeoJSON outline, checked strictly.

Coordinates are longitude/latitude degrees in WGS-84 or GCJ-02 (the 高德/腾讯 system; the two differ
by a few hundred metres, which a city overview does not show) — one system for a whole city. Baidu's
BD-09 cannot be told apart and is not supported. Every position must lie in China's extent, which
also catches swapped columns (纬度 in the 经度 column).

An outline is a GeoJSON Polygon or MultiPolygon (bare, or inside a Feature): closed rings of at
least four positions, no ring crossing itself, at most MAX_POINTS positions per grid. Validation is
structural and pure Python (no GEOS): a grid outline has tens of points, not thousands. Each check
returns a Chinese message, never raises, so the importer can list every bad cell at once.
"""

from __future__ import annotations

import json
import math
from typing import Any

LNG_RANGE = (73.0, 136.0)  # China's extent, generous (WGS-84 and GCJ-02 alike)
LAT_RANGE = (3.0, 54.0)
MAX_POINTS = 2000
MAX_TEXT = 1_000_000  # characters of one outline's GeoJSON
Point = tuple[float, float]


class GeometryError(ValueError):
    """A position or outline is unusable; the message is Chinese and names what is wrong."""


def _number(raw: Any, what: str) -> float:
    if isinstance(raw, bool):
        raise GeometryError(f"{what}不是数字")
    if isinstance(raw, int | float):
        value = float(raw)
    else:
        try:
            value = float(str(raw).strip())
        except ValueError:
            raise GeometryError(f"{what}「{raw}」不是数字（请填小数度数，如 118.7969）") from None
    if not math.isfinite(value):
        raise GeometryError(f"{what}不是有限的数字")
    return value


def check_point(lng: float, lat: float, where: str = "") -> Point:
    """(lng, lat) when inside China's extent; otherwise a GeometryError saying which way it is off."""
    lng_ok = LNG_RANGE[0] <= lng <= LNG_RANGE[1]
    lat_ok = LAT_RANGE[0] <= lat <= LAT_RANGE[1]
    if lng_ok and lat_ok:
        return lng, lat
    if LNG_RANGE[0] <= lat <= LNG_RANGE[1] and LAT_RANGE[0] <= lng <= LAT_RANGE[1]:
        raise GeometryError(f"{where}经度 {lng}、纬度 {lat} 似乎填反了（经度在前，约 73–136；纬度约 3–54）")
    if not lng_ok:
        raise GeometryError(f"{where}经度 {lng} 不在中国范围（约 73–136）内")
    raise GeometryError(f"{where}纬度 {lat} 不在中国范围（约 3–54）内")


def parse_center(lng_raw: str, lat_raw: str) -> Point | None:
    """The centre from two cells (both empty: None); GeometryError when only one is given or it is off."""
    if not lng_raw and not lat_raw:
        return None
    if not lng_raw or not lat_raw:
        raise GeometryError("中心经度和中心纬度要么都填，要么都不填")
    return check_point(_number(lng_raw, "中心经度"), _number(lat_raw, "中心纬度"))


def parse_outline(raw: str | dict[str, Any]) -> dict[str, Any]:
    """A normalised GeoJSON Polygon/MultiPolygon (coordinates as floats) from text or a parsed object."""
    if isinstance(raw, str):
        if len(raw) > MAX_TEXT:
            raise GeometryError("边界 GeoJSON 太大（超过 100 万字符），请简化")
        try:
            obj = json.loads(raw)
        except ValueError:
            raise GeometryError("边界不是有效的 GeoJSON（JSON 格式错误）") from None
    else:
        obj = raw
    if not isinstance(obj, dict):
        raise GeometryError("边界应是 GeoJSON 对象（Polygon、MultiPolygon 或包含它们的 Feature）")
    if obj.get("type") == "Feature":
        obj = obj.get("geometry")
        if not isinstance(obj, dict):
            raise GeometryError("GeoJSON Feature 缺少 geometry")
    kind = obj.get("type")
    coords = obj.get("coordinates")
    if kind == "Polygon":
        polygons = [_polygon(coords, "")]
    elif kind == "MultiPolygon":
        if not isinstance(coords, list) or not coords:
            raise GeometryError("MultiPolygon 的 coordinates 应是非空的多边形数组")
        polygons = [_polygon(p, f"第{i + 1}个多边形") for i, p in enumerate(coords)]
    else:
        raise GeometryError(f"边界类型应为 Polygon 或 MultiPolygon，而不是「{kind}」")
    points = sum(len(ring) for poly in polygons for ring in poly)
    if points > MAX_POINTS:
        raise GeometryError(f"边界共 {points} 个点，超过 {MAX_POINTS}，请在 GIS 软件中简化后再导入")
    if kind == "Polygon":
        return {"type": "Polygon", "coordinates": [[list(p) for p in ring] for ring in polygons[0]]}
    return {
        "type": "MultiPolygon",
        "coordinates": [[[list(p) for p in ring] for ring in poly] for poly in polygons],
    }


def _polygon(rings: Any, where: str) -> list[list[Point]]:
    if not isinstance(rings, list) or not rings:
        raise GeometryError(f"{where}多边形的 coordinates 应是非空的环数组")
    out = []
    for i, ring in enumerate(rings):
        name = f"{where}外环" if i == 0 else f"{where}第{i}个内环"
        out.append(_ring(ring, name))
    return out


def _ring(ring: Any, name: str) -> list[Point]:
    if not isinstance(ring, list) or len(ring) < 4:
        raise GeometryError(f"{name}至少要有 4 个点（首尾相同）")
    points: list[Point] = []
    for j, pos in enumerate(ring):
        if not isinstance(pos, list) or len(pos) < 2:
            raise GeometryError(f"{name}第{j + 1}个点应是 [经度, 纬度]")
        lng = _number(pos[0], f"{name}第{j + 1}个点的经度")
        lat = _number(pos[1], f"{name}第{j + 1}个点的纬度")
        points.append(check_point(lng, lat, f"{name}第{j + 1}个点："))
    if points[0] != points[-1]:
        raise GeometryError(f"{name}没有闭合：第一个点和最后一个点应相同")
    if len(set(points[:-1])) < 3:
        raise GeometryError(f"{name}少于 3 个不同的点，围不成面")
    crossing = _self_crossing(points)
    if crossing is not None:
        raise GeometryError(f"{name}自相交（第{crossing[0] + 1}条边与第{crossing[1] + 1}条边交叉）")
    if abs(_area(points)) == 0:
        raise GeometryError(f"{name}面积为 0（所有点在一条线上）")
    return points


def _area(ring: list[Point]) -> float:
    return sum(a[0] * b[1] - b[0] * a[1] for a, b in zip(ring, ring[1:], strict=False)) / 2


def _orient(a: Point, b: Point, c: Point) -> float:
    return (b[0] - a[0]) * (c[1] - a[1]) - (b[1] - a[1]) * (c[0] - a[0])


def _on_segment(a: Point, b: Point, p: Point) -> bool:
    return min(a[0], b[0]) <= p[0] <= max(a[0], b[0]) and min(a[1], b[1]) <= p[1] <= max(a[1], b[1])


def _cross(a: Point, b: Point, c: Point, d: Point) -> bool:
    """Whether segments ab and cd share a point (touching counts)."""
    d1, d2, d3, d4 = _orient(c, d, a), _orient(c, d, b), _orient(a, b, c), _orient(a, b, d)
    if ((d1 > 0 > d2) or (d1 < 0 < d2)) and ((d3 > 0 > d4) or (d3 < 0 < d4)):
        return True
    return (
        (d1 == 0 and _on_segment(c, d, a))
        or (d2 == 0 and _on_segment(c, d, b))
        or (d3 == 0 and _on_segment(a, b, c))
        or (d4 == 0 and _on_segment(a, b, d))
    )


def _folds_back(a: Point, b: Point, c: Point) -> bool:
    """Edges a→b then b→c on one line, the second turning back over the first (a spike)."""
    dot = (b[0] - a[0]) * (c[0] - b[0]) + (b[1] - a[1]) * (c[1] - b[1])
    return _orient(a, b, c) == 0 and dot < 0


def _self_crossing(ring: list[Point]) -> tuple[int, int] | None:
    """The first pair of non-adjacent edges that meet (a bow-tie, a spike back over itself), or None."""
    edges = [(ring[i], ring[i + 1]) for i in range(len(ring) - 1)]
    n = len(edges)
    boxes = [
        (min(a[0], b[0]), max(a[0], b[0]), min(a[1], b[1]), max(a[1], b[1])) for a, b in edges
    ]  # a cheap box test first keeps the n² loop fast for real outlines
    for i in range(n):
        bi = boxes[i]
        for j in range(i + 1, n):
            if j == i + 1 or (i == 0 and j == n - 1):
                # neighbours share an end point; they meet elsewhere only by folding back on each other
                first, second = (edges[i], edges[j]) if j == i + 1 else (edges[j], edges[i])
                if _folds_back(first[0], first[1], second[1]):
                    return i, j
                continue
            bj = boxes[j]
            if bi[1] < bj[0] or bj[1] < bi[0] or bi[3] < bj[2] or bj[3] < bi[2]:
                continue
            if _cross(*edges[i], *edges[j]):
                return i, j
    return None


def centroid(outline: dict[str, Any]) -> Point:
    """The area centroid of the largest polygon's outer ring (a point to draw when only the outline is known)."""
    polygons = outline["coordinates"] if outline["type"] == "MultiPolygon" else [outline["coordinates"]]
    rings = [[(float(p[0]), float(p[1])) for p in poly[0]] for poly in polygons]
    ring = max(rings, key=lambda r: abs(_area(r)))
    a = _area(ring)
    cx = sum((p[0] + q[0]) * (p[0] * q[1] - q[0] * p[1]) for p, q in zip(ring, ring[1:], strict=False))
    cy = sum((p[1] + q[1]) * (p[0] * q[1] - q[0] * p[1]) for p, q in zip(ring, ring[1:], strict=False))
    return round(cx / (6 * a), 6), round(cy / (6 * a), 6)

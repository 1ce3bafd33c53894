"""Where grids are: writing a checked centre/outline onto a grid, and the GeoJSON file import.

`gridbot org import-geo 网格边界.geojson` reads a FeatureCollection whose features carry the grid
code in a property (编码, 网格编码, code or grid_code) and a Polygon/MultiPolygon geometry; an
optional 中心经度/中心纬度 (or center_lng/center_lat) pair overrides the computed centre. Like the
sheet import it is all-or-nothing (every bad feature listed, nothing written) and idempotent: an
unchanged outline is reported as unchanged and not rewritten.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from gridbot.models.entities import Grid, Region
from gridbot.models.org.directory import DirectoryError, refusal
from gridbot.models.org.geometry import GeometryError, Point, centroid, parse_center, parse_outline

CODE_KEYS = ("编码", "网格编码", "code", "grid_code")
MAX_BYTES = 200_000_000


@dataclass(frozen=True)
class Position:
    """A grid's checked centre and outline; None leaves what the grid has."""

    center: Point | None
    outline: dict[str, Any] | None


def position_changes(grid: Grid, position: Position) -> list[str]:
    """What applying the position would change, in Chinese (empty: nothing)."""
    out = []
    if position.center is not None and (grid.center_lng, grid.center_lat) != position.center:
        out.append("中心点")
    if position.outline is not None and grid.geometry != position.outline:
        out.append("边界")
    return out


def apply_position(grid: Grid, position: Position) -> str:
    """Write the position onto the grid; returns what changed ("中心点、边界"), empty when nothing did."""
    changed = position_changes(grid, position)
    if position.center is not None and "中心点" in changed:
        grid.center_lng, grid.center_lat = position.center
    if position.outline is not None and "边界" in changed:
        grid.geometry = position.outline
    return "、".join(changed)


@dataclass(frozen=True)
class FeatureError:
    """One bad feature of a GeoJSON file, located by its number in the file and the property at fault."""

    file: str
    number: int
    field: str
    message: str

    def __str__(self) -> str:
        return f"「{self.file}」第{self.number}个要素「{self.field}」：{self.message}"


class GeoImportError(DirectoryError):
    """The file has errors; nothing was imported. `errors` lists every one."""

    def __init__(self, errors: list[FeatureError]) -> None:
        super().__init__(refusal(errors))
        self.errors = errors


@dataclass
class GeoReport:
    """What a GeoJSON import did (or would do)."""

    updated: int = 0
    unchanged: int = 0
    changes: list[str] = field(default_factory=list)

    def summary(self) -> str:
        """One line of counts."""
        return f"网格位置：更新 {self.updated}，不变 {self.unchanged}"


def _code(props: dict[str, Any]) -> str:
    for key in CODE_KEYS:
        value = props.get(key)
        if value not in (None, ""):
            return str(int(value) if isinstance(value, float) and value.is_integer() else value).strip()
    return ""


def _features(data: bytes, name: str) -> list[Any]:
    if len(data) > MAX_BYTES:
        raise GeoImportError([FeatureError(name, 0, "文件", "超过 200 MB，请按区分成几个文件导入")])
    try:
        doc = json.loads(data.decode("utf-8-sig"))
    except (UnicodeDecodeError, ValueError):
        raise GeoImportError(
            [FeatureError(name, 0, "文件", "不是 UTF-8 编码的 GeoJSON（JSON 格式错误）")]
        ) from None
    if isinstance(doc, dict) and doc.get("type") == "Feature":
        return [doc]
    if (
        not isinstance(doc, dict)
        or doc.get("type") != "FeatureCollection"
        or not isinstance(doc.get("features"), list)
    ):
        raise GeoImportError([FeatureError(name, 0, "type", "文件应是 GeoJSON 的 FeatureCollection")])
    crs = doc.get("crs")
    if isinstance(crs, dict) and "4326" not in json.dumps(crs) and "CRS84" not in json.dumps(crs):
        raise GeoImportError(
            [FeatureError(name, 0, "crs", "坐标系应为经纬度（WGS-84 或 GCJ-02），请先在 GIS 软件中转换")]
        )
    return list(doc["features"])


def import_geo(session: Session, data: bytes, name: str, scope: Region | None = None) -> GeoReport:
    """Set the outline (and centre) of each grid named in the file; raise GeoImportError listing every bad feature."""
    errors: list[FeatureError] = []
    report = GeoReport()
    seen: dict[str, int] = {}
    for number, feature in enumerate(_features(data, name), start=1):
        if not isinstance(feature, dict) or feature.get("type") != "Feature":
            errors.append(FeatureError(name, number, "type", "不是 GeoJSON Feature"))
            continue
        raw_props = feature.get("properties")
        props: dict[str, Any] = raw_props if isinstance(raw_props, dict) else {}
        code = _code(props)
        if not code:
            errors.append(FeatureError(name, number, "编码", "缺少网格编码（属性 编码 或 code）"))
            continue
        if code in seen:
            errors.append(FeatureError(name, number, "编码", f"网格 {code} 与第{seen[code]}个要素重复"))
            continue
        seen[code] = number
        grid = session.scalar(select(Grid).where(Grid.code == code))
        if grid is None:
            errors.append(FeatureError(name, number, "编码", f"没有编码为 {code} 的网格，请先导入组织架构表"))
            continue
        if scope is not None and not grid.region_path.startswith(scope.path):
            errors.append(FeatureError(name, number, "编码", f"网格 {code} 超出您的管辖范围"))
            continue
        try:
            outline = parse_outline(feature.get("geometry") or {})
        except GeometryError as exc:
            errors.append(FeatureError(name, number, "geometry", str(exc)))
            continue
        lng = props.get("中心经度", props.get("center_lng"))
        lat = props.get("中心纬度", props.get("center_lat"))
        try:
            center = parse_center(
                "" if lng is None else str(lng), "" if lat is None else str(lat)
            ) or centroid(outline)
        except GeometryError as exc:
            errors.append(FeatureError(name, number, "中心经度", str(exc)))
            continue
        changed = apply_position(grid, Position(center, outline))
        if changed:
            report.updated += 1
            report.changes.append(f"网格 {code} {grid.name}：更新{changed}")
        else:
            report.unchanged += 1
    if errors:
        raise GeoImportError(errors)
    session.flush()
    return report

"""Grid positions for the map: the 网格 sheet's 中心经度/中心纬度/边界 and POST /org/import-geo."""

from __future__ import annotations

import json

import httpx
import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from gridbot.models.entities import Grid
from tests.api.conftest import Tokens
from tests.api.test_org_api import PEOPLE, REGIONS, XLSX
from tests.conftest import World
from tests.orgsheet import workbook

pytestmark = pytest.mark.anyio
HEADER = ["编码", "名称", "所属社区编码", "户数", "类型", "中心经度", "中心纬度", "边界"]
SQUARE = [[118.77, 32.05], [118.78, 32.05], [118.78, 32.06], [118.77, 32.06], [118.77, 32.05]]
OUTLINE = {"type": "Polygon", "coordinates": [SQUARE]}
BOW_TIE = [[118.77, 32.05], [118.78, 32.06], [118.78, 32.05], [118.77, 32.06], [118.77, 32.05]]


def grid_row(*position: object) -> list[object]:
    return ["G003", "五台山第三网格", "NJ-GL-HL-01", 210, "综合", *position]


def stored(factory: sessionmaker[Session], code: str = "G003") -> tuple[object, object, object]:
    with factory() as session:
        g = session.scalars(select(Grid).where(Grid.code == code)).one()
        return g.center_lng, g.center_lat, g.geometry


async def test_sheet_with_centre_and_outline_is_stored_and_reimport_is_unchanged(
    client: httpx.AsyncClient, tokens: Tokens, world: World, session_factory: sessionmaker[Session]
) -> None:
    grids = [HEADER, grid_row(118.7751, 32.0549, json.dumps(OUTLINE))]
    body = workbook(REGIONS, grids, PEOPLE)
    first = await client.post("/org/import", content=body, headers={**tokens.community, **XLSX})
    assert first.status_code == 200, first.text
    assert "新增网格 G003 五台山第三网格（210 户，含中心点、边界）" in first.json()["changes"]
    assert stored(session_factory) == (118.7751, 32.0549, OUTLINE)
    again = await client.post("/org/import", content=body, headers={**tokens.community, **XLSX})
    assert again.status_code == 200 and not [c for c in again.json()["changes"] if "G003" in c]
    # the dashboard's map serves what was imported
    resp = await client.get("/dashboard/api/map", headers=tokens.community)
    [g] = [g for g in resp.json()["grids"] if g["code"] == "G003"]
    assert g["center"] == [118.7751, 32.0549] and g["geometry"] == OUTLINE


async def test_outline_alone_gives_its_centroid_and_empty_cells_keep_the_position(
    client: httpx.AsyncClient, tokens: Tokens, world: World, session_factory: sessionmaker[Session]
) -> None:
    with_outline = workbook(REGIONS, [HEADER, grid_row(None, None, json.dumps(OUTLINE))], PEOPLE)
    assert (
        await client.post("/org/import", content=with_outline, headers={**tokens.community, **XLSX})
    ).is_success
    assert stored(session_factory) == (118.775, 32.055, OUTLINE)
    # an old five-column sheet (no position columns) leaves the imported position alone
    old_sheet = workbook(REGIONS, [HEADER[:5], grid_row()], PEOPLE)
    resp = await client.post("/org/import", content=old_sheet, headers={**tokens.community, **XLSX})
    assert resp.status_code == 200 and stored(session_factory) == (118.775, 32.055, OUTLINE)


@pytest.mark.parametrize(
    ("position", "column", "says"),
    [
        ((32.05, 118.77, None), "中心经度", "似乎填反了"),
        ((118.77, None, None), "中心纬度", "要么都填"),
        (("东经118度", 32.05, None), "中心经度", "不是数字"),
        ((2.35, 48.85, None), "中心经度", "不在中国范围"),
        ((None, None, "{not json"), "边界", "JSON 格式错误"),
        ((None, None, json.dumps({"type": "Point", "coordinates": [118.77, 32.05]})), "边界", "Polygon"),
        ((None, None, json.dumps({"type": "Polygon", "coordinates": [SQUARE[:-1]]})), "边界", "没有闭合"),
        ((None, None, json.dumps({"type": "Polygon", "coordinates": [BOW_TIE]})), "边界", "自相交"),
    ],
)
async def test_bad_position_cells_are_named_and_nothing_is_written(
    client: httpx.AsyncClient,
    tokens: Tokens,
    world: World,
    session_factory: sessionmaker[Session],
    position: tuple[object, object, object],
    column: str,
    says: str,
) -> None:
    body = workbook(REGIONS, [HEADER, grid_row(*position)], PEOPLE)
    resp = await client.post("/org/import", content=body, headers={**tokens.community, **XLSX})
    assert resp.status_code == 422, resp.text
    [error] = resp.json()["errors"]
    assert (error["sheet"], error["row"], error["column"]) == ("网格", 2, column)
    assert says in error["message"] and "「网格」表第2行" in resp.json()["detail"]
    with session_factory() as session:
        assert session.scalar(select(Grid.id).where(Grid.code == "G003")) is None


def collection(*features: dict[str, object]) -> bytes:
    return json.dumps({"type": "FeatureCollection", "features": list(features)}).encode()


def feature(code: str, coords: list[list[float]], **props: object) -> dict[str, object]:
    geometry = {"type": "Polygon", "coordinates": [coords]}
    return {"type": "Feature", "properties": {"编码": code, **props}, "geometry": geometry}


async def test_geojson_file_sets_outlines_by_code_idempotently(
    client: httpx.AsyncClient, tokens: Tokens, world: World, session_factory: sessionmaker[Session]
) -> None:
    code = "G001"
    body = collection(feature(code, SQUARE, 中心经度=118.776, 中心纬度=32.054))
    geo = {**tokens.community, "Content-Type": "application/geo+json"}
    dry = await client.post("/org/import-geo?dry_run=true", content=body, headers=geo)
    assert dry.status_code == 200 and dry.json()["summary"] == "网格位置：更新 1，不变 0"
    assert stored(session_factory, code)[2] is None
    done = await client.post("/org/import-geo", content=body, headers=geo)
    assert done.status_code == 200 and stored(session_factory, code) == (118.776, 32.054, OUTLINE)
    again = await client.post("/org/import-geo", content=body, headers=geo)
    assert again.json()["summary"] == "网格位置：更新 0，不变 1"


async def test_geojson_file_errors_name_the_feature_and_write_nothing(
    client: httpx.AsyncClient, tokens: Tokens, world: World, session_factory: sessionmaker[Session]
) -> None:
    code = "G001"
    body = collection(
        feature(code, SQUARE),
        feature("NO-SUCH-GRID", SQUARE),
        feature("G101", BOW_TIE),
    )
    resp = await client.post(
        "/org/import-geo", content=body, headers={**tokens.city, "Content-Type": "application/geo+json"}
    )
    assert resp.status_code == 422, resp.text
    errors = {(e["feature"], e["field"]) for e in resp.json()["errors"]}
    assert errors == {(2, "编码"), (3, "geometry")}
    assert "第2个要素「编码」：没有编码为 NO-SUCH-GRID 的网格" in resp.json()["detail"]
    assert stored(session_factory, code)[2] is None  # the good first feature was not written either
    outside = await client.post(
        "/org/import-geo",
        content=collection(feature("G101", SQUARE)),
        headers={**tokens.community, "Content-Type": "application/geo+json"},
    )
    assert outside.status_code == 422 and "超出您的管辖范围" in outside.json()["detail"]
    junk = await client.post("/org/import-geo", content=b"<kml/>", headers=tokens.city)
    assert junk.status_code == 422 and "GeoJSON" in junk.json()["detail"]

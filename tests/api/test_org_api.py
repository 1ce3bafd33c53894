"""POST /org/import: the organisation sheet over the API, limited to the token's region."""

from __future__ import annotations

import httpx
import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from gridbot.models.entities import Grid, Person
from tests.api.conftest import Tokens
from tests.conftest import World
from tests.orgsheet import workbook

pytestmark = pytest.mark.anyio
XLSX = {"Content-Type": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"}

# the World's tree as the street office's sheet has it, plus one new grid and its gridworker
REGIONS: list[list[object]] = [
    ["编码", "名称", "层级", "上级编码"],
    ["NJ", "南京市", "市", None],
    ["NJ-GL", "鼓楼区", "区", "NJ"],
    ["NJ-GL-HL", "华侨路街道", "街道", "NJ-GL"],
    ["NJ-GL-HL-01", "五台山社区", "社区", "NJ-GL-HL"],
]
GRIDS: list[list[object]] = [
    ["编码", "名称", "所属社区编码", "户数", "类型"],
    ["G003", "五台山第三网格", "NJ-GL-HL-01", 210, "综合"],
]
PEOPLE: list[list[object]] = [
    ["姓名", "角色", "范围编码", "微信号", "手机号", "企业微信账号"],
    ["何静", "网格员", "G003", "hejing", None, None],
]


def grid_count(factory: sessionmaker[Session]) -> int:
    with factory() as session:
        return session.scalar(select(func.count()).select_from(Grid)) or 0


async def test_import_in_scope_dry_run_then_real(
    client: httpx.AsyncClient, tokens: Tokens, world: World, session_factory: sessionmaker[Session]
) -> None:
    body = workbook(REGIONS, GRIDS, PEOPLE)
    before = grid_count(session_factory)
    dry = await client.post("/org/import?dry_run=true", content=body, headers={**tokens.community, **XLSX})
    assert dry.status_code == 200, dry.text
    assert dry.json()["dry_run"] and "新增网格 G003 五台山第三网格（210 户）" in dry.json()["changes"]
    assert grid_count(session_factory) == before
    done = await client.post("/org/import", content=body, headers={**tokens.community, **XLSX})
    assert done.status_code == 200 and grid_count(session_factory) == before + 1
    with session_factory() as session:
        assert session.scalar(select(Person.wechat_id).where(Person.name == "何静")) == "hejing"


async def test_import_outside_the_token_region_is_refused_and_writes_nothing(
    client: httpx.AsyncClient, tokens: Tokens, world: World, session_factory: sessionmaker[Session]
) -> None:
    grids = [GRIDS[0], ["G103", "龙仓巷第三网格", "NJ-GL-HL-02", 100, "综合"]]  # the other community
    renamed = [*REGIONS[:4], ["NJ-GL-HL-01", "五台山社区", "社区", "NJ-GL-HL"]]
    renamed[1] = ["NJ", "南京", "市", None]  # renaming the city from a community token
    before = grid_count(session_factory)
    resp = await client.post(
        "/org/import", content=workbook(renamed, grids, PEOPLE[:1]), headers={**tokens.community, **XLSX}
    )
    assert resp.status_code == 422
    errors = {(e["sheet"], e["row"], e["column"]) for e in resp.json()["errors"]}
    assert errors == {("区域", 2, "名称"), ("网格", 2, "所属社区编码")}
    assert "超出您的管辖范围" in resp.json()["detail"]
    assert grid_count(session_factory) == before
    # the street admin covers both communities: the same grid is accepted
    ok = await client.post(
        "/org/import", content=workbook(REGIONS, grids, PEOPLE[:1]), headers={**tokens.street, **XLSX}
    )
    assert ok.status_code == 200, ok.text


async def test_not_a_workbook_and_no_token(client: httpx.AsyncClient, tokens: Tokens) -> None:
    resp = await client.post("/org/import", content=b"name,role\n", headers={**tokens.city, **XLSX})
    assert resp.status_code == 422 and ".xlsx" in resp.json()["detail"]
    assert (await client.post("/org/import", content=b"x")).status_code == 401

"""Region codes work wherever region ids do, and 422 messages are readable in Chinese."""

from __future__ import annotations

import httpx
import pytest

from tests.api.conftest import Tokens
from tests.conftest import World

pytestmark = pytest.mark.anyio


async def test_metrics_and_bulletin_take_codes(
    client: httpx.AsyncClient, tokens: Tokens, world: World
) -> None:
    by_code = await client.get("/metrics/report", params={"region": "NJ-GL-HL-01"}, headers=tokens.city)
    by_id = await client.get("/metrics/report", params={"region": world.community}, headers=tokens.city)
    assert by_code.status_code == 200 and by_code.json()["node"] == by_id.json()["node"]
    grid = await client.get("/metrics/series", params={"grid": "G001"}, headers=tokens.city)
    assert grid.status_code == 200
    bulletin = await client.get(
        "/bulletin", params={"region": "NJ-GL-HL", "month": "2026-03"}, headers=tokens.city
    )
    assert bulletin.status_code == 200 and bulletin.json()["region"]["name"] == "华侨路街道"
    missing = await client.get("/metrics/report", params={"region": "NJ-XX"}, headers=tokens.city)
    assert missing.status_code == 404
    outside = await client.get("/metrics/report", params={"region": "NJ-GL-HL-02"}, headers=tokens.community)
    assert outside.status_code == 403


async def test_422_messages_name_the_parameter_in_chinese(client: httpx.AsyncClient, tokens: Tokens) -> None:
    resp = await client.get("/metrics/report", params={"region": "南京!"}, headers=tokens.city)
    assert resp.status_code == 422
    assert resp.json()["detail"][0]["msg"] == "参数 region：格式不对"
    resp = await client.get("/bulletin", params={"region": "NJ"}, headers=tokens.city)
    assert resp.json()["detail"][0]["msg"] == "参数 month：缺少必填项"
    resp = await client.get("/tickets", params={"limit": 5000}, headers=tokens.city)
    assert resp.status_code == 422 and resp.json()["detail"][0]["msg"].startswith("参数 limit：太大")

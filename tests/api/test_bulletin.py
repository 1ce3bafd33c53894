"""The street's March bulletin as JSON, CSV (opened with the csv module) and XLSX (opened with openpyxl)."""

from __future__ import annotations

import csv
import io

import openpyxl
import pytest

from tests.api import test_metrics_api as base
from tests.api.test_metrics_api import Fixture

pytestmark = [pytest.mark.integration, pytest.mark.anyio]
fx, anyio_backend = base.fx, base.anyio_backend  # the hand-counted world of test_metrics_api
# 五台山社区 = G001 + G002: received 9, all 9 due (t5's first-response deadline passed before END),
#   responded 8, on time 7, resolved 4, rated 5, satisfied 4 → 88.9 %, 77.8 %, 44.4 %, 80.0 %;
#   composite (8/9 + 4/9 + 4/5) / 3 × 100 = 71.11. February: the backlog t9 t10 t13 (u4 rejected)
#   was received, none answered or resolved by 1 March, no rating → (0 + 0) / 2 = 0 → 环比 +71.11
# 龙仓巷社区 = G101 + G102: received 2, due 2, responded 2, on time 0, resolved 1, rated 1,
#   satisfied 0 → 100.0 %, 0.0 %, 50.0 %, 0.0 %; composite 50.0; nothing in February → no 环比
# No rating answered 「问题解决了吗」: 解决率 blank.
EXPECTED = [
    ["1", "五台山社区", "华侨路街道", "9", "9", "8", "88.9%", "77.8%", "4", "44.4%", "5", "4", "80.0%", "",
     "71.11", "+71.11"],
    ["2", "龙仓巷社区", "华侨路街道", "2", "2", "2", "100.0%", "0.0%", "1", "50.0%", "1", "0", "0.0%", "",
     "50.0", ""],
]  # fmt: skip


async def test_bulletin_json_csv_xlsx_and_html(fx: Fixture) -> None:
    params = {"region": fx.world.street, "month": "2026-03"}
    body = (await fx.client.get("/bulletin", params=params)).json()
    assert [(r["rank"], r["community"], r["composite"], r["change"]) for r in body["rows"]] == [
        (1, "五台山社区", 71.11, 71.11),
        (2, "龙仓巷社区", 50.0, None),
    ]
    assert (body["red"], body["black"]) == (["五台山社区"], ["龙仓巷社区"])

    r = await fx.client.get("/bulletin", params={**params, "format": "csv"})
    assert r.headers["content-type"].startswith("text/csv") and r.content.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(r.content.decode("utf-8-sig"))))
    assert rows[0][:3] == ["排名", "社区", "所属街道"] and rows[1:] == EXPECTED

    r = await fx.client.get("/bulletin", params={**params, "format": "xlsx"})
    book = openpyxl.load_workbook(io.BytesIO(r.content))
    sheet = book.worksheets[0]
    header = [c.value for c in sheet[2]]
    first = {h: c for h, c in zip(header, sheet[3], strict=True)}
    # rates are numbers formatted as percentages, not text
    assert first["回复率"].value == pytest.approx(8 / 9) and first["回复率"].number_format == "0.0%"
    assert first["满意率"].value == pytest.approx(0.8) and first["解决率"].value is None
    assert first["三率综合"].value == pytest.approx(71.11) and first["环比"].value == pytest.approx(71.11)
    assert "华侨路街道" in str(sheet["A1"].value)
    board = book["红黑榜"]
    assert (board["A2"].value, board["C2"].value) == ("五台山社区", "龙仓巷社区")

    r = await fx.client.get("/bulletin", params={**params, "format": "html"})
    assert r.headers["content-type"].startswith("text/html")
    assert "华侨路街道 2026-03 网格群在线治理月度通报" in r.text and "红榜" in r.text and "@page" in r.text
    assert "<td>71.11</td>" in r.text and "<td>+71.11</td>" in r.text


async def test_bulletin_refuses_bad_months_and_levels(fx: Fixture) -> None:
    assert (
        await fx.client.get("/bulletin", params={"region": fx.world.street, "month": "2026-13"})
    ).status_code == 422
    r = await fx.client.get("/bulletin", params={"region": fx.world.community, "month": "2026-03"})
    assert r.status_code == 422  # a community has no bulletin of communities

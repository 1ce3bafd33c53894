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
# 五台山社区 = G001 + G002: received 9, responded 8, resolved 4, rated 5, satisfied 4
#   → 88.9 %, 44.4 %, 80.0 %; composite (8/9 + 4/9 + 4/5) / 3 × 100 = 71.11
# 龙仓巷社区 = G101 + G102: received 2, responded 2, resolved 1, rated 1, satisfied 0
#   → 100.0 %, 50.0 %, 0.0 %; composite 50.0
EXPECTED = [
    ["1", "五台山社区", "华侨路街道", "9", "8", "88.9%", "4", "44.4%", "5", "4", "80.0%", "71.11"],
    ["2", "龙仓巷社区", "华侨路街道", "2", "2", "100.0%", "1", "50.0%", "1", "0", "0.0%", "50.0"],
]


async def test_bulletin_json_csv_and_xlsx(fx: Fixture) -> None:
    params = {"region": fx.world.street, "month": "2026-03"}
    body = (await fx.client.get("/bulletin", params=params)).json()
    assert [(r["rank"], r["community"], r["composite"]) for r in body["rows"]] == [
        (1, "五台山社区", 71.11),
        (2, "龙仓巷社区", 50.0),
    ]

    r = await fx.client.get("/bulletin", params={**params, "format": "csv"})
    assert r.headers["content-type"].startswith("text/csv") and r.content.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(r.content.decode("utf-8-sig"))))
    assert rows[0][:3] == ["排名", "社区", "所属街道"] and rows[1:] == EXPECTED

    r = await fx.client.get("/bulletin", params={**params, "format": "xlsx"})
    sheet = openpyxl.load_workbook(io.BytesIO(r.content)).active
    assert sheet is not None
    cells = [
        ["" if c is None else str(c) for c in row] for row in sheet.iter_rows(min_row=3, values_only=True)
    ]
    # numbers are numbers in the workbook: the composite 50.0 reads back as 50
    assert cells == [*EXPECTED[:1], [*EXPECTED[1][:-1], "50"]]
    assert "华侨路街道" in str(sheet["A1"].value)


async def test_bulletin_refuses_bad_months_and_levels(fx: Fixture) -> None:
    assert (
        await fx.client.get("/bulletin", params={"region": fx.world.street, "month": "2026-13"})
    ).status_code == 422
    r = await fx.client.get("/bulletin", params={"region": fx.world.community, "month": "2026-03"})
    assert r.status_code == 422  # a community has no bulletin of communities

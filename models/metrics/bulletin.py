"""The monthly bulletin (月度通报) of a street or district: 回复率 / 办结率 / 满意率 per community, ranked.

Figures come from the rollups (the same counts as models.metrics). The ranking is by the 三率
composite = the mean of the three rates that could be measured, × 100; communities with no
received tickets and no ratings have no composite and come last, unranked.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from datetime import date, timedelta

from openpyxl import Workbook
from openpyxl.styles import Font
from sqlalchemy import select
from sqlalchemy.orm import Session

from gridbot.models.entities import Region
from gridbot.models.enums import RegionLevel
from gridbot.models.metrics.rollup_read import Node, region_node, reports

HEADERS = (
    "排名",
    "社区",
    "所属街道",
    "受理量",
    "回复数",
    "回复率",
    "办结数",
    "办结率",
    "评价数",
    "满意数",
    "满意率",
    "三率综合",
)


@dataclass(frozen=True)
class BulletinRow:
    """One community's line."""

    rank: int | None
    community: str
    street: str
    received: int
    responded: int
    response_rate: float | None
    resolved: int
    resolution_rate: float | None
    rated: int
    satisfied: int
    satisfaction_rate: float | None
    composite: float | None


@dataclass(frozen=True)
class Bulletin:
    """A region's bulletin for one month."""

    region: Node
    month: str
    rows: list[BulletinRow]


def month_days(month: str) -> tuple[date, date]:
    """The first and last day of 'YYYY-MM' (ValueError otherwise)."""
    first = date.fromisoformat(f"{month}-01")
    nxt = date(first.year + first.month // 12, first.month % 12 + 1, 1)
    return first, nxt - timedelta(days=1)


def monthly_bulletin(session: Session, region: Region, month: str) -> Bulletin:
    """The bulletin of a street or district (ValueError for other levels or a bad month)."""
    if region.level not in (RegionLevel.STREET, RegionLevel.DISTRICT):
        raise ValueError("月度通报只针对街道或区")
    first, last = month_days(month)
    communities = list(
        session.scalars(
            select(Region)
            .where(
                Region.level == RegionLevel.COMMUNITY, Region.path.startswith(region.path, autoescape=True)
            )
            .order_by(Region.code)
        )
    )
    streets = {
        r.id: r.name
        for r in session.scalars(
            select(Region).where(Region.id.in_({c.parent_id for c in communities if c.parent_id}))
        )
    }
    lines = []
    for c, rep in zip(
        communities, reports(session, [region_node(c) for c in communities], first, last), strict=True
    ):
        m = rep.metrics
        rates = [r for r in (m.response_rate, m.resolution_rate, m.satisfaction_rate) if r is not None]
        composite = round(100 * sum(rates) / len(rates), 2) if rates else None
        lines.append((c, m, composite))
    measured = sorted((x for x in lines if x[2] is not None), key=lambda x: (-(x[2] or 0), x[0].code))
    ranked: list[BulletinRow] = []
    previous: tuple[int | None, float | None] = (None, None)
    for i, (c, m, composite) in enumerate([*measured, *(x for x in lines if x[2] is None)]):
        rank = None if composite is None else previous[0] if composite == previous[1] else i + 1
        previous = (rank, composite)
        ranked.append(
            BulletinRow(
                rank,
                c.name,
                streets.get(c.parent_id or 0, ""),
                m.received,
                m.responded,
                m.response_rate,
                m.resolved,
                m.resolution_rate,
                m.rated,
                m.satisfied,
                m.satisfaction_rate,
                composite,
            )  # fmt: skip
        )
    return Bulletin(region_node(region), month, ranked)


def _pct(rate: float | None) -> str:
    return "" if rate is None else f"{100 * rate:.1f}%"


def _cells(r: BulletinRow) -> list[object]:
    return [r.rank if r.rank is not None else "", r.community, r.street, r.received, r.responded, _pct(r.response_rate),
            r.resolved, _pct(r.resolution_rate), r.rated, r.satisfied, _pct(r.satisfaction_rate),
            "" if r.composite is None else r.composite]  # fmt: skip


def to_csv(b: Bulletin) -> bytes:
    """UTF-8 with a BOM, so Excel opens the Chinese headers correctly."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(HEADERS)
    writer.writerows(_cells(r) for r in b.rows)
    return ("\ufeff" + out.getvalue()).encode("utf-8")


def to_xlsx(b: Bulletin) -> bytes:
    """An .xlsx workbook with one sheet: a title line, the headers, one row per community."""
    wb = Workbook()
    ws = wb.active
    assert ws is not None
    ws.title = b.month
    ws.append([f"{b.region.name} {b.month} 网格群在线治理月度通报"])
    ws["A1"].font = Font(bold=True, size=14)
    ws.append(list(HEADERS))
    for cell in ws[2]:
        cell.font = Font(bold=True)
    for r in b.rows:
        ws.append(_cells(r))
    ws.column_dimensions["B"].width = 18
    ws.column_dimensions["C"].width = 18
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()

"""The monthly bulletin (月度通报) of a street or district: the 三率 per community, ranked, with a 红黑榜.

Figures come from the rollups (the same counts as models.metrics; 回复率 and 首次响应及时率 leave out
tickets not yet due at the month's end). The ranking is by the 三率 composite = the mean of 回复率,
办结率 and 满意率 that could be measured, × 100; communities with nothing measured come last,
unranked. 环比 is the composite's change from the previous month, in points. The 红榜 lists the best
ranked communities, the 黑榜 the worst (at most three each, never the same community on both).
Exports: CSV (UTF-8 with BOM), XLSX (rates as numbers formatted as %), print-friendly HTML.
"""

from __future__ import annotations

import csv
import html
import io
from dataclasses import dataclass
from datetime import date, timedelta

from openpyxl import Workbook
from openpyxl.styles import Alignment, Font, PatternFill
from sqlalchemy import select
from sqlalchemy.orm import Session

from gridbot.models.entities import Region
from gridbot.models.enums import RegionLevel
from gridbot.models.metrics.definitions import DEFINITIONS
from gridbot.models.metrics.report import GridMetrics
from gridbot.models.metrics.rollup_read import Node, region_node, reports

HEADERS = (
    "排名",
    "社区",
    "所属街道",
    "受理量",
    "应响应数",
    "回复数",
    "回复率",
    "首次响应及时率",
    "办结数",
    "办结率",
    "评价数",
    "满意数",
    "满意率",
    "解决率",
    "三率综合",
    "环比",
)
RATE_COLUMNS = frozenset({"回复率", "首次响应及时率", "办结率", "满意率", "解决率"})
BOARD_SIZE = 3


@dataclass(frozen=True)
class BulletinRow:
    """One community's line; `change` is the composite minus last month's (None if either is missing)."""

    rank: int | None
    community: str
    street: str
    received: int
    response_due: int
    responded: int
    response_rate: float | None
    first_response_on_time_rate: float | None
    resolved: int
    resolution_rate: float | None
    rated: int
    satisfied: int
    satisfaction_rate: float | None
    solve_rate: float | None
    composite: float | None
    previous_composite: float | None
    change: float | None


@dataclass(frozen=True)
class Bulletin:
    """A region's bulletin for one month, with its 红榜 and 黑榜 (community names, best/worst first)."""

    region: Node
    month: str
    rows: list[BulletinRow]
    red: list[str]
    black: list[str]


def month_days(month: str) -> tuple[date, date]:
    """The first and last day of 'YYYY-MM' (ValueError otherwise)."""
    first = date.fromisoformat(f"{month}-01")
    nxt = date(first.year + first.month // 12, first.month % 12 + 1, 1)
    return first, nxt - timedelta(days=1)


def previous_month(month: str) -> str:
    """'YYYY-MM' of the month before."""
    first, _ = month_days(month)
    return (first - timedelta(days=1)).strftime("%Y-%m")


def composite(m: GridMetrics) -> float | None:
    """The 三率 composite: mean of the measured 回复率, 办结率, 满意率, × 100, rounded to 0.01."""
    rates = [r for r in (m.response_rate, m.resolution_rate, m.satisfaction_rate) if r is not None]
    return round(100 * sum(rates) / len(rates), 2) if rates else None


def monthly_bulletin(session: Session, region: Region, month: str) -> Bulletin:
    """The bulletin of a street or district (ValueError for other levels or a bad month)."""
    if region.level not in (RegionLevel.STREET, RegionLevel.DISTRICT):
        raise ValueError("月度通报只针对街道或区")
    first, last = month_days(month)
    prev_first, prev_last = month_days(previous_month(month))
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
    nodes = [region_node(c) for c in communities]
    now_reports = reports(session, nodes, first, last)
    before = {r.node.id: composite(r.metrics) for r in reports(session, nodes, prev_first, prev_last)}
    lines = [
        (c, rep.metrics, composite(rep.metrics)) for c, rep in zip(communities, now_reports, strict=True)
    ]
    measured = sorted((x for x in lines if x[2] is not None), key=lambda x: (-(x[2] or 0), x[0].code))
    ranked: list[BulletinRow] = []
    previous: tuple[int | None, float | None] = (None, None)
    for i, (c, m, comp) in enumerate([*measured, *(x for x in lines if x[2] is None)]):
        rank = None if comp is None else previous[0] if comp == previous[1] else i + 1
        previous = (rank, comp)
        prev = before.get(c.id)
        change = round(comp - prev, 2) if comp is not None and prev is not None else None
        ranked.append(
            BulletinRow(
                rank,
                c.name,
                streets.get(c.parent_id or 0, ""),
                m.received,
                m.response_due,
                m.responded,
                m.response_rate,
                m.first_response_on_time_rate,
                m.resolved,
                m.resolution_rate,
                m.rated,
                m.satisfied,
                m.satisfaction_rate,
                m.solve_rate,
                comp,
                prev,
                change,
            )  # fmt: skip
        )
    on_board = [r for r in ranked if r.rank is not None]
    size = min(BOARD_SIZE, len(on_board) // 2) if len(on_board) > 1 else len(on_board)
    red = [r.community for r in on_board[:size]]
    black = [r.community for r in reversed(on_board[len(on_board) - size :])] if len(on_board) > 1 else []
    return Bulletin(region_node(region), month, ranked, red, black)


def _pct(rate: float | None) -> str:
    return "" if rate is None else f"{100 * rate:.1f}%"


_FORMULA_START = ("=", "+", "-", "@", "\t", "\r", "\uff1d", "\uff0b", "\uff0d", "\uff20")


def safe_cell(value: object) -> object:
    """A text that a spreadsheet would run as a formula (=, +, -, @ …) prefixed with ', as OWASP advises.

    Region names come from administrators' input; numbers are written as numbers and left alone.
    """
    if isinstance(value, str) and value.startswith(_FORMULA_START):
        return "'" + value
    return value


def _signed(x: float | None) -> str:
    return "" if x is None else f"{x:+.2f}"


def _values(r: BulletinRow) -> list[object]:
    """The row's cells as values: rates as fractions (None when unmeasured)."""
    return [r.rank, safe_cell(r.community), safe_cell(r.street), r.received, r.response_due, r.responded, r.response_rate,
            r.first_response_on_time_rate, r.resolved, r.resolution_rate, r.rated, r.satisfied,
            r.satisfaction_rate, r.solve_rate, r.composite, r.change]  # fmt: skip


def _text_cells(r: BulletinRow) -> list[str]:
    out = []
    for header, v in zip(HEADERS, _values(r), strict=True):
        if header in RATE_COLUMNS:
            out.append(_pct(v))  # type: ignore[arg-type]
        elif header == "环比":
            out.append(_signed(v))  # type: ignore[arg-type]
        else:
            out.append("" if v is None else str(v))
    return out


def to_csv(b: Bulletin) -> bytes:
    """UTF-8 with a BOM, so Excel opens the Chinese headers correctly."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(HEADERS)
    writer.writerows(_text_cells(r) for r in b.rows)
    return ("\ufeff" + out.getvalue()).encode("utf-8")


def to_xlsx(b: Bulletin) -> bytes:
    """An .xlsx workbook: the table (rates are numbers formatted as %) and a 红黑榜 sheet."""
    wb = Workbook()
    ws = wb.active
    assert ws is not None
    ws.title = b.month
    ws.append([safe_cell(f"{b.region.name} {b.month} 网格群在线治理月度通报")])
    ws["A1"].font = Font(bold=True, size=14)
    ws.append(list(HEADERS))
    for cell in ws[2]:
        cell.font = Font(bold=True)
        cell.alignment = Alignment(horizontal="center")
    for r in b.rows:
        ws.append(_values(r))
        for header, cell in zip(HEADERS, ws[ws.max_row], strict=True):
            if header in RATE_COLUMNS:
                cell.number_format = "0.0%"
            elif header == "三率综合":
                cell.number_format = "0.00"
            elif header == "环比":
                cell.number_format = "+0.00;-0.00;0.00"
    for col in ("B", "C"):
        ws.column_dimensions[col].width = 18
    board = wb.create_sheet("红黑榜")
    board.append(["红榜（三率综合最高）", "", "黑榜（三率综合最低）"])
    for cell in board[1]:
        cell.font = Font(bold=True)
    board["A1"].fill = PatternFill("solid", fgColor="FDE2E2")
    board["C1"].fill = PatternFill("solid", fgColor="E0E0E0")
    for i in range(max(len(b.red), len(b.black))):
        board.append(
            [
                safe_cell(b.red[i]) if i < len(b.red) else "",
                "",
                safe_cell(b.black[i]) if i < len(b.black) else "",
            ]
        )
    board.column_dimensions["A"].width = 24
    board.column_dimensions["C"].width = 24
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def to_html(b: Bulletin) -> str:
    """A print-friendly Chinese HTML page (A4 landscape) an office can print or forward."""
    e = html.escape
    head = "".join(f"<th>{e(h)}</th>" for h in HEADERS)
    body = "".join("<tr>" + "".join(f"<td>{e(c)}</td>" for c in _text_cells(r)) + "</tr>" for r in b.rows)
    notes = "".join(
        f"<li><b>{e(DEFINITIONS[k].label)}</b>：{e(DEFINITIONS[k].definition)}</li>"
        for k in (
            "response_rate",
            "first_response_on_time_rate",
            "resolution_rate",
            "satisfaction_rate",
            "solve_rate",
        )
    )
    red = "、".join(e(x) for x in b.red) or "无"
    black = "、".join(e(x) for x in b.black) or "无"
    title = f"{e(b.region.name)} {e(b.month)} 网格群在线治理月度通报"
    return f"""<!doctype html>
<html lang="zh-CN"><head><meta charset="utf-8"><title>{title}</title>
<style>
@page {{ size: A4 landscape; margin: 12mm; }}
body {{ font-family: "Noto Sans CJK SC", "Microsoft YaHei", "PingFang SC", sans-serif; color: #000; margin: 0 auto; max-width: 1100px; padding: 12px; }}
h1 {{ font-size: 20px; text-align: center; }}
table {{ border-collapse: collapse; width: 100%; font-size: 12px; }}
th, td {{ border: 1px solid #444; padding: 3px 5px; text-align: center; }}
th {{ background: #eee; }}
.boards {{ display: flex; gap: 24px; margin: 12px 0; }}
.boards div {{ flex: 1; border: 1px solid #444; padding: 6px 10px; }}
.red h2 {{ color: #b71c1c; }} h2 {{ font-size: 15px; margin: 4px 0; }}
ul {{ font-size: 12px; }}
@media print {{ .noprint {{ display: none; }} }}
</style></head><body>
<h1>{title}</h1>
<p class="noprint">打印：浏览器菜单「打印」或 Ctrl+P（横向 A4）</p>
<div class="boards"><div class="red"><h2>红榜</h2>{red}</div><div class="black"><h2>黑榜</h2>{black}</div></div>
<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>
<h2>指标说明</h2><ul>{notes}<li><b>三率综合</b>：回复率、办结率、满意率中可计算者的平均值 × 100；
<b>环比</b>：与上月三率综合之差（百分点）。</li></ul>
</body></html>
"""

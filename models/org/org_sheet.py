"""The organisation sheet a street office keeps: three tables (区域, 网格, 人员) as XLSX or CSV.

Reading only: cells become stripped strings keyed by their Chinese header, each row with the
number a person sees in Excel (the header is row 1). `models.org_import` applies them.
"""

from __future__ import annotations

import csv
import io
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

from openpyxl import Workbook, load_workbook
from openpyxl.utils.exceptions import InvalidFileException

from gridbot.models.org.directory import DirectoryError

REGIONS, GRIDS, PEOPLE = "区域", "网格", "人员"
COLUMNS: dict[str, tuple[str, ...]] = {
    REGIONS: ("编码", "名称", "层级", "上级编码"),
    GRIDS: ("编码", "名称", "所属社区编码", "户数", "类型", "中心经度", "中心纬度", "边界"),
    PEOPLE: ("姓名", "角色", "范围编码", "微信号", "手机号", "企业微信账号"),
}
REQUIRED: dict[str, tuple[str, ...]] = {
    REGIONS: ("编码", "名称", "层级"),
    GRIDS: ("编码", "名称", "所属社区编码"),
    PEOPLE: ("姓名", "角色", "范围编码"),
}
EXAMPLE: dict[str, list[tuple[str, ...]]] = {
    REGIONS: [
        ("320100", "南京市", "市", ""),
        ("320102", "玄武区", "区", "320100"),
        ("320102001", "梅园新村街道", "街道", "320102"),
        ("320102001001", "大悲巷社区", "社区", "320102001"),
    ],
    GRIDS: [
        (
            "320102001001-01",
            "大悲巷第一网格",
            "320102001001",
            "320",
            "综合",
            "118.7969",
            "32.0553",
            '{"type":"Polygon","coordinates":[[[118.7950,32.0540],[118.7990,32.0540],'
            "[118.7990,32.0566],[118.7950,32.0566],[118.7950,32.0540]]]}",
        )
    ],
    PEOPLE: [
        ("王芳", "网格员", "320102001001-01", "wangfang_88", "13800001111", ""),
        ("李主任", "街道管理员", "320102001", "", "13900002222", ""),
    ],
}
MAX_ROWS = 20_000  # a city's sheet has a few thousand rows; more is a wrong file


@dataclass(frozen=True)
class Row:
    """One data row: its row number as shown in Excel and its cells by header."""

    number: int
    cells: dict[str, str]


@dataclass
class OrgTables:
    """The three tables of an organisation sheet (a missing table is an empty list)."""

    tables: dict[str, list[Row]] = field(default_factory=lambda: {REGIONS: [], GRIDS: [], PEOPLE: []})


class SheetError(DirectoryError):
    """The file cannot be read as an organisation sheet; the message says what to fix."""


def _cell(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))  # Excel stores 320102 typed as a number as 320102.0
    return str(value).strip()


def _table(sheet: str, rows: list[list[object]]) -> list[Row]:
    if not rows:
        return []
    header = [_cell(h) for h in rows[0]]
    missing = [c for c in REQUIRED[sheet] if c not in header]
    if missing:
        raise SheetError(
            f"「{sheet}」表第1行缺少列「{'、'.join(missing)}」（表头应为：{'、'.join(COLUMNS[sheet])}）"
        )
    if len(rows) > MAX_ROWS:
        raise SheetError(f"「{sheet}」表超过 {MAX_ROWS} 行，请检查是否选错了文件")
    out = []
    for number, values in enumerate(rows[1:], start=2):
        cells = {h: _cell(v) for h, v in zip(header, values, strict=False) if h}
        if any(cells.values()):
            out.append(Row(number, {c: cells.get(c, "") for c in COLUMNS[sheet]}))
    return out


def read_xlsx(data: bytes) -> OrgTables:
    """The tables of an XLSX workbook with sheets named 区域, 网格, 人员."""
    try:
        book = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except (InvalidFileException, zipfile.BadZipFile, OSError, KeyError, ValueError, TypeError) as exc:
        raise SheetError(
            "无法读取该文件：请上传 Excel 的 .xlsx 文件（不支持 .xls），或三个 CSV 文件"
        ) from exc
    if not any(name in book.sheetnames for name in COLUMNS):
        raise SheetError(f"工作簿中没有「区域」「网格」「人员」工作表（现有：{'、'.join(book.sheetnames)}）")
    tables = OrgTables()
    for sheet in COLUMNS:
        if sheet in book.sheetnames:
            tables.tables[sheet] = _table(sheet, [list(r) for r in book[sheet].iter_rows(values_only=True)])
    book.close()
    return tables


def _decode(data: bytes, name: str) -> str:
    for encoding in ("utf-8-sig", "gb18030"):  # Excel in China saves CSV as GBK by default
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise SheetError(f"{name}：无法识别文件编码，请另存为 UTF-8 编码的 CSV")


def read_csv(files: dict[str, bytes]) -> OrgTables:
    """The tables from CSV files keyed by table name (区域, 网格, 人员)."""
    tables = OrgTables()
    for sheet, data in files.items():
        if sheet not in COLUMNS:
            raise SheetError(f"不认识的表「{sheet}」：CSV 文件名应为 区域.csv、网格.csv、人员.csv")
        rows: list[list[object]] = [list(r) for r in csv.reader(io.StringIO(_decode(data, f"{sheet}.csv")))]
        tables.tables[sheet] = _table(sheet, rows)
    return tables


def read_path(path: Path) -> OrgTables:
    """An XLSX file, a folder holding 区域.csv/网格.csv/人员.csv, or one of those CSV files (its siblings too)."""
    if path.is_dir():
        folder = path
    elif path.suffix.lower() == ".csv":
        folder = path.parent
    elif path.is_file():
        return read_xlsx(path.read_bytes())
    else:
        raise SheetError(f"找不到文件 {path}")
    files = {s: (folder / f"{s}.csv").read_bytes() for s in COLUMNS if (folder / f"{s}.csv").is_file()}
    if not files:
        raise SheetError(f"{folder} 中没有 区域.csv、网格.csv 或 人员.csv")
    return read_csv(files)


def write_template(path: Path) -> None:
    """An empty organisation workbook with the headers and one example row group per sheet."""
    book = Workbook()
    default = book.active
    if default is not None:
        book.remove(default)
    for sheet, columns in COLUMNS.items():
        ws = book.create_sheet(sheet)
        ws.append(list(columns))
        for row in EXAMPLE[sheet]:
            ws.append(list(row))
        for i in range(1, len(columns) + 1):
            ws.cell(row=1, column=i).number_format = "@"
        ws.column_dimensions["A"].width = 20
    notes = book.create_sheet("说明")
    for line in (
        ("层级：市、区、街道、社区；上级编码填上一级区域的编码（市留空）",),
        ("网格类型：综合 或 专属；户数填整数",),
        (
            "中心经度、中心纬度、边界选填（用于数据看板的网格地图）：经纬度填小数度数，WGS-84 或 GCJ-02（高德、腾讯地图）"
            "坐标，全市统一一种，不支持百度坐标；边界填 GeoJSON 的 Polygon 或 MultiPolygon；留空则保持系统中原有的位置",
        ),
        (
            "边界较大时可单独导入 GeoJSON 文件：gridbot org import-geo 网格边界.geojson（按要素属性 编码 匹配网格）",
        ),
        (
            "角色：网格员、兼职网格员、网格长（范围编码填网格编码）；社区管理员、街道管理员、区管理员、市管理员（填对应层级的区域编码）",
        ),
        ("微信号、手机号、企业微信账号选填：填了之后，此人在群里第一次发言或被@时自动认出",),
        ("同一人出现在多行时，请填写微信号或手机号，否则会被当作不同的人",),
        ("编码请设为文本格式，以免 Excel 去掉开头的 0",),
    ):
        notes.append(list(line))
    book.save(path)

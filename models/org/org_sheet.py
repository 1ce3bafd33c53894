"""The organisation sheet a street office keeps: three tables (区域, 网格, 人员) as XLSX or CSV.

Reading only: cells become stripped strings keyed by their Chinese header, each row with the
number a person sees in Excel. `models.org_import` applies them.

Street offices keep these sheets their own way, so the reader accepts what such sheets hold rather
than only our template: a title or date line above the header (the header is found in the first
rows), headers with notes, asterisks or line breaks (「手机号码（选填）」, 「编码*」), common other
names for a column (「联系电话」, 「网格编码」, 「职务」), tables named otherwise (「网格员名册」, or
recognised by their header), full-width digits and invisible characters in cells, and the rural
names of the levels and roles (镇、乡 → 街道 level; 村 → 社区 level; 专职网格员 → 网格员).
"""

from __future__ import annotations

import csv
import io
import re
import unicodedata
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
HEADER_SEARCH_ROWS = 10  # a title, a unit and a date line may sit above the header

# Other names street offices give our columns (after normalising: no spaces, notes or asterisks).
HEADER_ALIASES: dict[str, dict[str, str]] = {
    REGIONS: {
        "区域编码": "编码",
        "行政区划代码": "编码",
        "区划代码": "编码",
        "代码": "编码",
        "区域名称": "名称",
        "行政区划名称": "名称",
        "级别": "层级",
        "区域层级": "层级",
        "上级区域编码": "上级编码",
        "上级代码": "上级编码",
        "父级编码": "上级编码",
    },
    GRIDS: {
        "网格编码": "编码",
        "网格代码": "编码",
        "网格编号": "编码",
        "网格名称": "名称",
        "社区编码": "所属社区编码",
        "所属社区代码": "所属社区编码",
        "社区代码": "所属社区编码",
        "住户数": "户数",
        "户籍户数": "户数",
        "网格户数": "户数",
        "网格类型": "类型",
    },
    PEOPLE: {
        "人员姓名": "姓名",
        "名字": "姓名",
        "职务": "角色",
        "岗位": "角色",
        "身份": "角色",
        "所属网格编码": "范围编码",
        "网格编码": "范围编码",
        "负责范围编码": "范围编码",
        "管辖范围编码": "范围编码",
        "微信": "微信号",
        "微信账号": "微信号",
        "手机": "手机号",
        "手机号码": "手机号",
        "联系电话": "手机号",
        "电话": "手机号",
        "联系方式": "手机号",
        "企业微信": "企业微信账号",
        "企业微信号": "企业微信账号",
        "企微账号": "企业微信账号",
        "企业微信ID": "企业微信账号",
        "userid": "企业微信账号",
    },
}
# Other names for a table (sheet or CSV file), besides recognising it by its header.
TABLE_ALIASES: dict[str, tuple[str, ...]] = {
    REGIONS: ("区域表", "区域信息", "行政区划", "组织架构"),
    GRIDS: ("网格表", "网格信息", "网格划分", "网格清单"),
    PEOPLE: ("人员表", "人员信息", "人员名单", "网格员名册", "网格员名单", "网格员信息", "人员名册"),
}
# Values written the way a township or a village writes them, mapped to what the import knows.
VALUE_ALIASES: dict[tuple[str, str], dict[str, str]] = {
    (REGIONS, "层级"): {
        **dict.fromkeys(("市级", "地级市", "设区的市"), "市"),
        **dict.fromkeys(("区级", "县", "县级", "县级市", "区县", "市辖区", "区(县)", "旗"), "区"),
        **dict.fromkeys(("街道办", "街道办事处", "镇", "乡", "乡镇", "街镇", "街道(镇)", "苏木"), "街道"),
        **dict.fromkeys(("村", "居委会", "社区居委会", "村委会", "村(社区)", "社区(村)", "嘎查"), "社区"),
    },
    (GRIDS, "类型"): {"综合网格": "综合", "专属网格": "专属"},
    (PEOPLE, "角色"): {
        **dict.fromkeys(("专职网格员", "网格员(专职)", "专职"), "网格员"),
        **dict.fromkeys(("网格员(兼职)", "兼职"), "兼职网格员"),
        **dict.fromkeys(("村管理员", "村(社区)管理员"), "社区管理员"),
        **dict.fromkeys(("镇管理员", "乡镇管理员", "乡管理员"), "街道管理员"),
        **dict.fromkeys(("县管理员", "县(区)管理员"), "区管理员"),
    },
}
_INVISIBLE = re.compile("[\u200b-\u200f\u2028-\u202f\u2060-\u206f\ufeff\u00ad]")
_HEADER_NOTE = re.compile(r"\(.*?\)|\[.*?\]|【.*?】|[*※]|\s")
_HOUSEHOLDS = re.compile(r"^(\d+)户$")


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
    # full-width digits and letters (what Chinese IMEs type), no-break and zero-width characters
    text = unicodedata.normalize("NFKC", str(value))
    return _INVISIBLE.sub("", text).strip()


def _header_name(sheet: str, value: object) -> str:
    name = _HEADER_NOTE.sub("", _cell(value))
    if name in COLUMNS[sheet]:
        return name
    return HEADER_ALIASES[sheet].get(name, HEADER_ALIASES[sheet].get(name.lower(), name))


def _find_header(sheet: str, rows: list[list[object]]) -> tuple[int, list[str]] | None:
    """The index and the column names of the first row among the first few that holds the required columns."""
    for index, values in enumerate(rows[:HEADER_SEARCH_ROWS]):
        header = [_header_name(sheet, v) for v in values]
        if all(c in header for c in REQUIRED[sheet]):
            return index, header
    return None


def _value(sheet: str, column: str, text: str) -> str:
    aliases = VALUE_ALIASES.get((sheet, column))
    if aliases:
        key = re.sub(r"\s", "", text)
        return aliases.get(key, key)
    if column == "户数" and (m := _HOUSEHOLDS.match(text)):
        return m.group(1)
    return text


def _table(sheet: str, rows: list[list[object]]) -> list[Row]:
    if not rows:
        return []
    found = _find_header(sheet, rows)
    if found is None:
        first = next((i for i, r in enumerate(rows) if any(_cell(v) for v in r)), 0)
        header = [_header_name(sheet, v) for v in rows[first]]
        missing = [c for c in REQUIRED[sheet] if c not in header]
        raise SheetError(
            f"「{sheet}」表第{first + 1}行缺少列「{'、'.join(missing)}」（表头应为：{'、'.join(COLUMNS[sheet])}）"
        )
    start, header = found
    if len(rows) - start > MAX_ROWS:
        raise SheetError(f"「{sheet}」表超过 {MAX_ROWS} 行，请检查是否选错了文件")
    out = []
    for number, values in enumerate(rows[start + 1 :], start=start + 2):
        cells: dict[str, str] = {}
        for h, v in zip(header, values, strict=False):
            if h and not cells.get(h):  # two columns for one field (手机 and 联系电话): the first filled
                cells[h] = _cell(v)
        if any(cells.get(c) for c in COLUMNS[sheet]):  # not a blank numbered line or a totals line
            out.append(Row(number, {c: _value(sheet, c, cells.get(c, "")) for c in COLUMNS[sheet]}))
    return out


def _table_by_name(name: str) -> str | None:
    bare = _HEADER_NOTE.sub("", _cell(name))
    for sheet, aliases in TABLE_ALIASES.items():
        if bare == sheet or bare in aliases:
            return sheet
    return None


def _table_by_header(rows: list[list[object]]) -> str | None:
    """The table whose required columns this sheet's header holds (the most specific first)."""
    for sheet in (PEOPLE, GRIDS, REGIONS):
        if _find_header(sheet, rows) is not None:
            return sheet
    return None


def read_xlsx(data: bytes) -> OrgTables:
    """The tables of an XLSX workbook with sheets named 区域, 网格, 人员."""
    try:
        book = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except (InvalidFileException, zipfile.BadZipFile, OSError, KeyError, ValueError, TypeError) as exc:
        raise SheetError(
            "无法读取该文件：请上传 Excel 的 .xlsx 文件（不支持 .xls），或三个 CSV 文件"
        ) from exc
    chosen: dict[str, str] = {}
    for name in book.sheetnames:  # by name first: 区域 / 网格 / 人员 or a usual other name
        sheet = _table_by_name(name)
        if sheet is not None and sheet not in chosen:
            chosen[sheet] = name
    for name in book.sheetnames:  # then the other sheets by their header (not 说明 or a pivot)
        if name in chosen.values():
            continue
        head = book[name].iter_rows(max_row=HEADER_SEARCH_ROWS, values_only=True)
        sheet = _table_by_header([list(r) for r in head])
        if sheet is not None:
            if sheet in chosen:
                raise SheetError(
                    f"工作表「{chosen[sheet]}」和「{name}」都像「{sheet}」表：请删去一个，或把要导入的改名为「{sheet}」"
                )
            chosen[sheet] = name
    if not chosen:
        raise SheetError(
            f"工作簿中没有「区域」「网格」「人员」工作表，也没有表头像它们的工作表（现有：{'、'.join(book.sheetnames)}）"
        )
    tables = OrgTables()
    for sheet, name in chosen.items():
        tables.tables[sheet] = _table(sheet, [list(r) for r in book[name].iter_rows(values_only=True)])
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
    seen: dict[str, str] = {}
    for name, data in files.items():
        rows: list[list[object]] = [list(r) for r in csv.reader(io.StringIO(_decode(data, f"{name}.csv")))]
        sheet = _table_by_name(name) or _table_by_header(rows)
        if sheet is None:
            raise SheetError(
                f"不认识的表「{name}」：CSV 文件名应为 区域.csv、网格.csv、人员.csv（或表头与模板一致）"
            )
        if sheet in seen:
            raise SheetError(f"「{seen[sheet]}」和「{name}」都像「{sheet}」表：请只保留一个")
        seen[sheet] = name
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
    if not files:  # the office's own file names: recognised by name or header
        files = {f.stem: f.read_bytes() for f in sorted(folder.glob("*.csv")) if f.is_file()}
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

"""Organisation sheets as street and township offices keep them, not as our template writes them.

Title and date lines above the header, headers with notes and other names, sheets named after
their content or recognised by their header, full-width digits, rural levels (镇, 村) and roles
(专职网格员): the import reads them to the same tree, or says in one line what to change.
"""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from openpyxl import Workbook
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from gridbot.models.entities import Grid, Person, Region, RoleAssignment
from gridbot.models.enums import GridType, RegionLevel, Role
from gridbot.models.org import directory
from gridbot.models.org.org_import import OrgImportError, import_org
from gridbot.models.org.org_sheet import read_path, read_xlsx

pytestmark = pytest.mark.integration

TOWNSHIP: list[list[object]] = [
    ["溧水区洪蓝镇网格化服务管理区划表", None, None, None],
    ["填报单位：洪蓝镇综治办", None, "填报日期：2026年11月", None],
    ["行政区划代码*", "区域名称", "级别", "上级代码（市级留空）"],
    ["３２０１００", "南京市", "市级", ""],
    [320117, "溧水区", "区", 320100],
    ["320117104", "洪蓝镇", "镇", "320117"],
    ["320117104201", "傅家边村", "村", "320117104"],
    ["320117104002", "洪蓝社区", "社区居委会", "320117104"],
]
GRID_SHEET: list[list[object]] = [
    ["网格编号", "网格名称", "社区代码", "住户数", "网格类型", "备注"],
    ["320117104201-01", "傅家边村第一网格", "320117104201", "312户", "综合网格", "含两个自然村"],
    ["320117104002-01", "洪蓝社区第一网格", 320117104002, 405, "综合", None],
    ["320117104002-Z1", "洪蓝中学", "320117104002", None, "专属网格", None],
]
STAFF: list[list[object]] = [
    ["洪蓝镇网格员名册", None, None, None, None, None],
    ["序号", "人员姓名", "岗位", "所属网格编码", "手机号码\n（选填）", "联系电话", "微信"],
    [1, "陶建国", "专职网格员", "320117104201-01", "１３９１２３４５６７８", None, None],
    [2, "\u200b许 梅", "网格员（兼职）", "320117104201-01", None, "139 2345 6789", "xumei_lh"],
    [3, "芮丽", "专职网格员", "320117104002-01", None, None, "ruili01"],
    [4, "孔老师", "网格员", "320117104002-Z1", None, None, None],
    [5, "邢书记", "村管理员", "320117104201", None, None, None],
    [6, "镇综治办", "镇管理员", "320117104", "13700001234", None, None],
    [7, None, None, None, None, None, None],  # the template's numbered blank lines
    [8, None, None, None, None, None, None],
    ["合计：6人", None, None, None, None, None, None],
    [9, "许梅", "网格员", None, None, None, None],
]


def township_workbook(people: list[list[object]] = STAFF, people_title: str = "网格员名册") -> bytes:
    """The township's workbook: its own sheet names, a notes sheet, the regions on 'Sheet1'."""
    book = Workbook()
    first = book.active
    assert first is not None
    first.title = "填表说明"
    first.append(["请勿修改表头"])
    for title, rows in (("Sheet1", TOWNSHIP), ("网格划分", GRID_SHEET), (people_title, people)):
        ws = book.create_sheet(title)
        for row in rows:
            ws.append(row)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def test_a_township_workbook_imports_as_the_same_tree(session_factory: sessionmaker[Session]) -> None:
    staff = STAFF[:-1]  # numbered blank lines and the totals line are skipped
    with session_factory.begin() as session:
        report = import_org(session, read_xlsx(township_workbook(staff)))
    assert report.created == {"区域": 5, "网格": 3, "人员": 6}
    with session_factory() as session:
        levels = dict(session.execute(select(Region.code, Region.level)).all())
        assert levels == {
            "320100": RegionLevel.CITY,
            "320117": RegionLevel.DISTRICT,
            "320117104": RegionLevel.STREET,
            "320117104201": RegionLevel.COMMUNITY,
            "320117104002": RegionLevel.COMMUNITY,
        }
        village_grid = session.scalar(select(Grid).where(Grid.code == "320117104201-01"))
        assert village_grid is not None and village_grid.households == 312
        school = session.scalar(select(Grid).where(Grid.code == "320117104002-Z1"))
        assert school is not None and school.grid_type is GridType.DEDICATED
        roles = {
            (name, role)
            for name, role in session.execute(
                select(Person.name, RoleAssignment.role).join(
                    RoleAssignment, RoleAssignment.person_id == Person.id
                )
            )
        }
        assert ("陶建国", Role.GRIDWORKER) in roles and ("许梅", Role.PARTTIME_GRIDWORKER) not in roles
        assert ("许 梅", Role.PARTTIME_GRIDWORKER) in roles  # the name as written, without the invisible mark
        assert ("邢书记", Role.COMMUNITY_ADMIN) in roles and ("镇综治办", Role.STREET_ADMIN) in roles
        phones = dict(session.execute(select(Person.name, Person.phone)).all())
        assert phones["陶建国"] == "139****5678"  # typed in full-width digits, stored masked
        assert phones["许 梅"] == "139****6789"  # from the second phone column


def test_a_half_filled_line_is_reported_on_its_excel_row(session_factory: sessionmaker[Session]) -> None:
    with session_factory() as session, pytest.raises(OrgImportError) as caught:
        import_org(session, read_xlsx(township_workbook()))
    # the row a person finds in Excel: below the title line and the skipped blank and totals lines
    assert "「人员」表第12行「范围编码」列" in caught.value.user_message
    assert len(caught.value.errors) == 1


def test_two_sheets_that_look_like_the_people_table_are_refused() -> None:
    book = Workbook()
    for title in ("一组人员", "二组人员"):
        ws = book.create_sheet(title)
        ws.append(["姓名", "职务", "网格编码"])
        ws.append(["甲", "网格员", "g1"])
    out = io.BytesIO()
    book.save(out)
    with pytest.raises(directory.DirectoryError, match="「一组人员」和「二组人员」都像「人员」表"):
        read_xlsx(out.getvalue())


def test_a_header_too_far_down_names_what_is_missing() -> None:
    rows: list[list[object]] = [["说明"]] * 12 + [["姓名", "职务", "网格编码"]]
    with pytest.raises(directory.DirectoryError, match="「人员」表第1行缺少列「姓名、角色、范围编码」"):
        read_xlsx(township_workbook(rows, people_title="人员"))


def test_csv_files_with_the_office_s_own_names(
    tmp_path: Path, session_factory: sessionmaker[Session]
) -> None:
    staff = STAFF[:-1]
    for name, rows in (("区划", TOWNSHIP), ("网格信息", GRID_SHEET), ("2026年网格员", staff)):
        text = "\n".join(",".join("" if c is None else str(c).replace("\n", "") for c in row) for row in rows)
        (tmp_path / f"{name}.csv").write_bytes(text.encode("gb18030"))
    with session_factory.begin() as session:
        report = import_org(session, read_path(tmp_path))
    assert report.created == {"区域": 5, "网格": 3, "人员": 6}

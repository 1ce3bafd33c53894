"""The organisation import: a realistic sheet, re-import, broken sheets, CSV files, matching in a group."""

from __future__ import annotations

import copy
from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from gridbot.models.entities import Base, Grid, Person, Region, RoleAssignment
from gridbot.models.enums import GridType, RegionLevel, Role
from gridbot.models.org import directory
from gridbot.models.org.org_import import OrgImportError, import_org
from gridbot.models.org.org_sheet import read_csv, read_path, read_xlsx
from tests.orgsheet import GRIDS, PEOPLE, REGIONS, workbook

pytestmark = pytest.mark.integration


def counts(session: Session) -> dict[str, int]:
    """Rows per table, to show that a refused import wrote nothing."""
    return {
        t.name: session.scalar(select(func.count()).select_from(t)) or 0 for t in Base.metadata.sorted_tables
    }


def staff(session: Session) -> set[tuple[str, Role, str]]:
    """(name, role, scope code) of every active staff role."""
    rows = session.execute(
        select(Person.name, RoleAssignment.role, Grid.code, Region.code)
        .join(RoleAssignment, RoleAssignment.person_id == Person.id)
        .outerjoin(Grid, Grid.id == RoleAssignment.grid_id)
        .outerjoin(Region, Region.id == RoleAssignment.region_id)
        .where(RoleAssignment.active)
    ).all()
    return {(n, r, g or c) for n, r, g, c in rows}


def test_realistic_sheet_imports_the_tree_people_and_roles(session_factory: sessionmaker[Session]) -> None:
    with session_factory.begin() as session:
        report = import_org(session, read_xlsx(workbook()))
    assert report.created == {"区域": 6, "网格": 7, "人员": 13}
    with session_factory() as session:
        street = session.scalar(select(Region).where(Region.code == "320106011"))
        assert street is not None and street.level is RegionLevel.STREET and street.name == "华侨路街道"
        city = session.scalar(select(Region).where(Region.code == "320100"))  # typed as a number in Excel
        assert city is not None and street.path.startswith(city.path)
        school = session.scalar(select(Grid).where(Grid.code == "320106011001-Z1"))
        assert school is not None and school.grid_type is GridType.DEDICATED and school.households == 0
        assert school.region_path == session.scalar(select(Region.path).where(Region.code == "320106011001"))
        held = staff(session)
        assert ("陈刚", Role.GRID_LEADER, "320106011001-01") in held
        assert ("陈刚", Role.GRID_LEADER, "320106011001-02") in held
        assert session.scalar(select(func.count()).select_from(Person).where(Person.name == "陈刚")) == 1
        assert ("赵科长", Role.STREET_ADMIN, "320106011") in held
        zhao = session.scalar(select(Person).where(Person.name == "赵丽"))
        assert zhao is not None and zhao.phone == "139****3333" and zhao.platform_id is None
        assert "13900003333" not in str([p.phone for p in session.scalars(select(Person))])


def test_reimport_is_idempotent_and_updates(session_factory: sessionmaker[Session]) -> None:
    with session_factory.begin() as session:
        import_org(session, read_xlsx(workbook()))
    with session_factory() as session:
        before = counts(session)
    with session_factory.begin() as session:
        again = import_org(session, read_xlsx(workbook()))
    assert not again.changed and again.roles_granted == again.roles_revoked == 0
    with session_factory() as session:
        assert counts(session) == before

    grids, people = copy.deepcopy(GRIDS), copy.deepcopy(PEOPLE)
    grids[1][1], grids[1][3] = "五台山一网格", 400
    people[2][1] = "网格长"  # 李强 moves from gridworker to grid leader in the same grid
    with session_factory.begin() as session:
        report = import_org(session, read_xlsx(workbook(grids=grids, people=people)))
    assert report.updated["网格"] == 1 and report.roles_granted == 1 and report.roles_revoked == 1
    with session_factory() as session:
        grid = session.scalar(select(Grid).where(Grid.code == "320106011001-01"))
        assert grid is not None and (grid.name, grid.households) == ("五台山一网格", 400)
        held = staff(session)
        assert ("李强", Role.GRID_LEADER, "320106011001-02") in held
        assert ("李强", Role.GRIDWORKER, "320106011001-02") not in held
        assert counts(session)["persons"] == before["persons"]


def test_broken_sheet_is_refused_with_row_and_column_and_nothing_written(
    session_factory: sessionmaker[Session],
) -> None:
    with session_factory() as session:
        before = counts(session)
    grids, people = copy.deepcopy(GRIDS), copy.deepcopy(PEOPLE)
    grids[3][3] = "三百"  # row 4 of 网格: households not a number
    people[6][4] = "1390000"  # row 7 of 人员: a short phone number
    people[9][2] = "320106011009-01"  # row 10: a grid that does not exist
    with session_factory() as session, pytest.raises(OrgImportError) as caught:
        import_org(session, read_xlsx(workbook(grids=grids, people=people)))
        session.commit()  # never reached: the caller commits only after a clean import
    message = caught.value.user_message
    assert "「网格」表第4行「户数」列" in message
    assert "「人员」表第7行「手机号」列" in message
    assert "「人员」表第10行「范围编码」列" in message and "320106011009-01" in message
    assert len(caught.value.errors) == 3
    with session_factory() as session:
        assert counts(session) == before


def test_wrong_level_and_missing_column(session_factory: sessionmaker[Session]) -> None:
    regions = copy.deepcopy(REGIONS)
    regions[3][3] = "320100"  # a street directly under the city
    with session_factory() as session, pytest.raises(OrgImportError) as caught:
        import_org(session, read_xlsx(workbook(regions=regions)))
    assert "「区域」表第4行「上级编码」列：街道的上级应是区" in caught.value.user_message
    with pytest.raises(directory.DirectoryError, match="「人员」表第1行缺少列「角色」"):
        read_xlsx(workbook(people=[["姓名", "范围编码"], ["王芳", "x"]]))


def test_csv_files_in_gbk_import_the_same(tmp_path: Path, session_factory: sessionmaker[Session]) -> None:
    for name, rows in (("区域", REGIONS), ("网格", GRIDS), ("人员", PEOPLE)):
        text = "\n".join(",".join("" if c is None else str(c) for c in row) for row in rows)
        (tmp_path / f"{name}.csv").write_bytes(text.encode("gb18030"))  # what Excel saves in China
    with session_factory.begin() as session:
        report = import_org(session, read_path(tmp_path / "人员.csv"))
    assert report.created == {"区域": 6, "网格": 7, "人员": 13}
    with pytest.raises(directory.DirectoryError, match="CSV 文件名"):
        read_csv({"附件3": b"x"})  # neither a table's name nor a table's header


def test_imported_person_is_matched_when_first_seen(session_factory: sessionmaker[Session]) -> None:
    with session_factory.begin() as session:
        import_org(session, read_xlsx(workbook()))
    with session_factory.begin() as session:
        wang = directory.ensure_person(session, "wangfang_88", "芳芳")  # platform id is the WeChat id
        zhao = directory.ensure_person(session, "wxid_9f8e7d", "丽丽", handles=("13900003333",))
        stranger = directory.ensure_person(session, "wxid_other", "王芳")  # same name, no id: not matched
        assert (wang.name, zhao.name) == ("王芳", "赵丽")  # the official name is kept
        grid = session.scalar(select(Grid).where(Grid.code == "320106011001-01"))
        assert grid is not None
        assert Role.GRIDWORKER in directory.actor_for(session, wang).roles_for(grid)
        assert not directory.actor_for(session, stranger).roles_for(grid)

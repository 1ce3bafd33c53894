"""Apply an organisation sheet: regions, grids, people and their roles, idempotently and all-or-nothing.

Keys: a region or grid by its code; a person by 微信号, else 手机号, else 企业微信账号, else
name + 范围编码. Re-importing updates names, households, types and roles and never duplicates. A
person's staff roles (gridworker, grid leader, admins) become exactly the sheet's rows for them
(within the importer's scope); roles given in chat to people not in the sheet are left alone.

Every row is checked; any error raises `OrgImportError` listing them all with sheet, row and column.
The service writes through the session and never commits: the caller rolls back on error and for
a dry run, so one bad row leaves nothing written.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from gridbot.models.entities import Grid, Person, Region, RoleAssignment
from gridbot.models.enums import ADMIN_LEVEL, ADMIN_ROLES, WORKER_ROLES, GridType, RegionLevel, Role
from gridbot.models.org.directory import (
    DirectoryError,
    assign_role,
    create_grid,
    create_region,
    mask_phone,
    normalize_phone,
    phone_hash,
    refusal,
)
from gridbot.models.org.geometry import GeometryError, Point, centroid, parse_center, parse_outline
from gridbot.models.org.grid_position import Position, apply_position, position_changes
from gridbot.models.org.org_sheet import GRIDS, PEOPLE, REGIONS, OrgTables, Row

LEVELS = {
    "市": RegionLevel.CITY,
    "区": RegionLevel.DISTRICT,
    "街道": RegionLevel.STREET,
    "社区": RegionLevel.COMMUNITY,
}
LEVEL_NAMES = {v: k for k, v in LEVELS.items()}
_RANK = {RegionLevel.CITY: 0, RegionLevel.DISTRICT: 1, RegionLevel.STREET: 2, RegionLevel.COMMUNITY: 3}
GRID_TYPES = {"综合": GridType.COMPREHENSIVE, "专属": GridType.DEDICATED, "": GridType.COMPREHENSIVE}
ROLES = {
    "网格员": Role.GRIDWORKER,
    "兼职网格员": Role.PARTTIME_GRIDWORKER,
    "网格长": Role.GRID_LEADER,
    "社区管理员": Role.COMMUNITY_ADMIN,
    "街道管理员": Role.STREET_ADMIN,
    "区管理员": Role.DISTRICT_ADMIN,
    "市管理员": Role.CITY_ADMIN,
}
ROLE_NAMES = {v: k for k, v in ROLES.items()}
STAFF_ROLES = WORKER_ROLES | ADMIN_ROLES
_CODE = re.compile(r"^[0-9A-Za-z][0-9A-Za-z_.-]{0,31}$")


@dataclass(frozen=True)
class RowError:
    """One problem in the sheet, located the way a person finds it in Excel."""

    sheet: str
    row: int
    column: str
    message: str

    def __str__(self) -> str:
        return f"「{self.sheet}」表第{self.row}行「{self.column}」列：{self.message}"


class OrgImportError(DirectoryError):
    """The sheet has errors; nothing was imported. `errors` lists every one."""

    def __init__(self, errors: list[RowError]) -> None:
        super().__init__(refusal(errors))
        self.errors = errors


@dataclass
class ImportReport:
    """What the import did (or, in a dry run, would do): counts and one Chinese line per change."""

    created: dict[str, int] = field(default_factory=lambda: {REGIONS: 0, GRIDS: 0, PEOPLE: 0})
    updated: dict[str, int] = field(default_factory=lambda: {REGIONS: 0, GRIDS: 0, PEOPLE: 0})
    unchanged: dict[str, int] = field(default_factory=lambda: {REGIONS: 0, GRIDS: 0, PEOPLE: 0})
    roles_granted: int = 0
    roles_revoked: int = 0
    changes: list[str] = field(default_factory=list)

    @property
    def changed(self) -> bool:
        """Whether anything would be written."""
        return bool(self.changes)

    def summary(self) -> str:
        """One line: counts per table."""
        parts = [
            f"{s}：新增 {self.created[s]}，更新 {self.updated[s]}，不变 {self.unchanged[s]}"
            for s in (REGIONS, GRIDS, PEOPLE)
        ]
        return "；".join(parts) + f"；角色授予 {self.roles_granted}，撤销 {self.roles_revoked}"


def in_scope(path: str, scope: Region | None) -> bool:
    """Whether a region path lies in the importer's subtree (no scope: the whole city)."""
    return scope is None or path.startswith(scope.path)


class _Importer:
    def __init__(self, session: Session, scope: Region | None) -> None:
        self.session = session
        self.scope = scope
        self.errors: list[RowError] = []
        self.report = ImportReport()
        self.failed: set[str] = set()  # codes whose row failed: rows referring to them are not re-reported

    def error(self, sheet: str, row: Row, column: str, message: str) -> None:
        self.errors.append(RowError(sheet, row.number, column, message))

    def region(self, code: str) -> Region | None:
        return self.session.scalar(select(Region).where(Region.code == code))

    # -- 区域 --------------------------------------------------------------------------------------
    def regions(self, rows: list[Row]) -> None:
        seen: dict[str, int] = {}
        ranked: list[tuple[int, Row, RegionLevel]] = []
        for row in rows:
            c = row.cells
            code, name, level_name = c["编码"], c["名称"], c["层级"]
            ok = self._code(REGIONS, row, "编码", code) and self._name(REGIONS, row, "名称", name)
            level = LEVELS.get(level_name)
            if level is None:
                self.error(REGIONS, row, "层级", f"「{level_name}」不是 市/区/街道/社区 之一")
                ok = False
            if code in seen:
                self.error(REGIONS, row, "编码", f"编码 {code} 与第{seen[code]}行重复")
                ok = False
            seen.setdefault(code, row.number)
            if ok and level is not None:
                ranked.append((_RANK[level], row, level))
            else:
                self.failed.add(code)
        for _, row, level in sorted(ranked, key=lambda t: (t[0], t[1].number)):
            self._region(row, level)

    def _region(self, row: Row, level: RegionLevel) -> None:
        code, name, parent_code = row.cells["编码"], row.cells["名称"], row.cells["上级编码"]
        parent: Region | None = None
        if level is RegionLevel.CITY:
            if parent_code:
                self.error(REGIONS, row, "上级编码", "市级区域不填上级编码")
                self.failed.add(code)
                return
        else:
            if not parent_code:
                self.error(REGIONS, row, "上级编码", "必填：上一级区域的编码")
                self.failed.add(code)
                return
            parent = self.region(parent_code)
            if parent is None:
                if parent_code not in self.failed:
                    self.error(
                        REGIONS, row, "上级编码", f"没有编码为 {parent_code} 的区域（本表和系统中都没有）"
                    )
                self.failed.add(code)
                return
            if _RANK[parent.level] != _RANK[level] - 1:
                self.error(
                    REGIONS,
                    row,
                    "上级编码",
                    f"{LEVEL_NAMES[level]}的上级应是{LEVEL_NAMES[_previous(level)]}，"
                    f"而 {parent_code} 是{LEVEL_NAMES[parent.level]}",
                )
                self.failed.add(code)
                return
        existing = self.region(code)
        if existing is None:
            if (
                parent is None
                and self.scope is not None
                or parent is not None
                and not in_scope(parent.path, self.scope)
            ):
                self.error(REGIONS, row, "编码", "超出您的管辖范围，不能新建该区域")
                self.failed.add(code)
                return
            create_region(self.session, code, name, parent)
            self.report.created[REGIONS] += 1
            self.report.changes.append(f"新增{LEVEL_NAMES[level]} {code} {name}")
            return
        if existing.level is not level:
            self.error(
                REGIONS,
                row,
                "层级",
                f"系统中 {code} 是{LEVEL_NAMES[existing.level]}，不能改为{LEVEL_NAMES[level]}",
            )
            self.failed.add(code)
            return
        if existing.parent_id != (parent.id if parent else None):
            self.error(REGIONS, row, "上级编码", f"系统中 {code} 属于另一个上级，导入不能移动区域")
            self.failed.add(code)
            return
        if existing.name == name:
            self.report.unchanged[REGIONS] += 1
            return
        if not in_scope(existing.path, self.scope):
            self.error(REGIONS, row, "名称", "超出您的管辖范围，不能修改该区域")
            return
        self.report.changes.append(f"区域 {code} 改名：{existing.name} → {name}")
        existing.name = name
        self.report.updated[REGIONS] += 1

    # -- 网格 --------------------------------------------------------------------------------------
    def grids(self, rows: list[Row]) -> None:
        seen: dict[str, int] = {}
        for row in rows:
            c = row.cells
            code, name, community_code = c["编码"], c["名称"], c["所属社区编码"]
            ok = self._code(GRIDS, row, "编码", code) and self._name(GRIDS, row, "名称", name)
            if code in seen:
                self.error(GRIDS, row, "编码", f"编码 {code} 与第{seen[code]}行重复")
                ok = False
            seen.setdefault(code, row.number)
            if self.region(code) is not None:
                self.error(GRIDS, row, "编码", f"{code} 已是一个区域的编码，网格编码不能与区域重复")
                ok = False
            households = _int(c["户数"])
            if households is None:
                self.error(GRIDS, row, "户数", f"「{c['户数']}」不是非负整数")
                ok = False
            grid_type = GRID_TYPES.get(c["类型"])
            if grid_type is None:
                self.error(GRIDS, row, "类型", f"「{c['类型']}」应为 综合 或 专属")
                ok = False
            community = self.region(community_code) if community_code else None
            if not community_code:
                self.error(GRIDS, row, "所属社区编码", "必填")
                ok = False
            elif community is None:
                if community_code not in self.failed:
                    self.error(GRIDS, row, "所属社区编码", f"没有编码为 {community_code} 的社区")
                ok = False
            elif community.level is not RegionLevel.COMMUNITY:
                self.error(
                    GRIDS,
                    row,
                    "所属社区编码",
                    f"{community_code} 是{LEVEL_NAMES[community.level]}，网格只能建在社区之下",
                )
                ok = False
            position = self._position(row)
            if not ok or community is None or households is None or grid_type is None or position is None:
                self.failed.add(code)
                continue
            self._grid(row, community, households, grid_type, position)

    def _position(self, row: Row) -> Position | None:
        """The row's centre and outline (None each: keep what the grid has); None when a cell is bad."""
        c = row.cells
        ok = True
        center: Point | None = None
        outline: dict[str, Any] | None = None
        try:
            center = parse_center(c["中心经度"], c["中心纬度"])
        except GeometryError as exc:
            self.error(
                GRIDS, row, "中心纬度" if c["中心经度"] and not c["中心纬度"] else "中心经度", str(exc)
            )
            ok = False
        if c["边界"]:
            try:
                outline = parse_outline(c["边界"])
            except GeometryError as exc:
                self.error(GRIDS, row, "边界", str(exc))
                ok = False
        if not ok:
            return None
        if center is None and outline is not None:
            center = centroid(outline)
        return Position(center, outline)

    def _grid(
        self, row: Row, community: Region, households: int, grid_type: GridType, position: Position
    ) -> None:
        code, name = row.cells["编码"], row.cells["名称"]
        grid = self.session.scalar(select(Grid).where(Grid.code == code))
        if not in_scope(community.path, self.scope):
            unchanged = (
                grid is not None
                and (grid.name, grid.households, grid.grid_type) == (name, households, grid_type)
                and not position_changes(grid, position)
            )
            if not unchanged:
                self.error(GRIDS, row, "所属社区编码", "超出您的管辖范围")
                self.failed.add(code)
            else:
                self.report.unchanged[GRIDS] += 1
            return
        if grid is None:
            grid = create_grid(
                self.session, code, name, community, households=households, grid_type=grid_type
            )
            placed = apply_position(grid, position)
            self.report.created[GRIDS] += 1
            self.report.changes.append(
                f"新增网格 {code} {name}（{households} 户{'，含' + placed if placed else ''}）"
            )
            return
        if grid.community_id != community.id:
            self.error(GRIDS, row, "所属社区编码", f"系统中网格 {code} 属于另一个社区，导入不能移动网格")
            self.failed.add(code)
            return
        diffs = []
        if grid.name != name:
            diffs.append(f"名称 {grid.name} → {name}")
            grid.name = name
        if grid.households != households:
            diffs.append(f"户数 {grid.households} → {households}")
            grid.households = households
        if grid.grid_type is not grid_type:
            diffs.append("类型改为" + ("专属" if grid_type is GridType.DEDICATED else "综合"))
            grid.grid_type = grid_type
        placed = apply_position(grid, position)
        if placed:
            diffs.append(f"更新{placed}")
        if diffs:
            self.report.updated[GRIDS] += 1
            self.report.changes.append(f"网格 {code}：" + "，".join(diffs))
        else:
            self.report.unchanged[GRIDS] += 1

    # -- 人员 --------------------------------------------------------------------------------------
    def people(self, rows: list[Row]) -> None:
        wanted: dict[int, set[tuple[Role, int | None, int | None]]] = {}
        keyed: dict[str, Person] = {}
        for row in rows:
            parsed = self._person_row(row)
            if parsed is None:
                continue
            key, role, grid, region = parsed
            person = keyed.get(key) or self._find_person(row, grid, region)
            created = person is None
            if person is None:
                person = Person(name=row.cells["姓名"])
                self.session.add(person)
                self.session.flush()
            if key not in keyed:
                self._identifiers(row, person, created)
            keyed[key] = person
            before = self._has(person, role, grid, region)
            assign_role(self.session, person, role, grid=grid, region=region)
            if not before:
                self.report.roles_granted += 1
                where = grid.name if grid else region.name if region else ""
                self.report.changes.append(f"授予 {person.name} {ROLE_NAMES[role]}（{where}）")
            wanted.setdefault(person.id, set()).add(
                (role, grid.id if grid else None, region.id if region else None)
            )
        for person_id, roles in wanted.items():
            self._revoke_others(person_id, roles)

    def _person_row(self, row: Row) -> tuple[str, Role, Grid | None, Region | None] | None:
        c = row.cells
        ok = self._name(PEOPLE, row, "姓名", c["姓名"])
        role = ROLES.get(c["角色"])
        if role is None:
            self.error(PEOPLE, row, "角色", f"「{c['角色']}」不是 {'/'.join(ROLES)} 之一")
            ok = False
        grid: Grid | None = None
        region: Region | None = None
        scope_code = c["范围编码"]
        if not scope_code:
            self.error(PEOPLE, row, "范围编码", "必填：网格员、网格长填网格编码，管理员填区域编码")
            ok = False
        elif role in WORKER_ROLES:
            grid = self.session.scalar(select(Grid).where(Grid.code == scope_code))
            if grid is None and scope_code not in self.failed:
                self.error(
                    PEOPLE,
                    row,
                    "范围编码",
                    f"没有编码为 {scope_code} 的网格（{c['角色']}的范围应是网格编码）",
                )
            ok = ok and grid is not None
            if grid is not None and not in_scope(grid.region_path, self.scope):
                self.error(PEOPLE, row, "范围编码", "超出您的管辖范围")
                ok = False
        elif role in ADMIN_ROLES:
            region = self.region(scope_code)
            if region is None:
                if scope_code not in self.failed:
                    self.error(PEOPLE, row, "范围编码", f"没有编码为 {scope_code} 的区域")
                ok = False
            elif region.level is not ADMIN_LEVEL[role]:
                self.error(
                    PEOPLE,
                    row,
                    "范围编码",
                    f"{c['角色']}的范围应是{LEVEL_NAMES[ADMIN_LEVEL[role]]}，而 {scope_code} 是{LEVEL_NAMES[region.level]}",
                )
                ok = False
            elif not in_scope(region.path, self.scope):
                self.error(PEOPLE, row, "范围编码", "超出您的管辖范围")
                ok = False
        phone = ""
        if c["手机号"]:
            phone = normalize_phone(c["手机号"])
            if not phone:
                self.error(PEOPLE, row, "手机号", "不是有效的11位手机号")
                ok = False
        if c["微信号"] and not re.match(r"^[A-Za-z0-9_@.-]{2,64}$", c["微信号"]):
            self.error(PEOPLE, row, "微信号", "只能包含字母、数字、下划线、减号")
            ok = False
        if not ok or role is None:
            return None
        key = (
            f"wx:{c['微信号']}"
            if c["微信号"]
            else f"tel:{phone}"
            if phone
            else f"wecom:{c['企业微信账号']}"
            if c["企业微信账号"]
            else f"name:{c['姓名']}@{scope_code}"
        )
        return key, role, grid, region

    def _find_person(self, row: Row, grid: Grid | None, region: Region | None) -> Person | None:
        c = row.cells
        phone = normalize_phone(c["手机号"]) if c["手机号"] else ""
        conditions = []
        if c["微信号"]:
            conditions += [Person.wechat_id == c["微信号"], Person.platform_id == c["微信号"]]
        if phone:
            conditions.append(Person.phone_hash == phone_hash(phone))
        if c["企业微信账号"]:
            conditions.append(Person.wecom_userid == c["企业微信账号"])
        if conditions:
            found = self.session.scalars(select(Person).where(or_(*conditions)).order_by(Person.id)).first()
            if found is not None:
                return found
        # no identifier (or none known yet): the same name holding a staff role at the same place
        return self.session.scalars(
            select(Person)
            .join(RoleAssignment, RoleAssignment.person_id == Person.id)
            .where(
                Person.name == c["姓名"],
                RoleAssignment.role.in_(STAFF_ROLES),
                RoleAssignment.grid_id == grid.id
                if grid
                else RoleAssignment.region_id == (region.id if region else None),
            )
            .order_by(Person.id)
        ).first()

    def _identifiers(self, row: Row, person: Person, created: bool) -> None:
        c = row.cells
        diffs = []
        if person.name != c["姓名"]:
            diffs.append(f"姓名 {person.name} → {c['姓名']}")
            person.name = c["姓名"]
        if c["微信号"] and person.wechat_id != c["微信号"]:
            person.wechat_id = c["微信号"]
            diffs.append("微信号")
        phone = normalize_phone(c["手机号"]) if c["手机号"] else ""
        if phone and person.phone_hash != phone_hash(phone):
            person.phone_hash, person.phone = phone_hash(phone), mask_phone(phone)
            diffs.append("手机号")
        if c["企业微信账号"] and person.wecom_userid != c["企业微信账号"]:
            person.wecom_userid = c["企业微信账号"]
            diffs.append("企业微信账号")
        if created:
            self.report.created[PEOPLE] += 1
            self.report.changes.append(f"新增人员 {person.name}")
        elif diffs:
            self.report.updated[PEOPLE] += 1
            self.report.changes.append(f"人员 {person.name}：更新" + "、".join(diffs))
        else:
            self.report.unchanged[PEOPLE] += 1

    def _has(self, person: Person, role: Role, grid: Grid | None, region: Region | None) -> bool:
        return (
            self.session.scalar(
                select(RoleAssignment.id).where(
                    RoleAssignment.person_id == person.id,
                    RoleAssignment.role == role,
                    RoleAssignment.grid_id == (grid.id if grid else None),
                    RoleAssignment.region_id == (region.id if region else None),
                    RoleAssignment.active,
                )
            )
            is not None
        )

    def _revoke_others(self, person_id: int, keep: set[tuple[Role, int | None, int | None]]) -> None:
        held = self.session.execute(
            select(RoleAssignment, Grid.region_path, Region.path)
            .outerjoin(Grid, Grid.id == RoleAssignment.grid_id)
            .outerjoin(Region, Region.id == RoleAssignment.region_id)
            .where(
                RoleAssignment.person_id == person_id,
                RoleAssignment.active,
                RoleAssignment.role.in_(STAFF_ROLES),
            )
        ).all()
        for ra, grid_path, region_path in held:
            if (ra.role, ra.grid_id, ra.region_id) in keep:
                continue
            if not in_scope(grid_path or region_path or "/", self.scope):
                continue  # a role outside the importer's region is not theirs to revoke
            ra.active = False
            self.report.roles_revoked += 1
            person = self.session.get(Person, person_id)
            self.report.changes.append(
                f"撤销 {person.name if person else person_id} 的{ROLE_NAMES[ra.role]}（表中已无此行）"
            )

    # -- cells -------------------------------------------------------------------------------------
    def _code(self, sheet: str, row: Row, column: str, code: str) -> bool:
        if not code:
            self.error(sheet, row, column, "必填")
            return False
        if not _CODE.match(code):
            self.error(sheet, row, column, f"「{code}」只能由字母、数字、下划线、点、减号组成，最长32位")
            return False
        return True

    def _name(self, sheet: str, row: Row, column: str, name: str) -> bool:
        if not name:
            self.error(sheet, row, column, "必填")
            return False
        if len(name) > 100:
            self.error(sheet, row, column, "超过100个字")
            return False
        return True


def _previous(level: RegionLevel) -> RegionLevel:
    return next(lv for lv, rank in _RANK.items() if rank == _RANK[level] - 1)


def _int(raw: str) -> int | None:
    if raw == "":
        return 0
    try:
        value = int(float(raw)) if re.fullmatch(r"\d+(\.0+)?", raw) else None
    except ValueError:
        return None
    return value if value is not None and value < 1_000_000 else None


def import_org(session: Session, tables: OrgTables, scope: Region | None = None) -> ImportReport:
    """Apply the sheet within `scope` (None: everything); raise OrgImportError listing every bad cell."""
    importer = _Importer(session, scope)
    importer.regions(tables.tables[REGIONS])
    importer.grids(tables.tables[GRIDS])
    importer.people(tables.tables[PEOPLE])
    session.flush()
    if importer.errors:
        raise OrgImportError(
            sorted(importer.errors, key=lambda e: ([REGIONS, GRIDS, PEOPLE].index(e.sheet), e.row))
        )
    return importer.report

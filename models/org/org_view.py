"""Reading and hand-editing the organisation: the tree as text lines, finding people, granting roles."""

from __future__ import annotations

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from gridbot.models.entities import ChatGroup, Grid, Person, Region, RoleAssignment
from gridbot.models.enums import ADMIN_ROLES, WORKER_ROLES, Role
from gridbot.models.org.directory import DirectoryError, assign_role, normalize_phone, phone_hash
from gridbot.models.org.org_import import LEVEL_NAMES, ROLE_NAMES, ROLES

_ENGLISH = {r.value.replace("_", "-"): r for r in ROLES.values()}


def region_id_by_ref(session: Session, ref: str) -> int | None:
    """The id of the region with this code, else with this numeric id; None when there is none."""
    found = session.scalar(select(Region.id).where(Region.code == ref))
    if found is None and ref.isdigit() and int(ref) < 2**31:
        found = session.scalar(select(Region.id).where(Region.id == int(ref)))
    return found


def grid_id_by_ref(session: Session, ref: str) -> int | None:
    """The id of the grid with this code, else with this numeric id; None when there is none."""
    found = session.scalar(select(Grid.id).where(Grid.code == ref))
    if found is None and ref.isdigit() and int(ref) < 2**31:
        found = session.scalar(select(Grid.id).where(Grid.id == int(ref)))
    return found


def find_person(session: Session, ref: str) -> Person:
    """A person by id, platform id, WeChat id, phone or unique name; DirectoryError otherwise."""
    phone = normalize_phone(ref)
    conditions = [Person.platform_id == ref, Person.wechat_id == ref, Person.wecom_userid == ref]
    if phone:
        conditions.append(Person.phone_hash == phone_hash(phone))
    if ref.isdigit() and not phone:
        conditions.append(Person.id == int(ref))
    found = session.scalars(select(Person).where(or_(*conditions))).all()
    if not found:
        found = session.scalars(select(Person).where(Person.name == ref)).all()
    if len(found) == 1:
        return found[0]
    if not found:
        raise DirectoryError(f"没有找到人员「{ref}」（可填人员编号、微信号、手机号或姓名）")
    ids = "、".join(str(p.id) for p in found[:10])
    raise DirectoryError(f"有 {len(found)} 人都匹配「{ref}」（编号 {ids}），请改用人员编号或微信号")


def change_role(session: Session, person_ref: str, role_name: str, scope_code: str, *, grant: bool) -> str:
    """Grant or revoke one role; returns the Chinese confirmation line."""
    role = ROLES.get(role_name) or _ENGLISH.get(role_name)
    if role is None:
        raise DirectoryError(f"不认识的角色「{role_name}」，可选：{'、'.join(ROLES)}")
    person = find_person(session, person_ref)
    grid = region = None
    if role in WORKER_ROLES:
        grid = session.scalar(select(Grid).where(Grid.code == scope_code))
        if grid is None:
            raise DirectoryError(f"没有编码为 {scope_code} 的网格")
    else:
        region = session.scalar(select(Region).where(Region.code == scope_code))
        if region is None:
            raise DirectoryError(f"没有编码为 {scope_code} 的区域")
    where = grid.name if grid else region.name if region else ""
    if grant:
        assign_role(session, person, role, grid=grid, region=region)
        return f"已授予 {person.name}（编号 {person.id}）{ROLE_NAMES[role]}：{where}"
    held = session.scalars(
        select(RoleAssignment).where(
            RoleAssignment.person_id == person.id,
            RoleAssignment.role == role,
            RoleAssignment.grid_id == (grid.id if grid else None),
            RoleAssignment.region_id == (region.id if region else None),
            RoleAssignment.active,
        )
    ).all()
    if not held:
        raise DirectoryError(f"{person.name} 没有 {where} 的{ROLE_NAMES[role]}角色")
    for ra in held:
        ra.active = False
    return f"已撤销 {person.name}（编号 {person.id}）在 {where} 的{ROLE_NAMES[role]}角色"


def org_lines(session: Session, root: Region | None = None) -> list[str]:
    """The region tree (or a subtree) as indented lines: regions with admins, grids with workers and groups."""
    query = select(Region).order_by(Region.path)
    if root is not None:
        query = query.where(Region.path.startswith(root.path))
    regions = list(session.scalars(query))
    staff = session.execute(
        select(RoleAssignment.role, RoleAssignment.grid_id, RoleAssignment.region_id, Person.name)
        .join(Person, Person.id == RoleAssignment.person_id)
        .where(RoleAssignment.active, RoleAssignment.role.in_(WORKER_ROLES | ADMIN_ROLES))
        .order_by(RoleAssignment.role, Person.name)
    ).all()
    by_region: dict[int, list[str]] = {}
    by_grid: dict[int, list[str]] = {}
    for role, grid_id, region_id, name in staff:
        label = f"{ROLE_NAMES[Role(role)]} {name}"
        if grid_id is not None:
            by_grid.setdefault(grid_id, []).append(label)
        elif region_id is not None:
            by_region.setdefault(region_id, []).append(label)
    groups: dict[int, int] = {}
    for grid_id in session.scalars(select(ChatGroup.grid_id).where(ChatGroup.grid_id.is_not(None))):
        if grid_id is not None:
            groups[grid_id] = groups.get(grid_id, 0) + 1
    lines = []
    base = root.path.count("/") if root else 2
    for region in regions:
        indent = "  " * (region.path.count("/") - base)
        admins = f"  [{'、'.join(by_region[region.id])}]" if region.id in by_region else ""
        lines.append(f"{indent}{LEVEL_NAMES[region.level]} {region.code} {region.name}{admins}")
        for grid in session.scalars(select(Grid).where(Grid.community_id == region.id).order_by(Grid.code)):
            workers = "、".join(by_grid.get(grid.id, [])) or "未设网格员"
            bound = f"已绑定 {groups[grid.id]} 个群" if grid.id in groups else "未绑定群"
            lines.append(f"{indent}  网格 {grid.code} {grid.name}（{grid.households} 户）{workers}；{bound}")
    return lines

"""The directory: regions, grids, groups, people and roles, and who an actor is."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from gridbot.models.entities import ChatGroup, Grid, Person, Region, RoleAssignment, utcnow
from gridbot.models.enums import ADMIN_LEVEL, ADMIN_ROLES, WORKER_ROLES, GridType, RegionLevel, Role

_CHILD_LEVEL = {
    None: RegionLevel.CITY,
    RegionLevel.CITY: RegionLevel.DISTRICT,
    RegionLevel.DISTRICT: RegionLevel.STREET,
    RegionLevel.STREET: RegionLevel.COMMUNITY,
}


class DirectoryError(ValueError):
    """A directory operation the caller asked for is impossible; `user_message` is Chinese."""

    def __init__(self, user_message: str) -> None:
        super().__init__(user_message)
        self.user_message = user_message


def create_region(session: Session, code: str, name: str, parent: Region | None = None) -> Region:
    """Add a region one level below `parent` (a city when there is no parent)."""
    level = _CHILD_LEVEL.get(parent.level if parent else None)
    if level is None:
        raise DirectoryError("社区之下只能建网格")
    region = Region(code=code, name=name, level=level, parent_id=parent.id if parent else None)
    session.add(region)
    session.flush()
    region.path = f"{parent.path if parent else '/'}{region.id}/"
    return region


def create_grid(
    session: Session,
    code: str,
    name: str,
    community: Region,
    households: int = 0,
    grid_type: GridType = GridType.COMPREHENSIVE,
) -> Grid:
    """Add a grid under a community."""
    if community.level is not RegionLevel.COMMUNITY:
        raise DirectoryError("网格必须建在社区之下")
    grid = Grid(
        code=code,
        name=name,
        community_id=community.id,
        region_path=community.path,
        households=households,
        grid_type=grid_type,
    )
    session.add(grid)
    session.flush()
    return grid


def ensure_person(session: Session, platform_id: str, name: str) -> Person:
    """The person with this platform id, created on first sight; the display name follows renames."""
    person = session.scalar(select(Person).where(Person.platform_id == platform_id))
    if person is None:
        person = Person(platform_id=platform_id, name=name)
        session.add(person)
        session.flush()
    elif name and person.name != name:
        person.name = name
    return person


def assign_role(
    session: Session,
    person: Person,
    role: Role,
    grid: Grid | None = None,
    region: Region | None = None,
) -> RoleAssignment:
    """Give a person a role in a grid (workers, residents) or over a region (admins); idempotent."""
    if role in ADMIN_ROLES and (region is None or region.level is not ADMIN_LEVEL[role]):
        raise DirectoryError("管理员角色必须对应相应层级的区域")
    if (role in WORKER_ROLES or role is Role.RESIDENT) and grid is None:
        raise DirectoryError("该角色必须指定网格")
    existing = session.scalar(
        select(RoleAssignment).where(
            RoleAssignment.person_id == person.id,
            RoleAssignment.role == role,
            RoleAssignment.grid_id == (grid.id if grid else None),
            RoleAssignment.region_id == (region.id if region else None),
        )
    )
    if existing is not None:
        existing.active = True
        return existing
    assignment = RoleAssignment(
        person_id=person.id,
        role=role,
        grid_id=grid.id if grid else None,
        region_id=region.id if region else None,
    )
    session.add(assignment)
    session.flush()
    return assignment


def revoke_role(session: Session, person: Person, role: Role, grid: Grid | None = None) -> None:
    """Deactivate a person's role in a grid."""
    for ra in session.scalars(
        select(RoleAssignment).where(
            RoleAssignment.person_id == person.id,
            RoleAssignment.role == role,
            RoleAssignment.grid_id == (grid.id if grid else None),
        )
    ):
        ra.active = False


def grid_workers(session: Session, grid_id: int, roles: frozenset[Role] = WORKER_ROLES) -> list[Person]:
    """Active holders of the given roles in a grid, full-time gridworkers first."""
    order = {Role.GRIDWORKER: 0, Role.PARTTIME_GRIDWORKER: 1, Role.GRID_LEADER: 2}
    rows = sorted(
        session.execute(
            select(Person, RoleAssignment.role)
            .join(RoleAssignment, RoleAssignment.person_id == Person.id)
            .where(RoleAssignment.grid_id == grid_id, RoleAssignment.active, RoleAssignment.role.in_(roles))
        ).all(),
        key=lambda r: (order.get(r[1], 9), r[0].id),
    )
    seen: dict[int, Person] = {}
    for person, _role in rows:
        seen.setdefault(person.id, person)
    return list(seen.values())


def region_admins(session: Session, grid: Grid, role: Role) -> list[Person]:
    """Admins holding `role` over a region that contains the grid."""
    region_ids = [int(x) for x in grid.region_path.strip("/").split("/") if x]
    return list(
        session.scalars(
            select(Person)
            .join(RoleAssignment, RoleAssignment.person_id == Person.id)
            .where(
                RoleAssignment.role == role, RoleAssignment.active, RoleAssignment.region_id.in_(region_ids)
            )
            .order_by(Person.id)
        )
    )


def bind_group(
    session: Session, room_id: str, grid: Grid, topic: str = "", now: datetime | None = None
) -> ChatGroup:
    """Bind a WeChat room to a grid by room id (survives renames); rebinding moves it."""
    group = session.scalar(select(ChatGroup).where(ChatGroup.room_id == room_id))
    if group is None:
        group = ChatGroup(room_id=room_id, topic=topic)
        session.add(group)
    group.grid_id = grid.id
    group.bound_at = now or utcnow()
    if topic:
        group.topic = topic
    session.flush()
    return group


@dataclass(frozen=True)
class Actor:
    """Who is acting, with every active role: (role, grid id, region path) triples."""

    person_id: int | None
    name: str = "系统"
    roles: frozenset[tuple[Role, int | None, str | None]] = field(default_factory=frozenset)

    @property
    def is_system(self) -> bool:
        """The bot itself (sweeper, automatic merges) acting."""
        return any(r is Role.SYSTEM for r, _, _ in self.roles)

    def roles_for(self, grid: Grid) -> set[Role]:
        """The roles this actor holds over a grid: grid roles there, admin roles over its region."""
        held: set[Role] = set()
        for role, grid_id, region_path in self.roles:
            if (
                role is Role.SYSTEM
                or grid_id is not None
                and grid_id == grid.id
                or region_path is not None
                and grid.region_path.startswith(region_path)
            ):
                held.add(role)
        return held


SYSTEM_ACTOR = Actor(person_id=None, name="系统", roles=frozenset({(Role.SYSTEM, None, None)}))


def actor_for(session: Session, person: Person) -> Actor:
    """Load a person's active roles into an Actor (authorisation is by person id, never by name)."""
    rows = session.execute(
        select(RoleAssignment.role, RoleAssignment.grid_id, Region.path)
        .outerjoin(Region, Region.id == RoleAssignment.region_id)
        .where(RoleAssignment.person_id == person.id, RoleAssignment.active)
    ).all()
    return Actor(person_id=person.id, name=person.name, roles=frozenset((r, g, p) for r, g, p in rows))

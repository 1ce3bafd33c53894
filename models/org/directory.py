"""The directory: regions, grids, groups, people and roles, and who an actor is."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import Select, or_, select
from sqlalchemy.orm import Session

from gridbot.models.db import insert_ignore
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


def refusal(errors: Sequence[object]) -> str:
    """The message of an import refused as a whole: the count, then the first 50 problems, one a line."""
    shown = "\n".join(str(e) for e in errors[:50])
    more = f"\n……另有 {len(errors) - 50} 处错误" if len(errors) > 50 else ""
    return f"导入失败，未写入任何数据。共 {len(errors)} 处错误：\n{shown}{more}"


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


_PHONE = re.compile(r"^1[3-9]\d{9}$")


def normalize_phone(raw: str) -> str:
    """Digits of a mainland mobile number ('+86 138-0000-1111' → '13800001111'), or '' if not one."""
    digits = re.sub(r"\D", "", raw)
    if digits.startswith("86") and len(digits) == 13:
        digits = digits[2:]
    return digits if _PHONE.match(digits) else ""


def phone_hash(digits: str) -> str:
    """The stored lookup key of a phone number (the number itself is stored masked only)."""
    return hashlib.sha256(f"gridbot-phone:{digits}".encode()).hexdigest()


def mask_phone(digits: str) -> str:
    """138****1111: the copy that is stored and served."""
    return f"{digits[:3]}****{digits[-4:]}"


IDENTITY_HANDLES = ("wechat_id", "phone_hash", "wecom_userid")  # set only by the organisation sheet


def imported(person: Person) -> bool:
    """Whether the person came from the organisation sheet (their official name is kept)."""
    return any(getattr(person, handle) for handle in IDENTITY_HANDLES)


def handle_keys(platform_id: str, handles: Iterable[str] = ()) -> tuple[set[str], set[str]]:
    """The ids a sender may be known by in the sheet (微信号/企业微信账号) and the hashes of the phones among them."""
    ids = {platform_id, *handles} - {""}
    return ids, {phone_hash(p) for p in (normalize_phone(h) for h in ids) if p}


def unclaimed_matching(ids: set[str], phones: set[str]) -> Select[Person]:
    """Imported people not yet seen in a group whose 微信号/企业微信账号 is in `ids` or phone hash in `phones`."""
    conditions = [Person.wechat_id.in_(ids), Person.wecom_userid.in_(ids)]
    if phones:
        conditions.append(Person.phone_hash.in_(phones))
    return select(Person).where(Person.platform_id.is_(None), or_(*conditions)).order_by(Person.id)


def claim_imported(session: Session, platform_id: str, handles: Iterable[str] = ()) -> Person | None:
    """An imported person not yet seen in a group whose 微信号/手机号/企业微信账号 matches, now claimed."""
    person = session.scalars(unclaimed_matching(*handle_keys(platform_id, handles))).first()
    if person is not None:
        person.platform_id = platform_id
        session.flush()
    return person


def ensure_person(session: Session, platform_id: str, name: str, handles: Iterable[str] = ()) -> Person:
    """The person with this platform id, created on first sight; the display name follows renames.

    On first sight a person imported from the organisation sheet is matched by their WeChat id,
    phone or WeCom account (`handles` are further ids the platform reports for the contact) and keeps
    the official name from the sheet.
    """
    person = session.scalar(select(Person).where(Person.platform_id == platform_id))
    if person is None:
        person = claim_imported(session, platform_id, handles)
    if person is None:
        # insert-or-ignore: the same newcomer speaking in two rooms at once (or to two instances)
        # must not fail one of the messages on the UNIQUE platform id
        insert_ignore(
            session, Person, {"platform_id": platform_id, "name": name, "created_at": utcnow()}, "platform_id"
        )
        person = session.scalars(select(Person).where(Person.platform_id == platform_id)).one()
    elif name and person.name != name and not imported(person):
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
    return [person for person, _role in grid_staff(session, grid_id, roles)]


_STAFF_ORDER = {Role.GRIDWORKER: 0, Role.PARTTIME_GRIDWORKER: 1, Role.GRID_LEADER: 2}


def grid_staff(
    session: Session, grid_id: int, roles: frozenset[Role] = WORKER_ROLES
) -> list[tuple[Person, Role]]:
    """`grid_workers` with each one's highest role of `roles` (gridworker, part-time, leader)."""
    rows = sorted(
        session.execute(
            select(Person, RoleAssignment.role)
            .join(RoleAssignment, RoleAssignment.person_id == Person.id)
            .where(RoleAssignment.grid_id == grid_id, RoleAssignment.active, RoleAssignment.role.in_(roles))
        ).all(),
        key=lambda r: (_STAFF_ORDER.get(r[1], 9), r[0].id),
    )
    seen: dict[int, tuple[Person, Role]] = {}
    for person, role in rows:
        seen.setdefault(person.id, (person, role))
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
        return self.roles_in(grid.id, grid.region_path)

    def roles_in(self, grid_id: int, grid_region_path: str) -> set[Role]:
        """`roles_for` the grid with this id and region path."""
        held: set[Role] = set()
        for role, held_grid, region_path in self.roles:
            if (
                role is Role.SYSTEM
                or held_grid is not None
                and held_grid == grid_id
                or region_path is not None
                and grid_region_path.startswith(region_path)
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


# ---- lookups the conversation needs (kept here so handlers/ and bot/ hold no ORM queries) -------


def person_by_platform_id(session: Session, platform_id: str) -> Person | None:
    """The person with this platform (WeChat) id."""
    return session.scalar(select(Person).where(Person.platform_id == platform_id))


def person_ids(session: Session, platform_ids: Sequence[str]) -> list[int]:
    """Ids of the known people among these platform ids."""
    if not platform_ids:
        return []
    return list(session.scalars(select(Person.id).where(Person.platform_id.in_(platform_ids))))


def person_name(session: Session, person_id: int | None) -> str | None:
    """A person's display name (None for nobody)."""
    person = session.get(Person, person_id) if person_id is not None else None
    return person.name if person else None


def platform_id_of(session: Session, person_id: int | None) -> str | None:
    """A person's platform id (None for nobody, or a person known only by name)."""
    person = session.get(Person, person_id) if person_id is not None else None
    return person.platform_id if person else None


def grid_by_code(session: Session, code: str) -> Grid | None:
    """The grid with this code (网格编号)."""
    return session.scalar(select(Grid).where(Grid.code == code))


def grid_members_named(session: Session, grid_id: int, name: str) -> list[Person]:
    """People holding an active role in the grid under this display name."""
    return list(
        session.scalars(
            select(Person)
            .join(RoleAssignment, RoleAssignment.person_id == Person.id)
            .where(RoleAssignment.grid_id == grid_id, RoleAssignment.active, Person.name == name)
            .distinct()
        )
    )


def grids_of_resident(session: Session, person: Person) -> list[Grid]:
    """The grids where this person holds an active role (for a private message: which grid?)."""
    return list(
        session.scalars(
            select(Grid)
            .join(RoleAssignment, RoleAssignment.grid_id == Grid.id)
            .where(RoleAssignment.person_id == person.id, RoleAssignment.active)
            .distinct()
        )
    )


def grid_by_id(session: Session, grid_id: int | None) -> Grid | None:
    """A grid by its id (None for None)."""
    return session.get(Grid, grid_id) if grid_id is not None else None


def person_by_id(session: Session, person_id: int | None) -> Person | None:
    """A person by their id (None for None)."""
    return session.get(Person, person_id) if person_id is not None else None


def first_grid(session: Session) -> Grid | None:
    """The grid created first (the console's default grid)."""
    return session.scalars(select(Grid).order_by(Grid.id)).first()


def platform_names(session: Session) -> dict[str, str]:
    """Platform id → display name of everyone with a platform id, in creation order."""
    people = session.scalars(select(Person).where(Person.platform_id.is_not(None)).order_by(Person.id))
    return {p.platform_id: p.name for p in people if p.platform_id}


def claim(session: Session, imported_person: Person, poster: Person) -> Person:
    """The poster of a personal bind code becomes the imported person: roles and identifiers move over.

    The poster's own row (created when they first spoke) is kept, so their message history stays theirs.
    """
    if imported_person.id == poster.id:
        return poster
    if imported_person.platform_id is not None:
        raise DirectoryError(f"{imported_person.name} 已由另一个微信账号认领，如有误请联系管理员")
    held = {
        (r.role, r.grid_id, r.region_id)
        for r in session.scalars(select(RoleAssignment).where(RoleAssignment.person_id == poster.id))
    }
    for ra in session.scalars(select(RoleAssignment).where(RoleAssignment.person_id == imported_person.id)):
        if (ra.role, ra.grid_id, ra.region_id) in held:
            session.delete(ra)
        else:
            ra.person_id = poster.id
    poster.name = imported_person.name
    poster.wechat_id, imported_person.wechat_id = imported_person.wechat_id, None
    poster.phone_hash, imported_person.phone_hash = imported_person.phone_hash, None
    poster.phone = imported_person.phone or poster.phone
    poster.wecom_userid, imported_person.wecom_userid = imported_person.wecom_userid, None
    imported_person.name = f"{imported_person.name}（已认领）"[:100]
    session.flush()
    return poster


def active_roles(session: Session, person: Person) -> list[RoleAssignment]:
    """The person's active role assignments."""
    return list(
        session.scalars(
            select(RoleAssignment).where(RoleAssignment.person_id == person.id, RoleAssignment.active)
        )
    )

"""Copies of the directory rows every message needs (room, grid, sender, roles), kept in memory.

A message used to look up its room, grid, sender and the sender's roles twice (to store it, then to
route it): eight queries before any work. Here each is read once per process and handed out again as
a fresh ORM object attached to the caller's session (no query; a handler may still change it and
the change is flushed as usual). Every process checks one row per message,
`directory_version`, which every directory change bumps in its own transaction
(`models/entities/directory_version.py`); when it moved, all copies are dropped. So a binding or a
role change made by any instance (bot, API, CLI) is seen by every bot from its next message on, as
when it read the rows each time. Only rows read from the database are kept, never rows this
transaction created (it may still roll back), except people this process created with their resident
roles, held once that transaction committed (`hold_created`: nobody else could change them before).
People and actors are bounded (least recently used).
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, NamedTuple, TypeVar

from sqlalchemy import inspect, select
from sqlalchemy.orm import Session

from gridbot.models.db import attach, insert_ignore
from gridbot.models.entities import ChatGroup, DirectoryVersion, Grid, Person, Region, RoleAssignment
from gridbot.models.entities.directory_version import DIRECTORY_ROW, WRITTEN
from gridbot.models.enums import Role
from gridbot.models.org.directory import IDENTITY_HANDLES, Actor, actor_for, grid_staff

K = TypeVar("K")
V = TypeVar("V")
MAX_PEOPLE = 20_000  # senders (and their roles) remembered; a bot serves a few thousand at most

# built once: every message reads it
_VERSION = select(DirectoryVersion.version).where(DirectoryVersion.id == DIRECTORY_ROW)


def _columns(obj: Any) -> dict[str, Any]:
    values = {attr.key: getattr(obj, attr.key) for attr in inspect(type(obj)).column_attrs}
    return {k: (v.copy() if isinstance(v, (list, dict)) else v) for k, v in values.items()}


class GroupIds(NamedTuple):
    """A group's id and its grid's: where a message of its room is stored."""

    id: int
    grid_id: int | None


@dataclass(frozen=True, slots=True)
class Known:
    """What the copies say about a sender in a bound room, read from memory (no query, no ORM object)."""

    version: int
    group: GroupIds
    bot_account: str | None
    person_id: int
    person_name: str
    imported: bool  # from the organisation sheet: the official name is kept (`directory.imported`)
    roles: frozenset[Role]  # held over the room's grid (`Actor.roles_for`)


@dataclass(frozen=True, slots=True)
class Created:
    """A person created in a transaction with resident roles in these grids, to hold once it commits."""

    values: dict[str, Any]
    actor: Actor


def created(person: Person, grid_ids: Iterable[int]) -> Created:
    """What `DirectoryCache.hold_created` keeps of a person just created (their row as inserted, no
    read), taken before the commit: the objects expire then."""
    roles = frozenset((Role.RESIDENT, grid_id, None) for grid_id in grid_ids)
    return Created(_columns(person), Actor(person_id=person.id, name=person.name, roles=roles))


class DirectoryCache:
    """Per-process copies of groups, grids, people and actors, valid for one directory version."""

    def __init__(self, max_people: int = MAX_PEOPLE) -> None:
        self._lock = threading.Lock()
        self._version: int | None = None
        self._groups: dict[str, dict[str, Any]] = {}
        self._grids: dict[int, dict[str, Any]] = {}
        self._people: OrderedDict[str, dict[str, Any]] = OrderedDict()
        self._actors: OrderedDict[int, Actor] = OrderedDict()
        self._staff: dict[int, list[tuple[dict[str, Any], Role]]] = {}
        self.max_people = max_people

    def check(self, session: Session) -> int | None:
        """Read the directory version in this transaction; drop every copy if it moved."""
        version = self._read(session)
        if version is None:  # the row was deleted (a test's TRUNCATE): put it back, never reusing a number
            values = {"id": DIRECTORY_ROW, "version": time.time_ns() // 1000}
            insert_ignore(session, DirectoryVersion, values, "id")
            version = self._read(session)
        with self._lock:
            if version is None or version != self._version:
                self._groups.clear()
                self._grids.clear()
                self._people.clear()
                self._actors.clear()
                self._staff.clear()
                self._version = version
        return version

    @staticmethod
    def _read(session: Session) -> int | None:
        version: int | None = session.connection().execute(_VERSION).scalar()
        return version

    def _get(self, store: dict[K, V], key: K) -> V | None:
        with self._lock:
            value = store.get(key)
            if value is not None and isinstance(store, OrderedDict):
                store.move_to_end(key)
            return value

    def _put(self, session: Session, store: dict[K, V], key: K, value: V, version: int | None) -> None:
        with self._lock:
            if version is None or version != self._version:
                return  # read under another version: it may already be stale
            if session.info.get(WRITTEN):
                return  # this transaction wrote the directory: what it reads may roll back
            store[key] = value
            if isinstance(store, OrderedDict) and len(store) > self.max_people:
                store.popitem(last=False)

    def hold_created(self, people: Iterable[Created], version: int | None) -> None:
        """Hold people a committed transaction created, with the resident roles it gave them, under
        the version it read: the route and the next message then read neither back. Their rows were
        nobody else's to change before that commit; a change since bumped the version, which drops
        these copies with the rest at the next check."""
        with self._lock:
            if version is None or version != self._version:
                return
            for person in people:
                self._people[person.values["platform_id"]] = person.values
                self._actors[person.values["id"]] = person.actor
            while len(self._people) > self.max_people:
                self._people.popitem(last=False)
            while len(self._actors) > self.max_people:
                self._actors.popitem(last=False)

    def group(self, session: Session, room_id: str, version: int | None) -> ChatGroup | None:
        """The group of a room (None if the bot never saw it)."""
        values = self._get(self._groups, room_id)
        if values is not None:
            return attach(session, ChatGroup, values)
        group = session.scalar(select(ChatGroup).where(ChatGroup.room_id == room_id))
        if group is not None:
            self._put(session, self._groups, room_id, _columns(group), version)
        return group

    def grid(self, session: Session, grid_id: int | None, version: int | None) -> Grid | None:
        """A grid by id (None for None)."""
        if grid_id is None:
            return None
        values = self._get(self._grids, grid_id)
        if values is not None:
            return attach(session, Grid, values)
        grid = session.get(Grid, grid_id)
        if grid is not None:
            self._put(session, self._grids, grid_id, _columns(grid), version)
        return grid

    def person(self, session: Session, platform_id: str, version: int | None) -> Person | None:
        """The person with this platform id (None if never seen)."""
        values = self._get(self._people, platform_id)
        if values is not None:
            return attach(session, Person, values)
        person = session.scalar(select(Person).where(Person.platform_id == platform_id))
        if person is not None:
            self._put(session, self._people, platform_id, _columns(person), version)
        return person

    def people(self, session: Session, platform_ids: Iterable[str], version: int | None) -> dict[str, Person]:
        """`person` for several platform ids: the copies, and one query for the rest."""
        out: dict[str, Person] = {}
        rest = []
        for pid in dict.fromkeys(platform_ids):
            values = self._get(self._people, pid)
            if values is not None:
                out[pid] = attach(session, Person, values)
            else:
                rest.append(pid)
        if rest:
            for person in session.scalars(select(Person).where(Person.platform_id.in_(rest))):
                self._put(session, self._people, person.platform_id or "", _columns(person), version)
                out[person.platform_id or ""] = person
        return out

    def actors(self, session: Session, people: Iterable[Person], version: int | None) -> None:
        """Hold the roles of these people (`actor` then reads no database), one query for those not held."""
        with self._lock:
            rest = {p.id: p for p in people if p.id not in self._actors}
        if not rest:
            return
        roles: dict[int, set[tuple[Role, int | None, str | None]]] = {pid: set() for pid in rest}
        for person_id, role, grid_id, path in session.execute(
            select(RoleAssignment.person_id, RoleAssignment.role, RoleAssignment.grid_id, Region.path)
            .outerjoin(Region, Region.id == RoleAssignment.region_id)
            .where(RoleAssignment.person_id.in_(rest), RoleAssignment.active)
        ):
            roles[person_id].add((role, grid_id, path))
        for pid, person in rest.items():
            actor = Actor(person_id=pid, name=person.name, roles=frozenset(roles[pid]))
            self._put(session, self._actors, pid, actor, version)

    def actor(self, session: Session, person: Person, version: int | None) -> Actor:
        """The person's active roles."""
        actor = self._get(self._actors, person.id)
        if actor is None:
            actor = actor_for(session, person)
            self._put(session, self._actors, person.id, actor, version)
        return actor

    def grid_staff(self, session: Session, grid_id: int, version: int | None) -> list[tuple[Person, Role]]:
        """`directory.grid_staff` of a grid (its gridworkers and leaders, in order), read once a version.

        A staff role given or withdrawn and a person's rename bump the version, as every copy here
        relies on; a newcomer's resident role, which does not, is not staff."""
        held = self._get(self._staff, grid_id)
        if held is not None:
            return [(attach(session, Person, values), role) for values, role in held]
        staff = grid_staff(session, grid_id)
        self._put(session, self._staff, grid_id, [(_columns(p), role) for p, role in staff], version)
        return staff

    def known(self, room_id: str, platform_id: str) -> Known | None:
        """What the copies say when the room's group and grid, the sender and their roles are all
        held (a message from them needs no directory query), else None. Not checked against the
        database: the caller checks `version` in the statement that relies on it."""
        with self._lock:
            group = self._groups.get(room_id)
            person = self._people.get(platform_id)
            if self._version is None or group is None or person is None:
                return None
            grid = self._grids.get(group["grid_id"])
            actor = self._actors.get(person["id"])
            if grid is None or actor is None:
                return None
            self._people.move_to_end(platform_id)
            self._actors.move_to_end(person["id"])
            return Known(
                version=self._version,
                group=GroupIds(group["id"], group["grid_id"]),
                bot_account=group["bot_account"],
                person_id=person["id"],
                person_name=person["name"],
                imported=any(person[handle] for handle in IDENTITY_HANDLES),
                roles=frozenset(actor.roles_in(grid["id"], grid["region_path"])),
            )

    def forget_actor(self, person_id: int) -> None:
        """Drop a person's roles (this transaction changed them; it may still roll back)."""
        with self._lock:
            self._actors.pop(person_id, None)

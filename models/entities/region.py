"""The administrative tree, grids, WeChat groups, people and their roles."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Float, ForeignKey, Index, String, UniqueConstraint, false, true
from sqlalchemy.orm import Mapped, mapped_column, relationship

from gridbot.models.entities.base import Base, str_enum, utcnow
from gridbot.models.enums import GridType, MemberEventKind, RegionLevel, Role


class Region(Base):
    """A node of city → district → street → community; `path` is a materialised '/1/4/9/' path."""

    __tablename__ = "regions"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    name: Mapped[str] = mapped_column(String(100))
    level: Mapped[RegionLevel] = mapped_column(str_enum(RegionLevel))
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("regions.id"), index=True)
    path: Mapped[str] = mapped_column(String(255), index=True, default="/")

    parent: Mapped[Region | None] = relationship(remote_side=[id])


class Grid(Base):
    """A grid (网格): a few hundred households under one community, with a gridworker."""

    __tablename__ = "grids"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    name: Mapped[str] = mapped_column(String(100))
    community_id: Mapped[int] = mapped_column(ForeignKey("regions.id"), index=True)
    region_path: Mapped[str] = mapped_column(String(255), index=True)
    grid_type: Mapped[GridType] = mapped_column(str_enum(GridType), default=GridType.COMPREHENSIVE)
    households: Mapped[int] = mapped_column(default=0)
    # optional geometry for the dashboard's map: a centre point (WGS-84) and/or a GeoJSON geometry
    center_lng: Mapped[float | None] = mapped_column(Float)
    center_lat: Mapped[float | None] = mapped_column(Float)
    geometry: Mapped[dict[str, Any] | None] = mapped_column(JSON)

    community: Mapped[Region] = relationship()


class ChatGroup(Base):
    """A WeChat room, bound to one grid by its room id (a grid may have several rooms)."""

    __tablename__ = "chat_groups"

    id: Mapped[int] = mapped_column(primary_key=True)
    room_id: Mapped[str] = mapped_column(String(128), unique=True)
    topic: Mapped[str] = mapped_column(String(200), default="")
    grid_id: Mapped[int | None] = mapped_column(ForeignKey("grids.id"), index=True)
    bound_at: Mapped[datetime | None]
    bot_account: Mapped[str | None] = mapped_column(String(128))
    # may the bot post here itself? False: its replies are handed to a gridworker to post (handoff)
    can_post: Mapped[bool] = mapped_column(default=True, server_default=true())
    # a staff conversation (a gridworker's direct chat with the bot, a staff group), not residents'
    staff_room: Mapped[bool] = mapped_column(default=False, server_default=false())
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    grid: Mapped[Grid | None] = relationship()


class MemberSnapshot(Base):
    """The member count of a group at a point in time (for 入群率)."""

    __tablename__ = "member_snapshots"
    __table_args__ = (Index("ix_member_snapshots_group_taken", "group_id", "taken_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    group_id: Mapped[int] = mapped_column(ForeignKey("chat_groups.id"))
    taken_at: Mapped[datetime]
    member_count: Mapped[int]


class Person(Base):
    """Anyone the bot knows: identified by platform (WeChat contact) id, never by display name."""

    __tablename__ = "persons"

    id: Mapped[int] = mapped_column(primary_key=True)
    platform_id: Mapped[str | None] = mapped_column(String(128), unique=True)
    name: Mapped[str] = mapped_column(String(100))
    phone: Mapped[str | None] = mapped_column(String(32))  # masked (138****1234): the served copy
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    # identifiers from the organisation sheet, used to recognise an imported person in a group
    wechat_id: Mapped[str | None] = mapped_column(String(64), index=True)
    phone_hash: Mapped[str | None] = mapped_column(String(64), index=True)  # sha256 of the digits
    wecom_userid: Mapped[str | None] = mapped_column(String(64), index=True)


class RoleAssignment(Base):
    """A role held by a person in a grid (residents, workers) or over a region (admins)."""

    __tablename__ = "role_assignments"
    __table_args__ = (UniqueConstraint("person_id", "role", "grid_id", "region_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("persons.id"), index=True)
    role: Mapped[Role] = mapped_column(str_enum(Role))
    grid_id: Mapped[int | None] = mapped_column(ForeignKey("grids.id"), index=True)
    region_id: Mapped[int | None] = mapped_column(ForeignKey("regions.id"), index=True)
    active: Mapped[bool] = mapped_column(default=True)
    since: Mapped[datetime] = mapped_column(default=utcnow)

    person: Mapped[Person] = relationship()


class MemberEvent(Base):
    """Someone joined or left a group."""

    __tablename__ = "member_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    group_id: Mapped[int] = mapped_column(ForeignKey("chat_groups.id"), index=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("persons.id"))
    kind: Mapped[MemberEventKind] = mapped_column(str_enum(MemberEventKind))
    at: Mapped[datetime]


class BindCode(Base):
    """A short-lived, single-use code that lets someone bind a group to a grid; only a hash is kept."""

    __tablename__ = "bind_codes"

    id: Mapped[int] = mapped_column(primary_key=True)
    code_hash: Mapped[str] = mapped_column(String(64), unique=True)
    grid_id: Mapped[int] = mapped_column(ForeignKey("grids.id"), index=True)
    # an imported person the code speaks for: whoever posts it becomes that person
    person_id: Mapped[int | None] = mapped_column(ForeignKey("persons.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime]
    used_at: Mapped[datetime | None]
    used_in_room: Mapped[str | None] = mapped_column(String(128))

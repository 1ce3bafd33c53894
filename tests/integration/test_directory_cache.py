"""The bot's copies of rooms, people and roles: never a lookup twice, never stale after a change.

The changes are made the way the API or another bot instance makes them: in a session of their own,
committed, while the conversation keeps its copies. The next message must see them.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from sqlalchemy import event, select

from gridbot.models.entities import ChatGroup, DirectoryVersion, Grid, Message, Person, Ticket
from gridbot.models.enums import Role
from gridbot.models.org import directory
from tests.integration.conftest import ROOM, Group

pytestmark = [pytest.mark.integration, pytest.mark.anyio]
DIRECTORY_TABLES = ("persons", "role_assignments", "chat_groups", "grids", "regions")


def stored_role(group: Group, text: str) -> Role | None:
    with group.runtime.sessions() as s:
        return s.scalars(select(Message.sender_role).where(Message.text == text)).one()


def version(group: Group) -> int:
    with group.runtime.sessions() as s:
        return s.scalars(select(DirectoryVersion.version)).one()


@contextmanager
def statements(group: Group) -> Iterator[list[str]]:
    seen: list[str] = []

    def record(_conn: object, _cursor: object, statement: str, *_rest: object) -> None:
        seen.append(statement)

    event.listen(group.runtime.engine, "before_cursor_execute", record)
    try:
        yield seen
    finally:
        event.remove(group.runtime.engine, "before_cursor_execute", record)


async def test_a_known_sender_costs_no_directory_lookup_and_no_version_bump(group: Group) -> None:
    await group.say("刘师傅", "大家早上好")  # first sight: created, made a resident, copied
    before = version(group)
    with statements(group) as seen:
        await group.say("刘师傅", "今天天气不错")
    lookups = [s for s in seen if any(f"FROM {t}" in s for t in DIRECTORY_TABLES)]
    assert lookups == [], lookups
    assert version(group) == before
    assert stored_role(group, "今天天气不错") is Role.RESIDENT


async def test_a_first_sight_sender_is_not_read_back_once_created(group: Group) -> None:
    with statements(group) as seen:
        await group.say("刘师傅", "大家早上好")  # created with his resident role, then routed
    created = next(i for i, s in enumerate(seen) if s.lstrip().upper().startswith("INSERT INTO PERSONS"))
    after = [s for s in seen[created:] if any(f"FROM {t}" in s for t in ("persons", "role_assignments"))]
    assert after == [], after  # the route holds what the persist created
    with statements(group) as seen:
        await group.say("刘师傅", "今天天气不错")
    assert [s for s in seen if any(f"FROM {t}" in s for t in DIRECTORY_TABLES)] == []
    assert stored_role(group, "大家早上好") is Role.RESIDENT
    assert stored_role(group, "今天天气不错") is Role.RESIDENT


async def test_a_role_given_and_taken_elsewhere_applies_to_the_next_message(group: Group) -> None:
    await group.say("刘师傅", "大家早上好")
    assert stored_role(group, "大家早上好") is Role.RESIDENT
    with group.runtime.sessions.begin() as s:  # the API appoints him
        person = s.scalars(select(Person).where(Person.platform_id == "wx-liu")).one()
        grid = s.scalars(select(Grid).join(ChatGroup).where(ChatGroup.room_id == ROOM)).one()
        directory.assign_role(s, person, Role.GRIDWORKER, grid=grid)
    said = await group.say("刘师傅", "工单")
    assert stored_role(group, "工单") is Role.GRIDWORKER
    assert "仅限网格员" not in said
    with group.runtime.sessions.begin() as s:  # and withdraws him again
        person = s.scalars(select(Person).where(Person.platform_id == "wx-liu")).one()
        grid = s.scalars(select(Grid).join(ChatGroup).where(ChatGroup.room_id == ROOM)).one()
        directory.revoke_role(s, person, Role.GRIDWORKER, grid=grid)
    await group.say("刘师傅", "工单 1")
    assert stored_role(group, "工单 1") is Role.RESIDENT


async def test_a_room_moved_to_another_grid_elsewhere_files_there_next(group: Group) -> None:
    await group.say("张阿姨", "大家好")
    with group.runtime.sessions.begin() as s:
        other = s.scalars(select(Grid).where(Grid.code == "WTS-02")).one()
        directory.bind_group(s, ROOM, other)
        other_id = other.id
    await group.say("张阿姨", "又来打扰大家了")
    with group.runtime.sessions() as s:
        grid_id = s.scalars(select(Message.grid_id).where(Message.text == "又来打扰大家了")).one()
    assert grid_id == other_id


def assignee_of(group: Group, ticket_id: int) -> str | None:
    with group.runtime.sessions() as s:
        return s.scalars(
            select(Person.platform_id)
            .join(Ticket, Ticket.assignee_id == Person.id)
            .where(Ticket.id == ticket_id)
        ).one_or_none()


async def test_a_grids_staff_are_read_once_and_follow_a_role_change_made_elsewhere(group: Group) -> None:
    await group.say("刘师傅", "大家好")
    first = await group.report("3号楼2单元楼道的灯坏了，晚上看不见")
    assert assignee_of(group, first) is not None
    with statements(group) as seen:
        second = await group.report("5号楼门口的垃圾桶满了好几天没人清", name="赵大爷")
    assert [s for s in seen if "role_assignments" in s and "persons" in s] == []  # the staff held
    assert assignee_of(group, second) == assignee_of(group, first)
    with group.runtime.sessions.begin() as s:  # the API hands the grid over to 刘师傅
        grid = s.scalars(select(Grid).join(ChatGroup).where(ChatGroup.room_id == ROOM)).one()
        for platform_id in ("wx-wang", "wx-li"):
            worker = s.scalars(select(Person).where(Person.platform_id == platform_id)).one()
            directory.revoke_role(s, worker, Role.GRIDWORKER, grid=grid)
        liu = s.scalars(select(Person).where(Person.platform_id == "wx-liu")).one()
        directory.assign_role(s, liu, Role.GRIDWORKER, grid=grid)
    third = await group.report("7号楼电梯卡在三楼不动了，里面没人")
    assert assignee_of(group, third) == "wx-liu"

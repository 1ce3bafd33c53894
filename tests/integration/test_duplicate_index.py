"""Duplicate features stored at filing, kept right on edits and merges, and the pruned candidate read.

Each test runs the real intake (the replay group) on SQLite and on PostgreSQL.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import delete, insert, select, text, update
from sqlalchemy.orm import Session

from gridbot.handlers import duplicate_check
from gridbot.models.entities import Ticket, TicketDupFeatures, TicketDupKey
from gridbot.models.enums import Priority, TicketKind, TicketStatus
from gridbot.models.tickets import duplicate_index as stored
from gridbot.nlp.duplicate_index import index_keys, load, lookups
from gridbot.nlp.duplicates import MERGE, Thresholds, features
from tests.integration.conftest import DemoWorld, Group

pytestmark = [pytest.mark.integration, pytest.mark.anyio]

LIGHT = "3栋2单元楼道灯又坏了，晚上黑灯瞎火的"
LIGHT_AGAIN = "3栋2单元的楼道灯坏了好几天了，晚上太黑了"
BINS = "5栋门口的垃圾桶满了没人清"
BINS_AGAIN = "5栋楼下垃圾桶都堆满溢出来了"


def stored_of(session: Session, number: int) -> tuple[str | None, set[str]]:
    """A ticket's stored features JSON and its keys."""
    data = session.scalar(select(TicketDupFeatures.data).where(TicketDupFeatures.ticket_id == number))
    keys = set(session.scalars(select(TicketDupKey.key).where(TicketDupKey.ticket_id == number)))
    return data, keys


def assert_indexed(session: Session, number: int, text: str) -> None:
    """The stored features and keys are exactly what the scorer computes from `text`."""
    data, keys = stored_of(session, number)
    assert load(data) == features(text)
    assert keys == set(index_keys(features(text)))


async def test_a_filed_report_stores_what_the_scorer_computes(group: Group) -> None:
    number = await group.report(LIGHT)
    with group.runtime.sessions() as s:
        assert_indexed(s, number, LIGHT)
    # the next report of the same problem is merged on the stored features
    assert await group.report(LIGHT_AGAIN, name="刘师傅") == number


async def test_a_pending_ticket_is_scored_from_its_text_and_stored(group: Group) -> None:
    number = await group.report(LIGHT)
    with group.runtime.sessions.begin() as s:  # as migration 0021 leaves an open ticket
        s.execute(update(TicketDupFeatures).values(data=None))
        s.execute(delete(TicketDupKey))
    assert await group.report(LIGHT_AGAIN, name="刘师傅") == number
    with group.runtime.sessions() as s:
        assert_indexed(s, number, LIGHT)


async def test_an_edited_text_is_indexed_again(group: Group) -> None:
    number = await group.report(LIGHT)
    with group.runtime.sessions.begin() as s:  # text and category corrected (the category is read live)
        ticket = s.get_one(Ticket, number)
        ticket.text, ticket.category = BINS, "sanitation"
    with group.runtime.sessions() as s:
        assert stored_of(s, number) == (None, set())  # pending: the old text's keys are gone
    assert await group.report(BINS_AGAIN, name="刘师傅") == number
    with group.runtime.sessions() as s:
        assert_indexed(s, number, BINS)
    assert await group.report(LIGHT_AGAIN, name="赵大爷") != number  # the old text no longer matches


async def test_merged_tickets_leave_the_candidates_and_come_back_when_unmerged(group: Group) -> None:
    first = await group.report(LIGHT)
    second = await group.report(BINS, name="刘师傅")
    assert "已将工单" in await group.say("小王", f"合并 #{second} #{first} 确认")
    # the merged ticket is not offered any more: the bins report opens a ticket of its own
    third = await group.report(BINS_AGAIN, name="赵大爷")
    assert third not in (first, second)
    assert "已将工单" in await group.say("小王", f"合并 #{third} #{first} 确认")
    await group.say("小王", f"撤销合并 #{second}")
    with group.runtime.sessions() as s:
        assert s.get_one(Ticket, second).status is not TicketStatus.MERGED
        assert_indexed(s, second, BINS)  # unchanged by the merge and back among the candidates
    assert await group.report("5栋楼下的垃圾桶满出来了，臭死了", name="张阿姨") == second


async def test_a_true_duplicate_is_found_among_10000_open_tickets(
    group: Group, demo_world: DemoWorld
) -> None:
    now = group.clock.now
    grid = demo_world.grid
    places = [f"{b}栋" for b in range(1, 41)] + ["东门", "北门", "地下车库", "花园", "幸福路"]
    problems = ["电梯坏了", "下水道堵了", "垃圾没人清", "路灯不亮", "井盖松了", "漏水", "装修太吵"]
    tickets, rows, keys = [], [], []
    for i in range(10_000):
        # every other place and problem, the newest first; 12栋楼道灯 is not among them
        text = f"{places[i % len(places)]}{problems[i % len(problems)]}，第{i}次"
        at = now - timedelta(minutes=1 + i * 0.4)  # the 10,000 within the last 67 hours
        tickets.append(
            dict(
                kind=TicketKind.INCIDENT,
                category="property",
                priority=Priority.NORMAL,
                status=TicketStatus.NEW,
                grid_id=grid,
                text=text,
                text_masked=text,
                created_at=at,
                updated_at=at,
            )
        )
    target_text = "12栋1单元楼道灯坏了，晚上黑灯瞎火的"
    with group.runtime.sessions.begin() as s:
        ids = list(s.scalars(insert(Ticket).returning(Ticket.id), tickets))
        target = s.scalar(
            insert(Ticket)
            .values(
                kind=TicketKind.INCIDENT,
                category="property",
                priority=Priority.NORMAL,
                status=TicketStatus.NEW,
                grid_id=grid,
                text=target_text,
                text_masked=target_text,
                created_at=now - timedelta(hours=70),  # older than all of them
                updated_at=now - timedelta(hours=70),
            )
            .returning(Ticket.id)
        )
        assert target is not None
        for number, row in [*zip(ids, tickets, strict=True), (target, {"text": target_text})]:
            at = row.get("created_at", now - timedelta(hours=70))
            entry = duplicate_check.entry(features(str(row["text"])))
            rows.append(dict(ticket_id=number, grid_id=grid, created_at=at, data=entry.data))
            keys += [dict(ticket_id=number, key=k, grid_id=grid, created_at=at) for k in entry.keys]
        s.execute(insert(TicketDupFeatures), rows)
        s.execute(insert(TicketDupKey), keys)
    report = "12栋1单元的楼道灯不亮了，上下楼看不见"
    t = Thresholds()
    with group.runtime.sessions() as s:
        mine = lookups(features(report))
        read = stored.candidates(
            s, grid, now - t.window, "property", [(x.key, x.same_category) for x in mine], t.per_key, t.recent
        )
        assert target in {c.id for c in read}
        assert len(read) <= len(mine) * t.per_key + t.recent  # bounded, not the grid's 10,001
        check = duplicate_check.check(s, grid, report, "property", now, t)
        assert (check.match.ticket_id, check.match.decision) == (target, MERGE)
    assert await group.report(report, name="刘师傅") == target


async def test_storing_pending_features_never_waits_for_a_parallel_check(group: Group) -> None:
    """Two rooms of one grid checked at once both store the same pending rows: on PostgreSQL a row another
    transaction holds is skipped, not waited for (waiting deadlocked parallel checks and failed a message)."""
    light = await group.report(LIGHT)
    bins = await group.report(BINS, name="刘师傅")
    with group.runtime.sessions.begin() as s:
        s.execute(update(TicketDupFeatures).values(data=None))
        s.execute(delete(TicketDupKey))
    with group.runtime.sessions() as s:
        rows = {t.id: t for t in s.scalars(select(Ticket).where(Ticket.id.in_([light, bins])))}
        computed = {
            stored.Candidate(n, rows[n].text, rows[n].category, rows[n].created_at, rows[n].priority, None): (
                duplicate_check.entry(features(rows[n].text))
            )
            for n in (light, bins)
        }
    with group.runtime.sessions.begin() as holder:
        postgres = holder.get_bind().dialect.name == "postgresql"
        if not postgres:
            pytest.skip("SQLite has one writer at a time: no row is ever held by a parallel check")
        held = select(TicketDupFeatures).where(TicketDupFeatures.ticket_id == light).with_for_update()
        holder.execute(held)  # the other room's check, mid-transaction, holds the light's pending row
        with group.runtime.sessions.begin() as s:
            s.execute(text("SET LOCAL lock_timeout = '3s'"))  # waiting would fail here, not hang
            assert stored.store(s, group_grid(s, light), computed) == 1
    with group.runtime.sessions() as s:
        assert stored_of(s, light) == (None, set())  # left to the holder (or the next check)
        assert_indexed(s, bins, BINS)


def group_grid(session: Session, number: int) -> int:
    return session.get_one(Ticket, number).grid_id

"""A synthetic Nanjing-scale data set for demos and benchmarks (`gridbot seed-demo`).

Shape (defaults, from the project's seed documents): 12,990 grids (≈80.7 % comprehensive) under
12 districts, ≈100 streets and ≈1,200 communities; 30,025 gridworkers (10,983 full-time, 19,042
part-time); about 4 million residents. Residents are seeded as group member-count snapshots (the
sum is ≈ 4 million) plus a sample of speaking residents as Person rows (`speakers` per grid): four
million Person and RoleAssignment rows would add minutes of COPY for rows no metric reads.
Messages, tickets, SLA deadlines and ratings follow the volumes in docs/metrics-api.md. Needs an
empty database; ids are assigned here so related rows can be written with COPY in one pass.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

import numpy as np
from sqlalchemy import Table, func, select, text
from sqlalchemy.orm import Session

from gridbot.models.bulk import bulk_insert
from gridbot.models.entities import (
    ChatGroup,
    Grid,
    MemberSnapshot,
    Message,
    Person,
    Rating,
    Region,
    ReminderLog,
    RoleAssignment,
    Ticket,
    TicketDeadline,
)
from gridbot.models.metrics.rollups import day_start, local_today

Progress = Callable[[str, float, int], None]
H = timedelta(hours=1)


class SeedError(RuntimeError):
    """The database cannot be seeded (it is not empty)."""


# (kind, category, label, texts): what residents of a demo city report, in the policy's categories
SAMPLES: tuple[tuple[str, str, str, tuple[str, ...]], ...] = (
    ("incident", "sanitation", "环境卫生", ("小区门口垃圾三天没人清运了", "楼道里堆满了杂物，味道很大")),
    ("incident", "facilities", "市政设施", ("3栋楼道灯坏了，晚上很黑", "路口井盖松动，踩上去会响")),
    ("incident", "property", "物业服务", ("电梯又停了，老人上不去楼", "地下车库漏水好几天了")),
    ("incident", "noise", "噪音扰民", ("楼上装修早上七点就开始砸墙", "广场舞音响开到晚上十点")),
    ("incident", "safety", "治安消防", ("消防通道被电动车堵死了", "楼道里有人给电瓶车充电")),
    ("incident", "dispute", "矛盾纠纷", ("邻居占用公共走廊放鞋柜，说了不听", "楼上漏水到我家，对方不肯修")),
    ("incident", "violation", "违规违建", ("一楼住户在绿地上搭了棚子", "顶楼有人在加盖房间")),
    ("request", "social_security", "社保医保", ("想问一下医保卡怎么办理异地备案", "灵活就业社保在哪里缴")),
    ("request", "certificates", "证明证照", ("开居住证明需要带什么材料", "老人办身份证能上门吗")),
    ("request", "elderly_care", "养老助残", ("独居老人想申请助餐服务", "残疾人证年审在哪里办")),
    ("request", "employment", "就业创业", ("社区有没有招聘信息", "失业登记怎么办理")),
    ("request", "education", "教育入学", ("孩子明年上小学，学区怎么查", "幼儿园报名什么时候开始")),
)


@dataclass(frozen=True)
class SeedShape:
    """How big the synthetic city is."""

    grids: int = 12_990
    days: int = 90
    fulltime: int = 10_983
    parttime: int = 19_042
    residents: int = 4_000_000
    speakers: int = 40  # speaking residents per grid stored as people
    resident_messages: float = 3.0  # per grid per day (mean; grids vary)
    worker_messages: float = 1.0
    tickets: float = 0.2  # per grid per day

    @classmethod
    def scaled(cls, grids: int, days: int) -> SeedShape:
        """The default shape scaled to `grids` grids (workers and residents in proportion)."""
        f = grids / cls.grids
        return cls(
            grids, days, max(1, round(cls.fulltime * f)), round(cls.parttime * f), round(cls.residents * f)
        )


@dataclass(frozen=True)
class SeedStats:
    """Rows written per table."""

    rows: dict[str, int]


def _copy(
    session: Session, entity: Any, columns: Sequence[str], rows: Iterator[Sequence[Any]] | list[Any]
) -> int:
    table: Table = entity.__table__
    return bulk_insert(session, table, columns, rows)


def _regions(rng: np.random.Generator, n_grids: int) -> tuple[list[tuple[Any, ...]], list[int]]:
    """Region rows (city, districts, streets, communities) and each grid's community index."""
    n_districts = min(12, max(1, n_grids // 100))
    n_streets = max(n_districts, round(n_grids / 130))
    n_communities = max(n_streets, round(n_grids / 10.8))
    rows: list[tuple[Any, ...]] = [(1, "NJ", "南京市", "city", None, "/1/")]
    paths = {1: "/1/"}

    def add(code: str, name: str, level: str, parent: int) -> int:
        rid = len(rows) + 1
        paths[rid] = f"{paths[parent]}{rid}/"
        rows.append((rid, code, name, level, parent, paths[rid]))
        return rid

    districts = [add(f"D{i:02d}", f"第{i + 1}区", "district", 1) for i in range(n_districts)]
    streets = [
        add(f"S{i:03d}", f"第{i + 1}街道", "street", districts[i % n_districts]) for i in range(n_streets)
    ]
    communities = [
        add(f"C{i:04d}", f"第{i + 1}社区", "community", streets[i % n_streets]) for i in range(n_communities)
    ]
    grid_community = sorted(communities[i % n_communities] for i in range(n_grids))
    return rows, grid_community


def seed_demo(
    session: Session,
    shape: SeedShape,
    end: date | None = None,
    seed: int = 1,
    progress: Progress | None = None,
) -> SeedStats:
    """Write the synthetic city ending on local day `end` (default today); the caller commits."""
    if session.scalar(select(func.count(Region.id))):
        raise SeedError("seed-demo needs an empty database (regions already exist)")
    report = progress or (lambda _step, _done, _total: None)
    if session.get_bind().dialect.name == "postgresql" and session.scalar(
        text("SELECT rolsuper FROM pg_roles WHERE rolname = current_user")
    ):
        # the ids are consistent by construction; per-row foreign-key triggers would double the load time
        session.execute(text("SET LOCAL session_replication_role = replica"))
    rng = np.random.default_rng(seed)
    end = end or local_today() - timedelta(days=1)  # whole days only: nothing later than now
    first = end - timedelta(days=shape.days - 1)
    start = day_start(first)
    n = shape.grids
    written: dict[str, int] = {}
    regions, grid_community = _regions(rng, n)
    written["regions"] = _copy(session, Region, ["id", "code", "name", "level", "parent_id", "path"], regions)
    path_of = {r[0]: r[5] for r in regions}
    dedicated = rng.random(n) < 2506 / 12990
    households = np.where(
        dedicated, rng.integers(20, 120, n), rng.normal(300, 60, n).clip(80, 600).astype(int)
    )
    grid_ids = np.arange(1, n + 1)
    grid_rows = [
        (g, f"G{g:05d}", f"网格{g}", c, path_of[c], "dedicated" if d else "comprehensive", int(h), start)
        for g, c, d, h in zip(
            grid_ids.tolist(), grid_community, dedicated.tolist(), households.tolist(), strict=True
        )
    ]
    written["grids"] = _copy(
        session,
        Grid,
        ["id", "code", "name", "community_id", "region_path", "grid_type", "households"],
        [r[:7] for r in grid_rows],
    )
    written["chat_groups"] = _copy(
        session,
        ChatGroup,
        ["id", "room_id", "topic", "grid_id", "bound_at", "created_at"],
        ((g, f"room-{g}@chatroom", f"网格{g}群", g, start, start) for g in grid_ids.tolist()),
    )
    report("directory", 1, 5)

    # people: full-time workers on the first grids, part-timers spread, then the speaking residents
    worker_grid = np.concatenate(
        [rng.permutation(n)[: shape.fulltime] % n + 1, rng.integers(1, n + 1, shape.parttime)]
    )
    worker_role = ["gridworker"] * shape.fulltime + ["parttime_gridworker"] * shape.parttime
    n_workers = len(worker_role)
    speaker_grid = np.repeat(grid_ids, shape.speakers)
    people = (
        (i + 1, f"seed-p{i + 1}", f"居民{i + 1}" if i >= n_workers else f"网格员{i + 1}", start)
        for i in range(n_workers + len(speaker_grid))
    )
    written["persons"] = _copy(session, Person, ["id", "platform_id", "name", "created_at"], people)
    roles = (
        (
            i + 1,
            i + 1,
            worker_role[i] if i < n_workers else "resident",
            int(worker_grid[i]) if i < n_workers else int(speaker_grid[i - n_workers]),
            True,
            start,
        )
        for i in range(n_workers + len(speaker_grid))
    )
    written["role_assignments"] = _copy(
        session, RoleAssignment, ["id", "person_id", "role", "grid_id", "active", "since"], roles
    )
    fulltime_of = {int(g): i + 1 for i, g in enumerate(worker_grid[: shape.fulltime].tolist())}
    any_worker = {int(g): i + 1 for i, g in reversed(list(enumerate(worker_grid.tolist())))}
    report("people", 2, 5)

    # member snapshots: weekly, members ≈ residents spread over grids by households, slowly growing
    share = households / households.sum()
    members0 = (share * shape.residents * 0.9).astype(int)
    weeks = list(range(0, shape.days, 7))
    snaps = (
        (
            w_i * n + g,
            g + 1,
            start + timedelta(days=w) + H,
            int(members0[g] * (1 + 0.1 * w / max(1, shape.days))),
        )
        for w_i, w in enumerate(weeks)
        for g in range(n)
    )
    written["member_snapshots"] = _copy(
        session,
        MemberSnapshot,
        ["id", "group_id", "taken_at", "member_count"],
        ((i + 1, g, t, m) for i, g, t, m in snaps),
    )
    report("members", 3, 5)

    activity = rng.lognormal(0, 0.6, n)  # some groups are far busier than others
    msg_id = 0
    msg_cols = [
        "id",
        "platform_id",
        "direction",
        "group_id",
        "grid_id",
        "sender_id",
        "sender_role",
        "msg_type",
        "text_masked",
        "mentions",
        "sent_at",
        "received_at",
        "status",
        "attempts",
    ]

    def messages() -> Iterator[tuple[Any, ...]]:
        nonlocal msg_id
        for day in range(shape.days):
            base = start + timedelta(days=day)
            for role, lam in (("resident", shape.resident_messages), ("gridworker", shape.worker_messages)):
                counts = rng.poisson(lam * activity)
                grids = np.repeat(grid_ids, counts)
                secs = rng.integers(7 * 3600, 22 * 3600, len(grids))
                pick = rng.integers(0, shape.speakers, len(grids))
                for g, s, p in zip(grids.tolist(), secs.tolist(), pick.tolist(), strict=True):
                    msg_id += 1
                    sender = (
                        n_workers + (g - 1) * shape.speakers + p + 1
                        if role == "resident"
                        else any_worker.get(g)
                    )
                    at = base + timedelta(seconds=s)
                    yield (
                        msg_id,
                        f"seed-m{msg_id}",
                        "in",
                        g,
                        g,
                        sender,
                        role if sender else None,
                        "text",
                        "",
                        "[]",
                        at,
                        at,
                        "processed",
                        0,
                    )
            report("messages", 3 + day / shape.days, 5)

    written["messages"] = _copy(session, Message, msg_cols, messages())
    written.update(_tickets(session, rng, shape, start, end, grid_ids, fulltime_of, any_worker, n_workers))
    report("tickets", 5, 5)
    if session.get_bind().dialect.name == "postgresql":
        for table in (
            "regions",
            "grids",
            "chat_groups",
            "persons",
            "role_assignments",
            "member_snapshots",
            "messages",
            "tickets",
            "ticket_deadlines",
            "ratings",
        ):
            session.execute(
                text(
                    f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), GREATEST((SELECT max(id) FROM {table}), 1))"  # noqa: S608 - fixed table names
                )
            )
    return SeedStats(written)


def _tickets(
    session: Session,
    rng: np.random.Generator,
    shape: SeedShape,
    start: datetime,
    end: date,
    grid_ids: Any,
    fulltime_of: dict[int, int],
    any_worker: dict[int, int],
    n_workers: int,
) -> dict[str, int]:
    """Tickets with first-response and resolution deadlines and ratings; recent ones still open."""
    now = day_start(end + timedelta(days=1)) - H
    counts = rng.poisson(shape.tickets, (shape.days, len(grid_ids)))
    tickets: list[tuple[Any, ...]] = []
    deadlines: list[tuple[Any, ...]] = []
    ratings: list[tuple[Any, ...]] = []
    logs: list[tuple[Any, ...]] = []  # the escalations told: a ticket's escalation level is read from them
    tid = 0
    for day in range(shape.days):
        grids = np.repeat(grid_ids, counts[day]).tolist()
        for g in grids:
            tid += 1
            created = start + timedelta(days=day, seconds=int(rng.integers(7 * 3600, 21 * 3600)))
            fate = rng.random()
            status = "merged" if fate < 0.03 else "rejected" if fate < 0.07 else "new"
            respond = created + timedelta(seconds=float(rng.lognormal(7.1, 1.0)))  # median ≈ 20 min
            resolve = created + timedelta(seconds=float(rng.lognormal(11.6, 0.7)))  # median ≈ 1.3 days
            first_response = respond if respond < now and status == "new" else None
            resolved = resolve if resolve < now and status == "new" and rng.random() < 0.95 else None
            rated = (
                resolved + timedelta(hours=float(rng.uniform(1, 30)))
                if resolved and rng.random() < 0.6
                else None
            )
            if rated and rated >= now:
                rated = None
            if status == "new":
                status = (
                    "closed"
                    if rated
                    else "resolved"
                    if resolved
                    else "in_progress"
                    if first_response
                    else "new"
                )
            late = resolved is None or resolved > created + timedelta(days=3)
            if late and now > created + timedelta(days=3):  # its resolution clock warned (level 1)
                logs.append(
                    (
                        tid,
                        "resolution",
                        0,
                        1,
                        fulltime_of.get(g, any_worker.get(g)),
                        created + timedelta(days=3),
                    )
                )
            reporter = n_workers + (g - 1) * shape.speakers + int(rng.integers(0, shape.speakers)) + 1
            kind, category, label, samples = SAMPLES[int(rng.integers(0, len(SAMPLES)))]
            tickets.append(
                (
                    tid,
                    kind,
                    category,
                    label,
                    "normal",
                    status,
                    g,
                    reporter,
                    fulltime_of.get(g, any_worker.get(g)),
                    created,
                    created,
                    first_response,
                    resolved,
                    rated,
                    1,
                    0,
                    created if status == "rejected" else None,
                    samples[int(rng.integers(0, len(samples)))],
                    "（演示工单）",
                    False,
                )
            )
            for kind, due, met in (
                ("first_response", created + H, first_response),
                ("resolution", created + timedelta(days=3), resolved),
            ):
                deadlines.append(
                    (
                        2 * tid - (kind == "first_response"),
                        tid,
                        kind,
                        0,
                        created,
                        due,
                        due - H / 2,
                        due + H,
                        due + 2 * H,
                        met,
                        None if met and met <= due else (due if due < now else None),
                        created,  # demo history: its clocks never fire
                    )
                )
            if rated:
                score = rng.choice(["satisfied", "basically_satisfied", "unsatisfied"], p=[0.8, 0.15, 0.05])
                ratings.append((len(ratings) + 1, tid, reporter, 0, str(score), rated))
    ticket_cols = [
        "id",
        "kind",
        "category",
        "category_label",
        "priority",
        "status",
        "grid_id",
        "reporter_id",
        "assignee_id",
        "created_at",
        "updated_at",
        "first_response_at",
        "resolved_at",
        "closed_at",
        "version",
        "cycle",
        "rejected_at",
        "text",
        "text_masked",
        "needs_review",
    ]
    dl_cols = [
        "id",
        "ticket_id",
        "kind",
        "cycle",
        "started_at",
        "due_at",
        "warn_at",
        "escalate1_at",
        "escalate2_at",
        "met_at",
        "breached_at",
        "stopped_at",
    ]
    return {
        "tickets": _copy(session, Ticket, ticket_cols, tickets),
        "ticket_deadlines": _copy(session, TicketDeadline, dl_cols, deadlines),
        "ratings": _copy(
            session, Rating, ["id", "ticket_id", "person_id", "cycle", "score", "created_at"], ratings
        ),
        "reminder_log": _copy(
            session,
            ReminderLog,
            ["ticket_id", "deadline_kind", "cycle", "level", "recipient_id", "fired_at"],
            logs,
        ),
    }

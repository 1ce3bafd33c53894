"""`gridbot demo`: a demo district on SQLite and a simulated day of one grid group, printed as it goes."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime, timedelta
from pathlib import Path

from sqlalchemy.orm import Session

from gridbot.bot.app import Runtime
from gridbot.bot.replay import Line, Replay, ReplayTransport, SimClock, iter_roles
from gridbot.handlers.types import Outcome, OutgoingMessage
from gridbot.models.entities import Grid
from gridbot.models.enums import STATUS_LABELS, DeadlineKind, GridType, Role
from gridbot.models.metrics import LOCAL_TZ, Period, grid_metrics
from gridbot.models.metrics.rollups import refresh_rollups
from gridbot.models.org import directory
from gridbot.models.tickets import overview
from gridbot.models.wording.staff import weekly_stats

DEMO_TRANSCRIPT = Path(__file__).parent / "data" / "demo_day.jsonl"
DEMO_GRID = "WTS-01"


def setup_world(session: Session, lines: list[Line]) -> Grid:
    """A demo district with a street, two communities and four grids; the transcript's room bound to one."""
    city = directory.create_region(session, "DEMO", "示范市")
    district = directory.create_region(session, "DEMO-GL", "示范区", city)
    street = directory.create_region(session, "DEMO-GL-HQ", "华侨路街道", district)
    wts = directory.create_region(session, "DEMO-GL-HQ-WTS", "五台山社区", street)
    lcx = directory.create_region(session, "DEMO-GL-HQ-LCX", "龙仓巷社区", street)
    grid = directory.create_grid(session, DEMO_GRID, "五台山第一网格", wts, households=320)
    directory.create_grid(session, "WTS-02", "五台山第二网格", wts, households=280)
    directory.create_grid(session, "LCX-01", "龙仓巷第一网格", lcx, households=300)
    directory.create_grid(
        session, "LCX-S1", "龙仓巷小学专属网格", lcx, households=0, grid_type=GridType.DEDICATED
    )
    rooms = {line.room for line in lines}
    for room in sorted(rooms):
        directory.bind_group(session, room, grid, topic="五台山一网格居民群")
    staff = {sender: (name, role) for _room, sender, name, role in iter_roles(lines)}
    # escalation reaches the community and the street even if they never speak in the transcript
    for pid, name, role in (
        ("demo-community-admin", "社区孙主任", Role.COMMUNITY_ADMIN),
        ("demo-street-admin", "街道赵科长", Role.STREET_ADMIN),
    ):
        if all(r != role.value for _n, r in staff.values()):
            staff[pid] = (name, role.value)
    for sender, (name, role_name) in staff.items():
        person = directory.ensure_person(session, sender, name)
        role_ = Role(role_name)
        if role_ in (Role.COMMUNITY_ADMIN,):
            directory.assign_role(session, person, role_, region=wts)
        elif role_ in (Role.STREET_ADMIN,):
            directory.assign_role(session, person, role_, region=street)
        else:
            directory.assign_role(session, person, role_, grid=grid)
    return grid


def _local(at: datetime) -> str:
    return at.astimezone(LOCAL_TZ).strftime("%H:%M")


def printer(
    echo: Callable[[str], None], bot_name: str, names: dict[str, str]
) -> tuple[Callable[[Line, str, Outcome], None], Callable[[datetime, OutgoingMessage], None]]:
    """Callbacks printing each resident line and each bot message."""

    def on_line(line: Line, text: str, outcome: Outcome) -> None:
        tag = {"ticket": f"  [→ 工单 #{outcome.ticket}]", "failed": "  [处理失败]"}.get(outcome.status, "")
        echo(f"{_local(line.at)} {line.name}: {text}{tag}")

    def on_send(at: datetime, message: OutgoingMessage) -> None:
        mentions = " ".join(f"@{names.get(m, m)}" for m in message.mention_ids)
        body = message.text.replace("\n", "\n        ")
        # escalations go to community and street staff by direct message, not into the group
        to = (
            f" → 私信 {names.get(message.to_contact_id or '', message.to_contact_id)}"
            if message.room_id is None
            else ""
        )
        echo(f"{_local(at)}   🤖 {bot_name}{to}: {mentions + ' ' if mentions else ''}{body}")

    return on_line, on_send


def summary(session: Session, grid_id: int, now: datetime, day: date) -> str:
    """Tickets by state, SLA hits and misses, and the grid's metrics for the day."""
    states = overview.status_counts(session, grid_id)
    lines = [
        "",
        "===== 今日小结 =====",
        "工单状态：" + "，".join(f"{STATUS_LABELS[s]} {n}" for s, n in states.items()),
    ]
    for kind, label in ((DeadlineKind.FIRST_RESPONSE, "首次响应"), (DeadlineKind.RESOLUTION, "办结")):
        o = overview.deadline_outcomes(session, grid_id, kind, now)
        lines.append(f"{label}时限：按时 {o.hit}，超时 {o.missed}，进行中 {o.running}")
    reminders = overview.reminders_fired(session)
    lines.append(f"提醒与督办：共触发 {reminders} 次")
    lines.append(
        weekly_stats(grid_metrics(session, grid_id, Period.local_days(day, day))).replace("本周", "今日")
    )
    return "\n".join(lines)


def names_of(session: Session) -> dict[str, str]:
    """Platform id → display name, for printing mentions."""
    return directory.platform_names(session)


async def run_demo(
    runtime: Runtime, clock: SimClock, lines: list[Line], echo: Callable[[str], None], tail: timedelta
) -> str:
    """Replay the day, printing as it goes; returns the closing summary."""
    with runtime.sessions.begin() as session:
        grid = setup_world(session, lines)
        grid_id = grid.id
    with runtime.sessions() as session:
        names = names_of(session) | {line.sender: line.name for line in lines}
    on_line, on_send = printer(echo, runtime.settings.wechaty.bot_name, names)
    replay = Replay(runtime, clock, ReplayTransport(clock, on_send), on_line=on_line)
    await replay.run(lines, tail=tail)
    day = lines[0].at.astimezone(LOCAL_TZ).date()
    with runtime.sessions.begin() as session:
        # the dashboard reads daily rollups: build them for the replayed days now
        refresh_rollups(session, day, clock.now.astimezone(LOCAL_TZ).date())
    with runtime.sessions() as session:
        return summary(session, grid_id, clock.now, day)

"""`gridbot demo --channel wecom`: the demo day with the residents' group as a WeCom external group.

Who says what where: residents write in the group, the bot reads it from the archive; the bot never
posts there. Its replies reach the responsible gridworker privately (AI bot) as handoffs, and the
gridworker posts them a couple of minutes later (sidebar one-tap); the archive shows the post and
closes the handoff. Gridworkers' commands go to the bot by private chat; reminders come privately.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta

from sqlalchemy import update

from gridbot.bot.app import Runtime
from gridbot.bot.demo import names_of, setup_world, summary
from gridbot.bot.replay import Line, Replay, SimClock
from gridbot.bot.wecom.transport import dm_room, ensure_staff_room, handoff_text, plan_delivery
from gridbot.handlers import commands
from gridbot.handlers.types import Outcome, OutgoingMessage
from gridbot.models.entities import ChatGroup
from gridbot.models.metrics import LOCAL_TZ
from gridbot.models.tickets import handoffs

FORWARD_AFTER = timedelta(minutes=2)  # how long the demo gridworker takes to post a handoff


def _hm(at: datetime) -> str:
    return at.astimezone(LOCAL_TZ).strftime("%H:%M")


@dataclass
class WeComDemoTransport:
    """Delivers like WeComTransport (handoffs, private staff messages) and prints who sees what."""

    runtime: Runtime
    clock: SimClock
    echo: Callable[[str], None]
    names: dict[str, str]
    forwards: list[tuple[datetime, str, str, str]] = field(default_factory=list)  # (due, room, worker, text)
    sent: int = 0

    def _name(self, pid: str) -> str:
        return self.names.get(pid, pid)

    async def send(self, message: OutgoingMessage) -> str | None:
        self.sent += 1
        now = self.clock.now
        body = message.text.replace("\n", "\n        ")
        room = message.room_id
        if room is None or room.startswith("wecom:dm:"):
            who = message.to_contact_id or (room or "").removeprefix("wecom:dm:")
            self.echo(f"{_hm(now)}   🤖 → {self._name(who)}（企业微信私聊）: {body}")
            return f"demo-{self.sent}"
        with self.runtime.sessions.begin() as session:
            plan = plan_delivery(session, message, now)
        if plan.staff:
            to = list(message.mention_ids) or plan.workers
            self.echo(f"{_hm(now)}   🤖 → {'、'.join(map(self._name, to))}（企业微信私聊·提醒）: {body}")
            return f"demo-{self.sent}"
        worker = plan.workers[0] if plan.workers else ""
        if plan.card is not None:
            buttons = " ".join(f"[{b['text']}]" for b in plan.card["button_list"])
            self.echo(
                f"{_hm(now)}   🤖 → {self._name(worker)}（企业微信卡片）: {plan.card['main_title']['title']} {buttons}"
            )
        shown = handoff_text(plan, message.text).replace("\n", "\n        ")
        self.echo(f"{_hm(now)}   🤖 → {self._name(worker)}（企业微信私聊·待转发）: {shown}")
        if worker:
            self.forwards.append((now + FORWARD_AFTER, room, worker, message.text))
        return f"handoff:{plan.handoff}"


@dataclass
class WeComReplay(Replay[WeComDemoTransport]):
    """The demo replay: staff commands go to the bot privately; handoffs are posted on time."""

    def _forward_due(self, until: datetime) -> None:
        due = sorted(f for f in self.transport.forwards if f[0] <= until)
        self.transport.forwards = [f for f in self.transport.forwards if f[0] > until]
        for at, room, worker, text in due:
            self.clock.now = max(self.clock.now, at)
            with self.runtime.sessions.begin() as session:
                closed = handoffs.close_matching(
                    session, room, text, f"demo-forward-{at.timestamp()}", self.clock.now
                )
            mark = "  [存档确认 ✓]" if closed else ""
            body = text.replace("\n", "\n        ")
            self.transport.echo(
                f"{_hm(self.clock.now)} [居民群] {self.transport._name(worker)}（转发）: {body}{mark}"
            )

    async def advance(self, until: datetime) -> None:
        self._forward_due(until)
        await super().advance(until)
        self._forward_due(until)

    async def feed(self, line: Line, n: int) -> Outcome:
        if line.role != "resident" and commands.find(self._text(line)) is not None:
            # a gridworker's command: to the bot by private chat, not into the residents' group
            with self.runtime.sessions.begin() as session:
                ensure_staff_room(session, dm_room(line.sender), line.sender, True, line.at)
            line = replace(line, room=dm_room(line.sender), mentions=())
        return await super().feed(line, n)


async def run_wecom_demo(
    runtime: Runtime, clock: SimClock, lines: list[Line], echo: Callable[[str], None], tail: timedelta
) -> str:
    """Replay the day in WeCom mode, printing as it goes; returns the closing summary."""
    with runtime.sessions.begin() as session:
        grid = setup_world(session, lines)
        grid_id = grid.id
        session.execute(update(ChatGroup).where(ChatGroup.grid_id == grid_id).values(can_post=False))
    with runtime.sessions() as session:
        names = names_of(session) | {line.sender: line.name for line in lines}

    def on_line(line: Line, text: str, outcome: Outcome) -> None:
        tag = {"ticket": f"  [→ 工单 #{outcome.ticket}]", "failed": "  [处理失败]"}.get(outcome.status, "")
        where = "私聊机器人" if line.room.startswith("wecom:dm:") else "居民群·存档"
        echo(f"{_hm(line.at)} [{where}] {line.name}: {text}{tag}")

    transport = WeComDemoTransport(runtime, clock, echo, names)
    replay = WeComReplay(runtime, clock, transport, on_line=on_line)
    await replay.run(lines, tail=tail)
    replay._forward_due(clock.now)
    with runtime.sessions() as session:
        return summary(session, grid_id, clock.now, lines[0].at.astimezone(LOCAL_TZ).date())

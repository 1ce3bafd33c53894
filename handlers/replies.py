"""Chinese texts the bot says, kept together so wording stays consistent."""

from __future__ import annotations

from datetime import datetime, timedelta

from gridbot.models.entities import Ticket
from gridbot.models.enums import STATUS_LABELS, DeadlineKind
from gridbot.models.metrics import LOCAL_TZ, GridMetrics

APOLOGY = "处理失败，请稍后再试"
UNBOUND = "本群尚未绑定网格，请管理员发送「绑定 网格编号」"
NO_PERMISSION = "抱歉，该命令仅限网格员或管理员使用"


def humanize(delta: timedelta) -> str:
    """A duration as a Chinese phrase: 10分钟, 1小时, 3天."""
    minutes = max(1, round(delta.total_seconds() / 60))
    if minutes < 60:
        return f"{minutes}分钟"
    hours = minutes / 60
    if hours < 2:
        return f"{hours:.1f}".rstrip("0").rstrip(".") + "小时"
    if hours < 48:
        return f"{round(hours)}小时"
    return f"{round(hours / 24)}天"


def by_time(due: datetime, now: datetime) -> str:
    """「1小时内」 for near deadlines, 「今天17:30前」 / 「11月24日10:00前」 for later ones."""
    span = due - now
    if span <= timedelta(hours=1):
        return f"{humanize(span)}内"
    local, today = due.astimezone(LOCAL_TZ), now.astimezone(LOCAL_TZ).date()
    day = (
        "今天"
        if local.date() == today
        else ("明天" if local.date() == today + timedelta(days=1) else f"{local.month}月{local.day}日")
    )
    return f"{day}{local:%H:%M}前"


def response_promise(ticket: Ticket) -> str:
    """「预计1小时内响应」 from the ticket's first-response deadline."""
    for d in ticket.deadlines:
        if d.kind is DeadlineKind.FIRST_RESPONSE and d.cycle == ticket.cycle:
            return f"预计{by_time(d.due_at, d.started_at)}响应"
    return "我们会尽快处理"


def filed(name: str, ticket: Ticket, worker: str | None) -> str:
    """The reply to a resident whose report became a ticket."""
    kind = "问题" if ticket.kind.value == "incident" else "诉求"
    to = f"已转网格员{worker}" if worker else "已转社区"
    return f"已收到您反映的【{ticket.category_label}】{kind}，工单 {ticket.number} {to}，{response_promise(ticket)}"


def urgent(ticket: Ticket) -> str:
    """The alarm to the gridworker and the grid leader for an urgent report."""
    return f"【紧急】工单 {ticket.number}【{ticket.category_label}】可能危及人身财产安全，请立即处置！原文：{ticket.text_masked[:80]}"


def merged_into(ticket: Ticket) -> str:
    """The reply to a resident whose report joined an open ticket."""
    return (
        f"您反映的问题与工单 {ticket.number}（{ticket.category_label}）相同，已合并处理，处理进展会一并通知您"
    )


def ticket_line(ticket: Ticket, now: datetime) -> str:
    """One line of a ticket list."""
    age = humanize(now - ticket.created_at)
    review = "【待确认】" if ticket.needs_review else ""
    urgent_mark = "【急】" if ticket.priority.value == "urgent" else ""
    return f"{ticket.number} {urgent_mark}{review}{ticket.category_label} {STATUS_LABELS[ticket.status]} {age}前：{ticket.text_masked[:30]}"


def ticket_detail(ticket: Ticket, now: datetime) -> str:
    """The answer to 查 #42."""
    lines = [ticket_line(ticket, now)]
    for d in ticket.deadlines:
        if d.cycle == ticket.cycle and d.met_at is None and d.next_fire_at is not None:
            left = d.due_at - now
            state = f"剩余{humanize(left)}" if left.total_seconds() > 0 else f"已超时{humanize(-left)}"
            lines.append(f"· {DEADLINE_LABELS[d.kind]}期限 {state}")
    if ticket.resolution_note:
        lines.append(f"· 办结说明：{ticket.resolution_note}")
    return "\n".join(lines)


DEADLINE_LABELS = {
    DeadlineKind.FIRST_RESPONSE: "首次响应",
    DeadlineKind.FEEDBACK: "反馈",
    DeadlineKind.RESOLUTION: "办结",
}


def _pct(x: float | None) -> str:
    return "—" if x is None else f"{x:.0%}"


def weekly_stats(m: GridMetrics) -> str:
    """The answer to 统计: this week's numbers of the grid."""
    median = (
        "—" if m.first_response_median_s is None else humanize(timedelta(seconds=m.first_response_median_s))
    )
    return (
        f"【{m.grid_name}本周统计】\n"
        f"受理 {m.received} 件，办结 {m.resolved} 件（办结率 {_pct(m.resolution_rate)}，按期 {_pct(m.on_time_resolution_rate)}）\n"
        f"首次响应及时率 {_pct(m.first_response_on_time_rate)}，响应中位数 {median}\n"
        f"满意率 {_pct(m.satisfaction_rate)}（{m.rated} 条评价），超时 {m.overdue} 件\n"
        f"居民发言 {m.resident_messages} 条，活跃居民 {m.active_residents} 人"
    )

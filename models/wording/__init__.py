"""Every sentence the bot says, one module per audience, so a city can review them in one place.

`residents` holds what residents read in their group (and in a private chat with the bot);
`staff` holds what gridworkers, grid leaders and administrators read (lists, alarms, reminders,
refusals). Shared phrasing helpers live here. Nothing here touches the database.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

LOCAL_TZ = ZoneInfo("Asia/Shanghai")


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


def titled(title: str, name: str | None) -> str:
    """「网格员小刘」 — without doubling a title the display name already carries (「网格员小刘」)."""
    if not name:
        return title
    if title in name:
        return name
    return f"{title}{name}"


def kind_word(kind: str) -> str:
    """问题 for an incident, 诉求 for a service request."""
    return "问题" if kind == "incident" else "诉求"

"""Notices in the conversation: residents' 收到 replies, and the texts of the notice commands.

`try_ack` is called by the conversation for residents' text before ratings and classification:
a short confirmation (收到 / 已阅 / 👌 …, or the same as a quote-reply to a notice) is recorded
against the newest notice the member has not confirmed (or the quoted one) and not classified.
"""

from __future__ import annotations

import re
from datetime import timedelta

from gridbot.handlers.context import Context
from gridbot.handlers.parsing import canonical
from gridbot.models.messaging import notices
from gridbot.models.settings import get_settings

_PUNCT = r"[\s,，。.!！~～、👌👍🙏✅💪]*"
_WORD = r"(?:已?收到了?|已阅|已读|阅|知道了|明白了?|了解了?|好的|好滴|ok|OK|Ok)"
_EMOJI = r"(?:👌|👍|🙏|✅)+"
_THANKS = r"(?:谢谢|感谢|辛苦了?|多谢)?"
ACK = re.compile(rf"^{_PUNCT}(?:好的?|嗯+)?{_PUNCT}(?:{_WORD}|{_EMOJI}){_PUNCT}{_THANKS}{_PUNCT}$")
QUOTED_NOTICE = re.compile(r"通知\s*#\s*(\d{1,9})(?!\d)")


def is_ack(text: str) -> bool:
    """Whether a line is a short confirmation (收到, 已阅, 好的收到, 👌, 收到谢谢 …)."""
    return len(text) <= 20 and ACK.match(canonical(text)) is not None


def try_ack(ctx: Context) -> bool:
    """Record a resident's confirmation of a notice; False when the line is none, or nothing is pending."""
    if ctx.grid is None or not is_ack(ctx.msg.text):
        return False
    quoted = QUOTED_NOTICE.search(canonical(ctx.msg.quoted_text or ""))
    settings = get_settings().notices
    notice = notices.acknowledge(
        ctx.session,
        person_id=ctx.person.id,
        grid_id=ctx.grid.id,
        now=ctx.now,
        window=timedelta(days=settings.ack_window_days),
        message_id=ctx.message.id,
        notice_id=int(quoted.group(1)) if quoted else None,
    )
    return notice is not None


def remind_after() -> timedelta:
    """How long after a notice the one reminder goes out (GRIDBOT_NOTICES__REMIND_AFTER_MINUTES)."""
    return timedelta(minutes=get_settings().notices.remind_after_minutes)


def status_text(st: notices.NoticeStatus) -> str:
    """The answer to 通知情况 #N."""
    rate = "—" if st.rate is None else f"{st.rate:.0%}"
    lines = [f"{notices.marker(st.notice_id)} 知晓率 {st.acked}/{st.total}（{rate}）：{st.text[:30]}"]
    if st.pending:
        names = "、".join(name for _, name, _ in st.pending[:30])
        more = f" 等{len(st.pending)}人" if len(st.pending) > 30 else ""
        lines.append(f"未确认：{names}{more}")
    else:
        lines.append("全部已确认 👍")
    if st.reminded_at is not None:
        lines.append("已提醒过一次")
    return "\n".join(lines)

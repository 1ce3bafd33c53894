"""What staff read: ticket lists, alarms, reminders and escalations, command answers and refusals.

Gridworkers, grid leaders and administrators read these in the group (commands they typed,
@-mentions) or privately (alarms to be checked before residents hear anything, 督办).
"""

from __future__ import annotations

from datetime import datetime, timedelta

from gridbot.models.enums import STATUS_LABELS, DeadlineKind, TicketStatus
from gridbot.models.metrics import GridMetrics
from gridbot.models.wording import humanize

NO_PERMISSION = "抱歉，该命令仅限网格员或管理员使用"
PAGE_SIZE = 10
DEADLINE_LABELS = {
    DeadlineKind.FIRST_RESPONSE: "首次响应",
    DeadlineKind.FEEDBACK: "反馈",
    DeadlineKind.RESOLUTION: "办结",
}
DIGEST_HEADS = {
    "soon": "【工单提醒】您有{n}张工单即将超时：",
    "own_late": "【工单提醒】您有{n}张工单已超时，请尽快办理：",
    "late": "【超时督办】{n}张工单已超时，请督促办理：",
}
LEVEL_TAGS = {3: "（社区督办）", 4: "（街道督办）"}
# What to do instead, per status, when an action is not allowed there
NEXT_STEP = {
    TicketStatus.NEW: "请先「接单 {no}」",
    TicketStatus.SUSPENDED: "请先「恢复 {no}」",
    TicketStatus.RESOLVED: "已办结待评价；如需继续办理，请网格长「重办」",
    TicketStatus.CLOSED: "已完结；同一问题再次出现请让居民重新反映",
    TicketStatus.MERGED: "已合并；请对主工单操作，或「撤销合并 {no}」",
    TicketStatus.REJECTED: "已退回；如需办理请让居民重新反映",
}


def not_allowed(number: str, status: TicketStatus, action: str) -> str:
    """A refusal that says what to do instead."""
    hint = NEXT_STEP.get(status, "")
    hint = f"，{hint.format(no=number)}" if hint else ""
    return f"工单 {number} 当前状态为「{STATUS_LABELS[status]}」，不能执行「{action}」{hint}"


def already_done(number: str, status: TicketStatus, action: str) -> str:
    """The answer to an action asked again after it took effect (接单 after an @-reply already counted)."""
    return f"工单 {number} 已是「{STATUS_LABELS[status]}」，无需再「{action}」"


def urgent_alarm(number: str, category: str, text: str) -> str:
    """The alarm to the gridworkers and the grid leader for a confident urgent report."""
    return f"【紧急】工单 {number}【{category}】可能危及人身财产安全，请立即处置！原文：{text[:80]}"


def urgent_to_check(number: str, category: str, confidence: float, text: str) -> str:
    """Private alarm for an urgent guess the classifier is not sure of: a person decides first."""
    return (
        f"【疑似紧急·待核实】工单 {number}【{category}】（识别把握 {confidence:.0%}）原文：{text[:80]}\n"
        f"请立即核实：属实请发「改级 {number} 紧急」（群里会通知居民），不紧急请发「改级 {number} 普通」"
    )


def ticket_line(
    number: str,
    urgent: bool,
    needs_review: bool,
    category: str,
    status: TicketStatus,
    created_at: datetime,
    text: str,
    now: datetime,
) -> str:
    """One line of a ticket list."""
    age = humanize(now - created_at)
    mark = ("【急】" if urgent else "") + ("【待确认】" if needs_review else "")
    return f"{number} {mark}{category} {STATUS_LABELS[status]} {age}前：{text[:30]}"


def work_list(lines: list[str], total: int, page: int) -> str:
    """The answer to 工单, one page of it, saying how many more there are."""
    if not lines:
        return "您目前没有待办工单 👍"
    shown = (page - 1) * PAGE_SIZE + len(lines)
    more = f"\n还有 {total - shown} 张，发送「工单 {page + 1}」查看下一页" if total > shown else ""
    head = "您的待办工单" + (f"（第{page}页，共{total}张）" if total > PAGE_SIZE else "") + "："
    return head + "\n" + "\n".join(lines) + more


def sent_privately(what: str) -> str:
    """Said in the group when a long answer went to the staff member privately."""
    return f"{what}已私信发给您"


def deadline_state(kind: DeadlineKind, left: timedelta) -> str:
    """One deadline line of 查 #42."""
    state = f"剩余{humanize(left)}" if left.total_seconds() > 0 else f"已超时{humanize(-left)}"
    return f"· {DEADLINE_LABELS[kind]}期限 {state}"


def resolution_line(note: str) -> str:
    """The resolution note line of 查 #42."""
    return f"· 办结说明：{note}"


def reclassified(number: str, label: str) -> str:
    """The answer to 改类."""
    return f"已将工单 {number} 改为【{label}】，谢谢纠正"


def reprioritized(number: str, urgent: bool, promise: str) -> str:
    """The answer to 改级."""
    level = "紧急" if urgent else "普通"
    return f"已将工单 {number} 改为【{level}】，时限已重新计算（{promise}）"


def merged(source: str, target: str) -> str:
    """The answer to 合并."""
    return f"已将工单 {source} 合并到 {target}（如合并有误，发送「撤销合并 {source}」）"


def merge_confirm(source: str, source_desc: str, target: str, target_desc: str) -> str:
    """合并 across categories or priorities: ask before doing it."""
    return (
        f"工单 {source}（{source_desc}）与 {target}（{target_desc}）类别或紧急程度不同。"
        f"确认合并请发送「合并 {source} {target} 确认」（合并后保留紧急程度和最严的时限）"
    )


def unmerged(source: str, target: str) -> str:
    """The answer to 撤销合并."""
    return f"已撤销合并：工单 {source} 从 {target} 中分出，恢复单独办理"


def digest_line(number: int, category: str, kind: DeadlineKind, level: int, when: str) -> str:
    """One line of a reminder or escalation digest."""
    return f"#{number} {category} {DEADLINE_LABELS[kind]} {when}{LEVEL_TAGS.get(level, '')}"


def dead_letter(kind: str, whom: str, why: str) -> str:
    """How a reminder that could not be delivered is described (logs, API)."""
    return f"{kind} 未送达 {whom}：{why}"


def _pct(x: float | None) -> str:
    return "—" if x is None else f"{x:.0%}"


def weekly_stats(m: GridMetrics, patrol: int | None = None) -> str:
    """The answer to 统计: this week's numbers of the grid (主动发现: tickets found on patrol)."""
    median = (
        "—" if m.first_response_median_s is None else humanize(timedelta(seconds=m.first_response_median_s))
    )
    found = f"，其中主动发现 {patrol} 件" if patrol else ""
    return (
        f"【{m.grid_name}本周统计】\n"
        f"受理 {m.received} 件{found}，办结 {m.resolved} 件（办结率 {_pct(m.resolution_rate)}，按期 {_pct(m.on_time_resolution_rate)}）\n"
        f"首次响应及时率 {_pct(m.first_response_on_time_rate)}（{m.responded_on_time}/{m.response_due}，未到期的不计），"
        f"及时签收率 {_pct(m.on_time_signing_rate)}，响应中位数 {median}\n"
        f"满意率 {_pct(m.satisfaction_rate)}（{m.rated} 条评价），解决率 {_pct(m.solve_rate)}，超时 {m.overdue} 件\n"
        f"居民发言 {m.resident_messages} 条，活跃居民 {m.active_residents} 人"
    )


# ---- attachments (photos, files, voice) -------------------------------------------------------

ATTACHMENT_REFUSALS = {
    "too_large": "文件过大",
    "type_not_allowed": "文件类型不在允许范围内",
    "empty": "文件为空",
    "not_delivered": "平台未能下载该文件",
    "store_failed": "服务器保存失败",
}


def photo_required(number: str, category: str) -> str:
    """办结 refused: this category closes only with a 处置后照片."""
    return (
        f"工单 {number}（{category}）办结前需要一张处置后照片。"
        f"请先在群里发送处置后的现场照片，再发「办结 {number} 处理说明」；"
        "也可以在工作页上传照片后办结"
    )


def after_photo_kept(number: str) -> str:
    """A gridworker's photo right after 办结 became the ticket's 处置后照片."""
    return f"已将照片作为工单 {number} 的处置后照片存档"


def voice_to_listen(number: str | None) -> str:
    """A resident's voice message waits for a gridworker to listen (privately, to the grid's staff)."""
    where = f"工单 {number} " if number else "群里"
    return f"【语音待听】{where}有一条居民语音消息，机器人无法识别语音，请在群里或工作页收听后处理"


def attachment_refused(reason: str | None) -> str:
    """Why a file was not kept (shown on the ticket page and in the reply to an upload)."""
    return f"未保存：{ATTACHMENT_REFUSALS.get(reason or '', '无法保存')}"

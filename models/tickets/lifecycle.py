"""The ticket lifecycle, once: states, allowed transitions and who may make each.

Both the bot's commands and the API call `models.tickets`, which consults this table.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from gridbot.models.entities import Grid, Ticket
from gridbot.models.enums import ADMIN_ROLES, WORKER_ROLES, Role, TicketStatus
from gridbot.models.errors import PermissionDenied, PhotoRequired, TransitionNotAllowed
from gridbot.models.org.directory import Actor
from gridbot.models.wording import staff

S = TicketStatus


class Action(StrEnum):
    """What can be done to a ticket (the Chinese verb is the bot command)."""

    ACCEPT = "accept"  # 接单
    RESPOND = "respond"  # 回复 (relayed to the resident; a first response)
    START = "start"  # 处理
    RESOLVE = "resolve"  # 办结
    SUSPEND = "suspend"  # 挂起
    RESUME = "resume"  # 恢复
    TRANSFER = "transfer"  # 转派
    MERGE = "merge"  # 合并
    REJECT = "reject"  # 退回 / 无效
    RECLASSIFY = "reclassify"  # 改类
    CLOSE = "close"  # 已评价 (satisfied rating, or auto-close after the rating window)
    REOPEN = "reopen"  # 重办 (不满意, or an admin)
    REPRIORITIZE = "reprioritize"  # 改级 (普通 / 紧急, with the clocks)
    UNMERGE = "unmerge"  # 撤销合并 (back to the status it had when merged)


ACTION_LABELS = {
    Action.ACCEPT: "接单",
    Action.RESPOND: "回复",
    Action.START: "开始处理",
    Action.RESOLVE: "办结",
    Action.SUSPEND: "挂起",
    Action.RESUME: "恢复",
    Action.TRANSFER: "转派",
    Action.MERGE: "合并",
    Action.REJECT: "退回",
    Action.RECLASSIFY: "改类",
    Action.CLOSE: "关闭",
    Action.REOPEN: "重办",
    Action.REPRIORITIZE: "改级",
    Action.UNMERGE: "撤销合并",
}

WORKERS = frozenset(WORKER_ROLES | ADMIN_ROLES | {Role.SYSTEM})
LEADERS = frozenset({Role.GRID_LEADER, Role.SYSTEM} | ADMIN_ROLES)
REPORTER = "reporter"  # pseudo-role: a resident who reported this ticket
OPEN = (S.NEW, S.ACCEPTED, S.IN_PROGRESS, S.SUSPENDED)


@dataclass(frozen=True)
class Rule:
    """Allowed source statuses mapped to the resulting status (None: status unchanged) and who may act."""

    moves: dict[TicketStatus, TicketStatus | None]
    roles: frozenset[Role]
    reporter_may: bool = False


def _same(*statuses: TicketStatus) -> dict[TicketStatus, TicketStatus | None]:
    return dict.fromkeys(statuses)


RULES: dict[Action, Rule] = {
    Action.ACCEPT: Rule({S.NEW: S.ACCEPTED}, WORKERS),
    Action.RESPOND: Rule(
        {S.NEW: S.ACCEPTED, S.ACCEPTED: S.IN_PROGRESS, S.IN_PROGRESS: None, S.SUSPENDED: None}, WORKERS
    ),
    Action.START: Rule({S.ACCEPTED: S.IN_PROGRESS}, WORKERS),
    Action.RESOLVE: Rule({S.NEW: S.RESOLVED, S.ACCEPTED: S.RESOLVED, S.IN_PROGRESS: S.RESOLVED}, WORKERS),
    Action.SUSPEND: Rule({S.ACCEPTED: S.SUSPENDED, S.IN_PROGRESS: S.SUSPENDED}, WORKERS),
    Action.RESUME: Rule({S.SUSPENDED: S.IN_PROGRESS}, WORKERS),
    Action.TRANSFER: Rule(_same(*OPEN), WORKERS),
    Action.MERGE: Rule({s: S.MERGED for s in OPEN}, WORKERS),
    Action.REJECT: Rule({s: S.REJECTED for s in OPEN}, WORKERS),
    Action.RECLASSIFY: Rule(_same(*OPEN, S.RESOLVED), WORKERS),
    Action.CLOSE: Rule({S.RESOLVED: S.CLOSED}, LEADERS, reporter_may=True),
    Action.REOPEN: Rule({S.RESOLVED: S.IN_PROGRESS, S.CLOSED: S.IN_PROGRESS}, LEADERS, reporter_may=True),
    Action.REPRIORITIZE: Rule(_same(*OPEN), WORKERS),
    # the status it returns to is the one recorded when it was merged (the service restores it)
    Action.UNMERGE: Rule(_same(S.MERGED), WORKERS),
}


# An action asked again after its effect already holds: told calmly, not as a refusal
ALREADY_DONE = {
    (Action.ACCEPT, S.ACCEPTED),
    (Action.ACCEPT, S.IN_PROGRESS),
    (Action.START, S.IN_PROGRESS),
    (Action.RESOLVE, S.RESOLVED),
    (Action.SUSPEND, S.SUSPENDED),
    (Action.RESUME, S.IN_PROGRESS),
    (Action.CLOSE, S.CLOSED),
    (Action.MERGE, S.MERGED),
    (Action.REJECT, S.REJECTED),
}


def check(action: Action, ticket: Ticket, grid: Grid, actor: Actor, is_reporter: bool) -> TicketStatus:
    """The status `action` leads to; raises TransitionNotAllowed or PermissionDenied otherwise."""
    rule = RULES[action]
    label = ACTION_LABELS[action]
    if not (actor.roles_for(grid) & rule.roles) and not (rule.reporter_may and is_reporter):
        if actor.roles_for(grid) or is_reporter:
            raise PermissionDenied(f"您没有权限对工单 {ticket.number} 执行「{label}」")
        raise PermissionDenied(f"工单 {ticket.number} 不在您负责的网格，无法执行「{label}」")
    if ticket.status not in rule.moves:
        if (action, ticket.status) in ALREADY_DONE:  # 接单 twice: what was asked already holds
            raise TransitionNotAllowed(staff.already_done(ticket.number, ticket.status, label))
        raise TransitionNotAllowed(staff.not_allowed(ticket.number, ticket.status, label))
    target = rule.moves[ticket.status]
    return ticket.status if target is None else target


def check_closing(ticket: Ticket, photo_required: frozenset[str], after_photos: int) -> None:
    """办结 of a category whose policy asks for a 处置后照片 needs one; raises PhotoRequired otherwise."""
    if ticket.category in photo_required and after_photos < 1:
        raise PhotoRequired(staff.photo_required(ticket.number, ticket.category_label or ticket.category))


def allowed_actions(ticket: Ticket, grid: Grid, actor: Actor, is_reporter: bool) -> list[Action]:
    """Every action this actor may take on the ticket now (for help texts and the API)."""
    result = []
    for action in Action:
        try:
            check(action, ticket, grid, actor, is_reporter)
        except (PermissionDenied, TransitionNotAllowed):
            continue
        result.append(action)
    return result

"""The command table: one small function a command; the help text is generated from the table."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import timedelta
from enum import StrEnum

from sqlalchemy import select

from gridbot.handlers import evidence, intake, replies
from gridbot.handlers import knowledge as knowledge_chat
from gridbot.handlers import notices as notice_texts
from gridbot.handlers.context import CommandError, Context
from gridbot.handlers.parsing import TICKET_REF, Args, parse_args, split_command, ticket_in
from gridbot.models import knowledge as knowledge_store
from gridbot.models.entities import Person, Ticket
from gridbot.models.enums import ADMIN_ROLES, OutboxKind, Priority, TicketSource
from gridbot.models.errors import TicketError
from gridbot.models.messaging import notices as notices_service
from gridbot.models.messaging.outbox import enqueue
from gridbot.models.metrics import LOCAL_TZ, Period, grid_metrics
from gridbot.models.org import bind_codes, directory
from gridbot.models.org.web_sessions import issue_worker_link
from gridbot.models.settings import get_settings
from gridbot.models.tickets import service as tickets
from gridbot.models.tickets.service import ticket_grid
from gridbot.models.wording import staff
from gridbot.nlp.pii import mask


class Audience(StrEnum):
    """Who may use a command."""

    ANYONE = "anyone"
    WORKER = "worker"  # gridworkers, grid leaders and admins over the grid
    ADMIN = "admin"


@dataclass(frozen=True)
class Command:
    """A bot command: its Chinese name, aliases, usage line, help line and function."""

    name: str
    aliases: tuple[str, ...]
    usage: str
    help: str
    audience: Audience
    run: Callable[[Context, Args], None]
    # words a resident may put after the command word and still mean the command (积分 实名)
    resident_args: frozenset[str] = frozenset()


COMMANDS: dict[str, Command] = {}
Run = Callable[[Context, Args], None]


def command(
    name: str,
    *aliases: str,
    usage: str,
    audience: Audience = Audience.WORKER,
    into: list[Command] | None = None,
    resident_args: frozenset[str] = frozenset(),
) -> Callable[[Run], Run]:
    """Declare a command; the function's one-line docstring is its help text.

    Without `into`, it joins this module's table; with it, the list a caller `install`s explicitly.
    """

    def register(fn: Run) -> Run:
        cmd = Command(name, aliases, usage, (fn.__doc__ or "").strip(), audience, fn, resident_args)
        if into is None:
            COMMANDS[name] = cmd
        else:
            into.append(cmd)
        return fn

    return register


def install(extra: list[Command]) -> None:
    """Add another module's commands (the administrators') to the table; installing twice is a no-op."""
    for cmd in extra:
        COMMANDS.setdefault(cmd.name, cmd)


def words() -> dict[str, str]:
    """Every command word and alias mapped to its command name."""
    table = {c.name: c.name for c in COMMANDS.values()}
    table.update({a: c.name for c in COMMANDS.values() for a in c.aliases})
    return table


def find(text: str) -> tuple[Command, str] | None:
    """The command a line starts with, and the rest of the line."""
    hit = split_command(text, words())
    return (COMMANDS[hit[0]], hit[1]) if hit else None


def looks_deliberate(rest: str, cmd: Command | None = None) -> bool:
    """Whether a resident's line starting with a command word is really a command.

    Residents write freely ("回家了", "查一下水费"): only a bare command word, one naming a
    ticket number, or 绑定 with a one-time bind code counts, so ordinary chat is still classified.
    """
    if cmd is not None and cmd.name == "绑定" and bind_codes.looks_like_code(rest):
        return True
    if cmd is not None and rest.strip() in cmd.resident_args:
        return True
    return not rest or bool(parse_args(rest).tickets)


def allowed(cmd: Command, ctx: Context) -> bool:
    """Whether the sender may run this command here."""
    if cmd.audience is Audience.ANYONE:
        return True
    if cmd.audience is Audience.ADMIN:
        return ctx.is_admin
    return ctx.is_worker or ctx.is_admin


def usage_error(cmd: Command) -> CommandError:
    """A Chinese usage reply for a malformed command."""
    return CommandError(f"格式不对。用法：{cmd.usage}（{cmd.help}）")


def ticket_arg(ctx: Context, cmd: Command, args: Args, index: int = 0) -> int:
    """The index-th ticket number, or the ticket of the quoted bot message, or a usage error."""
    if len(args.tickets) > index:
        return args.tickets[index]
    if index == 0 and (quoted := ticket_in(ctx.msg.quoted_text)) is not None:
        return quoted
    raise usage_error(cmd)


def in_grid(ctx: Context, number: int) -> Ticket:
    """A ticket of this group's grid, or for an admin of any grid in their region (else: not found)."""
    try:
        ticket = tickets.get_ticket(ctx.session, number)
    except TicketError:
        ticket = None
    if ticket is None or (
        ctx.grid is not None and ticket.grid_id != ctx.grid.id and not _admin_over(ctx, ticket)
    ):
        raise CommandError(f"没有找到工单 #{number}，请核对编号")
    return ticket


def _admin_over(ctx: Context, ticket: Ticket) -> bool:
    # the ticket's own grid decides: ruling over this group's grid says nothing about another region
    grid = ticket_grid(ctx.session, ticket)
    return grid is not None and bool(ctx.actor.roles_for(grid) & ADMIN_ROLES)


def mentioned_person(ctx: Context, cmd: Command, args: Args, staff_by_name: bool = False) -> Person:
    """The person a command @-mentions, by platform id.

    The adapter resolves each @-mention against the room's member list, so a member who never
    spoke is found too (and created here); an @Name matching several members is refused. Only
    with `staff_by_name` (转派: the target must be staff anyway) does a bare @Name fall back to the
    one holder of a role in this grid with that name.
    """
    names = dict(ctx.msg.mention_names)
    explicit = [pid for pid in ctx.msg.mentions if pid]
    if explicit:  # WeChat's own mention list: the member picked from the list, unambiguous
        pid = explicit[0]
    elif ctx.msg.mention_names:  # a hand-typed @Name the adapter matched against the member list
        pid, first = ctx.msg.mention_names[0]
        clash = [p for p, n in ctx.msg.mention_names if n == first]
        if len(clash) > 1:
            raise CommandError(
                f"群里有 {len(clash)} 位成员都叫「{first}」，无法确定是哪一位。"
                "请在微信里输入 @ 后从成员列表中选择对方，或请对方先修改群昵称"
            )
    elif args.at_names and staff_by_name:
        return _staff_named(ctx, args.at_names[0])
    elif args.at_names:
        raise CommandError(
            f"在群成员中找不到「{args.at_names[0]}」。请在微信里输入 @ 后从成员列表中选择对方，不要手动输入名字"
        )
    else:
        raise usage_error(cmd)
    known = ctx.session.scalar(select(Person).where(Person.platform_id == pid))
    if known is not None:
        return known
    fallback = args.at_names[0] if args.at_names else "群成员"
    return directory.ensure_person(ctx.session, pid, names.get(pid) or fallback)


def _staff_named(ctx: Context, name: str) -> Person:
    grid = ctx.require_grid()
    matches = directory.grid_members_named(ctx.session, grid.id, name)
    if len(matches) != 1:
        raise CommandError(f"找不到唯一的群成员「{name}」，请直接@对方")
    return matches[0]


@command("帮助", "help", "?", usage="帮助", audience=Audience.ANYONE)
def help_(ctx: Context, args: Args) -> None:
    """查看可用命令"""
    lines = ["可用命令："]
    lines += [f"· {c.usage} —— {c.help}" for c in COMMANDS.values() if allowed(c, ctx)]
    if not (ctx.is_worker or ctx.is_admin):
        lines.append("· 直接在群里描述问题即可上报，工单办结后回复 1/2/3 评价")
    ctx.reply("\n".join(lines))


@command("工单", "我的工单", usage="工单 [页码]")
def my_tickets(ctx: Context, args: Args) -> None:
    """我的待办工单和待确认工单（私信发送，分页）"""
    grid = ctx.require_grid()
    page = max(1, args.tickets[0] if args.tickets else 1)
    rows, total = tickets.work_list(ctx.session, grid.id, ctx.person.id, page, staff.PAGE_SIZE)
    text = staff.work_list([replies.ticket_line(t, ctx.now) for t in rows], total, page)
    if ctx.msg.sender_id and total:
        # the work list is the staff member's business, not the residents': it goes privately
        ctx.tell(ctx.msg.sender_id, text)
        ctx.reply(staff.sent_privately("待办工单清单"))
    else:
        ctx.reply(text)


@command("查", "查询", "查看", usage="查 #工单号", audience=Audience.ANYONE)
def show(ctx: Context, args: Args) -> None:
    """查看工单进度（居民只能查自己反映的）"""
    number = ticket_arg(ctx, COMMANDS["查"], args)
    ticket = in_grid(ctx, number)
    if not (ctx.is_worker or ctx.is_admin) and not tickets.is_reporter(ctx.session, ticket, ctx.person.id):
        raise CommandError(f"您只能查询自己反映的工单，#{number} 不是您反映的")
    ctx.reply(replies.ticket_detail(ticket, ctx.now))


@command("接单", "接", "受理", usage="接单 #工单号")
def accept(ctx: Context, args: Args) -> None:
    """受理工单（算作首次响应）"""
    tickets.accept(ctx.session, in_grid(ctx, ticket_arg(ctx, COMMANDS["接单"], args)).id, ctx.actor, ctx.now)


@command("回复", "回", usage="回复 #工单号 内容")
def respond(ctx: Context, args: Args) -> None:
    """回复居民，内容会转达给反映人"""
    cmd = COMMANDS["回复"]
    number = ticket_arg(ctx, cmd, args)
    if not args.text:
        raise usage_error(cmd)
    tickets.respond(ctx.session, in_grid(ctx, number).id, ctx.actor, ctx.now, mask(args.text))


@command("办结", "结", "完成", usage="办结 #工单号 处理说明")
def resolve(ctx: Context, args: Args) -> None:
    """办结工单并邀请居民评价"""
    number = in_grid(ctx, ticket_arg(ctx, COMMANDS["办结"], args)).id
    evidence.claim_for_closing(ctx, number)  # photos sent just before are its 处置后照片
    tickets.resolve(ctx.session, number, ctx.actor, ctx.now, mask(args.text) or None, policy=ctx.policy)


@command("转派", "转", usage="转派 #工单号 @网格员")
def transfer(ctx: Context, args: Args) -> None:
    """把工单转给本网格其他网格员"""
    cmd = COMMANDS["转派"]
    number = ticket_arg(ctx, cmd, args)
    target = mentioned_person(ctx, cmd, args, staff_by_name=True)
    tickets.transfer(ctx.session, in_grid(ctx, number).id, ctx.actor, ctx.now, target.id)


@command("挂起", "挂", usage="挂起 #工单号 原因")
def suspend(ctx: Context, args: Args) -> None:
    """暂停工单（时限暂停计时）"""
    cmd = COMMANDS["挂起"]
    number = ticket_arg(ctx, cmd, args)
    if not args.text:
        raise usage_error(cmd)
    tickets.suspend(ctx.session, in_grid(ctx, number).id, ctx.actor, ctx.now, mask(args.text))


@command("恢复", usage="恢复 #工单号")
def resume(ctx: Context, args: Args) -> None:
    """恢复挂起的工单"""
    number = ticket_arg(ctx, COMMANDS["恢复"], args)
    tickets.resume(ctx.session, in_grid(ctx, number).id, ctx.actor, ctx.now, ctx.policy)


@command("退回", "退", "无效", usage="退回 #工单号 原因")
def reject(ctx: Context, args: Args) -> None:
    """退回无效或非本网格事项"""
    cmd = COMMANDS["退回"]
    number = ticket_arg(ctx, cmd, args)
    if not args.text:
        raise usage_error(cmd)
    tickets.reject(ctx.session, in_grid(ctx, number).id, ctx.actor, ctx.now, mask(args.text))


@command("改类", "改", usage="改类 #工单号 类别（如 物业服务）")
def reclassify(ctx: Context, args: Args) -> None:
    """纠正工单类别（会用于改进识别）"""
    cmd = COMMANDS["改类"]
    number = ticket_arg(ctx, cmd, args)
    if not args.text:
        raise usage_error(cmd)
    kind, category, label = ctx.category_of(args.text)
    ticket = tickets.reclassify(
        ctx.session, in_grid(ctx, number).id, ctx.actor, ctx.now, kind, category, label, policy=ctx.policy
    )
    ctx.reply(staff.reclassified(ticket.number, label))


LEVELS = {"普通": Priority.NORMAL, "一般": Priority.NORMAL, "紧急": Priority.URGENT, "急": Priority.URGENT}


@command("改级", usage="改级 #工单号 普通|紧急")
def reprioritize(ctx: Context, args: Args) -> None:
    """改紧急程度（时限随之重算）"""
    cmd = COMMANDS["改级"]
    number = ticket_arg(ctx, cmd, args)
    priority = LEVELS.get(args.text.strip())
    if priority is None:
        raise usage_error(cmd)
    before = in_grid(ctx, number)
    was_waiting = before.needs_review
    ticket = tickets.reprioritize(ctx.session, before.id, ctx.actor, ctx.now, priority, ctx.policy)
    ctx.reply(staff.reprioritized(ticket.number, priority is Priority.URGENT, replies.promise(ticket)))
    if was_waiting and priority is Priority.URGENT:
        intake.announce_confirmed_urgent(ctx, ticket)


def _describe(ticket: Ticket) -> str:
    return ticket.category_label + ("·紧急" if ticket.priority is Priority.URGENT else "")


@command("合并", "并", usage="合并 #重复工单 #主工单")
def merge(ctx: Context, args: Args) -> None:
    """把重复工单合并到主工单（保留紧急程度和最严时限）"""
    cmd = COMMANDS["合并"]
    if len(args.tickets) != 2:
        raise usage_error(cmd)
    source, target = (in_grid(ctx, n) for n in args.tickets)
    differ = source.category != target.category or source.priority is not target.priority
    if differ and "确认" not in args.text:
        ctx.reply(staff.merge_confirm(source.number, _describe(source), target.number, _describe(target)))
        return
    tickets.merge(ctx.session, source.id, target.id, ctx.actor, ctx.now)
    ctx.reply(staff.merged(source.number, target.number))


@command("撤销合并", usage="撤销合并 #工单号")
def unmerge(ctx: Context, args: Args) -> None:
    """撤销误合并，工单恢复单独办理"""
    number = ticket_arg(ctx, COMMANDS["撤销合并"], args)
    ticket, into = tickets.unmerge(ctx.session, in_grid(ctx, number).id, ctx.actor, ctx.now)
    ctx.reply(staff.unmerged(ticket.number, f"#{into}"))


@command("上报", usage="上报 内容（巡查发现的问题）")
def patrol_report(ctx: Context, args: Args) -> None:
    """登记巡查中发现的问题（计入主动发现）"""
    cmd = COMMANDS["上报"]
    text = TICKET_REF.sub(" ", args.text).strip()
    if not text or ctx.classify is None or ctx.nlp is None:
        raise usage_error(cmd)
    c = ctx.classify(text)
    if not c.actionable:
        # staff say it is a problem: file it as 其他 rather than drop it, kind and priority kept
        kind = "request" if c.kind == "request" else "incident"
        category = "other_request" if kind == "request" else "other_incident"
        c = replace(c, kind=kind, category=category, needs_review=False)
    intake.file_report(ctx, c, ctx.nlp, source=TicketSource.PATROL)


@command("统计", usage="统计")
def stats(ctx: Context, args: Args) -> None:
    """本网格本周的响应、办结、满意情况"""
    grid = ctx.require_grid()
    today = ctx.now.astimezone(LOCAL_TZ).date()
    monday = today - timedelta(days=today.weekday())
    # evaluated now: a deadline that has not passed yet is not counted as missed (the metrics' rule)
    period = Period(Period.local_days(monday, monday).start, ctx.now)
    patrol = tickets.count_by_source(ctx.session, grid.id, TicketSource.PATROL, period.start, ctx.now)
    ctx.reply(staff.weekly_stats(grid_metrics(ctx.session, grid.id, period), patrol))


@command("工作台", usage="工作台")
def workbench(ctx: Context, args: Args) -> None:
    """私信发送网格员工作台（手机网页）的一次性登录链接"""
    if not ctx.person.platform_id:
        raise CommandError("无法私信您，请联系管理员")
    secret = issue_worker_link(ctx.session, ctx.person.id, ctx.now)
    base = (get_settings().api.public_url or "").rstrip("/")
    where = f"{base}/work#code={secret}" if base else f"工作台页面 /work，输入登录码：{secret}"
    enqueue(
        ctx.session,
        dedupe_key=f"workbench:{ctx.msg.platform_id}",
        kind=OutboxKind.NOTICE,
        text=f"【网格员工作台】15分钟内有效，仅可使用一次，请勿转发：\n{where}",
        now=ctx.now,
        recipient_platform_id=ctx.person.platform_id,
        bot_account=ctx.group.bot_account,
    )
    ctx.reply("已私信发送工作台登录链接，请查看与我的私聊")


def run(ctx: Context, cmd: Command, rest: str) -> None:
    """Check the sender's right to the command, then run it."""
    if not allowed(cmd, ctx):
        raise CommandError(staff.NO_PERMISSION)
    cmd.run(ctx, parse_args(rest))


# ---- notices (知晓率): staff post, residents confirm with 收到 (handlers/notices.py) ----------------


@command("通知", usage="通知 内容")
def notice(ctx: Context, args: Args) -> None:
    """在群里发布通知，居民回复「收到」计入知晓率"""
    grid = ctx.require_grid()
    found = find(ctx.msg.text)
    text = found[1].strip() if found else ""
    if not text:
        raise usage_error(COMMANDS["通知"])
    notices_service.post(
        ctx.session,
        grid_id=grid.id,
        room_id=ctx.group.room_id,
        author_id=ctx.person.id,
        text=text,
        now=ctx.now,
        remind_after=notice_texts.remind_after(),
    )


@command("通知情况", usage="通知情况 #通知编号")
def notice_status(ctx: Context, args: Args) -> None:
    """查看通知的知晓率和未确认的居民"""
    number = args.tickets[0] if args.tickets else None
    if number is None and (m := notice_texts.QUOTED_NOTICE.search(ctx.msg.quoted_text or "")):
        number = int(m.group(1))
    if number is None:
        raise usage_error(COMMANDS["通知情况"])
    st = notices_service.status(ctx.session, number)
    if st is None or (ctx.grid is not None and st.grid_id != ctx.grid.id):
        raise CommandError(f"没有找到通知 #{number}，请核对编号")
    ctx.reply(notice_texts.status_text(st))


# ---- answers to questions (咨询): teach the knowledge base from an answered ticket ----------------


@command("答", "解答", usage="答 #工单号 内容（末尾加「存为常见问题」可提交审核）")
def answer(ctx: Context, args: Args) -> None:
    """答复居民的咨询，可存为常见问题供以后自动答复"""
    cmd = COMMANDS["答"]
    number = ticket_arg(ctx, cmd, args)
    text, save = knowledge_chat.split_save(args.text)
    if not text:
        raise usage_error(cmd)
    ticket = in_grid(ctx, number)
    tickets.respond(ctx.session, ticket.id, ctx.actor, ctx.now, text)
    if save:
        grid = ctx.require_grid()
        source = f"{grid.name} 网格员{ctx.person.name}（工单 {ticket.number}）"
        entry = knowledge_store.suggest(ctx.session, ticket, text, source, ctx.person.id, ctx.now)
        ctx.reply(f"已存为待审核的常见问题（编号 {entry.id}），管理员审核通过后，类似问题将自动答复")

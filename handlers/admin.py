"""Administrators' commands in the group: bind a room to a grid, appoint gridworkers and leaders."""

from __future__ import annotations

from sqlalchemy import select

from gridbot.handlers.commands import COMMANDS, Audience, command, mentioned_person, usage_error
from gridbot.handlers.context import CommandError, Context
from gridbot.handlers.parsing import Args
from gridbot.models.entities import Grid, Person
from gridbot.models.enums import ADMIN_ROLES, WORKER_ROLES, Role
from gridbot.models.org import bind_codes, directory
from gridbot.models.org.directory import DirectoryError

ROLE_LABELS = {Role.GRIDWORKER: "网格员", Role.PARTTIME_GRIDWORKER: "兼职网格员", Role.GRID_LEADER: "网格长"}


@command("绑定", usage="绑定 绑定码 或 绑定 网格编号", audience=Audience.ANYONE)
def bind(ctx: Context, args: Args) -> None:
    """把本群绑定到网格（按群ID，改群名不影响）"""
    code = args.text.strip()
    if not code:
        raise usage_error(COMMANDS["绑定"])
    if bind_codes.looks_like_code(code):
        _bind_with_code(ctx, code)
        return
    grid = ctx.session.scalar(select(Grid).where(Grid.code == code))
    if not ctx.actor.roles:
        raise CommandError(
            "只有管理员可以按网格编号绑定；请让管理员运行 gridbot grid bind-code 网格编号 生成绑定码"
        )
    if grid is None:
        raise CommandError(f"没有编号为「{code}」的网格，请核对")
    if not ctx.actor.roles_for(grid) & ADMIN_ROLES:
        raise CommandError(f"网格「{grid.name}」不在您管辖的区域内")
    _bind(ctx, grid)


def _bind_with_code(ctx: Context, code: str) -> None:
    """A one-time code: it names the grid and, when issued for an imported person, who the poster is."""
    try:
        row = bind_codes.peek(ctx.session, code, ctx.now)
    except DirectoryError as exc:
        raise CommandError(exc.user_message) from exc
    grid = ctx.session.get(Grid, row.grid_id)
    assert grid is not None
    who = ""
    if row.person_id is not None:
        person = ctx.session.get(Person, row.person_id)
        assert person is not None
        try:
            directory.claim(ctx.session, person, ctx.person)
        except DirectoryError as exc:
            raise CommandError(exc.user_message) from exc
        roles = {ra.role for ra in directory.active_roles(ctx.session, ctx.person)}
        labels = "、".join(ROLE_LABELS[r] for r in sorted(roles) if r in ROLE_LABELS) or "管理员"
        who = f"，已认出您是{ctx.person.name}（{labels}）"
    elif not ctx.actor.roles_for(grid) & (ADMIN_ROLES | WORKER_ROLES):
        raise CommandError(
            "此绑定码需由管理员或本网格网格员发送。若您是导入名单中的网格员，"
            "请让管理员用 gridbot grid bind-code 网格编号 --for 您的姓名 生成您专用的绑定码"
        )
    bind_codes.redeem(ctx.session, code, ctx.group.room_id, ctx.now)
    _bind(ctx, grid, who)


def _bind(ctx: Context, grid: Grid, who: str = "") -> None:
    directory.bind_group(ctx.session, ctx.group.room_id, grid, topic=ctx.msg.room_topic, now=ctx.now)
    ctx.grid = grid
    ctx.reply(f"本群已绑定到【{grid.name}】（{grid.code}）{who}，居民反映的问题将自动登记为工单")


@command("解绑", usage="解绑", audience=Audience.ADMIN)
def unbind(ctx: Context, args: Args) -> None:
    """解除本群与网格的绑定"""
    grid = ctx.require_grid()
    ctx.group.grid_id = None
    ctx.grid = None
    ctx.reply(f"本群已解除与【{grid.name}】的绑定，机器人将不再处理本群消息")


def _appoint(ctx: Context, args: Args, role: Role, name: str) -> None:
    grid = ctx.require_grid()
    person = mentioned_person(ctx, COMMANDS[name], args)
    directory.assign_role(ctx.session, person, role, grid=grid)
    label = "网格员" if role is Role.GRIDWORKER else "网格长"
    ctx.reply(f"已设置{person.name}为【{grid.name}】{label}", mention_ids=(person.platform_id or "",))


@command("设网格员", usage="设网格员 @某某", audience=Audience.ADMIN)
def set_worker(ctx: Context, args: Args) -> None:
    """任命本网格的网格员"""
    _appoint(ctx, args, Role.GRIDWORKER, "设网格员")


@command("设网格长", usage="设网格长 @某某", audience=Audience.ADMIN)
def set_leader(ctx: Context, args: Args) -> None:
    """任命本网格的网格长"""
    _appoint(ctx, args, Role.GRID_LEADER, "设网格长")

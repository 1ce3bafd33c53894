"""Administrators' commands in the group: bind a room to a grid, appoint gridworkers and leaders."""

from __future__ import annotations

from sqlalchemy import select

from gridbot.handlers.commands import COMMANDS, Audience, command, mentioned_person, usage_error
from gridbot.handlers.context import CommandError, Context
from gridbot.handlers.parsing import Args
from gridbot.models.entities import Grid
from gridbot.models.enums import ADMIN_ROLES, Role
from gridbot.models.org import directory


@command("绑定", usage="绑定 网格编号", audience=Audience.ADMIN)
def bind(ctx: Context, args: Args) -> None:
    """把本群绑定到网格（按群ID，改群名不影响）"""
    code = args.text.strip()
    if not code:
        raise usage_error(COMMANDS["绑定"])
    grid = ctx.session.scalar(select(Grid).where(Grid.code == code))
    if grid is None:
        raise CommandError(f"没有编号为「{code}」的网格，请核对")
    if not ctx.actor.roles_for(grid) & ADMIN_ROLES:
        raise CommandError(f"网格「{grid.name}」不在您管辖的区域内")
    directory.bind_group(ctx.session, ctx.group.room_id, grid, topic=ctx.msg.room_topic, now=ctx.now)
    ctx.grid = grid
    ctx.reply(f"本群已绑定到【{grid.name}】（{grid.code}），居民反映的问题将自动登记为工单")


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

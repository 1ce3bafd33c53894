"""积分: a resident's own participation points, and how the monthly thank-you list shows them."""

from __future__ import annotations

from gridbot.handlers.commands import Audience, Command, command
from gridbot.handlers.context import Context
from gridbot.handlers.parsing import Args
from gridbot.models import participation
from gridbot.models.settings import get_settings
from gridbot.models.wording import residents

PARTICIPATION_COMMANDS: list[Command] = []


@command(
    "积分",
    "我的积分",
    usage="积分 或 积分 实名/匿名/不上榜",
    audience=Audience.ANYONE,
    into=PARTICIPATION_COMMANDS,
    resident_args=frozenset(participation.CHOICES),
)
def my_points(ctx: Context, args: Args) -> None:
    """查看自己本月和上月的积分；加「实名/匿名/不上榜」选择每月感谢榜上的显示方式"""
    rules = get_settings().participation
    if not rules.enabled:
        ctx.reply(residents.POINTS_OFF)
        return
    grid = ctx.require_grid()
    choice = participation.CHOICES.get(args.text.strip())
    if choice is not None:
        participation.choose(ctx.session, ctx.person.id, choice, ctx.now)
        ctx.reply(residents.POINTS_DISPLAY_SAVED[choice])
        return
    month, last = participation.this_month(ctx.now), participation.previous_month(ctx.now)
    now_pts = participation.points_of(ctx.session, ctx.person.id, grid.id, month, rules)
    last_pts = participation.points_of(ctx.session, ctx.person.id, grid.id, last, rules)
    ctx.reply(
        residents.my_points(
            month.label,
            now_pts.total,
            now_pts.reports,
            now_pts.ratings,
            now_pts.acks,
            last.label,
            last_pts.total,
            participation.display_of(ctx.session, ctx.person.id),
        )
    )

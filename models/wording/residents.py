"""What residents read: replies to their reports, receipts, announcements of their tickets, ratings.

Every sentence here is seen in front of the whole group (or in a private chat with the bot).
"""

from __future__ import annotations

from datetime import datetime

from gridbot.models.wording import by_time, kind_word, titled

APOLOGY = "处理失败，请稍后再试"
UNBOUND = "本群尚未绑定网格，请管理员发送「绑定 网格编号」"
# the 回访 question 「问题解决了吗」 is asked with the rating and recorded apart from it (Rating.solved)
RATING_PROMPT = (
    "问题解决了吗？可在评价后加「已解决」或「未解决」（如「1 已解决」）。"
    "请对本次处理评价：回复 1 满意 / 2 基本满意 / 3 不满意"
)
HOW_TO_REPORT = "有问题直接在群里说明情况和位置（如「3栋2单元楼道灯坏了」），我会登记并转给网格员"
GREETING = f"您好！我是本网格的社区助手。{HOW_TO_REPORT}；工单办结后回复 1/2/3 评价；发送「帮助」查看更多"
PRIVATE_REPLY = "您好，我只在网格群里登记问题。请到您所在的网格群里直接说明情况和位置，网格员会尽快处理"
RECEIPT = "收到，已转网格员核实，请稍候"
# fair use: the first report past a resident's or a group's daily limit (the rest go to one review item)
OVER_LIMIT = {
    "resident": "您今天反映的事项较多，后续内容已转网格员统一核实处理，请耐心等待。如遇紧急情况请直接拨打 110/119/120。",
    "room": "本群今天反映的事项较多，您的内容已转网格员统一核实处理，请耐心等待。如遇紧急情况请直接拨打 110/119/120。",
}


def response_promise(first_response_due: datetime | None, started_at: datetime | None) -> str:
    """「预计1小时内响应」 from the first-response deadline (「我们会尽快处理」 without one)."""
    if first_response_due is None or started_at is None:
        return "我们会尽快处理"
    return f"预计{by_time(first_response_due, started_at)}响应"


def filed(number: str, category: str, kind: str, worker: str | None, promise: str) -> str:
    """The reply to a resident whose report became a ticket."""
    to = f"已转{titled('网格员', worker)}" if worker else "已转社区"
    return f"已收到您反映的【{category}】{kind_word(kind)}，工单 {number} {to}，{promise}"


def filed_on_patrol(number: str, category: str) -> str:
    """The reply to a gridworker who reported what they found on patrol (上报)."""
    return f"已登记巡查发现：工单 {number}【{category}】"


def merged_into(number: str, category: str) -> str:
    """The reply to a resident whose report joined an open ticket."""
    return f"您反映的问题与工单 {number}（{category}）相同，已合并处理，处理进展会一并通知您"


def followed_up(number: str, category: str, status: str, worker: str | None) -> str:
    """The answer to a resident chasing their own open ticket (催办)."""
    who = f"（{titled('网格员', worker)}负责）" if worker else ""
    return f"您反映的【{category}】（工单 {number}）当前状态：{status}{who}。已为您催办，有进展会通知您"


def rating_thanks(number: str) -> str:
    """After a satisfied or basically satisfied rating."""
    return f"感谢您的评价！工单 {number} 已完结"


def rating_which(numbers: list[str]) -> str:
    """A bare score while several tickets await the sender's rating."""
    listed = "、".join(numbers)
    return f"您有 {len(numbers)} 张工单待评价（{listed}），请回复「1 {numbers[0]}」这样的评价，带上工单号"


def rating_separately(number: str) -> str:
    """A score followed by a new report: the report is filed, the rating is asked for again."""
    return f"如需评价工单 {number}，请单独回复 1 满意 / 2 基本满意 / 3 不满意"


def announcement(
    action: str,
    *,
    number: str,
    category: str,
    kind: str,
    actor: str,
    assignee: str | None,
    note: str | None,
    into: object = None,
) -> str | None:
    """The group announcement of a ticket event, or None for events residents do not hear about."""
    what = kind_word(kind)
    n = f"：{note}" if note else ""
    texts = {
        "accept": f"您反映的【{category}】{what}（工单 {number}）已由{titled('网格员', actor)}受理，正在处理。",
        "respond": f"{titled('网格员', actor)}回复工单 {number}{n}",
        "resolve": f"您反映的【{category}】{what}（工单 {number}）已办结{n}。{RATING_PROMPT}",
        "suspend": f"工单 {number} 暂时挂起{n}",
        "resume": f"工单 {number} 已恢复处理。",
        "transfer": f"工单 {number} 已转派给{titled('网格员', assignee) if assignee else '其他网格员'}处理。",
        "merge": f"您反映的{what}与工单 #{into} 相同，已合并处理。",
        "unmerge": f"工单 {number} 已撤销合并，单独办理。",
        "reject": f"工单 {number} 已退回{n}",
        "reopen": f"工单 {number} 已重新办理（重办），网格员会尽快跟进。",
    }
    return texts.get(action)


# -- resident participation (积分): GRIDBOT_PARTICIPATION__ENABLED -------------------------------

POINTS_OFF = "本群暂未开启居民积分"
POINTS_DISPLAY = {"full": "实名", "masked": "姓名打码", "hidden": "不上感谢榜"}


def points_rule(report: int, rating: int, ack: int) -> str:
    """How points are earned, in one sentence."""
    return f"有效反映问题（未被退回、非重复）每条 {report} 分，评价办理结果每次 {rating} 分，确认通知每次 {ack} 分；闲聊和重复反映不计分"


def my_points(
    month: str,
    total: int,
    reports: int,
    ratings: int,
    acks: int,
    last_month: str,
    last_total: int,
    display: str,
) -> str:
    """The answer to 积分."""
    return (
        f"您{month}的积分：{total} 分（有效反映 {reports} 条、评价 {ratings} 次、确认通知 {acks} 次）；"
        f"{last_month} {last_total} 分。感谢榜上显示为：{POINTS_DISPLAY[display]}"
        "（发送「积分 实名」「积分 匿名」或「积分 不上榜」修改）"
    )


POINTS_DISPLAY_SAVED = {
    "full": "好的，以后感谢榜上显示您的群昵称",
    "masked": "好的，以后感谢榜上您的名字打码显示（如 张**）",
    "hidden": "好的，以后您不上感谢榜，积分照常累计",
}


def thanks_list(month: str, entries: list[tuple[str, int]], rule: str) -> str:
    """The monthly thank-you list posted in the group."""
    lines = [f"【{month}感谢榜】感谢以下居民积极反映问题、评价办理结果、确认通知，让我们的网格更好："]
    lines += [f"{n}. {name} {points} 分" for n, (name, points) in enumerate(entries, start=1)]
    lines.append(f"积分规则：{rule}。发送「积分」查看自己的积分")
    return "\n".join(lines)

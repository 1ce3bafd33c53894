"""The Chinese name and definition of every indicator, as shown on the dashboard and in bulletins.

One place for the wording, so a KPI card's hover text, the ranking's score parts and the bulletin's
notes say the same thing as the counting rules in models.metrics.rules.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Definition:
    """An indicator's label, how it is computed (Chinese), and whether lower is better."""

    key: str
    label: str
    definition: str
    lower_is_better: bool = False
    is_rate: bool = True


NOT_YET_DUE = "未响应且首次响应时限未到的工单不计入（未到期不算超时）"

DEFINITIONS: dict[str, Definition] = {
    d.key: d
    for d in (
        Definition("received", "受理量", "统计期内新建的工单数，不含已合并和无效/退回的工单", is_rate=False),
        Definition(
            "response_rate", "回复率", f"已作首次响应（接单、回复）的工单 ÷ 应响应工单；{NOT_YET_DUE}"
        ),
        Definition(
            "first_response_on_time_rate",
            "首次响应及时率",
            f"在首次响应时限内响应的工单 ÷ 应响应工单；超过时限仍未响应的计为不及时；{NOT_YET_DUE}",
        ),
        Definition(
            "on_time_signing_rate",
            "及时签收率",
            f"在首次响应时限内「接单」签收的工单 ÷ 应响应工单（只回复未接单的不算签收）；{NOT_YET_DUE}",
        ),
        Definition("resolution_rate", "办结率", "已办结（含已评价）的工单 ÷ 受理量"),
        Definition("on_time_resolution_rate", "按期办结率", "在办结时限内办结的工单 ÷ 受理量"),
        Definition(
            "solve_rate",
            "解决率",
            "回访时对「问题解决了吗」回答「已解决」的 ÷ 回答了该问题的评价数；与满意率分开统计",
        ),
        Definition("satisfaction_rate", "满意率", "（满意 + 基本满意）÷ 统计期内的评价数"),
        Definition(
            "reopen_rate", "重办率", "因「不满意」重新办理的工单 ÷ 办结过的工单", lower_is_better=True
        ),
        Definition(
            "return_rate",
            "回退率",
            "被退回（无效/非网格事项）的工单 ÷（受理量 + 退回量）",
            lower_is_better=True,
        ),
        Definition(
            "urge_rate",
            "催办率",
            "办理中被居民再次反映或催促的工单 ÷ 受理量",
            lower_is_better=True,
        ),
        Definition("patrol_rate", "主动发现率", "网格员巡查主动上报的工单 ÷ 受理量"),
        Definition(
            "membership_rate",
            "入群率",
            "入群人数 ÷ 户数，封顶 100%（群成员无法对应到户，按每户至多一人计；实际人数见「入群人数/户数」）",
        ),
        Definition(
            "members_per_household",
            "入群人数/户数",
            "群成员人数 ÷ 网格户数，未封顶，一户多人入群时可超过 100%",
        ),
        Definition(
            "active_residents_per_100_households",
            "群活跃度",
            "统计期内日均发言居民数 ÷ 户数 × 100",
            is_rate=False,
        ),
        Definition("overdue", "超期工单", "期末仍未办结且已过办结时限的工单（挂起的不计）", True, False),
        Definition("escalated", "督办工单", "已升级到网格员以上（网格长、社区、街道）的工单", True, False),
        Definition(
            "score",
            "考核得分",
            "按考核办法各指标加权计分（满分 100）；无数据的指标不计分，权重按比例分给其余指标",
            is_rate=False,
        ),
    )
}


def definition_of(key: str) -> Definition | None:
    """The definition of an indicator key, None when it has none."""
    return DEFINITIONS.get(key)

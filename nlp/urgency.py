"""Urgency cues: immediate danger to life or property, with negation, hypotheticals and resolution."""

from __future__ import annotations

import re
from dataclasses import dataclass

# cue kind -> pattern; kept short and literal so a gridworker can read and extend it.
LEXICON: dict[str, str] = {
    "fire": r"着火|著火|起火|失火|火灾|冒烟|冒黑烟|浓烟|烟好大|烟很大|好大的烟|烧起来|火苗|明火|火很大|燃起来|火烧|烧着了|爆炸|炸了",
    "gas_leak": r"(?:燃气|煤气|天然气|液化气)(?:泄漏|泄露|漏了|在漏)|漏气|(?:燃气|煤气|天然气|液化气)味(?:很|好|特别|非常|道)?(?:大|重|浓|冲)|闻到(?:一股)?(?:燃气|煤气|天然气)|(?:汽油|柴油)味",
    "trapped": r"被困|困在|困人|困住|关在电梯|卡在电梯|电梯里出不来|出不来了|救命|锁在(?:屋|家|里)",
    "injured": r"受伤|受了伤|流血|出血|晕倒|昏倒|晕过去|昏迷|不省人事|砸伤|砸到人|骨折|摔倒.{0,6}(?:起不来|不动)|倒在地上|没(?:有)?呼吸|没(?:了)?意识|抽搐|触电|割腕|要跳楼|跳楼",
    "flooding": r"水灌进|灌进(?:家|屋|房)|淹了|被淹|水漫|漫进|倒灌|进水了|家里全是水|屋里全是水|水淹|泡在水里|水漫金山|返水.{0,6}(?:家|屋)",
    "fight": r"打起来|打架|打人|动手了|斗殴|持刀|拿刀|拿着刀|砍人|捅人|互殴|群殴|殴打|家暴",
}
_CUE_RE = re.compile("|".join(f"(?P<{k}>{v})" for k, v in LEXICON.items()))
_CLAUSE_RE = re.compile(r"[^,，。.!！?？;；\n]+")
# Just before a cue: "没有着火", "不是冒烟", "未受伤"
_NEGATION_RE = re.compile(r"(?:没有|没|不是|不会|并未|未|无|别|不要|防止|预防|避免|以防|谨防|严禁|禁止)(?:.{0,2})$")
# Anywhere in the clause: a hypothetical, advice or a drill, not a report.
_HYPOTHETICAL_RE = re.compile(r"如果|万一|假如|要是|一旦|防止|预防|避免|以防|知识|注意|提醒|小心|容易|会不会|可能会|迟早|应急预案")
# Anywhere in the message: a drill, a lesson or a story, not a report.
_FICTION_RE = re.compile(r"演练|演习|培训|讲座|宣传|科普|新闻|电影|电视剧|视频里|小说|梦见|做梦")
# Anywhere in the message: the danger is over.
_RESOLVED_RE = re.compile(r"已(?:经)?(?:被)?(?:扑灭|灭了|救出|救下|处理好|处理完|解决|修好|没事|送医|关掉|关好)|救出来了|灭掉了|没事了|虚惊一场|谢谢.{0,8}(?:及时|帮忙)")


@dataclass(frozen=True)
class UrgencyCue:
    """One danger cue: its kind (fire, gas_leak, trapped, injured, flooding, fight), text and offset."""

    kind: str
    text: str
    start: int
    negated: bool


def find_cues(text: str) -> list[UrgencyCue]:
    """All urgency cues in (normalised) text, each marked negated when it is not a live report."""
    cues: list[UrgencyCue] = []
    if not text:
        return cues
    resolved = bool(_RESOLVED_RE.search(text) or _FICTION_RE.search(text))
    for clause in _CLAUSE_RE.finditer(text):
        body = clause.group()
        hypothetical = bool(_HYPOTHETICAL_RE.search(body))
        for m in _CUE_RE.finditer(body):
            negated = resolved or hypothetical or bool(_NEGATION_RE.search(body[: m.start()]))
            cues.append(UrgencyCue(m.lastgroup or "", m.group(), clause.start() + m.start(), negated))
    return cues


def active_cues(text: str) -> list[UrgencyCue]:
    """Urgency cues that are live reports (not negated, hypothetical or resolved)."""
    return [c for c in find_cues(text) if not c.negated]


def is_urgent(text: str) -> bool:
    """True when the text reports immediate danger by the lexicon alone."""
    return bool(active_cues(text))

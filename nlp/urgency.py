"""Urgency cues: immediate danger to life or property, with negation, hypotheticals and resolution."""

from __future__ import annotations

import re
from dataclasses import dataclass

# cue kind -> pattern; kept short and literal so a gridworker can read and extend it.
LEXICON: dict[str, str] = {
    "fire": (
        r"着火|著火|起火|失火|火灾|冒烟|冒黑烟|浓烟|烟好大|烟很大|好大的烟|烧起来|火苗|明火|火很大|燃起来|火烧|烧着了|爆炸"
        r"|冒火花|火花四溅|放火|火一直|火往上|烟从.{0,6}冒|烟往外冒|往外冒烟"
    ),
    "gas_leak": (
        r"(?:燃气|煤气|天然气|液化气)(?:泄漏|泄露|漏了|在漏|中毒)|漏气|(?:燃气|煤气|天然气|液化气)味|闻到(?:一股)?(?:燃气|煤气|天然气)"
        r"|是不是煤气|一氧化碳|(?:汽油|柴油)味|(?:燃气|煤气|天然气)管(?:道)?.{0,4}(?:爆|破|断|裂)|嘶嘶.{0,6}(?:冒气|漏)"
    ),
    "electric": r"高压线.{0,6}(?:断|掉|垂)|电线.{0,8}(?:断了|掉在|掉到|掉进).{0,6}(?:地上|水|路)|触电|漏电.{0,10}(?:倒地|不动|电到)",
    "trapped": r"被困|困在|困人|困住|关在电梯|卡在电梯|电梯里出不来|出不来了|救命|锁在(?:屋|家|里)|电梯里关了|夹住人|里面还有(?:人|老人|小孩|孩子)",
    "injured": (
        r"受伤(?!的(?:猫|狗|鸟|鸽|猫头鹰|小动物|动物))|受了伤|流血|出血|流了(?:好多|很多|一地|一身)?血|晕倒|昏倒|晕过去|昏迷|不省人事"
        r"|砸伤|砸到人|砸破头|压着人|被捅|被砍|骨折|摔倒.{0,6}(?:起不来|不动|流血)|倒在(?:地上|路边|地)|倒地不动|(?:人|老人|他|她)(?:.{0,4})不动了|叫.{0,4}没反应"
        r"|没(?:有)?呼吸|没(?:了)?意识(?!到)|抽搐|割腕|要跳楼|跳楼|被蜇|被蛇咬|被狗咬"
        r"|掉(?:进|到|下)(?:去|水|井|河|湖|下水道|坑)|掉水里|落水|溺水|漂着一个人"
    ),
    "person_at_risk": (
        r"(?:老人|奶奶|爷爷|姥姥|姥爷|外婆|外公|大爷|大妈|老太|独居|我爸|我妈|一个人住).{0,15}(?:联系不上|没人应|没人接|不开门|没开门|没人开|几天没见|没动静)"
        r"|(?:联系不上|没人应|没人接|不开门|没开门|没人开|几天没见|没动静).{0,15}(?:老人|奶奶|爷爷|大爷|独居|一个人住)"
        r"|说话含糊|口齿不清|吃错药|误服|喝了农药|喘不上气|呼吸(?:有点|很)?困难|胸口(?:疼|痛|闷)|心脏病(?:犯|发作|要犯)|想不开|轻生"
        r"|(?:病人|老人|制氧机|呼吸机).{0,15}撑不住|走丢|婴儿在哭|想跳|企喺边"
        r"|(?:小孩|孩子|小朋友).{0,10}(?:窗台|窗外|阳台外|楼顶边|护栏外)|(?:窗台|窗外|护栏外).{0,10}(?:小孩|孩子|小朋友)"
    ),
    # into homes only: a flooded road or car park is an incident, not an emergency
    "flooding": (
        r"水灌进|灌进(?:家|屋|房)|(?:家|屋|房间|卧室|客厅|一楼)[^,，。!！]{0,6}(?:淹了|被淹|进水|全是水|水漫)|漫进(?:家|屋|房)|倒灌|泡在水里"
        r"|往(?:我)?(?:家|屋).{0,4}灌|流进.{0,6}(?:家|屋|户)|进水到|水位越来越高|水涨得很快|淹到(?:腰|膝盖|胸|车门|车窗)|水已经到(?:车窗|腰|胸)"
    ),
    "fight": (
        r"打起来|打架|打人|动手了|斗殴|持刀|拿刀|拿着刀|砍人|捅人|互殴|群殴|殴打|家暴|砍门|砸门|砸人|砸车"
        r"|拿着(?:棍子|锤子|砖头|酒瓶|刀)|打(?:老婆|老人|孩子|小孩)|推搡"
    ),
    "call_for_help": r"快(?:来人|报警|叫救护车|打120|打119|叫120|叫消防|救人|疏散)|快快快|叫救护车|消防车(?:来了)?.{0,3}进不去",
}
_CUE_RE = re.compile("|".join(f"(?P<{k}>{v})" for k, v in LEXICON.items()))
_CLAUSE_RE = re.compile(r"[^,，。.!！?？;；\n]+")
# Just before a cue: "没有着火", "不是冒烟", "未受伤"
_NEGATION_RE = re.compile(
    r"(?:没有|没|不是|不会|并未|未|无|别|不要|防止|预防|避免|以防|谨防|严禁|禁止|差点|差一点|险些|防)(?:.{0,2})$|不$"
)
# Anywhere in the clause: a hypothetical, advice or a drill, not a report.
_HYPOTHETICAL_RE = re.compile(
    r"如果|万一|假如|要是|一旦|防止|预防|防范|避免|以防|知识|注意|提醒|小心|容易|会不会|可能会|迟早|应急预案|怕|担心|到时候|一着火|一起火"
)
# Anywhere in the message: a drill, a lesson or a story, not a report.
_FICTION_RE = re.compile(
    r"演练|演习|培训|讲座|宣传|科普|新闻|电影|电视剧|视频里|小说|梦见|梦到|做梦|转发|热搜"
)
# Anywhere in the message: the danger is over.
_RESOLVED_RE = re.compile(
    r"已(?:经)?(?:被)?(?:扑灭|灭了|救出|救下|处理好|处理完|解决|修好|没事|送医|关掉|关好|好了)|救出来了|灭掉了|没事了|虚惊一场|谢谢.{0,8}(?:及时|帮忙)"
    r"|(?<!是)不是(?:煤气|燃气|着火|起火|火灾|真的)|误会一场|正常放气|一会儿就散"
)


@dataclass(frozen=True)
class UrgencyCue:
    """One danger cue: its kind (fire, gas_leak, trapped, injured, person_at_risk, flooding, fight), text and offset."""

    kind: str
    text: str
    start: int
    negated: bool


def find_cues(text: str) -> list[UrgencyCue]:
    """All urgency cues in (normalised) text, each marked negated when it is not a live report."""
    if not text:
        return []
    resolved = bool(_RESOLVED_RE.search(text) or _FICTION_RE.search(text))
    clauses = [(m.start(), m.end()) for m in _CLAUSE_RE.finditer(text)]
    cues: list[UrgencyCue] = []
    for m in _CUE_RE.finditer(text):  # on the whole text: a cue may span clauses (老人……没人应)
        start, end = next(((a, b) for a, b in clauses if a <= m.start() < b), (m.start(), m.end()))
        clause = text[start:end]
        negated = (
            resolved
            or bool(_HYPOTHETICAL_RE.search(clause))
            or bool(_NEGATION_RE.search(text[start : m.start()]))
        )
        cues.append(UrgencyCue(m.lastgroup or "", m.group(), m.start(), negated))
    return cues


def active_cues(text: str) -> list[UrgencyCue]:
    """Urgency cues that are live reports (not negated, hypothetical or resolved)."""
    return [c for c in find_cues(text) if not c.negated]


def is_urgent(text: str) -> bool:
    """True when the text reports immediate danger by the lexicon alone."""
    return bool(active_cues(text))

"""Urgency cues: immediate danger to life or property, with negation, hypotheticals and resolution."""

from __future__ import annotations

import bisect
import re
from dataclasses import dataclass

# cue kind -> pattern; kept short and literal so a gridworker can read and extend it.
LEXICON: dict[str, str] = {
    "fire": (
        r"着火|著火|起火|失火|火灾|冒烟|冒黑烟|浓烟|烟好大|烟很大|好大的烟|烧起来|火苗|明火|火很大|燃起来|火烧|烧着了|爆炸"
        r"|放火|火一直|火往上|烟从.{0,6}冒|烟往外冒|往外冒烟|冒出浓烟|有火光|火光冲天|烟感.{0,4}(?:一直)?(?:在)?响"
    ),
    "gas_leak": (
        r"(?:燃|煤|然|媒|液化)[气汽](?:泄漏|泄露|漏了|在漏|中毒)|漏[气汽]|(?:燃|煤|然|媒|液化)[气汽起器](?:的)?(?:味|气味)|闻到(?:一股)?(?:燃|煤|媒|天然|液化)[气汽]"
        r"|臭鸡蛋(?:的)?味"
        r"|是不是煤气|一氧化碳|(?:汽油|柴油)味|(?:燃气|煤气|天然气)管(?:道)?.{0,4}(?:爆|破|断|裂)|嘶嘶.{0,6}(?:冒气|漏)"
    ),
    # sparks: mostly a power line or a socket, so the model (not the fire rule) picks the category
    "electric": r"(?:冒|闪|溅|在打|直打)火花|冒火星|火星子|火花四溅|高压线.{0,6}(?:断|掉|垂)|电线.{0,8}(?:断了|掉在|掉到|掉进).{0,6}(?:地上|水|路)|触电|漏电.{0,30}?(?:倒地|不动|电到|电了一下|别碰|别靠近|别摸)",
    "trapped": r"(?:卡住|困住|停住)了?.{0,4}里面(?:还)?有人|电梯.{0,15}里(?:面|边|头)(?:还)?有人|被困|困在|困人|困住|关在电梯|卡在电梯|电梯里出不来|出不来了|救命|锁在(?:屋|家|里)|电梯里关了|夹住人|里面还有(?:人|老人|小孩|孩子)",
    "injured": (
        r"受伤(?!的(?:猫|狗|鸟|鸽|猫头鹰|小动物|动物))|受了伤|流血|出血|流了(?:好多|很多|一地|一身)?血|晕倒|昏倒|晕过去|昏迷|不省人事"
        r"|砸伤|砸到人|砸破头|压着人|被捅|被砍|骨折|摔倒.{0,6}(?:起不来|不动|流血)|摔倒了起不来|倒在(?:地上|路边|地|路中间)|倒地不动|一动不动|躺在路中间|一滩血|(?:人|老人|他|她)(?:.{0,4})不动了|叫.{0,4}没反应|晕到|昏到|留了(?:好多|很多)?血|被车撞"
        r"|没(?:有)?呼吸|没(?:了)?意识(?!到)|抽搐|割腕|要跳楼|跳楼|被蜇|被蛇咬|被狗咬"
        r"|掉(?:进|到|下)(?:去|水|井|河|湖|下水道|坑)|掉水里|落水|溺水|漂着一个人"
    ),
    "person_at_risk": (
        r"(?:老人|奶奶|爷爷|姥姥|姥爷|外婆|外公|大爷|大妈|老太|独居|我爸|我妈|一个人住).{0,15}(?:联系不上|没人应|没人接|不开门|没开门|没人开|几天没见|没动静)"
        r"|(?:联系不上|没人应|没人接|不开门|没开门|没人开|几天没见|没动静).{0,15}(?:老人|奶奶|爷爷|大爷|独居|一个人住)"
        r"|说话含糊|口齿不清|吃错药|误服|喝了农药|喘不上气|呼吸(?:有点|很)?困难|胸口(?:疼|痛|闷)|心脏病(?:犯|发作|要犯)|想不开|轻生"
        r"|(?:病人|老人|制氧机|呼吸机).{0,15}撑不住|走丢|婴儿在哭|想跳|要跳下去|(?:要|想)往下跳|企喺边|半边身子.{0,4}(?:动不了|麻)"
        r"|(?:小孩|孩子|小朋友).{0,10}(?:窗台|窗外|阳台外|楼顶边|护栏外|栏杆外)|(?:窗台|窗外|护栏外|栏杆外).{0,10}(?:小孩|孩子|小朋友)"
    ),
    # into homes only: a flooded road or car park is an incident, not an emergency
    "flooding": (
        r"水灌进|灌进.{0,6}(?:家|屋|房|户)|(?:家|屋|房间|卧室|客厅|一楼)[^,，。!！]{0,6}(?:淹了|被淹|进水|全是水|水漫)|漫进(?:家|屋|房)|倒灌|泡在水里"
        r"|往(?:我)?(?:家|屋|里).{0,4}灌|流进.{0,6}(?:家|屋|户)|涌进.{0,6}(?:家|屋|户|一楼)|进水到|水位越来越高|水涨得很快|淹到(?:脚踝|小腿|腰|膝盖|胸|车轮|车门|车窗)|水已经到(?:脚踝|车窗|腰|胸)"
    ),
    "fight": (
        r"打起来|打架|打人|动手了|斗殴|持刀|拿刀|拿着刀|砍人|捅人|互殴|群殴|殴打|家暴|砍门|砸门|砸人|砸车"
        r"|拿着(?:棍子|锤子|砖头|酒瓶|刀)|打(?:老婆|老人|孩子|小孩)|推搡"
    ),
    "call_for_help": r"快(?:来人|报警|叫救护车|打120|打119|叫120|叫消防|救人|疏散)|(?:打|拨|叫|报)了?(?:119|120)|快快快|叫救护车|消防车(?:来了)?.{0,3}进不去|被困者|困人",
}
_CUE_RE = re.compile("|".join(f"(?P<{k}>{v})" for k, v in LEXICON.items()))
# Clauses end at punctuation, spaces and line breaks (voice input and many residents separate clauses by spaces).
_CLAUSE_RE = re.compile(r"[^,，。.!！?？;；、~～…\s]+")
# Just before a cue in its clause: "没有着火", "不是冒烟", "未受伤", "差点把锅烧着了"
_NEGATION_RE = re.compile(
    r"(?:没有|没|不是|不会|并未|未|无|别|不要|防止|预防|避免|以防|谨防|严禁|禁止|差点|差一点|险些|防)(?:.{0,2})$|不$"
)
# A condition or supposition: its clause and the next one are not a report ("万一哪天 着火了 怎么办").
_CONDITION_RE = re.compile(r"如果|万一|假如|假设|要是|一旦|以防|防止|预防|防范|避免|以后|哪天|的话")
# Advice, worry or a drill inside the cue's own clause ("小心着火", "冬天容易起火"); not the next clause, so
# 「着火了 注意安全 大家快下楼」 stays a report.
_HEDGE_RE = re.compile(
    r"隐患|风险|觉得|以为|说起|提起|知识|注意|提醒|小心|容易|会不会|可能会|迟早|应急预案|怕|担心|到时候|一着火|一起火|不然|否则|千万别"
    r"|气(?:得|到)?(?:我)?(?:头)?冒烟|游戏|跑都跑不|逃都逃不"
)
# Anywhere in the message: a drill, a lesson, a story, news or a forward about somewhere else.
_FICTION_RE = re.compile(
    r"演练|演习|培训|讲座|科普|新闻|据报道|报道称|记者|电影|电视剧|视频里|刷到|小说|梦见|梦到|做梦|热搜|朋友圈说"
    r"|^\s*(?:【?转发|转[:：]|转自|\[链接\]|【[^】]{0,8}(?:提示|提醒|新闻|通知)】)"
    r"|外省|邻市|隔壁区|隔壁市|城西那边|国外|某(?:市|小区|地|区|县|村)|别的小区|其他小区|外地(?!人|户口|牌|车)"
    r"|(?:抖音|快手|微博|视频号|小红书|电视|网)上(?:说|看到|刷到)|朋友圈(?:看到|里|上)|(?:看到|刷到)(?:抖音|快手|微博|视频号)"
)
# The danger is over: cancels cues in its own clause and the clauses before it, never a later one.
_RESOLVED_RE = re.compile(
    r"已(?:经)?(?:被)?(?:扑灭|灭了|救出|救下|处理好|处理完|解决|修好|没事|送医|关掉|关好|好了|恢复)|救出来了|灭掉了|没事了|虚惊一场|谢谢.{0,8}及时"
    r"|(?<!是)不是(?:煤气|燃气|着火|起火|火灾|真的)|误会一场|已经关(?:了)?火|没事(?![吧吗儿])|别担心|正常放气|一会儿就散|就好了|幸好|还好|所幸|多亏|上次|那次|原来是"
)
# Person cues (injured, at risk, trapped) about an animal: a lost dog or a hurt stray is not an emergency.
_ANIMAL_RE = re.compile(r"狗|猫|泰迪|鹦鹉|宠物|鸟|兔子|仓鼠|鸽子")
_PERSON_RE = re.compile(r"人|老|孩|娃|爷|奶|妈|爸|婆|公|叔|姨|哥|姐|弟|妹|男|女|他|她|宝宝|婴儿|小朋友")
_PERSON_CUES = frozenset({"injured", "person_at_risk", "trapped"})
ANIMAL_WINDOW = 40  # characters before the cue in which an animal, and no person, makes it about the animal
# Children at play are not a fight ("俩娃又打起来了", "打架玩").
_PLAY_RE = re.compile(
    r"(?:娃|孩子|小子|小孩|儿子|女儿|兄弟俩|姐弟|兄妹|表哥|表弟|猫|狗).{0,8}$|打闹|闹着玩|打架玩|玩$"
)


@dataclass(frozen=True)
class UrgencyCue:
    """One danger cue: its kind (fire, gas_leak, trapped, injured, person_at_risk, flooding, fight), text and offset."""

    kind: str
    text: str
    start: int
    negated: bool


def clauses(text: str) -> list[tuple[int, int]]:
    """(start, end) of each clause of text: runs between punctuation, spaces and line breaks."""
    return [(m.start(), m.end()) for m in _CLAUSE_RE.finditer(text)]


def find_cues(text: str) -> list[UrgencyCue]:
    """All urgency cues in (normalised) text, each marked negated when it is not a live report.

    The whole text is read, however long: cues are matched on it in one pass, and only the cue's clause (and, for
    conditions, the clause before it; for resolutions, the clauses after it) decides whether it is live.
    """
    matches = (
        list(_CUE_RE.finditer(text)) if text else []
    )  # on the whole text: a cue may span clauses (老人……没人应)
    if not matches:  # most messages: nothing else to work out
        return []
    fiction = bool(_FICTION_RE.search(text))
    spans = clauses(text)
    starts = [a for a, _ in spans]
    resolved_at = [m.start() for m in _RESOLVED_RE.finditer(text)]
    cues: list[UrgencyCue] = []
    for m in matches:
        k = bisect.bisect_right(starts, m.start()) - 1
        start, end = spans[k] if k >= 0 else (m.start(), m.end())
        clause = text[start:end]
        before = text[start : m.start()]
        previous = text[spans[k - 1][0] : spans[k - 1][1]] if k >= 1 else ""
        negated = (
            fiction
            or any(r >= start for r in resolved_at)  # resolved in this clause or a later one
            or bool(_CONDITION_RE.search(clause) or _CONDITION_RE.search(previous))
            or bool(_HEDGE_RE.search(clause))
            or bool(_NEGATION_RE.search(before))
            or (
                m.lastgroup in _PERSON_CUES
                and bool(_ANIMAL_RE.search(text[max(0, m.start() - ANIMAL_WINDOW) : end]))
                and not _PERSON_RE.search(text[max(0, m.start() - ANIMAL_WINDOW) : m.start()])
            )
            or (
                m.lastgroup == "fight"
                and bool(_PLAY_RE.search(before) or _PLAY_RE.search(text[m.end() : end]))
            )
        )
        cues.append(UrgencyCue(m.lastgroup or "", m.group(), m.start(), negated))
    return cues


def is_news(text: str) -> bool:
    """True when the text is a forward, news, a drill, a story or about somewhere else (not a report from here)."""
    return bool(_FICTION_RE.search(text))


def active_cues(text: str) -> list[UrgencyCue]:
    """Urgency cues that are live reports (not negated, hypothetical, news or resolved)."""
    return [c for c in find_cues(text) if not c.negated]


def is_urgent(text: str) -> bool:
    """True when the text reports immediate danger by the lexicon alone."""
    return bool(active_cues(text))

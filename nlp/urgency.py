"""Urgency cues: immediate danger to life or property, with negation, hypotheticals and resolution."""

from __future__ import annotations

import bisect
import re
from dataclasses import dataclass

from gridbot.nlp import urgency_effects as fx
from gridbot.nlp import urgency_lexicon as lex
from gridbot.nlp import urgency_readings as rd
from gridbot.nlp.prefilter import gated
from gridbot.nlp.urgency_look_alikes import look_alike

# gated by their words' first characters: these three scans were most of a message's cost (issue 14's throughput)
_CUE_RE = gated("|".join(f"(?P<{k}>{v})" for k, v in lex.LEXICON.items()))
_MORE_RE = gated("|".join(f"(?P<{k}>{v})" for k, v in lex.MORE_LEXICON.items()))
# danger described by its effect: read last, so it never hides a cue of the lists above
_EFFECT_RE = gated("|".join(f"(?P<{k}>{v})" for k, v in fx.EFFECT_LEXICON.items()))
# Clauses end at punctuation, spaces and line breaks (voice input and many residents separate clauses by spaces).
_CLAUSE_RE = re.compile(r"[^,，。.!！?？;；、~～…\s]+")
# Just before a cue in its clause: "没有着火", "不是冒烟", "未受伤", "差点把锅烧着了"
_NEGATION_RE = re.compile(
    r"(?:没有|没|冇|不是|不会|并未|未|无|别|不要|防止|预防|避免|以防|谨防|严禁|禁止|差点|差一点|险些|防)(?:.{0,2})$|不$"
)
# A condition or supposition: its clause and the next one are not a report ("万一哪天 着火了 怎么办").
_CONDITION_RE = re.compile(
    r"如果|万一|假如|假设|要是|真要|一旦|以防|防止|预防|防范|避免|以后|哪天|的话"
    r"|真(?:的要)?(?:着火|起火|失火|出事|出了事)(?!了)"  # 「真着火消防车根本进不来」: if it ever did
    # it might (「整不好谁就掉下去了」, 「搞不好要出人命」); 「阀门弄不好」 (cannot fix it) is no supposition
    r"|(?:整|弄|搞|闹)不好(?=[^,，。!！?？\s]{0,3}(?:谁|就|会|要|得|哪))|保不齐|保不准|指不定"
)
# Advice, worry or a drill inside the cue's own clause ("小心着火", "冬天容易起火"); not the next clause, so
# 「着火了 注意安全 大家快下楼」 stays a report.
_HEDGE_RE = re.compile(
    r"隐患|风险|觉得|以为|说起|提起|知识|注意|提醒|小心|容易|会不会|可能会|迟早|应急预案|怕|担心|到时候|一着火|一起火|不然|否则|千万别"
    r"|气(?:得|到)?(?:我)?(?:头)?(?:都)?冒烟|游戏|跑都跑不|逃都逃不|根本(?:跑|逃)不"
    r"|逃生(?:的时候|时|知识|技巧|常识)|的时候要"
    r"|真(?:要|的要)?(?:着火|起火|出事|有火情?|困人|困住|进水)[^,，。!！?？\s]{0,4}(?:都|也|根本|怎么|咋)"
)
# Anywhere in the message: a drill, a lesson, a story, news or a forward about somewhere else. A drill said to be
# over (「演练早结束了」) is no drill: what follows is real (session 15).
_FICTION_RE = re.compile(
    r"(?<!不是)(?<!并非)(?<!不是在)演练(?![^，,。!！?？\s]{0,6}?(?:结束|完了|完事|搞完|散了))|(?<!不是)演习(?![^，,。!！?？\s]{0,6}?(?:结束|完了|完事|搞完|散了))|培训|讲座|科普|新闻|据报道|报道称|记者|电影|电视剧|视频里|电视里|直播里|刷到|小说|梦见|梦到|做梦|热搜|朋友圈说"
    r"|纪录片|灾难片|动画片|看了个[^，,。!！?？\s]{0,6}(?:片|剧|视频)|游戏里|在玩[^，,。!！?？\s]{0,8}游戏|密室逃脱|过家家|角色扮演"
    r"|模拟[^，,。!！?？\s]{0,4}(?:困人|火灾|着火|逃生|演示)|急救课|消防课|安全课|课上|老师说|教大家"
    r"|^\s*(?:【?转发|转[:：]|转自|\[链接\]|【[^】]{0,8}(?:提示|提醒|新闻|通知)】)"
    r"|(?:抖音|快手|微博|视频号|小红书|电视|网)上(?:说|看到|刷到)|朋友圈(?:看到|里|上)|(?:看到|刷到)(?:抖音|快手|微博|视频号)"
    r"|(?:看|追)(?:完|了)?(?:一|这|那)?部剧|剧里|剧中|主角|男主(?!人)|女主(?!人)|" + fx.ELSEWHERE_MORE
)
# Another place named: news about elsewhere for is_news; for a cue, only the cues it governs (_elsewhere_at).
_PLACES_RE = re.compile(
    r"外省|邻市|隔壁区|隔壁市|城西那边|国外|某(?:市|小区|地|区|县|村)|别的小区|其他小区|(?<!在)(?<!去)(?<!回)外地(?!人|户口|牌|车|的|来)|"
    + fx.PLACES_MORE
)
# The danger is over: cancels cues in its own clause and the clauses before it, never a later one.
_RESOLVED_RE = re.compile(
    r"已(?:经)?(?:被)?(?:扑灭|灭了|救出|救下|处理好|处理完|处理(?![中下])|解决|修好|没事|送医|关掉|关好|好了|恢复"
    # the fault fixed at its source (「减压阀在漏气 已经关了总阀」)
    r"|关了(?:阀|总阀|闸|总闸|气|电)|换(?:了|好了|掉了)(?:新的|管子?|软管|阀门?)?(?=$|[,，。.!！;；\s]))|救出来了|灭掉了|没事了|虚惊一场|谢谢.{0,8}及时"
    r"|无人(?:受伤|伤亡)|(?:没有|无)人员伤亡|救上来了|抬上来了|送(?:去|到)?医院了|送医了|(?<!有)(?:没|无)(?:有)?生命危险|脱离(?:了)?危险"
    r"|(?<!是)不是(?:煤气|燃气|着火|起火|火灾|真的)|误会一场|已经关(?:了)?火|没事(?![吧吗儿])|别担心|正常放气|一会儿就散|就好了|幸好|幸亏|好在|万幸|还好|所幸|多亏|上次|那次|上回|那回|原来是|"
    + fx.RESOLVED_MORE
)
# A clause that explains what it was, after the danger was told over (「火灭了 就是一个电机烧起来」)
_EXPLAIN_OPEN_RE = re.compile(r"就是|只是|原来|其实|是(?!不是)")
# Person cues (injured, at risk, trapped) about an animal: a lost dog or a hurt stray is not an emergency.
_ANIMAL_RE = re.compile(r"狗|猫|泰迪|鹦鹉|宠物|鸟|兔子|仓鼠|鸽子")
_PERSON_RE = re.compile(r"人|老|孩|娃|爷|奶|妈|爸|婆|公|叔|姨|哥|姐|弟|妹|男|女|他|她|宝宝|婴儿|小朋友")
_PERSON_CUES = lex.PERSON_KINDS | {"missing"}  # and missing: 「狗走丢了」 is no missing person
ANIMAL_WINDOW = 40  # characters before the cue in which an animal, and no person, makes it about the animal
# Children at play are not a fight ("俩娃又打起来了", "打架玩").
_PLAY_RE = re.compile(
    r"(?:娃|孩子|小子|小孩|儿子|女儿|兄弟俩|姐弟|兄妹|表哥|表弟|猫|狗).{0,8}$|打闹|闹着玩|打架玩|玩$"
)

# an explanation resolves like 没事了 (「刚才的煤气味是燃气公司在换管子」)
_EXPLAINED_RE = re.compile(
    r"(?<!以为)是[^，,。!！?？；;\s]{0,10}?在(?:烧|换|修|检修|维修|施工|测试|调试|检查|排|放|做饭|炒|熏|焊|弄|炖|煮|烤|煎|蒸|卤)|误报"
    r"|(?<!以为)(?<!不)是[^，,。!！?？；;\s]{0,6}?(?:烧纸|烧香|烧烤|烧秸秆|做饭|炒菜|放烟花|放鞭炮)的"
)
# somewhere else, like 外地 (「听说有个小区电梯困人了」)
_ELSEWHERE_RE = re.compile(
    r"(?:有|一)(?:个|家)(?:小区|楼盘|村子?|工地|学校|商场|城市)|城[东西南北](?:那边|有)|隔壁小区"
    r"|(?:闺蜜|同事|同学|朋友|亲戚|老家|小姨|姨妈|舅舅|姑姑|表姐|表妹|表哥|表弟)(?:说|那边|家那边)"
    r"|(?:她|他)们(?:村|公司|单位|学校|老家|厂|小区|楼(?![下上道里]))"
)
# Back here after another place was named (「听说隔壁小区也这样 我们楼道里有煤气味」): the report is ours again.
_HERE_RE = re.compile(r"我们|咱们|咱|俺们|我家|俺家|本小区|这边|这里|我这")
# relief or a claim asked for after the event (「家里房子被水淹了 社区有没有临时救助」): the danger is behind
_AFTERMATH_RE = re.compile(
    r"(?:临时|大病|困难|医疗)救助|申请[^,，。!！?？\s]{0,4}救助|救助金|登记损失|理赔|保险(?:怎么|能不能|能|赔)"
    # the bill afterwards (「被蛇咬了 这个医药费有没有救助」)
    r"|(?:医药费|医疗费|治疗费|住院费|药费)[^。!！?？]{0,10}(?:救助|补助|补贴|报销|谁出|谁付|谁赔|能报)"
)
# damage done and compensation asked for (「地板全泡了 这得谁赔」, 「家电都泡了 有没有受灾补助」), unless it is still going on
_CLAIM_RE = re.compile(r"谁赔|(?:能|会|得|要)赔|赔(?:不赔|吗|偿|钱)|受灾补助|补助|补偿|损失(?:谁|找谁|怎么)")
_GOING_ON_RE = re.compile(r"还在|正在|一直在|越来越|快来|赶紧|马上")
# the header of a forward (in _FICTION_RE): it makes the whole message news
_FORWARD_RE = re.compile(r"^\s*(?:【|转|\[链接\])")
_NAMED_AFTER_RE = re.compile(r"^(?:是|在|那是)")  # 「浓烟很大 是隔壁小区的」 places the clause before
# the danger stopped by itself: resolves like 没事了 (「冒了一会儿自己停了」)
_SETTLED_RE = re.compile(
    r"自己(?:停|灭|好)了|不冒(?:烟)?了|没烟了|烟(?:也)?散了|味(?:道)?(?:也)?散了|没味(?:道)?了"
)


def _fiction_at(text: str, screens: list[re.Match[str]], at: int) -> bool:
    """Whether news, a screen or a drill governs a cue at `at`: a forward heads the whole message; any other
    governs it unless the message turned back to here before it (「刚看完新闻说外地燃气爆炸 结果我们楼下…」)."""
    return any(_FORWARD_RE.match(m.group()) or not rd.turned(text, m.end(), at) for m in screens)


@dataclass(frozen=True)
class UrgencyCue:
    """One danger cue: its kind (fire, gas_leak, trapped, injured, person_at_risk, falling, flooding, fight, …), text
    and offset. effect marks a danger told by its effect (urgency_effects): a rule over the model, not a feature."""

    kind: str
    text: str
    start: int
    negated: bool
    effect: bool = False


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
    matches += _more_matches(text, matches, _MORE_RE)
    matches = sorted(matches + _more_matches(text, matches, _EFFECT_RE), key=lambda m: m.start())
    if not matches:  # most messages: nothing else to work out
        return []
    screens = list(_FICTION_RE.finditer(text))
    aftermath = bool(_AFTERMATH_RE.search(text) or (_CLAIM_RE.search(text) and not _GOING_ON_RE.search(text)))
    elsewhere = [(e.start(), e.end()) for r in (_ELSEWHERE_RE, _PLACES_RE) for e in r.finditer(text)]
    spans = clauses(text)
    # a story of the past from its first clause on, until a clause says now (「想起以前…煤气中毒… 现在一到冬天…」)
    story_end = -1
    if spans and rd.PAST_RE.search(text, *spans[0]) and not rd.NOW_RE.search(text, *spans[0]):
        # …or turns back to here (「去年听说隔壁镇仓库着火 没想到今天咱们这边也冒烟了」)
        now = [m.start() for r in (rd.NOW_RE, rd.TURN_OPEN_RE) if (m := r.search(text, spans[0][1]))]
        story_end = min(now, default=len(text))
    starts = [a for a, _ in spans]
    resolved_at = [m.start() for m in _RESOLVED_RE.finditer(text)]
    resolved_at += [m.start() for r in (_EXPLAINED_RE, _SETTLED_RE) for m in r.finditer(text)]
    cues: list[UrgencyCue] = []
    for m in matches:
        kind = lex.KIND_OF.get(m.lastgroup or "", m.lastgroup or "")
        k = bisect.bisect_right(starts, m.start()) - 1
        start, end = spans[k] if k >= 0 else (m.start(), m.end())
        clause = text[start:end]
        before = text[start : m.start()]
        previous = text[spans[k - 1][0] : spans[k - 1][1]] if k >= 1 else ""
        following = text[spans[k + 1][0] : spans[k + 1][1]] if k + 1 < len(spans) else ""
        negated = (
            m.end() <= story_end  # a cue reaching into the clause that says now is live
            or aftermath
            or (bool(screens) and _fiction_at(text, screens, m.start()))
            or (bool(elsewhere) and _elsewhere_at(text, elsewhere, start, end, following, m.start()))
            or any(r >= start for r in resolved_at)  # resolved in this clause or a later one
            # or told over just before and then explained (「火灭了 就是一个电机烧起来」)
            or (
                k >= 1
                and bool(_EXPLAIN_OPEN_RE.match(clause))
                and any(r >= spans[k - 1][0] for r in resolved_at)
            )
            or bool(_CONDITION_RE.search(clause) or _CONDITION_RE.search(previous))
            or bool(
                _HEDGE_RE.search(clause) or _HEDGE_RE.search(_CLAUSE_RE.findall(m.group())[-1])
            )  # …老房子 怕进水
            or bool(_NEGATION_RE.search(before))
            or rd.false_alarm(kind, m, text, previous, clause, following, before)
            or rd.effect_false_alarm(kind, m, text, previous, clause, following, before)
            or rd.session14_false_alarm(kind, m, text, previous, clause, following)
            or look_alike(kind, m, text, previous, clause, following)
            or (
                (kind in _PERSON_CUES or kind == "fight")  # 「流浪狗一群在打架」
                and bool(_ANIMAL_RE.search(text[max(0, m.start() - ANIMAL_WINDOW) : end]))
                and not _PERSON_RE.search(text[max(0, m.start() - ANIMAL_WINDOW) : m.start()])
            )
            or (kind == "fight" and bool(_PLAY_RE.search(before) or _PLAY_RE.search(text[m.end() : end])))
        )
        effect = (m.lastgroup or "") in fx.EFFECT_KIND
        if not (effect and negated):  # an effect that is not happening now is no danger word at all
            cues.append(UrgencyCue(kind, m.group(), m.start(), negated, effect))
    return cues


def _elsewhere_at(
    text: str, places: list[tuple[int, int]], start: int, end: int, following: str, at: int
) -> bool:
    """Whether a cue at `at` (clause start..end) is about another place (隔壁小区, 别的小区, 朋友那边…).

    Only the clause that names the place, the one right before it that it places (「浓烟很大 是隔壁小区的」) and the
    clauses after it until the message comes back here (我们, 咱, 我家, 这边) are; a report here in another clause
    of the same message stays live (「隔壁小区上次也停过电 我们12栋现在着火了」).
    """
    for a, b in places:
        if start <= a < end:
            return True
        if b <= at and not _HERE_RE.search(text, b, at):
            return True
    return bool(_NAMED_AFTER_RE.search(following)) and bool(
        _ELSEWHERE_RE.search(following) or _PLACES_RE.search(following)
    )


def _more_matches(text: str, found: list[re.Match[str]], pattern: re.Pattern[str]) -> list[re.Match[str]]:
    """Matches of a further lexicon that do not overlap a cue already found."""
    if not text:
        return []
    taken = [(m.start(), m.end()) for m in found]
    return [m for m in pattern.finditer(text) if not any(a < m.end() and m.start() < b for a, b in taken)]


def is_news(text: str) -> bool:
    """True when the text is a forward, news, a drill, a story or about somewhere else (not a report from here)."""
    return bool(_FICTION_RE.search(text) or _PLACES_RE.search(text))


# everyone out and counted (「已经从楼里下来了 在广场集合 老人孩子都在」): over for the priority head alone
_SAFE_OUT_RE = re.compile(
    r"(?:已经|都)(?:从[^,，。!！?？\s]{1,8})?(?:下来|撤出来|撤出去|撤离|撤出|跑出来|逃出来)了"
    r"|(?:人|孩子|老人|大家|家里人)都(?:齐了|平安|安全|没事)|(?:老人|孩子|人)都在(?=$|[\s,，。.!！])"
)


def is_over(text: str) -> bool:
    """True when the text says the danger is over or the people are out (已经出来了, 没事了, 自己灭了)."""
    return bool(
        rd.OUT_RE.search(text)
        or _RESOLVED_RE.search(text)
        or _SETTLED_RE.search(text)
        or _SAFE_OUT_RE.search(text)
    )


def active_cues(text: str) -> list[UrgencyCue]:
    """Urgency cues that are live reports (not negated, hypothetical, news or resolved)."""
    return [c for c in find_cues(text) if not c.negated]


def is_urgent(text: str) -> bool:
    """True when the text reports immediate danger by the lexicon alone."""
    return bool(active_cues(text))

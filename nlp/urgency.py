"""Urgency cues: immediate danger to life or property, with negation, hypotheticals and resolution."""

from __future__ import annotations

import bisect
import re
from dataclasses import dataclass

from gridbot.nlp import urgency_effects as fx
from gridbot.nlp import urgency_lexicon as lex

_CUE_RE = re.compile("|".join(f"(?P<{k}>{v})" for k, v in lex.LEXICON.items()))
_MORE_RE = re.compile("|".join(f"(?P<{k}>{v})" for k, v in lex.MORE_LEXICON.items()))
# danger described by its effect: read last, so it never hides a cue of the lists above
_EFFECT_RE = re.compile("|".join(f"(?P<{k}>{v})" for k, v in fx.EFFECT_LEXICON.items()))
# Clauses end at punctuation, spaces and line breaks (voice input and many residents separate clauses by spaces).
_CLAUSE_RE = re.compile(r"[^,，。.!！?？;；、~～…\s]+")
# Just before a cue in its clause: "没有着火", "不是冒烟", "未受伤", "差点把锅烧着了"
_NEGATION_RE = re.compile(
    r"(?:没有|没|冇|不是|不会|并未|未|无|别|不要|防止|预防|避免|以防|谨防|严禁|禁止|差点|差一点|险些|防)(?:.{0,2})$|不$"
)
# A condition or supposition: its clause and the next one are not a report ("万一哪天 着火了 怎么办").
_CONDITION_RE = re.compile(r"如果|万一|假如|假设|要是|真要|一旦|以防|防止|预防|防范|避免|以后|哪天|的话")
# Advice, worry or a drill inside the cue's own clause ("小心着火", "冬天容易起火"); not the next clause, so
# 「着火了 注意安全 大家快下楼」 stays a report.
_HEDGE_RE = re.compile(
    r"隐患|风险|觉得|以为|说起|提起|知识|注意|提醒|小心|容易|会不会|可能会|迟早|应急预案|怕|担心|到时候|一着火|一起火|不然|否则|千万别"
    r"|气(?:得|到)?(?:我)?(?:头)?(?:都)?冒烟|游戏|跑都跑不|逃都逃不|根本(?:跑|逃)不"
    r"|逃生(?:的时候|时|知识|技巧|常识)|的时候要"
    r"|真(?:要|的要)?(?:着火|起火|出事|有火情?|困人|困住|进水)[^,，。!！?？\s]{0,4}(?:都|也|根本|怎么|咋)"
)
# Anywhere in the message: a drill, a lesson, a story, news or a forward about somewhere else.
_FICTION_RE = re.compile(
    r"(?<!不是)(?<!并非)(?<!不是在)演练|(?<!不是)演习|培训|讲座|科普|新闻|据报道|报道称|记者|电影|电视剧|视频里|电视里|直播里|刷到|小说|梦见|梦到|做梦|热搜|朋友圈说"
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
    r"已(?:经)?(?:被)?(?:扑灭|灭了|救出|救下|处理好|处理完|解决|修好|没事|送医|关掉|关好|好了|恢复)|救出来了|灭掉了|没事了|虚惊一场|谢谢.{0,8}及时"
    r"|救上来了|抬上来了|送(?:去|到)?医院了|送医了|(?<!有)(?:没|无)(?:有)?生命危险|脱离(?:了)?危险"
    r"|(?<!是)不是(?:煤气|燃气|着火|起火|火灾|真的)|误会一场|已经关(?:了)?火|没事(?![吧吗儿])|别担心|正常放气|一会儿就散|就好了|幸好|幸亏|好在|万幸|还好|所幸|多亏|上次|那次|原来是|"
    + fx.RESOLVED_MORE
)
# Person cues (injured, at risk, trapped) about an animal: a lost dog or a hurt stray is not an emergency.
_ANIMAL_RE = re.compile(r"狗|猫|泰迪|鹦鹉|宠物|鸟|兔子|仓鼠|鸽子")
_PERSON_RE = re.compile(r"人|老|孩|娃|爷|奶|妈|爸|婆|公|叔|姨|哥|姐|弟|妹|男|女|他|她|宝宝|婴儿|小朋友")
_PERSON_CUES = frozenset({"injured", "person_at_risk", "trapped", "pinned", "missing"})
ANIMAL_WINDOW = 40  # characters before the cue in which an animal, and no person, makes it about the animal
# Children at play are not a fight ("俩娃又打起来了", "打架玩").
_PLAY_RE = re.compile(
    r"(?:娃|孩子|小子|小孩|儿子|女儿|兄弟俩|姐弟|兄妹|表哥|表弟|猫|狗).{0,8}$|打闹|闹着玩|打架玩|玩$"
)

# Issue 14, false alarms. Each is a reading of a cue, never of the whole message, so a real report beside it stays.
# 救命 as an exclamation with no danger around it (「这歌太好听了 救命」, 「救命 楼道垃圾全是蛆」):
_EXCLAMATION_RE = re.compile(r"救命")
# A call for help as a joke (「作业把我气得 快叫救护车哈哈」): laughter or mock anger, and no danger around it.
_JOKE_RE = re.compile(r"哈哈|呵呵|嘿嘿|笑死|笑哭|开玩笑|逗你|气死我|血压|心态崩")
_DANGER_AROUND_RE = re.compile(
    r"喊|呼|着火|起火|火灾|大火|火苗|冒烟|浓烟|全是烟|烟(?:很|好|太)?大|电梯|困|卡住|卡在|(?<!血)压(?!力)|血(?!压|糖|脂)|刀|摔|掉(?:进|下|到|水)|晕|淹"
    r"|水里|进水|下不去|出不来|里面|打(?:人|起来|架|老婆)|砸|跳楼|跳河"
)
# a figure of speech in the cue's clause or the one before (「她唱得太燃了 舞台都要着火了」)
_FIGURATIVE_RE = re.compile(
    r"唱|歌|舞台|蹦迪|嗨|太燃|燃爆|游戏|这把|这局|比赛|直播|演唱会|综艺|追剧|笑死|绝了|作业|考试|要命|太好(?:听|看|吃)"
    r"|辣|火锅|辣椒|嘴巴|嘴皮|舌头|头顶|心里|太阳|热得|热死|晒得|桑拿|蒸笼|火爆|红火|爆火|火出圈"
    r"|挤爆|爆满|人山人海|人挤人"  # a crowd: 「桥上人挤爆了 都要着火了」
    r"|(?:特别|好|真|太|超)(?:帅|酷|好看|漂亮)"  # a flame admired: 「倒酒那一下火苗窜起来特别帅」
)
# delight or laughter as a figure of speech around a person cue (「太好吃了 我要晕倒了」, 「笑晕了」)
_DELIGHT_RE = re.compile(r"太好(?:吃|看|听|玩)|好吃到|香得|美得|笑死|笑晕|笑得|帅得|萌得|可爱得")
_ABOUT_TO_BEFORE_RE = re.compile(r"(?:快|快要|都要)$")
_SILENT_RE = re.compile(lex.SILENT)
_DOOR_SILENT_RE = re.compile(lex.DOOR_SILENT)
_PHONE_SILENT_RE = re.compile(lex.PHONE_SILENT)
_DAYS_RE = re.compile(
    r"(?:[两三四五六七八九十几多]|好几|一|\d+)(?:天|日|周|个?星期|礼拜)|半个?月|一个多?月|好久|多日|连续"
)
_OUT_RE = re.compile(r"(?:人|都|已经|被)(?:放|救|拉|接)?出来了")
# 快来人 asking for a repair or a look (「快来人修一下」), not for rescue
_REPAIR_AFTER_RE = re.compile(r"^(?:啊|吧|呀)?(?:修|看看|看一下|处理|弄|清|收|管|换|关(?:阀|水|闸|总))")
# an explanation resolves like 没事了 (「刚才的煤气味是燃气公司在换管子」)
_EXPLAINED_RE = re.compile(
    r"(?<!以为)是[^，,。!！?？；;\s]{0,10}?在(?:烧|换|修|检修|维修|施工|测试|调试|检查|排|放|做饭|炒|熏|焊|弄|炖|煮|烤|煎|蒸|卤)|误报"
    r"|(?<!以为)(?<!不)是[^，,。!！?？；;\s]{0,6}?(?:烧纸|烧香|烧烤|烧秸秆|做饭|炒菜|放烟花|放鞭炮)的"
)
# the past, for its clause and the next one, unless the clause says now (「去年 我们楼有人煤气中毒」)
_PAST_RE = re.compile(
    r"去年|前年|上个月|上月|上周|上礼拜|上星期|前几年|前几天|前些天|前阵子|前段时间|以前|小时候|那年|当年|之前有一?次|有一次"
    r"|几年前|前[两三几]年|前些年|几个月前|有一回|那回|上回|那时候?|那会儿?|年轻(?:的)?时候|年轻那会|早些年|早年|记得|想起|[七八九零]几年|[0-9]+年代"
)
# yesterday ends an event (a fire, a flood, a fight), not a person's state (missing, down, unanswered since then)
_YESTERDAY_RE = re.compile(r"昨天|昨晚|昨夜|昨儿|前天|前晚")  # unless it is still going on (开始, 一直, 现在)
_EVENT_CUES = frozenset({"fire", "flooding", "fight", "falling", "electric", "gas_leak", "trapped"})
_NOW_RE = re.compile(r"现在|刚才|刚刚|正在|今天|今早|今晚|又|还在")
_STILL_RE = re.compile(r"现在|正在|还在|开始|一直|至今|越来越")
# somewhere else, like 外地 (「听说有个小区电梯困人了」)
_ELSEWHERE_RE = re.compile(
    r"(?:有|一)(?:个|家)(?:小区|楼盘|村子?|工地|学校|商场|城市)|城[东西南北](?:那边|有)|隔壁小区"
    r"|(?:闺蜜|同事|同学|朋友|亲戚|老家|小姨|姨妈|舅舅|姑姑|表姐|表妹|表哥|表弟)(?:说|那边|家那边)"
    r"|(?:她|他)们(?:村|公司|单位|学校|老家|厂|小区|楼(?![下上道里]))"
)
# Back here after another place was named (「听说隔壁小区也这样 我们楼道里有煤气味」): the report is ours again.
_HERE_RE = re.compile(r"我们|咱们|咱|俺们|我家|俺家|本小区|这边|这里|我这")
# A turn back to here and now after news, a screen or a harmless source (「不对 是我们小区西边那个仓库」)
_TURN_RE = re.compile(
    r"(?:可是|但是|不过|结果|不对)[^,，。!！?？\s]{0,2}(?:现在|我们|咱|又)|是我们"
    r"|(?:我们|咱们|咱|俺们|我家|俺家)(?:小区|楼|村|院|单元|\d)|本小区"
)
_BREAK_RE = re.compile(r"[,，。.!！?？;；、~～…\s]")  # a clause boundary (as in _CLAUSE_RE)
# relief or a claim asked for after the event (「家里房子被水淹了 社区有没有临时救助」): the danger is behind
_AFTERMATH_RE = re.compile(
    r"(?:临时|大病|困难|医疗)救助|申请[^,，。!！?？\s]{0,4}救助|救助金|登记损失|理赔|保险(?:怎么|能不能|能|赔)"
)
# the header of a forward (in _FICTION_RE): it makes the whole message news
_FORWARD_RE = re.compile(r"^\s*(?:【|转|\[链接\])")
_NAMED_AFTER_RE = re.compile(r"^(?:是|在|那是)")  # 「浓烟很大 是隔壁小区的」 places the clause before
# advice to everyone: a reminder, and a general warning in the cue's clause that names no one in particular
_ADVICE_RE = re.compile(
    r"提醒(?:一下)?(?:各位|大家|家长|业主|居民|下)|温馨提示|友情提示|各位家长|大家注意|请大家|请各位"
)
_GENERAL_WARNING_RE = re.compile(r"危险|一定要|最好|千万|务必|看好|看管好|别让|不要让|要注意")
_SPECIFIC_RE = re.compile(r"有个|有一个|有人|那个|这个|正在|现在|刚才|刚刚")
_PRECAUTION_RE = re.compile(r"以免|免得|省得|防着")
# a prediction in the clause before (「刮风会掉下来的 砸到人可咋整」), a worry about it, or the experiential 过 (「被蜇过」)
_PREDICTION_RE = re.compile(r"会[^,，。!！?？\s]{0,8}的$")
# a forecast in the cue's own clause (「照这么下 明天一楼肯定要进水」): not happening yet
_EVERY_TIME_RE = re.compile(
    r"每年|年年|每天|天天|每次|每回|一(?:开火|点火|下雨|下大雨|刮风|做饭|炒菜|冲马桶|冲厕所|放水|用水)就"
)
_FORECAST_RE = re.compile(
    r"(?:明天|明早|明晚|过两天|待会儿?|迟早|早晚|肯定|估计|怕是|说不定)[^,，。!！?？\s]{0,8}?(?:要|会)(?!是)"
)
_WORRY_RE = re.compile(r"可(?:咋整|怎么办|咋办)")
# a cue that has not happened (no 了) asked about (「有人掉河里咋办」), not 「着火了怎么办」
_WORRY_AFTER_RE = re.compile(r"^[^,，。.!！?？;；\s了]{0,4}(?:咋整|咋办|怎么办)")
_EXPERIENCED_RE = re.compile(r"^过(?!来|去|马路)")
# talk about an event (「电瓶车着火的事 后来查了」) or a remedy named after it (「被蛇咬的血清」)
_TOPIC_AFTER_RE = re.compile(r"^了?的(?:事|事情|急救|药|血清|疫苗|预防|常识|知识)")
# 像 a likeness (「说像火灾现场」); 好像, 看着像 say it seems to be happening
_LIKE_BEFORE_RE = re.compile(r"(?<![好就着])像$")
_CAN_BEFORE_RE = re.compile(r"能(?:把人)?$")  # what it could do: 「都能熏晕人」
# what would follow (「掉进去腿就断了」): a consequence foretold, not a report
_THEN_AFTER_RE = re.compile(
    r"^[^,，。!！?？\s了]{0,3}就(?:完|断|废|惨|晚|麻烦|危险|来不及|没命|出(?:大)?事|进不来|跑不)"
)
_SIMILE_AFTER_RE = re.compile(r"^了?(?:一样|似的|一般)")  # 「红得像着火了一样」
# the danger stopped by itself: resolves like 没事了 (「冒了一会儿自己停了」)
_SETTLED_RE = re.compile(
    r"自己(?:停|灭|好)了|不冒(?:烟)?了|没烟了|烟(?:也)?散了|味(?:道)?(?:也)?散了|没味(?:道)?了"
)
# a thing, not a person, was hit (「站牌被车撞倒了」)
_THING_BEFORE_RE = re.compile(
    r"(?:牌|杆|栏|桶|车|墙|门|树|灯|箱|柱|亭|棚|椅|架|窗|桩|板|栅|机|台|筐|盆|墩|石|碑|坛|盖)子?(?:给|让|又|也)?$"
)
_THING_RESULT_RE = re.compile(
    r"^(?:了)?(?:碎|坏|歪|断|弯|瘪|凹|变形|半截|一半|一角)"
)  # 撞碎/撞歪 happen to things, not people
_PERSON_WORD_RE = re.compile(lex.PERSON)
_BENIGN_SMOKE_RE = re.compile(fx.BENIGN_SMOKE_RE)
_MISTAKEN_RE = re.compile(r"以为|当成|当是")  # an explanation the resident then found wrong
_FLAME_RE = re.compile(fx.FLAME_RE)
_FIGURE_RE = re.compile(fx.FIGURE_RE)
_NOT_YET_RE = re.compile(fx.NOT_YET_RE)
_THING_WORD_RE = re.compile(fx.THING_RE)
_ASLEEP_RE = re.compile(fx.ASLEEP_RE)
_HABIT_RE = re.compile(fx.HABIT_RE)
_ABOUT_TO_RE = re.compile(fx.ABOUT_TO_RE)
_URGING_RE = re.compile(r"快来人")
_CHORE_RE = re.compile(fx.CHORE_RE)
_NOT_WATER_RE = re.compile(fx.NOT_WATER_RE)
_CHARGING_RE = re.compile(fx.CHARGING_RE)
# 倒 as pour (把剩饭倒在), not a person pushed down (把人拖倒)
_POUR_RE = re.compile(r"把[^，,。!！?？\s]{1,6}(?<![拖刮撞推打绊挤碰踢砸压撂摔掀])$")


def _benign_smoke(text: str, at: int) -> bool:
    """Smoke with a harmless source in the message, unless the resident only thought so (「以为是邻居炒菜」) or the
    smoke at `at` comes after a turn back to here (「不是放烟花的烟 是我们2栋地下室冒黑烟了」)."""
    return any(
        _MISTAKEN_RE.search(text[max(0, m.start() - 12) : m.start()]) is None
        and not _turned(text, m.end(), at)
        for m in _BENIGN_SMOKE_RE.finditer(text)
    )


def _turned(text: str, end: int, at: int) -> bool:
    """Whether the message turns back to here, now, in a later clause between `end` and a cue at `at` (结果我们楼下,
    可是现在); 「梦见咱们楼着火了」 is still the dream."""
    turn = _TURN_RE.search(text, end, at) if end <= at else None
    return turn is not None and _BREAK_RE.search(text, end, turn.start()) is not None


def _fiction_at(text: str, screens: list[re.Match[str]], at: int) -> bool:
    """Whether news, a screen or a drill governs a cue at `at`: a forward heads the whole message; any other
    governs it unless the message turned back to here before it (「刚看完新闻说外地燃气爆炸 结果我们楼下…」)."""
    return any(_FORWARD_RE.match(m.group()) or not _turned(text, m.end(), at) for m in screens)


def _effect_false_alarm(
    kind: str, cue: re.Match[str], text: str, previous: str, clause: str, following: str, before: str
) -> bool:
    """Readings of the third pass (issue 14): explained smoke, figures of speech, a fight not yet, a thing fallen."""
    said = cue.group()
    if kind == "fire" and "烟" in said and not _FLAME_RE.search(said) and _benign_smoke(text, cue.start()):
        return True
    if _ABOUT_TO_RE.search(said):
        return True
    if kind != "call_for_help" and _FIGURE_RE.search(f"{clause} {following}"):
        return True
    if kind == "fight" and ((said[0] in "打干掐" and _NOT_YET_RE.search(before)) or "群里" in clause):
        return True
    if ("不醒" in said and _ASLEEP_RE.search(text)) or (kind == "trapped" and _HABIT_RE.search(clause)):
        return True
    # a thing fell, in the cue's clause or, for 倒 opening a clause, the clause before (「站牌撞歪了 倒在路边」)
    fell = said[0] in "掉摔跌落" or (said[0] == "倒" and kind == "injured")  # 倒了压在车上 may pin a person
    subject = f"{previous} {before}" if said[0] == "倒" and not before else before
    if fell and _THING_WORD_RE.search(subject) and not _PERSON_WORD_RE.search(subject):
        return True
    if said[0] == "倒" and _POUR_RE.search(before):
        return True  # 「把剩饭倒在楼道的花盆里」: 倒 as pour
    return bool(
        _URGING_RE.fullmatch(said)
        and _CHORE_RE.search(text)
        and not (_DANGER_AROUND_RE.search(text[: cue.start()]) or _DANGER_AROUND_RE.search(text[cue.end() :]))
    )


def _false_alarm(
    kind: str, cue: re.Match[str], text: str, previous: str, clause: str, following: str, before: str
) -> bool:
    """Whether a cue is a figure of speech, urging, the past, advice, a precaution or about a thing (issue 14)."""
    if (
        _EXCLAMATION_RE.fullmatch(cue.group()) or (kind == "call_for_help" and _JOKE_RE.search(text))
    ) and not (_DANGER_AROUND_RE.search(text[: cue.start()]) or _DANGER_AROUND_RE.search(text[cue.end() :])):
        return True
    if (_EXCLAMATION_RE.fullmatch(cue.group()) or kind == "call_for_help") and _FIGURE_RE.search(text):
        return True  # 「被困在公司加班到十点 救命 谁来救救我」: the danger around is a figure of speech
    if kind in ("fire", "trapped") and _FIGURATIVE_RE.search(f"{previous} {clause} {following}"):
        return True
    if kind in ("injured", "person_at_risk") and _ABOUT_TO_BEFORE_RE.search(before):
        return True  # 「热得我快晕倒了」: about to, not down
    if kind in ("injured", "person_at_risk") and _DELIGHT_RE.search(f"{previous} {clause}"):
        return True  # 「这个蛋糕太好吃了 我要晕倒了」
    # silent on the phone for an afternoon is not yet the welfare check of TAXONOMY §3; silent at the door too is
    if (
        kind == "person_at_risk"
        and _SILENT_RE.search(cue.group())
        and not _DAYS_RE.search(text)
        and not (_DOOR_SILENT_RE.search(text) and _PHONE_SILENT_RE.search(text))
    ):
        return True
    if kind in ("trapped", "pinned") and _OUT_RE.search(text[cue.end() :]):
        return True  # 「电梯困人那个 已经出来了」: the people are out (a gas leak they fled from is not over)
    if kind == "call_for_help" and _REPAIR_AFTER_RE.search(text[cue.end() :]):
        return True
    if (_PAST_RE.search(clause) or _PAST_RE.search(previous)) and not _NOW_RE.search(clause + cue.group()):
        return True
    if kind in _EVENT_CUES and _YESTERDAY_RE.search(clause) and not _STILL_RE.search(f"{clause} {following}"):
        return True  # 「昨天那场雨一楼都进水了」; 「我爸昨天出门没回来」 is still going on
    if _ADVICE_RE.search(text) and _GENERAL_WARNING_RE.search(clause) and not _SPECIFIC_RE.search(clause):
        return True
    if _PRECAUTION_RE.search(clause) or _WORRY_RE.search(clause) or _WORRY_AFTER_RE.search(text[cue.end() :]):
        return True
    if kind == "electric" and _CHARGING_RE.search(text) and not _FLAME_RE.search(cue.group()):
        return True  # 「有人飞线充电 电线拖在地上」: a hazard; sparks or fire on it stay live
    if kind == "flooding" and _NOT_WATER_RE.search(clause) and "水" not in clause:
        return True  # 「风呼呼往里灌」: wind, not water
    if kind in ("fire", "flooding") and _EVERY_TIME_RE.search(clause):
        return True  # 「一开火就冒黑烟」, 「一楼每年都进水」: what always happens is a fault, not an emergency now
    if _FORECAST_RE.search(text, cue.start() - len(before), cue.end()):  # 「明天一楼肯定要进水」: not yet
        return True
    if _PREDICTION_RE.search(previous) and not (_NOW_RE.search(clause) or "已经" in clause):
        return True  # 「会自燃的 已经冒烟了」 reports it happening
    after = text[cue.end() :]
    # a likeness, what it could do, what would follow: 「说像火灾现场」, 「都能熏晕人」, 「掉进去腿就断了」
    if _LIKE_BEFORE_RE.search(before) and not cue.group().startswith("要"):
        return True
    if _CAN_BEFORE_RE.search(before) or _THEN_AFTER_RE.search(after):
        return True
    if _EXPERIENCED_RE.search(after) or _SIMILE_AFTER_RE.search(after) or _TOPIC_AFTER_RE.search(after):
        return True
    return kind == "injured" and (
        bool(_THING_BEFORE_RE.search(before) and not _PERSON_WORD_RE.search(before))
        or bool(_THING_RESULT_RE.search(text[cue.end() :]))
    )


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
    aftermath = bool(_AFTERMATH_RE.search(text))
    elsewhere = [(e.start(), e.end()) for r in (_ELSEWHERE_RE, _PLACES_RE) for e in r.finditer(text)]
    spans = clauses(text)
    # a story of the past from its first clause on, until a clause says now (「想起以前…煤气中毒… 现在一到冬天…」)
    story_end = -1
    if spans and _PAST_RE.search(text, *spans[0]) and not _NOW_RE.search(text, *spans[0]):
        now = _NOW_RE.search(text, spans[0][1])
        story_end = now.start() if now else len(text)
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
            m.start() < story_end
            or aftermath
            or (bool(screens) and _fiction_at(text, screens, m.start()))
            or (bool(elsewhere) and _elsewhere_at(text, elsewhere, start, end, following, m.start()))
            or any(r >= start for r in resolved_at)  # resolved in this clause or a later one
            or bool(_CONDITION_RE.search(clause) or _CONDITION_RE.search(previous))
            or bool(_HEDGE_RE.search(clause))
            or bool(_NEGATION_RE.search(before))
            or _false_alarm(kind, m, text, previous, clause, following, before)
            or _effect_false_alarm(kind, m, text, previous, clause, following, before)
            or (
                kind in _PERSON_CUES
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


def is_over(text: str) -> bool:
    """True when the text says the danger is over or the people are out (已经出来了, 没事了, 自己灭了)."""
    return bool(_OUT_RE.search(text) or _RESOLVED_RE.search(text) or _SETTLED_RE.search(text))


def active_cues(text: str) -> list[UrgencyCue]:
    """Urgency cues that are live reports (not negated, hypothetical, news or resolved)."""
    return [c for c in find_cues(text) if not c.negated]


def is_urgent(text: str) -> bool:
    """True when the text reports immediate danger by the lexicon alone."""
    return bool(active_cues(text))

"""Readings of one urgency cue: whether the words around it make it no live danger (issue 14).

Each reading looks at the cue, its clause and its neighbours (a figure of speech, the past, a forecast, a thing
rather than a person, a recurring fault…), never at the whole message alone, so a real report beside it stays
live. `urgency.find_cues` applies them with the message-wide scopes (news, elsewhere, resolution, conditions).
"""

from __future__ import annotations

import re

from gridbot.nlp import urgency_effects as fx
from gridbot.nlp import urgency_lexicon as lex

# A turn back to here and now after news, a screen or a harmless source (「不对 是我们小区西边那个仓库」)
# a contrast opening a clause about here or now (可是现在, 结果我们楼下, 没想到咱们这边): it also ends a story of the past
_TURN_OPEN = r"(?:可是|但是|不过|结果|不对|没想到|谁知道?|哪知道?)[^,，。!！?？\s]{0,2}(?:现在|我们|咱|俺|又|回(?:到)?家|到家|进(?:家)?门|进屋)"
TURN_OPEN_RE = re.compile(_TURN_OPEN)
_TURN_RE = re.compile(_TURN_OPEN + r"|是我们|(?:我们|咱们|咱|俺们|我家|俺家)(?:小区|楼|村|院|单元|\d)|本小区")
_BREAK_RE = re.compile(r"[,，。.!！?？;；、~～…\s]")  # a clause boundary (as in urgency._CLAUSE_RE)

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
    # a body part or a stuck lesson, a losing game or a falling stock (「耳朵要着火了」, 「背课文被困在第三段」)
    r"|耳朵|脑子|脑袋|课文|背书|这道题|数学题|难题|做题|刷题|关卡|第[一二三四五六七八九十\d]{1,3}(?:段|关|章|页|题)"
    r"|股票|基金|段位|上分|连跪|掉分"
)
# delight or laughter as a figure of speech around a person cue (「太好吃了 我要晕倒了」, 「笑晕了」)
_DELIGHT_RE = re.compile(r"太好(?:吃|看|听|玩)|好吃到|香得|美得|笑死|笑晕|笑得|帅得|萌得|可爱得")
# a near miss: it almost happened (「老爸差点跌进水沟」, the cue spanning the person and the fall)
_NEAR_MISS_RE = re.compile(r"差点|差一点|险些|险险")
# a heart that bleeds is grief (「我的心在流血」), not a wound
_HEART_BEFORE_RE = re.compile(r"(?<![小担放耐细粗])心(?:里|头)?(?:在|都|正在)?$")
# 救救 a thing (「谁来救救我的基金」): a figure; 救救我的孩子 names a person
_RESCUE_RE = re.compile(r"救救")
_OWNED_AFTER_RE = re.compile(r"们?的")
# sparks from a fire lit on purpose (烧纸, a welder): a hazard, no live line
_SPARK_SOURCE_RE = re.compile(r"烧纸|纸钱|烧香|烧烤|电焊|焊接|切割|打磨")
_LINE_RE = re.compile(r"电|线|插座|插排|插头|箱|闸|表")
# a hazard described (「推到三楼走廊里充电…着火了咋个整」), then what if: a worry, not a report
_HAZARD_RE = re.compile(r"充电|飞线|插排|堆(?:着|放|满|了)|杂物|停着|放着")
_WHAT_IF_AFTER_RE = re.compile(r"^了?[^,，。.!！?？;；\s]{0,2}(?:咋个?整|咋个?办|怎么办|怎么整)")
_NOW_URGING_RE = re.compile(r"快|救命|现在|正在|赶紧")
_ABOUT_TO_BEFORE_RE = re.compile(r"(?:快|快要|都要)$")
_SILENT_RE = re.compile(lex.SILENT)
_DOOR_SILENT_RE = re.compile(lex.DOOR_SILENT)
_PHONE_SILENT_RE = re.compile(lex.PHONE_SILENT)
_DAYS_RE = re.compile(
    r"(?:[两三四五六七八九十几多]|好几|一|\d+)(?:天|日|周|个?星期|礼拜)|半个?月|一个多?月|好久|多日|连续"
)
OUT_RE = re.compile(r"(?:人|都|已经|被)(?:放|救|拉|接)?出来了")
# 快来人 asking for a repair or a look (「快来人修一下」), not for rescue
_REPAIR_AFTER_RE = re.compile(r"^(?:啊|吧|呀)?(?:修|看看|看一下|处理|弄|清|收|管|换|关(?:阀|水|闸|总))")
# the past, for its clause and the next one, unless the clause says now (「去年 我们楼有人煤气中毒」)
PAST_RE = re.compile(
    r"去年|前年|上个月|上月|上个?周|上个?礼拜|上个?星期|前几年|前几天|前些天|前阵子|前段时间|以前|小时候|那年|当年|之前有一?次|有一次"
    r"|几年前|前[两三几]年|前些年|几个月前|有一回|那回|上回|那时候?|那会儿?|年轻(?:的)?时候|年轻那会|早些年|早年|记得|想起|[七八九零]几年|[0-9]+年代"
)
# yesterday ends an event (a fire, a flood, a fight), not a person's state (missing, down, unanswered since then)
_YESTERDAY_RE = re.compile(r"昨天|昨晚|昨夜|昨儿|前天|前晚")  # unless it is still going on (开始, 一直, 现在)
_EVENT_CUES = frozenset({"fire", "flooding", "fight", "falling", "electric", "gas_leak", "trapped"})
NOW_RE = re.compile(r"现在|刚才|刚刚|正在|今天|今早|今晚|又|还在")
_STILL_RE = re.compile(r"现在|正在|还在|开始|一直|至今|越来越")
# advice to everyone: a reminder, and a general warning in the cue's clause that names no one in particular
_ADVICE_RE = re.compile(
    r"提醒(?:一下)?(?:各位|大家|家长|业主|居民|下)|温馨提示|友情提示|各位家长|大家注意|请大家|请各位"
)
_GENERAL_WARNING_RE = re.compile(
    r"危险|一定要|最好|千万|务必|看好|看管好|别让|不要让|要注意|会(?:死人|出人命|要人命|中毒|出大事)"
)
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
# a cleft 是…的 tells how a past event happened (「孩子就是从那掉下去的 得赶紧修」), unless it is still going on
_CLEFT_BEFORE_RE = re.compile(r"是[^,，。!！?？\s]{0,10}$")
_CLEFT_AFTER_RE = re.compile(r"^[了下去进来出]{0,3}的(?=$|[,，。.!！?？;；\s])")
# a rule of what to do when it happens (「手麻嘴歪就赶紧去医院」): advice, not a report; 「嘴歪了 赶紧送医院」 reports
_WHEN_THEN_RE = re.compile(r"^[^,，。.!！?？;；\s了]{0,2}?就(?:赶紧|马上|立刻|立即|快|要|得|该)")
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
_DEVICE_BEFORE_RE = re.compile(
    r"按|按钮|遥控|开关|刷卡|刷脸|门禁|电梯|机器|手机|电脑|屏幕|插座|空调|电视|热水器|充电桩|水表|电表|读卡|显示屏"
)
_LEAVES_RE = re.compile(r"叶|花瓣|果子|果实|椰子|枣|柿子|核桃|松果")
_FIREWORKS_RE = re.compile(r"烟花|鞭炮|炮仗|放炮|礼花|爆竹|烟火|仙女棒|呲花")
_COOKING_RE = re.compile(r"油烟|炒菜|做饭|烧烤|饭菜|香味|菜味|饭香|火锅|烤肉|出去吃|点外卖")
_SOAKED_THING_RE = re.compile(r"证|户口本|本子|卡|照片|书|衣服|鞋|手机|钱包|被子|粮食|种子|化肥")
_HOME_WORD_RE = re.compile(r"家|屋|房|楼|村|院|街|路|人|一楼|地下室|车库")
_NOT_WATER_RE = re.compile(fx.NOT_WATER_RE)
_NAMED_LIQUID_RE = re.compile(fx.NAMED_LIQUID_RE)
# stuck at work, not shut in (「又加班 被困在公司出不去」), with no fire or water around
_WORKPLACE_RE = re.compile(r"(?:困|关|锁)在(?:公司|单位|办公室|工位|厂里|店里|会议室)")
_VEHICLE_RE = re.compile(r"车")  # 卡车, 货车, 班车… all end in it
_WATER_OR_FIRE_RE = re.compile(r"水|淹|河|火|烟|塌|压")
_CHARGING_RE = re.compile(fx.CHARGING_RE)
# 倒 as pour (把剩饭倒在), not a person pushed down (把人拖倒)
_POUR_RE = re.compile(r"把[^，,。!！?？\s]{1,6}(?<![拖刮撞推打绊挤碰踢砸压撂摔掀])$")


# Session 14 (blind9's classes). Stuck in a job or a debt, not shut in (「考公三年 还被困在原地」).
_LIFE_TROUBLE_RE = re.compile(r"裁员|加班|工资|房贷|车贷|欠债|还贷|内卷|考研|考公|KPI|业绩", re.IGNORECASE)
_SHUT_IN_PLACE_RE = re.compile(r"梯|井|洞|屋|房|楼|山|车|隧道|矿|里面有人")
# a flame where it belongs (a stove, a candle) with nothing said to be spreading (「灶修好了 火苗又稳又蓝」)
_HEARTH_RE = re.compile(r"灶|炉|蜡烛|打火机|火柴|酒精灯|煤油灯|火锅|篝火|火盆|香炉|油灯")
_SPREAD_RE = re.compile(
    r"窜|蹿|烧到|烧着|引燃|点着|着了|蔓延|灭不了|扑不灭|油锅|冒烟|浓烟|大火|好大|很大|越来越"
)
# far from here, said in the cue's clause or the two after it (「浓烟滚滚 是河对岸的厂子 隔得挺远」)
_FAR_RE = re.compile(
    r"(?:离(?:我们|咱们|咱|这|这边|这里|小区|村)[^,，。!！?？\s]{0,4}?(?:很|好|挺|蛮|老|特别|还)?(?<![不没多])远"
    r"|隔得(?:很|好|挺|老)?远|远(?:着呢|得很))"
)
# people going into the water on purpose to pull someone out (「两个保安下水去捞了」) are the rescuers
_RESCUERS_AFTER_RE = re.compile(r"^去(?:拉|救|捞|拽|扶|帮|抬|接)")
_TAKEN_RE = re.compile(fx.TAKEN)
_MORE_DANGER_RE = re.compile(r"快|还有|又|另(?:一|外)|正在|还在")


def _far_after(text: str, end: int) -> bool:
    """Whether the cue's clause or the two clauses after `end` say it is far from here."""
    rest = text[end:]
    clauses = [c for c in _BREAK_RE.split(rest) if c][:3]
    return bool(_FAR_RE.search(" ".join(clauses)))


def session14_false_alarm(
    kind: str, cue: re.Match[str], text: str, previous: str, clause: str, following: str
) -> bool:
    """Readings found on blind9 (session 14): a trap of work or debt, a flame in its stove, a fire far off, the
    rescuers going into the water, and an injury told after the person was taken away."""
    if (
        kind == "trapped"
        and _LIFE_TROUBLE_RE.search(f"{previous} {clause}")
        and not (_SHUT_IN_PLACE_RE.search(clause) or _WATER_OR_FIRE_RE.search(text))
    ):
        return True  # 「工资一年没涨 被困在这份工作里了」
    if (
        kind == "fire"
        and "火苗" in cue.group()
        and _HEARTH_RE.search(f"{previous} {clause}")
        and not _SPREAD_RE.search(f"{clause} {following}")
    ):
        return True  # 「燃气灶修好了 火苗又稳又蓝」
    if kind == "fire" and _far_after(text, cue.end()):
        return True  # 「北边山上好大的烟 离我们村还远」
    if kind == "injured" and _RESCUERS_AFTER_RE.search(text[cue.end() :]):
        return True  # 「保安也落水去捞了」: going in to pull someone out
    return (
        kind in lex.PERSON_KINDS
        and _TAKEN_RE.search(text, 0, cue.start()) is not None
        and not _MORE_DANGER_RE.search(clause)
    )  # 「120到了 人抬走了 是三楼的王姐 手腕骨折」


def _benign_smoke(text: str, at: int) -> bool:
    """Smoke with a harmless source in the message, unless the resident only thought so (「以为是邻居炒菜」) or the
    smoke at `at` comes after a turn back to here (「不是放烟花的烟 是我们2栋地下室冒黑烟了」)."""
    return any(
        _MISTAKEN_RE.search(text[max(0, m.start() - 12) : m.start()]) is None
        and not turned(text, m.end(), at)
        for m in _BENIGN_SMOKE_RE.finditer(text)
    )


def turned(text: str, end: int, at: int) -> bool:
    """Whether the message turns back to here, now, in a later clause between `end` and a cue at `at` (结果我们楼下,
    可是现在); 「梦见咱们楼着火了」 is still the dream."""
    turn = _TURN_RE.search(text, end, at) if end <= at else None
    return turn is not None and _BREAK_RE.search(text, end, turn.start()) is not None


def effect_false_alarm(
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
    if kind == "falling" and _LEAVES_RE.search(f"{before or previous}{said}"):
        return True  # 「树叶子一片一片的掉」, 「叶子黄了 一片一片的掉」: leaves or fruit, not a structure failing
    if kind == "electric" and _FIREWORKS_RE.search(f"{previous} {clause}"):
        return True  # 「放烟花 火星子飘到阳台上」: sparks of fireworks, no live line
    # 「楼道口烧纸 火星子乱飞」: a fire lit on purpose throws the sparks (a hazard, TAXONOMY §4)
    if (
        kind == "electric"
        and _SPARK_SOURCE_RE.search(f"{previous} {clause}")
        and not _LINE_RE.search(before + said)
    ):
        return True
    if "反应" in said and _DEVICE_BEFORE_RE.search(before) and not _PERSON_WORD_RE.search(before):
        return True  # 「按了半天冇反应」: a button or a lift, not a person
    if (
        kind == "flooding"
        and _SOAKED_THING_RE.search(before + said)
        and not _HOME_WORD_RE.search(before + said)
    ):
        return True  # 「身份证泡在水里了」: a thing soaked, no home flooding
    if (cue.lastgroup or "") == "gas_hint" and _COOKING_RE.search(text):
        return True  # 「油烟味太大 别开火太猛」: a kitchen smell, not gas
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


def false_alarm(
    kind: str, cue: re.Match[str], text: str, previous: str, clause: str, following: str, before: str
) -> bool:
    """Whether a cue is a figure of speech, urging, the past, advice, a precaution or about a thing (issue 14)."""
    if (
        _EXCLAMATION_RE.fullmatch(cue.group()) or (kind == "call_for_help" and _JOKE_RE.search(text))
    ) and not (_DANGER_AROUND_RE.search(text[: cue.start()]) or _DANGER_AROUND_RE.search(text[cue.end() :])):
        return True
    if (_EXCLAMATION_RE.fullmatch(cue.group()) or kind == "call_for_help") and _FIGURE_RE.search(text):
        return True  # 「被困在公司加班到十点 救命 谁来救救我」: the danger around is a figure of speech
    if (kind in ("fire", "trapped") or (kind == "call_for_help" and _RESCUE_RE.search(cue.group()))) and (
        _FIGURATIVE_RE.search(f"{previous} {clause} {following}")
    ):
        return True  # 「背课文被困在第三段 谁来救救他」: the only danger around is a figure; a real one keeps its own cue
    if kind in lex.PERSON_KINDS and _JOKE_RE.search(f"{clause} {following}"):
        return True  # 「闺女被寒假作业埋了 快窒息了 哈哈」: laughter says it is a figure of speech
    if kind == "trapped" and not _WATER_OR_FIRE_RE.search(text):
        if _WORKPLACE_RE.search(clause):
            return True  # 「又加班 被困在公司出不去」
        if _VEHICLE_RE.search(before) and not _PERSON_WORD_RE.search(f"{clause} {following}"):
            return True  # 「拉草料的车困在半道」: a road blocked, no person shut in
    if _NEAR_MISS_RE.search(cue.group()) or _NEAR_MISS_RE.search(before[-4:]):
        return True  # 「前天阮老爸差点跌进水沟」: it almost happened
    if kind == "injured" and _HEART_BEFORE_RE.search(before):
        return True  # 「我的心在流血」
    if (
        kind == "call_for_help"
        and _RESCUE_RE.search(cue.group())
        and (owned := _OWNED_AFTER_RE.match(text, cue.end())) is not None
        and not _PERSON_WORD_RE.match(text, owned.end(), owned.end() + 5)
    ):
        return True  # 「谁来救救我的基金」: a thing rescued is a figure; 救救我的孩子 names a person
    if (
        _WHAT_IF_AFTER_RE.search(text[cue.end() :])
        and _HAZARD_RE.search(text[: cue.start()])
        and not _NOW_URGING_RE.search(clause)
    ):
        return True  # 「好几辆在走廊充电 着火了咋个整」: what if, after a hazard described
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
    if kind in ("trapped", "pinned") and OUT_RE.search(text[cue.end() :]):
        return True  # 「电梯困人那个 已经出来了」: the people are out (a gas leak they fled from is not over)
    if kind == "call_for_help" and _REPAIR_AFTER_RE.search(text[cue.end() :]):
        return True
    # the cue's own words too: a cue spanning clauses (「我家一楼 去年进水了」) carries its past inside it
    # …but not past a clause that turns back to here (「前阵子…爆炸 没想到我们楼道也一股煤气味」)
    past = (
        PAST_RE.search(clause)
        or (PAST_RE.search(previous) and not TURN_OPEN_RE.match(clause))
        or PAST_RE.search(cue.group())
    )
    if past and not NOW_RE.search(clause + cue.group()):
        return True
    if kind in _EVENT_CUES and _YESTERDAY_RE.search(clause) and not _STILL_RE.search(f"{clause} {following}"):
        return True  # 「昨天那场雨一楼都进水了」; 「我爸昨天出门没回来」 is still going on
    if _ADVICE_RE.search(text) and _GENERAL_WARNING_RE.search(clause) and not _SPECIFIC_RE.search(clause):
        return True
    if _PRECAUTION_RE.search(clause) or _WORRY_RE.search(clause) or _WORRY_AFTER_RE.search(text[cue.end() :]):
        return True
    if kind == "electric" and _CHARGING_RE.search(text) and not _FLAME_RE.search(cue.group()):
        return True  # 「有人飞线充电 电线拖在地上」: a hazard; sparks or fire on it stay live
    if kind == "flooding" and _NOT_WATER_RE.search(clause) and "水" not in _NAMED_LIQUID_RE.sub("", clause):
        return True  # 「风呼呼往里灌」, 「锁眼里灌了胶水」: wind or glue, not water
    if kind in ("fire", "flooding") and _EVERY_TIME_RE.search(clause):
        return True  # 「一开火就冒黑烟」, 「一楼每年都进水」: what always happens is a fault, not an emergency now
    if _FORECAST_RE.search(text, cue.start() - len(before), cue.end()):  # 「明天一楼肯定要进水」: not yet
        return True
    if _PREDICTION_RE.search(previous) and not (NOW_RE.search(clause) or "已经" in clause):
        return True  # 「会自燃的 已经冒烟了」 reports it happening
    after = text[cue.end() :]
    # a likeness, what it could do, what would follow: 「说像火灾现场」, 「都能熏晕人」, 「掉进去腿就断了」
    if _LIKE_BEFORE_RE.search(before) and not cue.group().startswith("要"):
        return True
    if _CAN_BEFORE_RE.search(before) or _THEN_AFTER_RE.search(after):
        return True
    if _EXPERIENCED_RE.search(after) or _SIMILE_AFTER_RE.search(after) or _TOPIC_AFTER_RE.search(after):
        return True
    if _CLEFT_BEFORE_RE.search(before) and _CLEFT_AFTER_RE.search(after) and not _STILL_RE.search(following):
        return True  # 「小姑娘就是从那掉下去的」: how it happened, told to ask for a repair
    if _WHEN_THEN_RE.search(after):
        return True  # 「嘴歪就赶紧去医院」: what to do when it happens
    return kind == "injured" and (
        bool(_THING_BEFORE_RE.search(before) and not _PERSON_WORD_RE.search(before))
        or bool(_THING_RESULT_RE.search(text[cue.end() :]))
    )

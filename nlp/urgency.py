"""Urgency cues: immediate danger to life or property, with negation, hypotheticals and resolution."""

from __future__ import annotations

import bisect
import re
from dataclasses import dataclass

from gridbot.nlp import urgency_effects as fx

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
    "trapped": r"(?:卡住|困住|停住)了?.{0,4}里面(?:还)?有人|电梯.{0,15}里(?:面|边|头)(?:还)?有人|被困|困在|(?<!特)困人|困住|关在电梯|卡在电梯|电梯里出不来|出不来了|救命|锁在(?:屋|家|里)|电梯里关了|夹住人|里面还有(?:人|老人|小孩|孩子)",
    "injured": (
        r"受伤(?!的(?:猫|狗|鸟|鸽|猫头鹰|小动物|动物))|受了伤|流血|出血|流了(?:好多|很多|一地|一身)?血|晕倒|昏倒|晕过去|昏迷|不省人事"
        r"|砸伤|砸到人|砸破头|压着人|被捅|被砍|骨折|摔倒.{0,6}(?:起不来|不动|流血)|摔倒了起不来|倒在(?:地上|路边|地|路中间)|倒地不动|一动不动|躺在路中间|一滩血|(?:人|老人|他|她)(?:.{0,4})不动了|叫.{0,4}没反应|晕到|昏到|留了(?:好多|很多)?血|被车撞"
        r"|没(?:有)?呼吸|没(?:了)?意识(?!到)|抽搐|割腕|要跳楼|跳楼|被蜇|被蛇咬|被狗咬"
        r"|掉(?:进|到|下)(?:去|水|井|河|湖|下水道|坑)|掉水里|落水|溺水|漂着一个人"
    ),
    "person_at_risk": (
        r"(?:老人|奶奶|爷爷|姥姥|姥爷|外婆|外公|大爷|大妈|老太|独居|我爸|我妈|一个人住).{0,15}(?:联系不上|没人应|没人接|不开门|没开门|没人开|几天没见|没动静)"
        r"|(?:联系不上|没人应|没人接|不开门|没开门|没人开|几天没见|没动静).{0,15}(?:老人|奶奶|爷爷|大爷|独居|一个人住)"
        r"|说话含糊|口齿不清|说话不清|嘴(?:巴)?歪|口(?:角|眼)歪斜|(?:人|他|她|老人|老师|大爷|大妈|阿姨|师傅|老太|老头|奶奶|爷爷|孩子|小孩).{0,8}(?:突然|一下子?)倒(?:下|地)|吃错药|误服|喝了农药|喘不上气|呼吸(?:有点|很)?困难|胸口(?:疼|痛|闷)|心脏病(?:犯|发作|要犯)|想不开|轻生"
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
    "call_for_help": r"快(?:来人|报警|叫救护车|打120|打119|叫120|叫消防|救人|疏散)|(?:打|拨|叫|报)了?(?:119|120)|快快快|叫救护车|消防车(?:来了)?.{0,3}进不去|被困者|(?<!特)困人",
}
_CUE_RE = re.compile("|".join(f"(?P<{k}>{v})" for k, v in LEXICON.items()))

# Whole classes of live danger the lists above missed (issue 14). Each pattern carries its object in the match (a
# person pinned or shut in, a structure failing now, a vulnerable person gone now), so a door that sticks, an old
# crack, a lost cat or an adult not seen for a while is not one. Key -> the kind it reports.
_PERSON = (
    r"(?:(?<![没无被家])人(?![行家字口])|孩子|小孩|娃|宝宝|婴儿|小朋友|老人|老太|老头|老爷子|大爷|大妈|大叔|大姐|阿姨|叔叔"
    r"|爷爷|奶奶|姥姥|姥爷|外婆|外公|工人|师傅|小伙|姑娘|女孩|男孩|学生|儿子|女儿|孙子|孙女|外孙|婆婆|公公|老公|老婆"
    r"|我爸|我妈|老爸|老妈|骑手|司机|行人|路人|阿伯|阿婆|伯伯|老伯)"
)
# shut in, not out (「被关在门外」); 夹在中间 is a family quarrel and 卡在哪办 a card
_PIN = (
    r"(?:压住|压在|压着|卡住|卡在(?!哪)|卡进|夹住|夹进|绞进|绞住|卷进|卷住|埋在|埋住|锁在|锁着|关在|关着|困着|反锁"
    r"|(?:锁|关|困)(?:车|车子|屋|房间|卫生间|厕所|柜子|箱子)里)(?!门外|外面|外头|外边)"
)
_BODY = r"(?:的(?:手|脚|腿|胳膊|手臂|手指|头|脑袋|身子))?"
_CHILD = r"(?:孩子|小孩|娃|宝宝|小宝|宝贝|崽|小朋友|儿子|女儿|孙子|孙女|外孙|闺女)"
_CONFUSED = (
    r"(?:老年痴呆|痴呆|失智|认知障碍|智力障碍|智障|阿尔茨海默|糊涂|认不得路|不认得路|不认路|记不住路|不记得路"
    r"|脑子不(?:太)?(?:清楚|好使|灵光)|脑子有(?:点)?问题)"
)
_LOST = r"(?:走散了|走丢了|跟丢了|找不到了|找不着了|找不见了|不见了|走失了)"
_GONE = rf"(?:{_LOST}|没回来|没回家|还没回|联系不上|没见(?:到)?人影|不知道(?:跑|走)?(?:去)?哪(?:里|儿)?了)"
_ALONE = r"(?:独居|一个人住|一个人过|孤寡|空巢|无儿无女|孤老)"
_SILENT = (
    r"(?:敲门|敲了[^。!！?？]{0,4}门|敲半天|敲了半天|打电话|电话)[^。!！?？]{0,10}?"
    r"(?:没人应|不应|没应|无应答|没动静|没反应|没人开|不开|打不通|没人接|无人接|不接|关机)"
)
_STRUCTURE = (
    r"(?:墙|楼|房子|房顶|屋顶|顶棚|车棚|雨棚|棚子|天花板|吊顶|阳台|围墙|挡土墙|脚手架|塔吊|广告牌|招牌)"
)
_DEBRIS = r"(?:灰|渣|墙皮|瓷砖|砖|玻璃|水泥|石头|石块|碎片|东西|瓦片?|泥|牌|外机|花盆|树枝|板)"
MORE_LEXICON: dict[str, str] = {
    "trapped_person": (
        rf"{_PERSON}{_BODY}(?:把自己)?[^，,。!！?？；;\s的把]{{0,8}}?{_PIN}(?!不在|没在)"  # not 「司机把车…压着」
        rf"|{_PIN}[^，,。!！?？；;\s]{{0,8}}?{_PERSON}(?!不在|没在)"
        r"|(?:我|他|她)们?被(?:困|卡|关|锁|压|夹|埋)|有人(?:还)?没(?:出来|逃出来|救出来)"
        # an actual fall (了, 下来), across any separator: 「楼塌了，下面还有人」, not 「随时要倒 下面还有人摆摊」
        r"|(?:(?:塌|倒)了|塌下来|倒下来)[^。!！?？；;]{0,8}(?:下面|底下|里面)(?:还)?有人"
        # a hand or a foot caught and not coming free, whoever it belongs to (a name is no person word)
        rf"|{_PIN}了?(?:手|脚|腿|胳膊|手臂|手指|头|脑袋)[^。!！?？]{{0,8}}?(?:拔不出|拉不出|抽不出|出不来|动不了|取不出|弄不出)"
        rf"|(?:手|脚|腿|胳膊|手臂|手指|头|脑袋)(?:被[^，,。!！?？；;\s]{{0,6}}?)?{_PIN}[^。!！?？]{{0,10}}?(?:拔不出|拉不出|抽不出|出不来|动不了|取不出|弄不出)"
        # a person in a vehicle that something fell on or that is stuck at an edge
        r"|(?:压|砸|卡|困|冲垮|倒)[^。!！?？]{0,16}?(?:(?:车|车子|车厢)(?:里|上)(?:面|头)?(?:还)?有人|人还在(?:车|车里|车上|里面|下面|底下))"
        rf"|(?:打不开|开不了|出不来|卡住了?|停住了?)[^。!！?？]{{0,6}}(?:里面|里头|里边)(?:还)?有(?:个|一个|两个|几个)?{_PERSON}"
        rf"|(?:里面|里头|里边)(?:还)?有(?:个|一个|两个|几个)?{_PERSON}[^。!！?？]{{0,8}}(?:打不开|开不了|出不来)"
    ),
    "lift_drop": (
        r"电梯[^，,。!！?？；;]{0,6}(?:突然|一下子?)[^，,。!！?？；;]{0,3}(?:掉|坠|滑|冲)"
        r"|电梯[^，,。!！?？；;]{0,8}(?:掉到|坠到|掉下去|坠落|溜到|冲顶|蹲底)"
    ),
    "falling_now": (
        rf"{_DEBRIS}[^，,。!！?？；;\s]{{0,8}}?(?:还在|正在|一直|不停|不断|仍在|哗哗|簌簌|还|正)(?:地)?(?:往下|往外|向下)?(?:掉|落|塌)"
        rf"|(?:还在|正在|一直|不停|不断)(?:地)?(?:往下|往外|向下)?(?:掉|落){_DEBRIS}"
        r"|(?<!皮)(?<!灰)(?<!漆)(?:一块一块|一片一片|一块块|一片片)(?:地|的)?(?:往下)?(?:掉|落)"  # not peeling plaster
        r"|(?:裂缝|裂口|裂纹|缝)[^，,。!！?？；;\s]{0,4}突然(?:变大|变宽|变长|裂开|大了|宽了)|突然(?:裂开|开裂|塌|垮)"
        rf"|{_STRUCTURE}[^，,。!！?？；;\s]{{0,3}}?(?:塌了|塌下来|塌掉|垮了|倒塌|坍塌)|(?:墙|楼)(?:体|身)?裂开了"
    ),
    # a person living alone who gives no sign of life (TAXONOMY §3): a welfare check now
    "silent_alone": (rf"{_ALONE}[^。!！?？]{{0,40}}?(?:{_SILENT})|(?:{_SILENT})[^。!！?？]{{0,40}}?{_ALONE}"),
    # a thing on fire (「变电箱着了」, 「车着起来了」): 着 after a thing, never 睡着了
    "thing_on_fire": r"(?:箱|车|房|屋|楼|柜|棚|线|表|厂|店|仓库|垃圾|草垛|柴)子?(?:烧)?着(?:了|起来了)",
    # a person sitting or standing at a drop (「天台边上坐着个学生 腿伸到外面」)
    "edge_person": (
        r"(?:楼顶|天台|顶楼|阳台外|窗台|窗户外|栏杆外|护栏外|桥栏|桥边|江边栏杆)[^。!！?？]{0,6}?(?:坐着|站着|蹲着|趴着|爬到|翻到)"
        r"[^。!！?？]{0,4}?(?:个|一个)?(?:人|学生|孩子|小孩|老人|男的|女的|小伙子?|姑娘|女孩|男孩)"
    ),
    "missing_vulnerable": (
        rf"{_CONFUSED}[^。!！?？]{{0,30}}?{_GONE}|{_GONE}[^。!！?？]{{0,30}}?{_CONFUSED}"
        rf"|{_CHILD}[^的把发，,。!！?？；;\s]{{0,6}}?{_LOST}|找不(?:到|着|见){_CHILD}(?!的)"
    ),
}
_KIND_OF = {
    **fx.EFFECT_KIND,
    "trapped_person": "pinned",
    "lift_drop": "trapped",
    "falling_now": "falling",
    "missing_vulnerable": "missing",
    "silent_alone": "person_at_risk",
    "thing_on_fire": "fire",
    "edge_person": "person_at_risk",
}
_MORE_RE = re.compile("|".join(f"(?P<{k}>{v})" for k, v in MORE_LEXICON.items()))
# danger described by its effect: read last, so it never hides a cue of the lists above
_EFFECT_RE = re.compile("|".join(f"(?P<{k}>{v})" for k, v in fx.EFFECT_LEXICON.items()))
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
    r"(?<!不是)(?<!并非)(?<!不是在)演练|(?<!不是)演习|培训|讲座|科普|新闻|据报道|报道称|记者|电影|电视剧|视频里|电视里|直播里|刷到|小说|梦见|梦到|做梦|热搜|朋友圈说"
    r"|纪录片|灾难片|动画片|看了个[^，,。!！?？\s]{0,6}(?:片|剧|视频)|游戏里|在玩[^，,。!！?？\s]{0,8}游戏|密室逃脱|过家家|角色扮演"
    r"|模拟[^，,。!！?？\s]{0,4}(?:困人|火灾|着火|逃生|演示)|急救课|消防课|安全课|课上|老师说|教大家"
    r"|^\s*(?:【?转发|转[:：]|转自|\[链接\]|【[^】]{0,8}(?:提示|提醒|新闻|通知)】)"
    r"|外省|邻市|隔壁区|隔壁市|城西那边|国外|某(?:市|小区|地|区|县|村)|别的小区|其他小区|外地(?!人|户口|牌|车)"
    r"|(?:抖音|快手|微博|视频号|小红书|电视|网)上(?:说|看到|刷到)|朋友圈(?:看到|里|上)|(?:看到|刷到)(?:抖音|快手|微博|视频号)|"
    + fx.ELSEWHERE_MORE
)
# The danger is over: cancels cues in its own clause and the clauses before it, never a later one.
_RESOLVED_RE = re.compile(
    r"已(?:经)?(?:被)?(?:扑灭|灭了|救出|救下|处理好|处理完|解决|修好|没事|送医|关掉|关好|好了|恢复)|救出来了|灭掉了|没事了|虚惊一场|谢谢.{0,8}及时"
    r"|救上来了|抬上来了|送(?:去|到)?医院了|送医了"
    r"|(?<!是)不是(?:煤气|燃气|着火|起火|火灾|真的)|误会一场|已经关(?:了)?火|没事(?![吧吗儿])|别担心|正常放气|一会儿就散|就好了|幸好|还好|所幸|多亏|上次|那次|原来是|"
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
_DANGER_AROUND_RE = re.compile(
    r"喊|呼|着火|起火|火灾|大火|火苗|冒烟|浓烟|全是烟|烟(?:很|好|太)?大|电梯|困|卡住|卡在|压|血|刀|摔|掉(?:进|下|到|水)|晕|淹"
    r"|水里|进水|下不去|出不来|里面|打(?:人|起来|架|老婆)|砸|跳楼|跳河"
)
# a figure of speech in the cue's clause or the one before (「她唱得太燃了 舞台都要着火了」)
_FIGURATIVE_RE = re.compile(
    r"唱|歌|舞台|蹦迪|嗨|太燃|燃爆|游戏|这把|这局|比赛|直播|演唱会|综艺|追剧|笑死|绝了|作业|考试|要命|太好(?:听|看|吃)"
    r"|辣|火锅|辣椒|嘴巴|嘴皮|舌头|头顶|心里|太阳|热得|热死|晒得|桑拿|蒸笼"
)
# delight or laughter as a figure of speech around a person cue (「太好吃了 我要晕倒了」, 「笑晕了」)
_DELIGHT_RE = re.compile(r"太好(?:吃|看|听|玩)|好吃到|香得|美得|笑死|笑晕|笑得|帅得|萌得|可爱得")
_SILENT_RE = re.compile(_SILENT)
_DAYS_RE = re.compile(
    r"(?:[两三四五六七八九十几多]|好几|一|\d+)(?:天|日|周|个?星期|礼拜)|半个?月|一个多?月|好久|多日|连续"
)
_OUT_RE = re.compile(r"(?:人|都|已经|被)(?:放|救|拉|接)?出来了")
# 快来人 asking for a repair or a look (「快来人修一下」), not for rescue
_REPAIR_AFTER_RE = re.compile(r"^(?:啊|吧|呀)?(?:修|看看|看一下|处理|弄|清|收|管|换)")
# an explanation resolves like 没事了 (「刚才的煤气味是燃气公司在换管子」)
_EXPLAINED_RE = re.compile(
    r"是[^，,。!！?？；;\s]{0,10}?在(?:烧|换|修|检修|维修|施工|测试|调试|检查|排|放|做饭|炒|熏|焊|弄|炖|煮|烤|煎|蒸|卤)|误报"
)
# the past, for its clause and the next one, unless the clause says now (「去年 我们楼有人煤气中毒」)
_PAST_RE = re.compile(
    r"去年|前年|上个月|上月|上周|上礼拜|上星期|前几年|前几天|前些天|前阵子|前段时间|以前|小时候|那年|当年|之前有一?次|有一次"
    r"|几年前|几个月前|有一回|那回|上回|那时候?|那会儿?|年轻(?:的)?时候|年轻那会|早些年|早年|记得|想起|[七八九零]几年|[0-9]+年代"
)
_NOW_RE = re.compile(r"现在|刚才|刚刚|正在|今天|今早|今晚|又|还在")
# somewhere else, like 外地 (「听说有个小区电梯困人了」)
_ELSEWHERE_RE = re.compile(
    r"(?:有|一)(?:个|家)(?:小区|楼盘|村子?|工地|学校|商场|城市)|城[东西南北](?:那边|有)|隔壁小区"
    r"|(?:闺蜜|同事|同学|朋友|亲戚|老家|小姨|姨妈|舅舅|姑姑|表姐|表妹|表哥|表弟)(?:说|那边|家那边)"
    r"|(?:她|他)们(?:村|公司|单位|学校|老家|厂)"
)
# advice to everyone: a reminder, and a general warning in the cue's clause that names no one in particular
_ADVICE_RE = re.compile(
    r"提醒(?:一下)?(?:各位|大家|家长|业主|居民|下)|温馨提示|友情提示|各位家长|大家注意|请大家|请各位"
)
_GENERAL_WARNING_RE = re.compile(r"危险|一定要|最好|千万|务必|看好|看管好|别让|不要让|要注意")
_SPECIFIC_RE = re.compile(r"有个|有一个|有人|那个|这个|正在|现在|刚才|刚刚")
_PRECAUTION_RE = re.compile(r"以免|免得|省得|防着")
# a prediction in the clause before (「刮风会掉下来的 砸到人可咋整」), a worry about it, or the experiential 过 (「被蜇过」)
_PREDICTION_RE = re.compile(r"会[^,，。!！?？\s]{0,8}的$")
_WORRY_RE = re.compile(r"可(?:咋整|怎么办|咋办)")
_EXPERIENCED_RE = re.compile(r"^过(?!来|去|马路)")
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
    r"^(?:了)?(?:碎|坏|歪|断|弯|瘪|凹|变形)"
)  # 撞碎/撞歪 happen to things, not people
_PERSON_WORD_RE = re.compile(_PERSON)
_BENIGN_SMOKE_RE = re.compile(fx.BENIGN_SMOKE_RE)
_FLAME_RE = re.compile(fx.FLAME_RE)
_FIGURE_RE = re.compile(fx.FIGURE_RE)
_NOT_YET_RE = re.compile(fx.NOT_YET_RE)
_THING_WORD_RE = re.compile(fx.THING_RE)
_ASLEEP_RE = re.compile(fx.ASLEEP_RE)
_HABIT_RE = re.compile(fx.HABIT_RE)
_ABOUT_TO_RE = re.compile(fx.ABOUT_TO_RE)
_URGING_RE = re.compile(r"快来人")
_CHORE_RE = re.compile(fx.CHORE_RE)


def _effect_false_alarm(
    kind: str, cue: re.Match[str], text: str, clause: str, following: str, before: str
) -> bool:
    """Readings of the third pass (issue 14): explained smoke, figures of speech, a fight not yet, a thing fallen."""
    said = cue.group()
    if kind == "fire" and "烟" in said and not _FLAME_RE.search(said) and _BENIGN_SMOKE_RE.search(text):
        return True
    if _ABOUT_TO_RE.search(said):
        return True
    if kind != "call_for_help" and _FIGURE_RE.search(f"{clause} {following}"):
        return True
    if kind == "fight" and ((said[0] in "打干掐" and _NOT_YET_RE.search(before)) or "群里" in clause):
        return True
    if ("不醒" in said and _ASLEEP_RE.search(text)) or (kind == "trapped" and _HABIT_RE.search(clause)):
        return True
    if said[0] in "掉摔跌落" and _THING_WORD_RE.search(before) and not _PERSON_WORD_RE.search(before):
        return True
    return bool(
        _URGING_RE.fullmatch(said)
        and _CHORE_RE.search(text)
        and not (_DANGER_AROUND_RE.search(text[: cue.start()]) or _DANGER_AROUND_RE.search(text[cue.end() :]))
    )


def _false_alarm(
    kind: str, cue: re.Match[str], text: str, previous: str, clause: str, following: str, before: str
) -> bool:
    """Whether a cue is a figure of speech, urging, the past, advice, a precaution or about a thing (issue 14)."""
    if _EXCLAMATION_RE.fullmatch(cue.group()) and not (
        _DANGER_AROUND_RE.search(text[: cue.start()]) or _DANGER_AROUND_RE.search(text[cue.end() :])
    ):
        return True
    if kind in ("fire", "trapped") and _FIGURATIVE_RE.search(f"{previous} {clause} {following}"):
        return True
    if kind in ("injured", "person_at_risk") and _DELIGHT_RE.search(f"{previous} {clause}"):
        return True  # 「这个蛋糕太好吃了 我要晕倒了」
    if kind == "person_at_risk" and _SILENT_RE.search(cue.group()) and not _DAYS_RE.search(text):
        return True  # silent for an afternoon is not yet the welfare check of TAXONOMY §3
    if kind in ("trapped", "pinned") and _OUT_RE.search(text[cue.end() :]):
        return True  # 「电梯困人那个 已经出来了」: the people are out (a gas leak they fled from is not over)
    if kind == "call_for_help" and _REPAIR_AFTER_RE.search(text[cue.end() :]):
        return True
    if (_PAST_RE.search(clause) or _PAST_RE.search(previous)) and not _NOW_RE.search(clause + cue.group()):
        return True
    if _ADVICE_RE.search(text) and _GENERAL_WARNING_RE.search(clause) and not _SPECIFIC_RE.search(clause):
        return True
    if _PRECAUTION_RE.search(clause) or _WORRY_RE.search(clause):
        return True
    if _PREDICTION_RE.search(previous) and not (_NOW_RE.search(clause) or "已经" in clause):
        return True  # 「会自燃的 已经冒烟了」 reports it happening
    if _EXPERIENCED_RE.search(text[cue.end() :]) or _SIMILE_AFTER_RE.search(text[cue.end() :]):
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
    fiction = bool(_FICTION_RE.search(text) or _ELSEWHERE_RE.search(text))
    spans = clauses(text)
    # a story of the past from its first clause on, with nothing said to be happening now (「年轻时候…」)
    story = (
        bool(spans) and bool(_PAST_RE.search(text[spans[0][0] : spans[0][1]])) and not _NOW_RE.search(text)
    )
    fiction = fiction or story
    starts = [a for a, _ in spans]
    resolved_at = [m.start() for m in _RESOLVED_RE.finditer(text)]
    resolved_at += [m.start() for r in (_EXPLAINED_RE, _SETTLED_RE) for m in r.finditer(text)]
    cues: list[UrgencyCue] = []
    for m in matches:
        kind = _KIND_OF.get(m.lastgroup or "", m.lastgroup or "")
        k = bisect.bisect_right(starts, m.start()) - 1
        start, end = spans[k] if k >= 0 else (m.start(), m.end())
        clause = text[start:end]
        before = text[start : m.start()]
        previous = text[spans[k - 1][0] : spans[k - 1][1]] if k >= 1 else ""
        following = text[spans[k + 1][0] : spans[k + 1][1]] if k + 1 < len(spans) else ""
        negated = (
            fiction
            or any(r >= start for r in resolved_at)  # resolved in this clause or a later one
            or bool(_CONDITION_RE.search(clause) or _CONDITION_RE.search(previous))
            or bool(_HEDGE_RE.search(clause))
            or bool(_NEGATION_RE.search(before))
            or _false_alarm(kind, m, text, previous, clause, following, before)
            or _effect_false_alarm(kind, m, text, clause, following, before)
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


def _more_matches(text: str, found: list[re.Match[str]], pattern: re.Pattern[str]) -> list[re.Match[str]]:
    """Matches of a further lexicon that do not overlap a cue already found."""
    if not text:
        return []
    taken = [(m.start(), m.end()) for m in found]
    return [m for m in pattern.finditer(text) if not any(a < m.end() and m.start() < b for a, b in taken)]


def is_news(text: str) -> bool:
    """True when the text is a forward, news, a drill, a story or about somewhere else (not a report from here)."""
    return bool(_FICTION_RE.search(text))


def active_cues(text: str) -> list[UrgencyCue]:
    """Urgency cues that are live reports (not negated, hypothetical, news or resolved)."""
    return [c for c in find_cues(text) if not c.negated]


def is_urgent(text: str) -> bool:
    """True when the text reports immediate danger by the lexicon alone."""
    return bool(active_cues(text))

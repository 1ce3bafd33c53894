"""Readings of a message's form: chatter by its form alone, asks and answers, questions for information.

Pure functions of the normalised text. `base.decide` weighs each against the text model (its thresholds live
there) and lets none outrank a live danger cue.
"""

from __future__ import annotations

import re

from gridbot.nlp.cues import objects as cue_objects
from gridbot.nlp.cues import place as cue_place
from gridbot.nlp.urgency_effects import HANDED_IN, TAKEN

# Information questions (「物业电话是多少」): question words, not report words.
_QUESTION_RE = re.compile(
    r"吗|多少钱|电话(?:是)?多少|多少号|在哪|哪里|哪儿|哪个(?:部门|地方|窗口|位置)|几点|几号|什么时候(?:开始|开门|上班|截止|发|交|办)"
    r"|怎么(?:办理|交|申请|报名|预约|收费|补办|弄|签约|报停)|如何|请问|咨询|想问|问一下|问下|找谁|多长时间|多久|几月"
    r"|带什么|要带|什么材料|条件是什么|对口哪|带啥|啥材料|啥手续|还是.{0,12}吗|(?:电话|号码|手机号)是?好多|好多钱|几时|啥子时候|么子时候"
)
_SPACES_RE = re.compile(r"[\s,，。.;；、~～]+")  # separators, not question marks
# Report or action words: a question that carries them reports a problem or asks for work (「什么时候修」).
_REPORT_RE = re.compile(
    r"坏|又|还没|没人|好几天|一直|漏|堵|臭|吵|脏|没有(?:水|电|气|热水)|停(?:水|电|气)|怎么(?:又|还)|修|清理|清运|处理|管管|来人|来看"
    r"|调解|说说|帮忙|投诉|举报|反映|扰民|占|乱"
)


# An ask addressed to the neighbours (TAXONOMY.md rule 2: 「有没有人知道…」, 「谁家有…」), lost and found too.
_TO_NEIGHBOURS_RE = re.compile(
    r"有没有人(?:知道|会|要|需要|推荐|懂|有|一起|养|用过|装过|做|办过)|有人(?:知道|会|要|需要|推荐|懂|一起|养|用过|装过|做过|办过)"
    r"|谁家|谁知道|谁会|谁有|谁要|谁办过|群里有(?:没有)?人|有冇人|有无人|边个(?:知|识|有)"
    r"|有邻居|有(?:没有)?[\u4e00-\u9fff]{1,8}的(?:邻居|朋友|姐妹|宝妈|宝爸|街坊|老乡)|哪位(?:邻居|大姐|大哥|朋友)|邻居们|各位邻居|问问大家|请问大家|大家(?:平时|知道|推荐|有没有)|求推荐|推荐一下|有推荐"
    r"|谁的|有人丢|捡到|失主|寻(?:猫|狗|物|人)启事"
    # which shop is open (「这会儿哪家诊所还开着门」): the neighbours know, the community runs no shop
    r"|哪(?:家|个|里的?)[\u4e00-\u9fff]{0,4}(?:店|超市|诊所|药房|馆|铺)[\u4e00-\u9fff]{0,6}(?:开着|开门|营业|还开)"
    # do you know… asked with no one named (「晓得是啥狗咬的吗」)
    r"|^(?:你们|大家)?(?:知道|晓得)(?!不)[\u4e00-\u9fff]{1,12}吗"
)
# The group asked to join in (「有人打球不」, 「今晚有人去散步吗」), not asked whether anyone will act (有人管吗); read
# with the clause breaks kept, since 「不」 ends the ask.
_JOIN_IN_RE = re.compile(
    r"(?:^|(?<=[\s,，。!！?？;；]))(?:今天|今晚|明天|明晚|周末|晚上|早上|中午|下午)?有人(?!管|修|处理|清|收拾|来|过问|理|报|打电话|闻|看见|看到|听到|在家|已经)"
    r"[\u4e00-\u9fff]{1,8}(?:不|吗|没)(?=$|[\s,，。!！?？])"
)
# The group asked whether anyone saw a pet or a belonging (「有人看到我家的黄狗没」): lost-and-found among neighbours
# (TAXONOMY.md rule 8); a theft (被偷) is a report.
_SIGHTING_RE = re.compile(
    r"(?:有(?:没有)?人|谁|大家|哪位)(?:看到|看见|见到|见过|瞧见)(?:过)?[^。!！?？偷]{0,12}"
    r"(?:狗|猫|泰迪|鹦鹉|鸟|兔|鸡|鸭|鹅|钥匙|钱包|手机|快递|包裹|眼镜|证件|身份证|卡)"
)
# A reply to an earlier message of the group (「回楼上 …」, 「回复张姐 …」) answers a neighbour, whatever its topic.
_REPLY_RE = re.compile(r"^(?:回|回复|答)(?:楼上|@|[\u4e00-\u9fff]{1,3}(?:姐|哥|叔|姨|阿姨|大爷|奶奶|老师))")
# A message that opens by addressing a neighbour (「楼上的邻居 你家…」, 「对门的 您…」) talks to that neighbour.
_TO_A_NEIGHBOUR_RE = re.compile(
    r"^(?:致|给)?(?:楼上|楼下|对门|隔壁|对面|[0-9]+(?:楼|室|号))(?:的)?"
    r"(?:邻居|住户|那家|那户|业主|朋友|大哥|大姐|阿姨|姐|哥)?(?:们)?(?:你|您)"
)
# another community named (隔壁社区) is a place, not the authority asked
_TO_COMMUNITY_RE = re.compile(
    r"网格员|(?<!隔壁)(?<!别的)(?<!其他)(?<!旁边)社区|居委|物业|街道|城管|派出所|政府|管管|处理|投诉|举报|反映"
)


# Issue 14, chatter filed as tickets: messages whose form says nobody is asked to act. Each needs the text model to
# give chatter at least base.CHATTER_FORM_MIN, and none outranks a live danger cue or a priority head sure of danger.
# A service ad: a trade offered (疏通, 开锁, 灭鼠, 搬家…) with a contact or price cue, and no report of a problem here
# or a complaint about small ads (「楼道里贴满了疏通小广告」 is a violation).
_AD_TRADE_RE = re.compile(
    r"疏通|清掏|抽粪|吸粪|灭鼠|除虫|杀虫|灭蟑|除螨|白蚁|消杀|开锁|换锁|配钥匙|搬家|搬运|拉货|维修|修理|补漏|防水|保洁|家政|开荒"
    r"|回收|安装|清洗|月嫂|育儿嫂|保姆|护工|代办|装修公司|空调加氟|贴膜|打孔"
)
_AD_CONTACT_RE = re.compile(
    r"电话[:：]?\d|\d{7,}|微信|vx|v信|加v|同号|联系(?:我|电话|方式)|有需要(?:的)?(?:请)?(?:联系|私聊|找)|私聊|私信|上门"
    r"|价格|价钱|收费|实惠|公道|优惠|面议|专业|诚信|随叫随到|24小时|欢迎(?:来电|咨询|致电)|师傅|包(?:通|修|满意)|不通不收费",
    re.IGNORECASE,
)
_AD_NOT_RE = re.compile(
    r"小广告|牛皮癣|贴(?:了|满|得|的)|喷(?:了|得|的)|刷(?:了|得|的)|塞(?:了|满)|物业|网格员|社区|居委|投诉|举报|反映|管管"
    r"|我家|我们家|俺家|坏了|堵了|漏了|还没|没来|到现在|几天了|骗"
)
# A forwarded or posted notice: a bracketed or colon header at the start (【物业通知】, 【社区公告】, 转：, 转发,
# 物业通知：). A resident's own bracket (【求助】, 【投诉】) is no notice.
_NOTICE_HEAD_RE = re.compile(
    r"^\s*(?:【(?![^】]*(?:求助|投诉|反映|报修|举报|急|问|咨询))[^】]{1,12}】|\[(?:转|转发|通知|公告|链接)[^\]]{0,6}\]"
    r"|转[:：]|转发|转自|(?:[\u4e00-\u9fff]{0,8}(?:通知|公告|通告|提醒|提示|告知书|倡议书|招聘))[:：])"
)
# A notice signed by the gridworker, the community or the property office (【网格员小于】…, 【XX社区】…): the staff
# telling the group, never a resident's report, however sure the text model is of its topic.
_STAFF_HEAD_RE = re.compile(
    r"^\s*【[^】]{0,10}(?:网格员|网格长|社区|居委|物业|街道|村委|村两委|工作站|办事处|派出所|书记|主任|管委会|园区)[^】]{0,10}】"
)
# Talk about the weather (「早上好 雨下了一夜还没停」) naming nothing that is wrong.
_WEATHER_RE = re.compile(
    r"(?:下|落)(?:了)?(?:一夜|一天|一晚上?|一上午|一下午|好久|几天|好几天)?(?:的)?(?:雨|雪)|(?:雨|雪)(?:下|落)(?:了|得|个)"
    r"|降温|升温|刮(?:大)?风|风(?:好|很|太)大|好冷|好热|太冷|太热|冻死|热死|天气|气温|雾霾|回南天|梅雨|桑拿天|出太阳|晴了|阴天"
)
_WEATHER_NOT_RE = re.compile(r"暖气|供暖|不热|取暖|停|没(?:水|电|气)|淹|冻(?:住|裂|坏)|结冰|路滑|树")
# What a resident adds of their own after a forward or news: here, now, still not done (「可是我们5栋昨天就没水了」).
_OWN_REPORT_RE = re.compile(
    r"可是|但是|结果|我家|俺家|咱家|我们(?:这(?!边的?大家|里的?大家|[边里](?:倒是|还好|没事|挺好))|那|楼|单元|家|小区|[0-9一二三四五六七八九十]+(?:栋|号楼|幢|单元))"
    r"|到现在|现在还|还是(?:没|不|黑|坏|堵)|还没(?:有)?(?:来|修|恢复|通|人|处理)|根本没|都[0-9一二三四五六七八九十两几]+天了"
    r"|刚才|刚刚|现在[0-9一二三四五六七八九十]+(?:栋|号楼|幢|单元)"
)
# Grumbling with nothing concrete to fix (「物业就是收钱不干活」, 「反映了又怎样」): a grumble and no thing or place.
_GRUMBLE_RE = re.compile(
    r"收钱不干活|不干活|不作为|跟没交一样|白交|反映了(?:又)?(?:怎样|怎么样|有啥用|有什么用|也没用)|有(?:什么|啥)用|白说|说了也白"
    r"|只会拍照|只会(?:收钱|拍照|喊口号|摆拍)|吵了半天|吵半天|气死(?:了|我了)|一年不如一年|形同虚设|摆设|没救了|指望不上|不管事"
)
_CONCRETE_RE = re.compile(
    r"坏|堵|漏|臭|脏|积水|没水|没电|停水|停电|噪音|太吵|垃圾|老鼠|蟑螂|破|裂|掉|倒|占|停着|堆|乱|灯|门|梯|水管|井盖|路面|窗"
    r"|保安|门卫|保洁|岗亭|值班|睡觉|不在岗"  # staff and what they do are concrete too
)
# A neighbour's recollection of a past event (「上个月电梯困人那次…」), with nothing said to be happening now.
_PAST_EVENT_RE = re.compile(
    r"(?:上个?月|上周|上星期|去年|前年|前些年|那年|以前|之前|当年|小时候|记得)[^。!！?？]{0,24}(?:那次|那回|那会儿?|的时候|那阵子?)"
)
_NOW_RE = re.compile(
    r"现在|今年还?(?:([\u4e00-\u9fff])不\1|[\u4e00-\u9fff]{1,3}吗|有没有)|又|还(?:是|没|在|有)|至今|到今天|到现在|今天|今早|今晚|刚才|刚刚|这次|这回|一直|再次|这几天|最近"
)


# An ask about the neighbours' own experience (「群里有人办过吗」, 「有冇人…」): the group is asked, never the gridworker.
_GROUP_ASK_RE = re.compile(
    r"群里有(?:没有)?人|有冇人|有无人|有(?:没有)?(?:人|谁)(?:最近|之前|以前|也)?(?:办|去|用|做|弄|买|修|试|遇到)过"
    r"|大家(?:都|一般|平时)?(?:装|用|买|选|找|去|办)的?(?:哪|啥|什么)"  # 「宽带大家都装的哪家」: the neighbours' choice
    # one neighbour, addressed, asked about their own choice (「周老师 您家孙子那个奥数班还招人吗」, 「你家保姆哪找的」)
    r"|^(?:[\u4e00-\u9fff]{1,2}(?:姐|哥|叔|姨|阿姨|大爷|奶奶|爷爷|老师|师傅|婶|伯)\s?[,，:：]?\s?)?(?:你|您)(?:们)?家"
    r"[^。!！?？]{0,14}?(?:在哪|哪里|哪儿|哪家|哪个|还招|多少钱|怎么报|(?:报|学|买|找|请|上|装|订)的)"
)
# A neighbour asking whether someone already called or told them (「报了吗」, 「物业电话打了没」), or whether the
# others did something too (「你们家暖气费缴了没」): a follow-up among residents; 「打了没人接」 and 「报了没用」 report.
_FOLLOW_UP_RE = re.compile(
    r"(?:打|报|反映|联系|说|通知|告诉)(?:了|过)\S{0,6}?(?:吗|没有?(?=$|[?？\s]))"
    r"|(?:你们|大家|各位|你家)[^?？]{0,12}(?:了吗|了没有?|过吗|过没有?)"
)
# Talk around a problem someone is already handling (「供电所说变压器坏了 在修」, 「120到了」, 「师傅来了 修好了」): a
# responder arrived or at work, and nothing said to be still wrong. A live danger cue still outranks it.
_RESPONDER_RE = re.compile(
    r"师傅|工人|维修工|修[\u4e00-\u9fff]{1,3}的|电工|物业的|保安|城管|民警|警察|消防员|消防车|救护车|120|110|供电所|供电局"
    r"|电力公司|燃气公司|自来水公司|水务|环卫|网格员|社区的人|工作人员|警务|派出所"
)
_ON_IT_RE = re.compile(
    r"(?<![起上下进出回])来了(?![个一两几])|(?<!不)到了|已经到|在(?:修|弄|搞|处理|查|抢修|换|挖|清)|抢修|上门了|过去了|赶到"
    r"|赶过来|开走了|修好|弄好|处理好|拉走|摘掉|清走|带走|抬上"
    # the person on the way to hospital, or a lost person handed in to the police post (session 15)
    rf"|{TAKEN}|{HANDED_IN}"
)
_STILL_WRONG_RE = re.compile(
    r"还没|还是|还在(?!修|弄|搞|处理|查|抢修|换|挖|清)|到现在|没人|不来|没来|(?<![抬拉接带])走了|又|没修|修不好|不管|几天|好几|一直|半天|没用"
    r"|不行|没弄|可是|但是|结果|不去|不了|不进|[?？]"
)
# A problem told as already fixed or over (「漏水已经修好了」, 「火已经灭了」, TAXONOMY.md rule 6), with nothing said to be
# still wrong and no one merely claiming it (「物业说已经修好了 根本没人来」).
_FIXED_RE = re.compile(
    r"(?<!说)(?<!称)(?<!说是)已(?:经)?(?:被)?(?:修好|弄好|处理好|处理完|解决|灭了|扑灭|疏通|通了|恢复|清走|清理干净|清干净|拉走|搬走"
    r"|来电了|来水了|好了|没事了|赔)"
    # working again, told with no 已经 (「二期的电梯能坐了 谢谢师傅」); 不能用了 and 能用了吗 are not
    r"|(?<![不没])(?:又|终于|总算|重新)?(?:能|可以)(?:坐|用|乘|走|开|冲|洗|上网|打电话)了(?![吗没不么])"
)
_NOT_FIXED_RE = re.compile(r"根本|压根|哪有|哪里|假的|骗|不信|说是")
# Advice to everyone (TAXONOMY.md rule 5): a reminder, or people addressed by what they do (「走北门那条路的 注意点」),
# with a warning or a do/don't, and nothing said to be wrong here now.
_ADVICE_HEAD_RE = re.compile(
    r"^(?:提醒(?:一下)?(?:大家|各位)?|温馨提示|友情提示|大家注意|请大家|各位注意)"
    # people addressed by what they do or have, in the opening clause (「晚上走北门那条路的 注意点」, 「家里有老人的 记得…」)
    r"|^[\u4e00-\u9fff]{2,14}的(?:朋友|邻居|家长|人)?(?:们)?\s(?=注意|小心|记得|千万|一定要|最好|别|不要)"
)
_ADVICE_WORD_RE = re.compile(r"别|不要|千万|记得|注意|小心|最好|一定要|危险")
_HERE_NOW_RE = re.compile(
    r"又|还在|还没|一直|好几天|现在|刚才|刚刚|已经|有人|谁家|[0-9]+(?:栋|号楼|单元|室)"
    r"|坏|歪|塌|断|裂|漏|堵|松|掉|没了|丢|偷|积水|冒"
)
# A request asks (TAXONOMY.md §1): a question or ask form (吗, 哪, 咋, 能…不, 想, 请, 帮…). A message with none of
# them that tells where or how (「房产证去不动产中心办」, 「医保报销要发票原件」) answers a neighbour, unless it warns of
# a fraud or the text model gives an incident base.ANSWER_INCIDENT_MAX (「门禁认不出老人 我爸被关在门外」 read as a request).
_ASK_RE = re.compile(
    r"[?？]|吗|呢|(?<![这那多])么|是好多|好多钱|几时|啥子|么子|啥(?!的)|什么|哪|怎|咋|啷个|如何|谁|几|多少|多久|多大|多长|是否|有没有|有无|能不能|能否|可不可以"
    r"|可以.{0,8}不|能.{0,12}不|行不行|还是|了没|(?<!申)请|想|我要|要开|开(?:一|个)(?!个?月)|麻烦|帮|求|咨询|需要|希望|望|建议|问"
    r"|是不是|伐|冇|咩|乜|唔|不知|要不要|会不会|给.{0,6}(?:办|开|安排)|@|网格员|书记|主任"
    r"|(?<![不没别])不(?=$|[\s,，。.!！?？;；])|(?:冒|没)得(?=$|[\s,，。.!！?？;；])"  # a clause-final 不 or 冒得 asks
)
_TELLS_RE = re.compile(
    r"去|在|要|带|就行|就可以|可以|能|找|打|用|到|网上|手机|窗口|APP|小程序|公众号|有|每", re.IGNORECASE
)
_WARNING_RE = re.compile(r"冒充|骗|诈|上当")


def chatter_form(normalised_text: str) -> str | None:
    """Why a message is chatter by its form alone (None when its form says nothing).

    "group_ask": an ask about the neighbours' own experience; "ad": a trade with a contact or price cue; "notice": a forwarded or posted notice with no report of the
    resident's own; "grumble": a grumble naming no thing or place; "recollection": a past event, nothing now;
    "follow_up": a neighbour asking whether someone already called or told them, naming nothing to fix; "on_it": a
    responder arrived or at work on it, nothing said to be still wrong; "fixed": a problem told as already fixed or
    over, nothing said to be still wrong; "advice": a reminder to everyone with a warning, nothing wrong here now;
    "staff_notice": a notice signed by the gridworker, community or property office; "weather": talk about the
    weather naming nothing wrong.
    """
    text = _SPACES_RE.sub(" ", normalised_text).strip()
    if _GROUP_ASK_RE.search(text) and not _TO_COMMUNITY_RE.search(text) and not _OWN_REPORT_RE.search(text):
        return "group_ask"
    if _AD_TRADE_RE.search(text) and _AD_CONTACT_RE.search(text) and not _AD_NOT_RE.search(text):
        return "ad"
    if _NOTICE_HEAD_RE.search(text) and not _OWN_REPORT_RE.search(text):
        return "staff_notice" if _STAFF_HEAD_RE.search(text) else "notice"
    if (
        _GRUMBLE_RE.search(text)
        and not _CONCRETE_RE.search(text)
        and not cue_objects(text)
        and not cue_place(text)
    ):
        return "grumble"
    if _PAST_EVENT_RE.search(text) and not _NOW_RE.search(text):
        return "recollection"
    if (
        _WEATHER_RE.search(text)
        and not _CONCRETE_RE.search(text)
        and not _WEATHER_NOT_RE.search(text)
        and not _REPORT_RE.search(text)
        and not cue_objects(text)
        and not cue_place(text)
    ):
        return "weather"
    if _FOLLOW_UP_RE.search(text) and not _CONCRETE_RE.search(text) and not cue_objects(text):
        return "follow_up"
    if _RESPONDER_RE.search(text) and _ON_IT_RE.search(text) and not _STILL_WRONG_RE.search(text):
        return "on_it"
    if _FIXED_RE.search(text) and not _STILL_WRONG_RE.search(text) and not _NOT_FIXED_RE.search(text):
        return "fixed"
    if (
        _ADVICE_HEAD_RE.search(text)
        and _ADVICE_WORD_RE.search(text)
        and not _HERE_NOW_RE.search(text)
        and not _TO_COMMUNITY_RE.search(text)
        and not _OWN_REPORT_RE.search(text)
    ):
        return "advice"
    return None


# 「去街道办问」, 「具体问学区办」, 「这事得问社保所」 tell where to ask; they ask nothing themselves
_ASK_THERE_RE = re.compile(r"(?:去|具体(?:的)?|得|可以)[^\s谁哪啥几怎]{0,10}?问")


def tells_not_asks(normalised_text: str) -> bool:
    """True when a message tells where or how (去…办, 要带…) and asks nothing: an answer, not a request."""
    return (
        not _ASK_RE.search(_ASK_THERE_RE.sub("去", normalised_text))
        and bool(_TELLS_RE.search(normalised_text))
        and not _REPORT_RE.search(normalised_text)
        and not _WARNING_RE.search(normalised_text)
    )


def adds_own_report(normalised_text: str) -> bool:
    """True when a forward or news carries the resident's own report of a problem here (可是我们楼…, 到现在还没…)."""
    return bool(_OWN_REPORT_RE.search(normalised_text))


def asks_neighbours(normalised_text: str) -> bool:
    """True when the message asks the group of neighbours (有没有人知道…, 谁家有…) and names no authority, or answers one."""
    text = _SPACES_RE.sub("", normalised_text)
    if _REPLY_RE.match(text):
        return True
    to_neighbours = (
        _TO_NEIGHBOURS_RE.search(text)
        or _TO_A_NEIGHBOUR_RE.match(text)
        or _JOIN_IN_RE.search(normalised_text)
        or _SIGHTING_RE.search(text)
    )
    return bool(to_neighbours) and not _TO_COMMUNITY_RE.search(text)


def is_information_question(normalised_text: str) -> bool:
    """True when a message asks for information (where, when, how much, a phone number) without reporting a problem."""
    text = _SPACES_RE.sub("", normalised_text)  # 「物业 电话 多少」 is the same question
    return bool(_QUESTION_RE.search(text)) and not _REPORT_RE.search(text)

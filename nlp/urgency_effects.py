"""Danger described by its effect, not its name (issue 14, third pass): what a resident sees, smells or hears.

Residents rarely write 火灾 or 燃气泄漏; they write 「屋里全是烟看不见」, 「像坏鸡蛋的味」, 「老人在地上起不来叫不应」,
「水已经漫到床边」. Each pattern below is a class of such effects, written with its object (a room full of smoke, not
any smoke; a person who cannot get up, not a thing), so the per-clause readings of `urgency.py` (negation, the past,
hypotheticals, news, resolution) apply to it unchanged. Group name -> the cue kind it reports is `EFFECT_KIND`.

In the patterns, ``~`` stands for one character inside a clause and ``@`` for a word for a person.
"""

from __future__ import annotations

# Words for a person (not an animal); kept apart from urgency._PERSON so both stay readable.
_WHO = (
    r"(?:(?<![没无被家])人(?![行家字口])|有人|孩子|小孩|娃|宝宝|婴儿|小朋友|小女孩|小男孩|老人|老太太?|老头|老爷子|大爷|大妈"
    r"|大叔|大姐|阿姨|叔叔|爷爷|奶奶|姥姥|姥爷|外婆|外公|工人|师傅|小伙子?|姑娘|女孩|男孩|学生|儿子|女儿|孙子|孙女"
    r"|婆婆|公公|老公|老婆|老伴儿?|我爸|我妈|我娘|俺娘|俺爹|老爸|老妈|老汉儿?|阿伯|阿婆|伯伯|老伯|孕妇|女的|男的|他|她"
    r"|外卖员|外卖小哥|送外卖的|快递员|快递小哥|送快递的|游客|保安|保洁|邻居|租客|病人|产妇)"
)
_CLAUSE = r"[^,，。!！?？;；\s]"  # a character inside one clause
_ROOM = r"(?:屋|家|房间?|卧室|客厅|厨房|楼道|走廊|过道|楼梯间?|车库|地下室|单元|电梯间|楼里|室内|里面|屋里头|车里)"
_SMOKE = (
    r"的?(?:黑|白|灰|浓)?烟(?![味花酒头盒瘾囱民草雾])"  # smoke itself, not its smell, cigarettes or fireworks
)
_NOT_COLD = r"(?!凉|急|迷|魔)"  # 着了 as caught fire, not 着凉/着急/着迷/着魔


_OUT = r"船(?:还)?没(?:回|靠|进)|没回港|没靠岸|没上岸|出海|打鱼的|进山|上山(?:放|采|挖)|放牧|放羊的|没下山"
_STORM = r"台风|暴风雪|暴雪|风暴|大浪|山洪|白毛风|雪崩|泥石流"
_UNREACHABLE = r"打不通|联系不上|失联|没信号|没有信号|没消息|没音信"
_NEAR = r"[^。!！?？]{0,20}?"


def _pattern(*alternatives: str) -> str:
    """One regex of alternatives, with ~ (a character inside a clause) and @ (a person) expanded."""
    return "|".join(alternatives).replace("~", _CLAUSE).replace("@", _WHO)


EFFECT_LEXICON: dict[str, str] = {
    # smoke filling a place, flames seen, the sound and smell of burning
    "fire_effect": _pattern(
        _ROOM + r"~{0,4}?(?:全是|都是|全部都是|满是|到处(?:都)?是|好多|很多|好大|一股|一片|有)" + _SMOKE,
        r"(?:全是|都是|到处(?:都)?是|满屋子?|一屋子)" + _SMOKE,
        r"[窜蹿喷涌]出?(?:黑|白|灰|浓)烟",
        _ROOM + r"~{0,4}?烟雾(?:缭绕|弥漫|腾腾|很大|好大)|(?<![抽香])烟(?:好|很|太)多",
        r"(?<!油)烟味?[^。!！?？]{0,6}?呛(?:得|死|人)",
        r"呛得(?:睁不开|喘不|受不了|不行|直咳)",
        r"(?:黑|白|灰|浓)烟(?:滚滚|直冒|往外|冒出|一直)",
        r"冒(?:黑|白|灰)(?:烟|的)",
        r"烟(?:越来越|更)(?:大|浓)",
        r"火(?:好|很|太|越来越|烧得?很?)(?:旺|猛)",
        r"[窜蹿]火",
        r"火(?:都)?(?:冒|窜|蹿|烧)到",
        r"在冒火|冒火了|(?<!心里)(?<!气得)(?<!直)冒火(?:苗|光)",
        r"火着起来|着起来了|着了火|点着了|引着了|已经着了" + _NOT_COLD,
        r"(?:房|屋|车|楼|棚|柜|窗帘|被子|沙发|床)着了" + _NOT_COLD,
        r"火光|着伙|着咗火|起咗火|烧过来了|烧到(?:楼|屋|房|家|车|我们)",
        r"(?:窗户?|屋|房间?|楼)~{0,6}(?:红彤彤|通红|红光)",
        r"焦(?:糊|煳)?味~{0,4}(?:越来越|很重|好重|好大|冒)",
        r"烧(?:塑料|胶皮|橡胶|电线|焦)(?:的)?味",
        r"烟感(?:器|报警器)?(?:一直|在|又|还)?(?:叫|响|鸣)|烟感~{0,4}报警了",
        r"(?:^|(?<=[\s,，。!！]))有火(?:了|啦|啊|呀)?(?=[\s,，。!！]|$)",  # 「有火」 on its own
        r"火[\s,，!！]*火[\s,，!！]*火",  # 「火 火 火」: the alarm word repeated
    ),
    # what gas smells and sounds like; several people dizzy at once (carbon monoxide)
    "gas_effect": _pattern(
        r"(?:臭|坏)(?:了的|掉的)?鸡[蛋旦](?:的)?味",
        r"像[^,，。!！?？]{0,4}(?:坏|臭)(?:了的|掉的)?鸡[蛋旦]",
        r"像(?:是)?(?:燃气|煤气|天然气|液化气)",
        r"[煤燃][七汽起器](?:的)?味",  # typed by pinyin
        r"(?:气罐|燃气罐|煤气罐|液化气罐|燃气表|燃气灶|煤气灶|阀门|(?<![暖水])气管|燃气管)"  # 暖气管: hot water
        r"~{0,8}(?:在漏|漏了|呲呲|嘶嘶|滋滋|关不上|关不住|关不掉|喷气|往外喷)",
        r"(?:燃气|煤气|天然气|液化气|灶)[^。!！?？]{0,12}(?:臭味|怪味|味道|气味)"
        r"[^。!！?？]{0,6}(?:越来越|很浓|好浓|很重|好重|很冲|好冲)",
        r"(?:都|全家|一家人?|几个人)~{0,3}(?:头晕|头疼|头痛|头昏|发晕|晕乎乎|昏沉沉)~{0,6}(?:想吐|恶心|呕吐|反胃)",
        r"煤气中毒|漏煤气|熏(?:倒|晕)",
        r"(?:燃气|煤气|天然气|液化气)(?:好像|可能|应该|估计|是不是)(?:在)?(?:漏|泄)",
    ),
    # a live line down, a socket or a switchboard arcing, a person shocked
    "electric_effect": _pattern(
        r"(?:电(?!线杆)|线|缆|电箱|电表箱|插座|插头|开关|配电|变压器)~{0,10}?(?:冒火|跳火|打火(?!机)|闪火|喷火)",
        r"(?:在|一直|直|啪啪|噼啪)(?:打|跳|闪)火(?!机)",
        r"(?:电缆|线缆|电线)(?!杆)~{0,6}(?:断了|挖断|刮断|掉在|掉到|掉进)",
        r"被电(?:倒|晕|击|到了|了一下)|电击",
        r"(?<!充)(?:电线|电缆|高压线)(?!杆)~{0,6}(?:垂|耷拉|拖)(?:下来|在|到)",
        # a line lying on something and still arcing (「电线搭在围墙上 还在闪」)
        r"(?:电线|电缆|高压线)(?!杆)~{0,4}(?:搭在|落在|掉在|躺在|挂在|压在)[^。!！?？]{0,12}?(?:还在|一直在?|不停地?)(?:闪|冒火|打火|噼啪)",
    ),
    # people shut in a lift, described by where it stopped or who is inside
    "lift_effect": _pattern(
        r"(?:电|货|客|观光)梯(?:里)?(?:关|困)(?:了|住)?(?:个|一个|两个|几个|俩|[二两三四五六七八九\d]个)?(?:人|@)",
        r"困(?:电|货|客|观光)梯|关(?:电|货|客|观光)梯里|(?:电|货|客|观光)梯(?:遭|给|被)?卡起了|(?:电|货|客|观光)梯[^。!！?？]{0,6}(?:有人|@)被(?:关|困|卡)",
        r"(?:电|货|客|观光)梯~{0,10}(?:两层中间|半道|半空|半截|中间不动|[\d一二三四五六七八九十]+楼和[\d一二三四五六七八九十]+楼(?:之)?中间)",
        r"(?:电|货|客|观光)梯[^。!！?？]{0,20}?(?:卡|停|不动|打不开|开不了|坏|困|关)[^。!！?？]{0,12}?"
        r"(?:(?:我们?|@)(?:和~{1,4})?(?:还)?在里(?:面|头|边)|里(?:面|头|边)(?:还)?有(?:[一两二三四五六七八九十几\d]?个)?[^。!！?？\s，,]{0,4}?@)",
    ),
    # a person pinned or stuck, however the sentence is built
    "pinned_effect": _pattern(
        r"@被~{0,10}?(?:压|砸|埋|扣|困|卡|夹|碾|轧)(?:住|着|在|了|到)(?!中间|当中)",  # not 夹在中间 (a quarrel)
        r"把~{0,6}?@(?:给)?(?:压|埋|扣|卡|夹|困|碾|轧|卷|绞)(?!了?一次|过)",
        r"(?:手|脚|腿|头|脑袋|胳膊|手指)(?:头)?[^。!！?？]{0,10}(?:拔不出|拉不出|抽不出)",
        r"(?:锁|关|困)在[^。!！?？]{0,10}?(?:下不去|下不来|出不来|出不去)",
        r"(?:掉|摔|跌|落)(?:进|到|下)~{0,10}(?:井|坑|沟|池|窖|洞)里?[^。!！?？]{0,8}(?:爬不上|上不来|出不来)",
    ),
    # a person down, bleeding, unresponsive, fallen from height, drowning, burnt
    "injured_effect": _pattern(
        r"(?:摔|跌|倒|栽|滑倒|跌倒|跌低)(?:了|咗)?[^。!！?？]{0,10}?"
        r"(?:起不来|爬不起来|站不起来|起不了身|起唔到身|起不来身)",
        r"(?:地上|倒|摔|躺|趴|晕|昏)[^。!！?？]{0,20}?(?:叫|喊)~{0,4}(?:不应|没应|不答应|没反应|没有反应|不醒)",
        # sitting or slumped somewhere and unable to get up, with a symptom said beside it (「头晕 坐在溪边起不来」)
        r"(?:头晕|发晕|晕得|眼前发黑|喘不上气|喘不过气|出血|流血|抽搐|吐了)[^。!！?？]{0,16}?(?:坐|蹲|瘫)在?[^。!！?？\s]{0,6}?"
        r"(?:起不来|站不起来|起不了身)",
        r"(?:坐|蹲|瘫)在?[^。!！?？\s]{0,6}?(?:起不来|站不起来|起不了身)[^。!！?？]{0,16}?"
        r"(?:头晕|发晕|眼前发黑|喘不上气|喘不过气|出血|流血|抽搐|吐了)",
        r"(?:叫|喊|拍|推|摇)(?:他|她|人|了|也|都)?(?:半天)?不醒|叫唔醒|冇反应",
        r"(?:怎么|咋)(?:叫|喊|拍|推|摇)(?:他|她)?(?:也|都)(?:不|没)(?:醒|睁眼|应|答应|反应|动)",
        r"(?:满脸|满头|满身|一脸|一身|一手|头上|脸上)(?:都)?是血|血止不住|血流不止|头破(?:了|血流)?|见血了|直冒血|往外冒血",
        r"躺(?:着|在)~{0,8}(?:不动|没反应|没动静)",
        r"@~{0,4}从~{0,10}?(?:上)?(?:摔|掉|跌|滚|坠)(?:了)?(?:下来|下去)",
        r"被~{0,4}车~{0,2}(?:撞|碾|轧|刮倒|带倒)|撞飞",
        r"(?:磕|撞|摔)(?:到|破|伤|了)(?:了)?头[^。!！?？]{0,8}(?:吐|血|晕|不醒)",
        r"(?:水|河|塘|池|湖)(?:里|中)[^。!！?？]{0,10}(?:扑腾|沉下去|往下沉)|沉下去了|(?:有人|要)跳(?:河|江|湖|桥)",
        r"@[^。!！?？]{0,8}(?:掉|摔|跌|落)(?:进|到|入|下)~{0,6}(?:井|坑|沟|池|河|湖|塘|江|水|窖)",
        r"(?:手|脚|脸|腿|胳膊|背|头发|身上)(?:被|给)?火?(?:烧|燎)(?:到|伤|着|焦)了|(?<!预防)烧伤(?!科|膏|药)",
        r"(?:开水|热油|热水|热汤)烫|烫(?:伤|了)[^。!！?？]{0,12}(?:起泡|一大片|脱皮)",
    ),
    # a sudden illness by its signs
    "illness_effect": _pattern(
        r"@[^。!！?？]{0,12}?(?:口吐白沫|抽起来了)",
        r"捂着胸口|胸口(?:很|好|特别|突然)(?:疼|痛|闷)",
        r"(?:脸|嘴唇?|脸色)(?:都)?(?:憋)?(?:得)?(?:发)?[紫青]|憋紫",
        r"喘不过气|上不来气|透不过气|呼吸(?:很|好)?(?:弱|微弱)|@(?:已经)?没气了",
        r"(?:突然|好像|可能|估计是)(?:中风|脑梗|心梗|脑溢血|脑出血)",  # an attack now, not a condition
        r"嘴(?:巴)?(?:都|也|有点|突然)歪|话(?:也|都)说不清|噎住|噎着了",
        r"@~{0,6}?(?:晕|昏)(?:过去|倒|厥|死过去|了)",
        r"(?:昏|晕)过去|昏死|晕死过去|不省人[事世]|人事不省|休克|栽倒|栽下去",
        r"含含糊糊|含糊不清|突然~{0,8}(?:说不出话|抬不起|动不了|不听使唤|站不住|站不稳)|(?:一边|半边)[^。!！?？]{0,4}(?:抬不起|动不了|没知觉)",
        r"(?:吃|吞|喝)了(?:一把|一瓶|好多|一整瓶|整瓶)?(?:安眠药|农药|老鼠药|百草枯|敌敌畏)",
        r"疼得(?:站不起来|直打滚|起不来)",
    ),
    # a person in a place they can fall from
    "at_risk_effect": _pattern(
        # coal or charcoal fumes with someone unresponsive (TAXONOMY §4: other_incident, no gas supply leaks)
        r"(?:烧炭|炭盆|炭火|煤炉|炉子|煤烟|一氧化碳)[^。!！?？]{0,24}?(?:中毒|叫不醒|叫不应|喊不醒|喊不应|没反应|晕倒|昏迷|不省人事|头晕|想吐)",
        r"(?:叫不醒|叫不应|喊不醒|喊不应|没反应|昏迷|不省人事)[^。!！?？]{0,16}?(?:煤烟|炭味|炭火|煤炉|炉子|一氧化碳)",
        r"@~{0,10}(?:站|坐|趴|挂|爬|蹲|吊)(?:在|到)?~{0,6}"
        r"(?:(?:窗台|窗户|窗|阳台|护栏|栏杆|围栏)外|防盗网|防盗窗|空调外机|外机上|楼顶边|天台边|边沿|边缘)",
        r"(?:楼顶|天台|屋顶|桥上)~{0,8}(?:站|坐)在(?:边上|边缘|栏杆外)",
        # sitting at a roof's edge, in any register (「天台边坐咗好耐」), or legs hanging over the drop
        r"(?:楼顶|天台|顶楼|屋顶|桥)(?:边|边上|边沿|边缘)~{0,4}(?:坐|站|蹲|企)(?:着|咗|了|住|喺)?",
        r"(?:脚|腿)(?:都)?(?:吊|伸|悬|荡)(?:出去|出来|在外面|到外面|喺出面)",
        r"(?:好像|可能|估计|看样子|看着)(?:是)?要跳|(?:窗户?|阳台)~{0,2}爬出(?:来|去)|@~{0,10}(?:站|坐|趴|爬)(?:在|到)空调(?:外机)?架",
    ),
    # a confused older person or a small child gone, in other words than urgency.py's
    "missing_effect": _pattern(
        r"(?:迷糊|糊涂|记性不好|记性差|脑子不清楚|老糊涂|认知症|痴呆|失智)[^。!！?？]{0,30}?"
        r"(?:没回来|没回家|找不见|找不到|跑出去了|走出去了|人不见了|不见人|没见人|没见到人)",
        r"(?:孩子|小孩|娃|儿子|女儿|孙子|孙女|闺女)[^。!！?？]{0,20}?(?:一眨眼|一转眼|转眼|一转身|一扭头)"
        r"~{0,4}(?:人)?(?:没了|不见了|没影|找不到|找不着)",
        r"(?:孩子|小孩|小朋友|娃)[^。!！?？]{0,10}(?:找不到|找不着|不见)(?:大人|家长|爸妈|妈妈|爸爸|家人)",
        r"(?:孩子|小孩|娃|儿子|女儿|闺女)[^。!！?？]{0,10}(?:没到家|没回家|还没回来)[^。!！?？]{0,20}(?:打不通|联系不上|找不到)",
        # out at sea or on the mountain in a storm and unreachable (TAXONOMY §4: at risk now, not merely unseen)
        rf"(?:{_OUT}){_NEAR}(?:{_STORM}){_NEAR}(?:{_UNREACHABLE})|(?:{_STORM}){_NEAR}(?:{_OUT}){_NEAR}(?:{_UNREACHABLE})",
    ),
    # water coming into homes, by how high it is or how it moves (a flooded road stays a normal incident)
    "flood_effect": _pattern(
        r"(?:漫|淹|涨|泡)到(?:了)?(?:床|沙发|桌|灶台|插座|二楼)",
        r"(?:屋|家|房|卧室|客厅|一楼|住户)[^。!！?？]{0,20}?(?:没过|漫到|淹到|涨到|快到|已经到|都到|水到)(?:了)?"
        r"(?:脚面|脚背|脚踝|膝盖|小腿|大腿|腰|胸)",
        r"水(?:还在|一直|不停|越来越)~{0,2}(?:涨|往里|往屋|往家|进|灌|冒|涌)",
        r"水进(?:屋|家|房|门)|水~{0,6}(?:冲|漫|涌)进~{0,6}(?:人家|住户|家|屋)",
        r"(?:冲|漫|涌|灌|淌|流)进(?:了)?(?:一楼|好几户|几户|住户|人家|家里|屋里)",
        r"往~{0,6}?(?:村子?|屋|家|(?<!窗)户|楼|院子?)里(?:灌|涌|冒|流|进|冲|淌)|往(?:我)?(?:家|屋)~{0,2}(?:冒|涌|流)",
        r"决堤|溃堤|(?:堤|坝)~{0,3}(?:垮|塌|开口|决口)|开口子|漫过(?:了)?(?:堤|河堤|坝)",
        r"(?:天花板|屋顶)~{0,8}(?:哗哗|往下灌|往屋里灌)",
        r"(?:地板|家具|家电|电器|一楼)~{0,2}(?:全|都)泡(?![鼓坏烂胀发过])",  # 泡鼓了: damage done
    ),
    # things coming down now, described by how they move (peeling plaster is not one)
    "falling_effect": _pattern(
        r"(?:瓷砖|玻璃|铁皮|彩钢瓦|钢板|铁板|水泥|砖|石头|外机|窗框|广告牌|招牌|保温板|保温层|石材|幕墙)"
        r"~{0,8}?(?:哗啦啦|哗啦|噼里啪啦|不停|直|一直|还在)(?:地)?往下(?:掉|砸|飞|落)",
        r"(?:瓷砖|玻璃|铁皮|彩钢瓦|钢板|铁板|水泥)~{0,8}?往下(?:砸|飞)",
        r"(?<!皮)(?<!灰)(?<!漆)一(?:大|小)?[块片]一(?:大|小)?[块片](?:地|的)?往下(?:掉|落|砸)",
        r"(?:一块一块|一块块|一片片)(?:地|的)?(?:往下)?砸",
        r"(?:阳台|天花板|吊顶|房顶|屋顶|楼板|围墙|墙)~{0,6}往下塌|(?:脚手架|塔吊|围墙)~{0,3}(?:倒下来|倒塌)",
        r"(?:掉|砸)下来了?[^。!！?？]{0,8}还有~{0,6}(?:在晃|要掉)",
        r"(?<![泪发])正(?:在)?往下(?:掉|砸|落|飞)",
    ),
    # a fight by what people do
    "fight_effect": _pattern(
        r"(?:抡|挥|举)(?:着|起)?~{0,3}(?:刀|棍|棒|锤|斧|酒瓶|椅子|凳子|铁锹)",
        r"(?:刀|棍子)~{0,4}(?:乱挥|乱砍)|(?:拿|提)着~{0,3}(?:刀|斧)~{0,6}(?:追|砍|乱)",
        r"追着?(?:人|他|她)?(?:砍|打)|在追人|打(?:女人|男人|媳妇|妻子|老公|女的|男的|小姑娘)",
        r"干起来了|干仗|掐架|掐起来|撕打|厮打|扭打|揍(?:人|他|她)|按在地上(?:打|揍)|打成一团|往死里打|打交",
        r"动(?:了)?刀(?:子)?|(?:掏|拔|亮)(?:出)?刀",
    ),
    # calling for rescue in other words
    "rescue_call": _pattern(
        r"快来救(?:人|命)|救救(?:我|他|她|孩子|老人|我们)|来人啊救|救火[啊呀啦]",
        r"(?:打|拨|叫)(?:个|一下|一个)(?:119|120)",
    ),
}

EFFECT_KIND = {
    "fire_effect": "fire",
    "gas_effect": "gas_leak",
    "electric_effect": "electric",
    "lift_effect": "trapped",
    "pinned_effect": "pinned",
    "injured_effect": "injured",
    "illness_effect": "person_at_risk",
    "at_risk_effect": "person_at_risk",
    "missing_effect": "missing",
    "flood_effect": "flooding",
    "falling_effect": "falling",
    "fight_effect": "fight",
    "rescue_call": "call_for_help",
}

# Readings that make a cue no live danger, for the wordings above as much as for the older lexicon.
# Smoke from something burnt on purpose (「楼下有人在烧纸钱 烟很大」): a smoke cue with no flame in it is explained.
BENIGN_SMOKE_RE = _pattern(
    r"烧纸|纸钱|烧香|上香|烧烤|熏(?:腊|肉|鱼)|做饭|炒菜|油烟|蚊香|抽烟|吸烟|烟花|鞭炮|艾灸",
    r"烧秸秆|烧(?:树|落)叶|熏蚊子|焚烧|烧垃圾|通风|开窗|灭了|扑灭|关火|关了火",
    r"烤肉|烤串|肉串|撸串|烤红薯|烤地瓜|炭烤|烤箱|烧糊|烤糊|煎糊|炒糊|糊了",
)
FLAME_RE = r"火|烧|着|燃|爆"
# Figures of speech in the cue's clause or the next one (「忙得火烧眉毛」, 「加班被困在公司了」).
FIGURE_RE = _pattern(
    r"火烧眉毛|(?:头|嗓子|喉咙|脑袋|脑子)(?:都)?(?:要|快)?冒烟|(?:热|急|渴|忙|累|催|晒|饿)得~{0,4}冒烟",
    r"加班|哪(?:也|都|儿都)去不了|堵车|笑(?:得|死|疯)|(?:压|累|忙|困|烦|闷)(?:得|到)",
    # a feeling or a state so strong it "smokes" or "sparks" (「手气好得冒火星子」, 「心里急得冒火」); 烧得冒烟 is real
    r"(?:好|旺|红|火|气|急|热|忙|累|渴|饿|晒|催|美|爽|嗨|馋|顺|香)得(?:都|要|快)?(?:冒烟|冒火|冒火星子?|着火|起火)",
)
# A fight that has not started (「吵得快打起来了」: 快/要 just before the cue) or is words in the group chat.
NOT_YET_RE = r"(?:快|要|快要|都要)$|群里"
# What 快来人 urges when it is a chore (「快来人啊 垃圾都堆到门口了」), not a rescue.
CHORE_RE = r"垃圾|修|坏了|清理|打扫|收拾|堵了|疏通|停水|停电|吵|噪音"
# About to, not happening (「人都快晕了」, 「震得屋顶都要塌了」): hyperbole or a prediction (快沉下去了 is happening).
ABOUT_TO_RE = r"(?:快|都要|快要)(?:要)?(?:晕|塌|倒|掉|垮|炸)"
# Someone asleep, not unconscious (「保安在岗亭睡觉 叫都叫不醒」).
ASLEEP_RE = r"保安|值班|岗亭|门卫|赖床|起床|懒觉|上学"
# A lift that fails again and again is a fault to fix (「电梯第三次停半截了」), not people shut in now.
HABIT_RE = r"第[\d一二三四五六七八九十几]+[次回]|(?:困|关)人[一两二三四五六七八九十几\d]+[次回]|三天两头|经常|老是|总是|动不动"
# Wind, snow or dust, not water, pouring in (「单元门关不上 风呼呼往里灌」).
NOT_WATER_RE = r"风|雪|灰|沙|胶|漆|油(?!布)"
# Liquids named with 水 that are no water coming in (「锁眼里灌了胶水」).
NAMED_LIQUID_RE = r"胶水|墨水|药水|香水|口水|汽水|油水|漆水|洗洁精水|消毒水|泪水"
# An e-bike charging lead trailing about (飞线充电): a hazard to report, not a live line down.
CHARGING_RE = r"飞线|充电线|拉线充电|接线充电"
# A thing, not a person, fell in (「钥匙掉进下水道了」).
THING_RE = (
    r"钥匙|轱辘|轮子|车轮|手机|钱包|东西|球|鞋|帽子|眼镜|耳机|戒指|证件|卡|包|玩具|衣服|快递|盖|牌|半拉|一块"
)
# The responders or the neighbours have the person: taken away or on the way to a hospital (「120来了 抬走了」,
# 「送卫生院缝针了」, 「往县医院去了」); a later clause telling who it was and what the injury is adds no danger.
TAKEN = (
    r"(?<![被给])(?:抬|拉|接)走了|送(?:去|到|进)?[^,，。!！?？\s]{0,4}?(?:医院|卫生院|诊所)(?:了|缝|住院|观察)"
    r"|往[^,，。!！?？\s]{0,6}?(?:医院|卫生院|诊所)(?:去了|送了|赶了)"
)
# A lost person already handed in where the responders are (「走散的孩子我已经带到警务站了」): safe, told so the
# family can fetch them (session 15).
HANDED_IN = (
    r"(?:带|送|交|领)(?:到|给|去)了?[^,，。!！?？\s]{0,8}?(?:警务站|警务室|派出所|保安室|保安亭|门卫室?|值班室|服务台|游客中心|民警|警察)"
    r"(?:那里|那儿|那边|手里|手上)?了"
)
# Over: found, taken home, separated, the water gone (added to urgency._RESOLVED_RE).
RESOLVED_MORE = (
    r"找到了(?!吗|没)|(?:已经)?好点了|缓过来了|醒过来了|(?:抬|背|扶)出来了|(?:接|送)回(?:去|家|来)了|(?:没|无)(?:什么)?大碍|平安(?:了|回)|(?:带走|拉开|劝开|制止|分开)了"
    r"|水(?:已经)?退了|(?<!把)火(?:已经|也|都)?(?:灭了|熄了|灭掉了|扑灭了)"
    # the responders have the person: taken away, in hospital, stitched (「120来了 抬走了」, 「送卫生院缝针了」)
    r"|" + TAKEN + r"|" + HANDED_IN + r"|缝了[^,，。!！?？\s]{0,2}针"
    r"|(?<![快要])烧(?:没|光|完)了"  # burnt out: the aftermath (「家里失火 东西都烧没了 现在住亲戚家」)
    r"|(?:人|他|她)(?:是|还|也|都)?(?:清醒|醒)(?:的|了|着)|老毛病|没得事|冇事|没(?:啥|什么)(?:大)?事了|(?:困|关)[^。!！?？]{0,12}(?:人|大哥|大姐|老人|孩子|小孩|邻居)(?:已经|都)?(?:平安)?(?:被)?(?:救)?出来了"
)
# On a screen (added to urgency._FICTION_RE: the whole message) or elsewhere (urgency._PLACES_RE: the clauses it
# governs, so 「亲戚那边也这样 我家…」 is still a report from here).
ELSEWHERE_MORE = _pattern(
    r"电视上(?!面)|看直播|(?:看|刷|在)(?:抖音|快手|微博|视频号|小红书)|直播间|直播(?:说|里|中|的时候)|主播~{0,6}?(?:说|讲|播|表演)",  # 「楼下那个做主播的」 is a neighbour
    # a post or a video on a platform, or a video asked about (「微博上那个小孩…的视频看了没」)
    r"(?:抖音|快手|微博|视频号|小红书|头条|B站|b站|网上)上?[^，,。!！?？]{0,24}(?:视频|帖子|新闻)",
    r"(?:视频|新闻|帖子)(?:你们|大家)?(?:看了没|看了吗|看到没|看到了吗|看过没)",
)
PLACES_MORE = _pattern(
    r"(?:南方|北方|老家|外省|外地|国外|省外|表姐|表哥|亲戚|朋友|同学)(?:家)?那边",
    # news from home by phone (「给老家打了个电话 说那边大水进村了」)
    r"(?:给|跟|和)老家~{0,4}打(?:了)?(?:个)?电话|老家(?:的)?(?:人|亲戚|爸妈|父母|来)?(?:说|打电话来|来电话)",
)

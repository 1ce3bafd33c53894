"""Look-alikes of danger found on the retired blind10 set (session 15): the same words with a harmless cause named.

Each reading silences one cue of `urgency.find_cues` and is tested both ways in
tests/unit/nlp/test_cue_readings_s15.py: stains for water, rotting rubbish for gas, and the smoke of a field or a
heap burnt on purpose drifting over to here.
"""

from __future__ import annotations

import re

from gridbot.nlp import urgency_effects as fx
from gridbot.nlp.urgency_readings import turned

# a mark water left (水印, 水渍, 水痕), condensation (水珠, 水汽) or cement (水泥): no water in the home now
_MARK_AFTER_RE = re.compile(r"(?:印|渍|痕|迹|珠|汽|雾|泥|垢)")
# a rotten-egg smell with its source named: rubbish, sewage or rotting food (TAXONOMY §3, session 15)
_EGG_RE = re.compile(r"鸡[蛋旦弹]")
_ROT_RE = re.compile(
    r"垃圾|烂菜|剩菜|剩饭|泔水|厨余|下水道|下水井|臭水沟|水沟|化粪池|粪|死老鼠|死鱼|腐烂|馊|烂了|发臭|沤"
)
_GAS_WORD_RE = re.compile(r"燃气|煤气|天然气|液化气|沼气|瓦斯|灶|阀|气罐|气管|燃气表")
# smoke of a fire lit on purpose: straw, leaves, rubbish or paper burnt in the open
_BURNT_ON_PURPOSE_RE = re.compile(
    r"烧(?:秸秆|麦秆|麦秸|稻草|稻秆|玉米秆|荒|野草|树叶|落叶|叶子|垃圾|纸|纸钱|香)|焚烧|烧烤|熏(?:腊|肉|鱼)"
)
_MISTAKEN_RE = re.compile(r"以为|当成|当是")
# the same smoke carried over here (「烟全飘进我们村里了」): no turn to a fire of our own
_DRIFT_RE = re.compile(r"(?:飘|吹|刮|熏|散|窜)(?:进|到|过来|过去|得)")
_FLAME_RE = re.compile(fx.FLAME_RE)


def _smoke_burnt_on_purpose(text: str, at: int) -> bool:
    """Whether smoke at `at` is the drift of a fire lit on purpose told before it, not a fire of our own after a turn."""
    for m in _BURNT_ON_PURPOSE_RE.finditer(text, 0, at):
        if _MISTAKEN_RE.search(text, max(0, m.start() - 8), m.start()):
            continue  # 「以为是烧秸秆 结果是我们柴房着了」
        if not turned(text, m.end(), at) or _DRIFT_RE.search(text, m.end(), at):
            return True
    return False


def look_alike(kind: str, cue: re.Match[str], text: str, previous: str, clause: str, following: str) -> bool:
    """Whether a cue is a look-alike of danger with its harmless cause named (session 15, blind10's classes)."""
    said = cue.group()
    if kind == "flooding" and _MARK_AFTER_RE.match(text, cue.end()):
        return True  # 「卫生间顶上全是水印」: the mark of an old leak
    if (
        kind == "gas_leak"
        and _EGG_RE.search(said)
        and _ROT_RE.search(f"{previous} {clause} {following}")
        and not _GAS_WORD_RE.search(text)
    ):
        return True  # 「垃圾桶几天没清 一股臭鸡蛋味」: rotting rubbish, no gas
    return (
        kind == "fire"
        and ("烟" in said or "呛" in said)
        and not _FLAME_RE.search(said)
        and _smoke_burnt_on_purpose(text, cue.start())
    )  # 「隔壁村烧秸秆 烟全飘进我们村里了 呛得不行」

"""The Wechaty adapter's quote parser: the same answers as the original regular expressions, in one pass.

The regexes below are the previous implementation, kept as the specification; they backtrack
quadratically on texts with many 「name： openings (8,000 of them took 19 s on the event loop).
"""

from __future__ import annotations

import re

from hypothesis import given, settings
from hypothesis import strategies as st

from gridbot.bot.wechaty_messages import Quote, split_quote

_QUOTE_FIRST = re.compile(
    r"^「(?P<name>[^：:」]{1,64})[：:](?P<quoted>.*?)」\s*\n-(?: -)+\s*\n(?P<reply>.*)$", re.S
)
_QUOTE_LAST = re.compile(r"^(?P<reply>.*?)\n「(?P<name>[^：:」]{1,64})[：:](?P<quoted>.*?)」\s*$", re.S)


def reference(text: str) -> Quote | None:
    match = _QUOTE_FIRST.match(text) or _QUOTE_LAST.match(text)
    if match is None:
        return None
    return Quote(match["reply"].strip(), match["name"].strip(), match["quoted"].strip())


PIECES = st.sampled_from(["「", "」", "：", ":", "\n", "-", " ", "- - -", "张阿姨", "x", "\t"])


@settings(max_examples=500, deadline=None)
@given(st.lists(PIECES, max_size=16).map("".join))
def test_same_answers_as_the_regexes(text: str) -> None:
    assert split_quote(text) == reference(text)


def test_the_usual_shapes() -> None:
    assert split_quote("「张阿姨：楼道灯坏了」\n- - - - - - -\n明天来修") == Quote(
        "明天来修", "张阿姨", "楼道灯坏了"
    )
    assert split_quote("收到\n「小王：已派单」") == Quote("收到", "小王", "已派单")
    assert split_quote("没有引用") is None


def test_hostile_texts_are_parsed() -> None:
    """Shapes that made the regexes backtrack quadratically now take one pass (figures: bench_privacy)."""
    assert split_quote("\n「a：" * 50_000) is None
    assert split_quote("x" + "\n「a：」x" * 50_000) is None
    assert split_quote("「a：" + "」 \n-" * 50_000) is None

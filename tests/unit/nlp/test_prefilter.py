"""A gated regex finds what the plain one finds, and skips only where no word can start."""

from __future__ import annotations

import re

from gridbot.nlp import urgency
from gridbot.nlp.prefilter import first_chars, gated, prefixes
from gridbot.nlp.urgency_effects import EFFECT_LEXICON
from gridbot.nlp.urgency_lexicon import LEXICON, MORE_LEXICON


def test_first_characters_come_from_the_pattern_itself() -> None:
    assert first_chars(r"(?<!不)着火|(?P<gas>煤[气汽])|冒?烟") == "冒烟煤着"
    assert first_chars(r"[^，。]{0,4}着火") is None  # any character may start it
    assert first_chars(r"(?:着火)?") is None  # it may match nothing


def test_first_pairs_come_from_the_pattern_itself() -> None:
    assert prefixes(r"(?<!不)着火|(?P<gas>煤[气汽])|冒?烟", 2) == {"着火", "煤气", "煤汽", "冒烟", "烟"}
    # a class of any character after the first: anything may follow it; a repeat counts its copies
    assert prefixes(r"电[^，。]{0,4}着火|(?:水){2,3}", 2) == {"电", "电着", "水水"}
    assert prefixes(r"一?(?:着火)?", 2) is None  # it may match nothing


def test_a_pair_gate_skips_where_no_second_character_fits() -> None:
    gate = gated(r"着火|煤气")
    assert [m.group() for m in gate.finditer("着急 煤球 着火了 煤气味")] == ["着火", "煤气"]
    assert gate.search("着") is None


def test_gated_lexicon_finds_the_same_cues() -> None:
    texts = ["楼下着火了 浓烟很大", "没有着火 放心", "老人在家晕倒了叫不应", "今天天气不错", "", "火火火 烟"]
    lexicons = {"_CUE_RE": LEXICON, "_MORE_RE": MORE_LEXICON, "_EFFECT_RE": EFFECT_LEXICON}
    for name, lexicon in lexicons.items():
        gate = getattr(urgency, name)
        plain = re.compile("|".join(f"(?P<{k}>{v})" for k, v in lexicon.items()))
        for text in texts:
            assert [(m.span(), m.lastgroup) for m in gate.finditer(text)] == [
                (m.span(), m.lastgroup) for m in plain.finditer(text)
            ]


def test_each_group_of_an_alternation_gets_its_own_gate() -> None:
    gate = gated(r"(?P<fire>着火|冒烟)|(?P<gas>煤气)|\|")
    assert [(m.group(), m.lastgroup) for m in gate.finditer("冒烟 煤气 着火")] == [
        ("冒烟", "fire"),
        ("煤气", "gas"),
        ("着火", "fire"),
    ]
    assert "(?=[煤])(?=[煤][气])(?:(?P<gas>煤气))" in gate.pattern


def test_a_pattern_without_a_gate_compiles_unchanged() -> None:
    assert gated(r"\s+").pattern == r"\s+"

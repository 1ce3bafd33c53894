"""Hypothesis strategies for hostile chat input, shared by the parser and the pipeline fuzz tests.

Random Unicode (astral planes, controls, zero-width and bidi marks), full-width ＃ and digits, nested
quotes in every style residents use (and WeChat's quote-reply rendering), forged ticket numbers,
SQL-looking text and 100 kB messages. `assert_user_text` is the check on anything the group is told.
"""

from __future__ import annotations

import re

from hypothesis import settings
from hypothesis import strategies as st

from gridbot.handlers import admin as _admin  # noqa: F401  (registers the admin commands in the table)
from gridbot.handlers.commands import words

# One profile for every fuzz test: reproducible in CI (no example database, a fixed seed sequence).
FUZZ = settings(derandomize=True, database=None, deadline=None, max_examples=300)

ZERO_WIDTH_AND_BIDI = (
    "\u200b\u200c\u200d\u2060\ufeff\u00ad\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2069"
)
WIDE = "＃＠\u3000\u2005０１２３４５６７８９"
QUOTES = "「」『』“”‘’\"'《》〈〉【】：:"
SQL = (
    "'; DROP TABLE tickets;--",
    "1 OR 1=1",
    '" OR ""="',
    "#1; DELETE FROM messages WHERE 1=1",
    "%' AND 1=1 --",
    "'); TRUNCATE outbox; --",
    "Robert'); DROP TABLE students;--",
    "${jndi:ldap://x/a}",
    "{{7*7}} %s%s%n %x",
    "\\x00\\u0000",
)
NAMES = ("小王", "李四", "陈网格长", "孙主任", "张阿姨", "钱大姐", "", "小王\u2005", "@", "＠小王")
FORGED_NUMBERS = (0, 1, 2**31 - 1, 2**31, 2**63, 10**9 - 1, 10**9, 9999999999999999999999)
ENDS = ("", " ", "\u3000", "\u2005", "\n", "\t", "\u200b", "#", "，")
CJK = re.compile(r"[\u4e00-\u9fff]")
LEAKS = ("Traceback", "Error", "Exception", 'File "', "sqlalchemy", "psycopg", "sqlite3", "\\x")

# Full Unicode (astral planes and control characters included; surrogates only where asked for).
any_char = st.characters(exclude_categories=["Cs"])
lone_surrogate = st.characters(categories=["Cs"])
tricky_char = st.sampled_from(ZERO_WIDTH_AND_BIDI + WIDE + QUOTES + "#@0123456789 \n\t-\x00\x1b\x7f\x85")
hostile_char = st.one_of(any_char, tricky_char, st.characters(max_codepoint=0x1F))
hostile_text = st.text(hostile_char, max_size=80)


def widen(digits: str) -> str:
    """ASCII digits as full-width ones (how Chinese input methods often type them)."""
    return digits.translate(str.maketrans("0123456789", "０１２３４５６７８９"))


forged_ref = st.builds(
    lambda prefix, number, wide: prefix + (widen(str(number)) if wide else str(number)),
    st.sampled_from(("#", "＃", "# ", "＃\u3000", "#\u200b", "", "#-", "#+", "##", "#0")),
    st.one_of(st.sampled_from(FORGED_NUMBERS), st.integers(-(10**30), 10**30)),
    st.booleans(),
)
at_name = st.builds(
    lambda at, name, end: at + name + end,
    st.sampled_from("@＠"),
    st.sampled_from(NAMES),
    st.sampled_from(ENDS),
)
argument = st.one_of(forged_ref, hostile_text, st.sampled_from(SQL), at_name)
command_word = st.sampled_from(sorted(words()))
command_line = st.builds(
    lambda word, gap, args: word + gap + " ".join(args),
    command_word,
    st.sampled_from(ENDS),
    st.lists(argument, max_size=5),
)


def wechat_quote(name: str, quoted: str, reply: str, reply_first: bool) -> str:
    """A quote-reply as puppets render it: quote, dashed rule, reply (or the reply first)."""
    if reply_first:
        return f"{reply}\n「{name}：{quoted}」"
    return f"「{name}：{quoted}」\n- - - - - - - - - - - - - - -\n{reply}"


nested_quotes = st.recursive(
    st.one_of(hostile_text, command_line, forged_ref),
    lambda inner: st.one_of(
        st.builds(wechat_quote, st.sampled_from(NAMES), inner, inner, st.booleans()),
        st.builds(lambda a, b: f"「{a}」“{b}”《{a}》'{b}'\"{a}\"『{b}』", inner, inner),
        st.builds(lambda a, b: f"{a}「{b}", inner, inner),  # unbalanced
    ),
    max_leaves=6,
)
# A 100 kB message is built inside the test from a small drawn seed (head, repeated unit): hypothesis
# would otherwise render 100 kB arguments in its reports (and warn about it).
oversized_seed = st.tuples(
    st.one_of(st.just(""), command_word.map(lambda w: w + " #1 ")),
    st.text(hostile_char, min_size=1, max_size=16),
)


def oversized(seed: tuple[str, str]) -> str:
    """The 100 kB text a seed of `oversized_seed` stands for."""
    head, unit = seed
    return (head + unit * (100_000 // len(unit) + 1))[:100_000]


hostile = st.one_of(
    hostile_text,
    command_line,
    nested_quotes,
    st.sampled_from(SQL),
    st.text(any_char, max_size=300),
)


def assert_user_text(text: str, said: str = "") -> None:
    """What the group is told: Chinese, and no exception text, traceback or driver name in it.

    `said` is what the user wrote: a reply may echo it (「没有「…」这个类别」), so it may carry those words.
    """
    assert CJK.search(text), f"not a Chinese message: {text!r}"
    for leak in LEAKS:
        assert leak not in text or leak in said, f"{leak!r} leaked into {text!r}"

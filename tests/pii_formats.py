"""Hypothesis strategies: personal data in every disguise residents type, inside Chinese sentences.

Each generated item is (what is written, the canonical values that must never be readable afterwards).
A canonical value is compared with outputs after the masker's own normalisation (`nlp.pii.shadow`)
and with grouping separators removed, so 「１３８ ①②③④ 5678」 in an output counts as a leak of
13812345678.
"""

from __future__ import annotations

import re

from hypothesis import strategies as st

from gridbot.nlp.pii import id_checksum_ok, luhn_ok, shadow

CN = "零一二三四五六七八九"
FILLER = "我家在楼下麻烦帮忙看看谢谢物业水管漏了电梯坏了联系人请尽快处理住户反映噪音扰民停车"
_SEPARATORS = re.compile(r"[-.\s—–·_\x00]")


def digits_as(digits: str, style: str) -> str:
    """A digit string typed one way: plain, full-width, circled, maths bold, Chinese numerals…"""
    if style == "zero_width":
        return "\u200b".join(digits)

    def one(d: str) -> str:
        if not d.isdigit():
            return d
        if style == "fullwidth":
            return chr(0xFF10 + int(d))
        if style == "circled":
            return "⓪" if d == "0" else chr(0x2460 + int(d) - 1)
        if style == "math":
            return chr(0x1D7CE + int(d))
        if style == "chinese":
            return CN[int(d)]
        return d

    return "".join(one(d) for d in digits)


DIGIT_STYLES = st.sampled_from(["plain", "fullwidth", "circled", "math", "chinese", "zero_width"])


@st.composite
def mobile(draw: st.DrawFn) -> tuple[str, str]:
    number = "1" + draw(st.sampled_from("3456789")) + draw(st.text("0123456789", min_size=9, max_size=9))
    grouping = draw(st.sampled_from(["", " ", "-", ".", "·"]))
    grouped = grouping.join((number[:3], number[3:7], number[7:])) if grouping else number
    prefix = draw(st.sampled_from(["", "+86 ", "86-"]))
    style = draw(DIGIT_STYLES)
    typed = digits_as(grouped, style) if style not in ("chinese",) else digits_as(number, style)
    return prefix + typed, number


@st.composite
def id_card(draw: st.DrawFn) -> tuple[str, str]:
    body = draw(st.sampled_from("123456")) + draw(st.text("0123456789", min_size=16, max_size=16))
    number = next(body + c for c in "0123456789X" if id_checksum_ok(body + c))
    sep = draw(st.sampled_from(["", " ", "-"]))
    typed = sep.join((number[:6], number[6:14], number[14:])) if sep else number
    return (digits_as(typed, "fullwidth") if draw(st.booleans()) else typed), number


@st.composite
def bank_card(draw: st.DrawFn) -> tuple[str, str]:
    body = "62" + draw(st.text("0123456789", min_size=15, max_size=15))
    number = next(body + c for c in "0123456789" if luhn_ok(body + c))
    return " ".join(number[i : i + 4] for i in range(0, len(number), 4)), number


@st.composite
def landline(draw: st.DrawFn) -> tuple[str, str]:
    local = draw(st.sampled_from("345678")) + draw(st.text("0123456789", min_size=7, max_size=7))
    form = draw(st.sampled_from(["area", "paren", "bare", "bare_spaced"]))
    if form == "area":
        return f"025-{local}", local
    if form == "paren":
        return f"(0512){local}", local
    if form == "bare_spaced":
        return f"座机 {local[:4]} {local[4:]}", local
    return f"座机{local}", local


@st.composite
def plate(draw: st.DrawFn) -> tuple[str, str]:
    province = draw(st.sampled_from("京沪苏浙粤川鄂"))
    letter = draw(st.sampled_from("ABCDEFG"))
    tail = draw(st.text("0123456789", min_size=5, max_size=5))
    sep = draw(st.sampled_from(["", " ", "-", "·"]))
    lead = draw(st.sampled_from(["", " "]))
    return f"{province}{lead}{letter}{sep}{tail}", f"{province}{letter}{tail}"


@st.composite
def address(draw: st.DrawFn) -> tuple[str, str]:
    building = draw(st.integers(1, 30))
    unit = draw(st.integers(1, 6))
    room = draw(st.integers(1, 30)) * 100 + draw(st.integers(1, 9))
    form = draw(st.sampled_from(["full", "hash", "block", "chinese", "room_only", "dash", "lou"]))
    if form == "full":
        return f"{building}栋{unit}单元{room}室", f"{building}栋{unit}单元{room}"
    if form == "hash":
        return f"{building}#{room}", f"{building}#{room}"
    if form == "block":
        return f"{'ABCD'[unit % 4]}座{room}", f"{'ABCD'[unit % 4]}座{room}"
    if form == "chinese":
        b = digits_as(str(building % 10 or 1), "chinese").replace("幺", "一")
        return (
            f"{b}栋{CN[unit]}单元{digits_as(str(room), 'chinese')}",
            f"{building % 10 or 1}栋{unit}单元{room}",
        )
    if form == "dash":
        return f"{building}-{unit}-{room}", f"{building}-{unit}-{room}"
    if form == "lou":
        return f"{building}号楼{room}", f"{building}号楼{room}"
    return f"{room}房", f"{room}房"


@st.composite
def email(draw: st.DrawFn) -> tuple[str, str]:
    user = draw(st.text("abcdefghijklmnopqrstuvwxyz", min_size=4, max_size=10))
    value = f"{user}@{draw(st.sampled_from(['qq.com', '163.com', 'example.cn']))}"
    return value, value


PII = st.one_of(mobile(), id_card(), bank_card(), landline(), plate(), address(), email())


@st.composite
def sentence(draw: st.DrawFn) -> tuple[str, str]:
    """A Chinese sentence with one piece of personal data inside: (text, canonical value)."""
    typed, canonical = draw(PII)
    before = draw(st.text(FILLER, min_size=1, max_size=12))
    after = draw(st.text(FILLER, min_size=0, max_size=12))
    return f"{before}{typed}{after}", canonical


def readable(text: str) -> str:
    """An output as a reader would read it, for leak checks: normalised, grouping removed."""
    return _SEPARATORS.sub("", shadow(text)[0])


def leaks(canonical: str, outputs: list[str]) -> list[str]:
    """The outputs in which the canonical value can still be read."""
    want = _SEPARATORS.sub("", canonical)
    return [o for o in outputs if want in readable(o)]

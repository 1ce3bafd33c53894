"""Find and mask personal data in Chinese text: phones, ID and bank card numbers, plates, room addresses.

Detection runs on a *shadow* of the text, normalised the way a reader would read it: NFKC (full-width,
circled ①, parenthesised ⑴ and mathematical 𝟏 digits become ASCII), zero-width and bidi characters
removed, Chinese numerals turned into digits (一三八…, 五零一, 十二栋). Every shadow character remembers
the stretch of the original it came from, so a span found in the shadow masks the whole original
stretch, whatever disguise it was typed in. Text outside the spans is returned unchanged.

Decisions:
- An 18-character run counts as an ID-card number only when its GB 11643 checksum is valid.
  Any other run of 12-19 digits (a mistyped ID, a card failing Luhn, an old 15-digit ID) is still
  masked, as kind ``digits``: a long number in a resident's message is far more often personal than not.
- Digits may be grouped by one separator (space, dot, hyphen, dash): 138.1234.5678, 6-8-4 ID numbers.
- A bank card is 16-19 digits (optionally grouped) that pass the Luhn check.
- A room-level address is a building number with a room, with or without the unit (3栋2单元301室,
  12幢502, 3#501, B座1203, 3-2-301), a unit with a room (2单元502), or a bare room (301室, 1203房).
  A building or a stairwell alone (3栋, 5号楼1单元) is kept: it locates a problem shared by many
  households, not a person.
- A bare 8-digit number not starting with 0, 1 or 9 is a local landline unless it reads as a date
  (20261123); 7-digit numbers count only after 电话/座机/手机/联系/打.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

TAGS = {
    "mobile": "[手机号]",
    "landline": "[电话]",
    "id_card": "[身份证号]",
    "bank_card": "[银行卡号]",
    "digits": "[长数字]",
    "plate": "[车牌号]",
    "address": "[门牌号]",
    "email": "[邮箱]",
    "im": "[社交账号]",
}

_INVISIBLE_RE = re.compile(
    "[\u00ad\u034f\u061c\u115f\u1160\u17b4\u17b5\u180e\u200b-\u200f\u202a-\u202e\u2060-\u206f\ufeff]"
)
_CN_DIGITS = {
    "零": "0", "〇": "0", "○": "0", "一": "1", "幺": "1", "壹": "1", "二": "2", "两": "2", "贰": "2",
    "三": "3", "叁": "3", "四": "4", "肆": "4", "五": "5", "伍": "5", "六": "6", "陆": "6", "七": "7",
    "柒": "7", "八": "8", "捌": "8", "九": "9", "玖": "9",
}  # fmt: skip
_CN_ONE_TO_NINE = "一二三四五六七八九两壹贰叁肆伍陆柒捌玖"
# 十二 → 12, 二十 → 20, 二十三 → 23 (a digit-by-digit reading never contains 十)
_CN_TENS_RE = re.compile(rf"([{_CN_ONE_TO_NINE}]?)[十拾]([{_CN_ONE_TO_NINE}]?)")
_SEP = r"[-.\s—–·_]"  # one grouping separator between digits
_D = rf"\d(?:{_SEP}?\d)"  # helper: a digit followed by more, optionally grouped

_MOBILE_RE = re.compile(rf"(?<![\d+])(?<!\d{_SEP})(?:\+?86{_SEP}?)?1[3-9]\d(?:{_SEP}?\d){{8}}(?!{_SEP}?\d)")
_LANDLINE_RE = re.compile(
    r"(?<!\d)(?:[(（]0\d{2,3}[)）]\s?|0\d{2,3}[-\s—])\d{3,4}[-\s]?\d{4}(?:-\d{1,4})?(?!\d)"
    r"|(?<!\d)0(?:10|2\d|[3-9]\d{2})\d{7,8}(?!\d)"
    r"|(?<![\d.\-/:])(?<!\d\s)(?!20\d\d[01]\d[0-3]\d)[2-8]\d{3}[-\s]?\d{4}(?![\d.%]|\s?\d|\s?(?:元|块|万|米|平|人|户|次|年|号|件|kg|km))"
    r"|(?:电话|座机|手机|联系|打)[^\d\n]{0,3}?(?P<v>\d{3,4}[-\s]?\d{4})(?![\d.])"
)
_LONG_RE = re.compile(
    rf"(?<![\dA-Za-z])(?<!\d{_SEP})\d(?:{_SEP}?\d){{11,18}}(?:{_SEP}?[Xx])?(?![\dA-Za-z])(?!{_SEP}\d)"
)
_PROVINCES = "京津沪渝冀豫云辽黑湘皖鲁新苏浙赣鄂桂甘晋蒙陕吉闽贵粤青藏川宁琼"
_PLATE_RE = re.compile(
    rf"[{_PROVINCES}]\s?[A-HJ-NP-Za-hj-np-z]\s?[·•\-\s]?\s?"
    r"(?:[A-HJ-NP-Za-hj-np-z0-9]{6}|[A-HJ-NP-Za-hj-np-z0-9]{4}[A-HJ-NP-Za-hj-np-z0-9挂学警])(?![A-Za-z0-9])"
)
_BUILDING = r"(?:\d{1,4}\s?(?:号楼|栋|幢|座|号院|号?楼|#|＃)|[A-Za-z]\s?(?:座|栋|区|幢))"
_UNIT = r"\d{1,3}\s?(?:单元|门|号门)"
_ROOM_SUFFIX = r"(?:室|号房?|房(?![租价款贷产本屋])|户)"
_ROOM = rf"\d{{3,4}}\s?{_ROOM_SUFFIX}?"
_ADDRESS_RE = re.compile(
    rf"{_BUILDING}[-—\s]?(?:{_UNIT}[-—\s]?)?{_ROOM}(?!\d)"
    rf"|(?<![\d-])\d{{1,3}}[-—]\d{{1,2}}[-—]\d{{3,4}}(?![\d-])"
    rf"|{_UNIT}[-—\s]?\d{{3,4}}\s?{_ROOM_SUFFIX}?(?!\d)"
    r"|(?<!\d)\d{3,4}\s?(?:室|房间|号房|房(?![租价款贷产本屋]))"
)
_EMAIL_RE = re.compile(r"[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}")
_IM_RE = re.compile(
    r"(?:QQ|qq|扣扣|微信号?|vx|VX|wx|WX|weixin)\s?(?:号)?[：:\s]*(?P<v>[A-Za-z][-_A-Za-z0-9]{5,19}|\d{5,12})(?![-_A-Za-z0-9])"
)
_ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_DETECTORS: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("mobile", _MOBILE_RE),
    ("landline", _LANDLINE_RE),
    ("plate", _PLATE_RE),
    ("address", _ADDRESS_RE),
    ("email", _EMAIL_RE),
    ("im", _IM_RE),
)
_ORDER = {
    k: i
    for i, k in enumerate(
        ("id_card", "bank_card", "digits", "mobile", "email", "im", "landline", "plate", "address")
    )
}


@dataclass(frozen=True)
class PiiSpan:
    """One piece of personal data: its kind, character offsets in the original text and the matched text."""

    kind: str
    start: int
    end: int
    text: str


def id_checksum_ok(number: str) -> bool:
    """True for an 18-character PRC resident ID number whose GB 11643 check character is right."""
    if len(number) != 18 or not number[:17].isdigit() or number[0] == "0":
        return False
    total = sum(int(d) * w for d, w in zip(number[:17], _ID_WEIGHTS, strict=True))
    return "10X98765432"[total % 11] == number[17].upper()


def luhn_ok(number: str) -> bool:
    """True when a digit string passes the Luhn check used by bank cards."""
    if not number.isdigit():
        return False
    total = 0
    for i, ch in enumerate(reversed(number)):
        d = int(ch)
        if i % 2 == 1:
            d = d * 2 - 9 if d > 4 else d * 2
        total += d
    return total % 10 == 0


def _long_kind(raw: str) -> str:
    digits = re.sub(_SEP, "", raw)
    if id_checksum_ok(digits):
        return "id_card"
    if 16 <= len(digits) <= 19 and luhn_ok(digits):
        return "bank_card"
    return "digits"


def _cn_tens(m: re.Match[str]) -> str:
    tens = _CN_DIGITS[m.group(1)] if m.group(1) else "1"
    ones = _CN_DIGITS[m.group(2)] if m.group(2) else "0"
    return tens + ones


def shadow(text: str) -> tuple[str, list[int], list[int]]:
    """The detection form of text, and for each of its characters the original [start, end) it came from.

    Chinese numerals and Arabic digits that touch (张三13812345678) are kept apart by a NUL: nobody
    writes one number in two scripts, but names and counts do end in 三 or 五.
    """
    pieces: list[str] = []
    starts: list[int] = []
    ends: list[int] = []
    last_cn: bool | None = None  # script of the digit just emitted, None after a non-digit

    def emit(piece: str, start: int, end: int, cn: bool) -> None:
        nonlocal last_cn
        is_digit = piece.isdigit()
        if is_digit and last_cn is not None and last_cn != cn:
            pieces.append("\0")
            starts.append(start)
            ends.append(start)
        for ch in piece:
            pieces.append(ch)
            starts.append(start)
            ends.append(end)
        if piece:
            last_cn = cn if is_digit else None

    def emit_char(i: int) -> None:
        ch = text[i]
        emit(_shadow_char(ch), i, i + 1, ch in _CN_DIGITS)

    pos = 0
    for m in _CN_TENS_RE.finditer(text):
        for i in range(pos, m.start()):
            emit_char(i)
        emit(_cn_tens(m), m.start(), m.end(), True)
        pos = m.end()
    for i in range(pos, len(text)):
        emit_char(i)
    return "".join(pieces), starts, ends


def _shadow_char(ch: str) -> str:
    if ch.isascii():
        return ch
    if ch in _CN_DIGITS:
        return _CN_DIGITS[ch]
    if _INVISIBLE_RE.match(ch):
        return ""
    folded = unicodedata.normalize("NFKC", ch)
    digits = [unicodedata.decimal(c, None) for c in folded]
    if any(d is not None for d in digits):
        # ⑳ → "20", ⑴ → "1", 𝟏 → "1", ٣ → "3": keep the digits, drop the decoration
        return "".join(str(d) for d in digits if d is not None)
    return folded


def find(text: str) -> list[PiiSpan]:
    """All personal-data spans in text (offsets into the original), non-overlapping, in order."""
    if not text:
        return []
    norm, starts, ends = shadow(text)
    found: list[tuple[str, int, int]] = []
    for m in _LONG_RE.finditer(norm):
        found.append((_long_kind(m.group()), m.start(), m.end()))
    for kind, regex in _DETECTORS:
        for m in regex.finditer(norm):
            start, end = (m.start("v"), m.end("v")) if "v" in regex.groupindex and m.group("v") else m.span()
            if kind == "plate" and not any(c.isdigit() for c in m.group()):
                continue
            found.append((kind, start, end))
    # Earlier detectors win ties: long numbers before phones, so an ID is never split into a phone.
    found.sort(key=lambda s: (s[1], -(s[2] - s[1]), _ORDER[s[0]]))
    spans: list[PiiSpan] = []
    for kind, s, e in found:
        if s >= e:
            continue
        start, end = starts[s], ends[e - 1]
        if spans and start < spans[-1].end:
            continue
        spans.append(PiiSpan(kind, start, end, text[start:end]))
    return spans


def mask(text: str) -> str:
    """Text with every personal-data span replaced by a tag such as [手机号] or [门牌号]."""
    spans = find(text)
    if not spans:
        return text
    out, pos = [], 0
    for span in spans:
        out.append(text[pos : span.start])
        out.append(TAGS[span.kind])
        pos = span.end
    out.append(text[pos:])
    return "".join(out)


def mask_name(name: str | None) -> str | None:
    """A display name as stored and shown: the same rules as any text (张阿姨13812345678 → 张阿姨[手机号])."""
    return mask(name) if name else name

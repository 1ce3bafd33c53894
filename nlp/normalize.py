"""Text normalisation for WeChat group messages: width, script, emoji, placeholders, mentions, quotes."""

from __future__ import annotations

import re
import threading
import unicodedata
from typing import Any

MAX_LEN = 2000

# WeChat renders a quoted reply as 「name：original」, a dashed rule, then the reply.
_QUOTE_RE = re.compile(r"「[^「」]{0,2000}?[：:][^「」]{0,2000}」\s*(?:-\s*){3,}\s*", re.S)
_QUOTE_TRAILING_RE = re.compile(r"\s*(?:-\s*){3,}\s*「[^「」]{0,2000}?[：:][^「」]{0,2000}」\s*$", re.S)
_QUOTE_BARE_RE = re.compile(r"「[^「」]{1,40}[：:][^「」]{0,2000}」")
# Placeholders for non-text messages and WeChat's own emoji codes: [图片] [语音] [强] [捂脸] [OK]
# A shared card from an app (「[视频号] 某地一商铺起火」, [链接]) is someone else's post: read as 转发, not dropped, so a
# danger word in its title is news, not a report (urgency._FICTION_RE, forms._NOTICE_HEAD_RE).
_SHARE_RE = re.compile(
    r"\[(?:链接|视频号|抖音|快手|小红书|微博|公众号|头条|今日头条|西瓜视频|B站|b站|哔哩哔哩|小程序|直播|分享|转发|视频)\]"
)
_PLACEHOLDER_RE = re.compile(r"\[[\u4e00-\u9fffA-Za-z]{1,4}\]|\[[\u4e00-\u9fff]{1,4}\]x\d+")
# @-mentions end at WeChat's U+2005 separator, whitespace or the end of the message.
# A name never contains punctuation, so 「@网格员，怎么申请」 keeps its question.
_MENTION_RE = re.compile(
    r"(?:(?<=^)|(?<=[\s\u2005,，。!！?？:：]))@[^\s\u2005@,，。.!！?？:：;；]{1,24}(?:[\u2005\s]+|(?=[,，。.!！?？:：;；])|$)"
)
_EMOJI_RE = re.compile(
    "["
    "\U0001f000-\U0001faff"  # pictographs, emoticons, transport, flags, supplemental symbols
    "\U0001fc00-\U0001ffff"
    "\u2600-\u27bf"  # misc symbols and dingbats
    "\u2b00-\u2bff"  # stars, arrows
    "\u2300-\u23ff"  # watch, hourglass, alarm clock
    "\u3030\u303d\u3297\u3299"
    "\ufe00-\ufe0f"  # variation selectors
    "\U000e0000-\U000e007f"  # tag characters
    "\u20e3"  # keycap
    "]+"
)
_ZERO_WIDTH_RE = re.compile("[\u200b-\u200f\u202a-\u202e\u2060-\u2064\ufeff\u00ad]")
_SPACE_RE = re.compile(r"\s+")
# A message typed one character at a time with spaces between (「隔 壁 在 砸 墙」, 「困 在 12 楼 和 13 楼 中 间」): the
# same words (TAXONOMY rule 11) once at least four words and three in four are single Chinese characters.
# 「火 火 火」, 「收到 收到」 and 「电梯 坏 了 没人 修」 keep their spaces.
SPACED_MIN_WORDS = 4
SPACED_SHARE = 0.75


def _join_spaced(text: str) -> str:
    """Join a message typed one character at a time; numbers and Latin words keep a space between them."""
    words = text.split(" ")
    singles = sum(len(w) == 1 and "\u4e00" <= w <= "\u9fff" for w in words)
    if len(words) < SPACED_MIN_WORDS or singles < SPACED_SHARE * len(words):
        return text
    out = words[0]
    for w in words[1:]:
        latin = out[-1:].isascii() and out[-1:].isalnum() and w[:1].isascii() and w[:1].isalnum()
        out += f" {w}" if latin else w
    return out


_converter: Any = None
_lock = threading.Lock()


def _opencc() -> Any:
    global _converter
    if _converter is None:
        with _lock:
            if _converter is None:
                import opencc

                _converter = opencc.OpenCC("t2s")
    return _converter


def to_simplified(text: str) -> str:
    """Traditional → Simplified Chinese with OpenCC (t2s), loaded once."""
    return str(_opencc().convert(text)) if text else text


def strip_quote(text: str) -> str:
    """Drop a WeChat quoted message and keep the reply written under (or above) it."""
    text = _QUOTE_RE.sub("", text)
    text = _QUOTE_TRAILING_RE.sub("", text)
    stripped = _QUOTE_BARE_RE.sub(" ", text)
    return stripped if stripped.strip() else text


def strip_mentions(text: str) -> str:
    """Remove @-mentions (``@网格员小王\u2005``)."""
    return _MENTION_RE.sub(" ", text)


def remove_emoji(text: str) -> str:
    """Remove emoji, pictographs, variation selectors and zero-width characters."""
    return _EMOJI_RE.sub(" ", _ZERO_WIDTH_RE.sub("", text))


def _drop_controls(text: str) -> str:
    return "".join(" " if unicodedata.category(ch) in ("Cc", "Cs", "Co", "Cn") else ch for ch in text)


def normalize(text: str | None, max_len: int = MAX_LEN) -> str:
    """Normalise a message for classification: one line of simplified, half-width text without noise."""
    if not text:
        return ""
    text = text[: max_len * 4]  # bound the work on pathological input before the cheap passes
    text = _ZERO_WIDTH_RE.sub("", text)
    text = strip_quote(text)
    text = strip_mentions(text)
    text = unicodedata.normalize("NFKC", text)
    text = _SHARE_RE.sub(" 转发 ", text)
    text = _PLACEHOLDER_RE.sub(" ", text)
    text = _EMOJI_RE.sub(" ", text)
    if not text.isprintable():
        text = _drop_controls(text)
    text = to_simplified(text)
    text = _SPACE_RE.sub(" ", text).strip()
    if " " in text:
        text = _join_spaced(text)
    return text[:max_len]

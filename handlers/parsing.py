"""Turning a chat line into a command word and its arguments (full- and half-width alike)."""

from __future__ import annotations

import re
from dataclasses import dataclass

# (?!\d): a longer (forged) number is no ticket at all, never its first nine digits
TICKET_REF = re.compile(r"#\s*(\d{1,9})(?!\d)")
BARE_NUMBER = re.compile(r"^(\d{1,9})(?:\s|$)")
AT_NAME = re.compile(r"@([^\s@\u2005]+)")
MAX_COMMAND_LEN = 2000


@dataclass(frozen=True)
class Args:
    """What follows a command word: ticket numbers, free text, and @-mentioned names."""

    tickets: tuple[int, ...]
    text: str
    at_names: tuple[str, ...]


# Only what commands are matched on is folded: Chinese punctuation in a reply stays as typed.
_FOLD = str.maketrans(
    {"＃": "#", "＠": "@", "\u3000": " ", "\u2005": " ", **{chr(0xFF10 + i): str(i) for i in range(10)}}
)


def canonical(text: str) -> str:
    """Fold full-width ＃, ＠, digits and spaces to half-width and trim."""
    return text.translate(_FOLD).strip()


def split_command(text: str, words: dict[str, str]) -> tuple[str, str] | None:
    """Match the longest command word (or alias) at the start; return (command name, the rest)."""
    line = canonical(text)
    if not line or len(line) > MAX_COMMAND_LEN:
        return None
    for word in sorted(words, key=len, reverse=True):
        if line.startswith(word):
            rest = line[len(word) :]
            if not rest or rest[0].isspace() or rest[0] == "#" or rest[0].isdigit():
                return words[word], rest.strip()
    return None


def parse_args(rest: str) -> Args:
    """Pull ticket numbers (#42, or a bare leading 42) and @names out of the argument text."""
    tickets = [int(m) for m in TICKET_REF.findall(rest)]
    text = TICKET_REF.sub(" ", rest)
    if not tickets and (m := BARE_NUMBER.match(text.strip())):
        tickets.append(int(m.group(1)))
        text = text.strip()[len(m.group(1)) :]
    names = tuple(AT_NAME.findall(text))
    text = AT_NAME.sub(" ", text)
    return Args(tickets=tuple(tickets), text=" ".join(text.split()), at_names=names)


def ticket_in(text: str | None) -> int | None:
    """The first #number in a text (used for quote-replies to the bot's ticket messages)."""
    if not text:
        return None
    m = TICKET_REF.search(canonical(text))
    return int(m.group(1)) if m else None

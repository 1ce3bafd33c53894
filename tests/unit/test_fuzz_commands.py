"""Hypothesis: the command parser, argument parsing and the text passes run before the error boundary.

Whatever a group member types, parsing never raises; a command's own checks raise only the project's
user error (CommandError, with a Chinese message); ticket numbers are bounded and never a cut-off
piece of a longer (forged) number.
"""

from __future__ import annotations

import re
from types import SimpleNamespace
from typing import cast

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from gridbot.bot.wechaty_messages import split_quote
from gridbot.handlers import commands
from gridbot.handlers.commands import COMMANDS, Command, find, looks_deliberate, ticket_arg
from gridbot.handlers.context import CommandError, Context
from gridbot.handlers.parsing import MAX_COMMAND_LEN, canonical, parse_args, split_command, ticket_in
from gridbot.nlp.normalize import MAX_LEN, normalize
from gridbot.nlp.pii import mask
from gridbot.nlp.taxonomy import Taxonomy, load_taxonomy
from tests.hostile import (
    FORGED_NUMBERS,
    FUZZ,
    SQL,
    any_char,
    assert_user_text,
    command_line,
    command_word,
    forged_ref,
    hostile,
    nested_quotes,
    oversized,
    oversized_seed,
    widen,
)

MAX_TICKET = 999_999_999
WIDE_CHARS = "＃＠\u3000\u2005０１２３４５６７８９"
DIGIT_RUN = re.compile(r"\d+")


def check_args_bounded(rest: str) -> None:
    """parse_args on `rest`: typed, bounded, whitespace-normalised, numbers whole digit runs of `rest`."""
    args = parse_args(rest)
    assert all(type(n) is int and 0 <= n <= MAX_TICKET for n in args.tickets)
    assert len(args.tickets) <= len(rest) // 2 + 1
    assert args.text == " ".join(args.text.split()) and len(args.text) <= len(rest)
    assert all(name and "@" not in name and not any(c.isspace() for c in name) for name in args.at_names)
    whole_runs = {int(run) for run in DIGIT_RUN.findall(rest) if len(run) <= 9}
    assert set(args.tickets) <= whole_runs, "a ticket number is a piece of a longer number"


@FUZZ
@given(st.one_of(hostile, st.text(any_char, max_size=50).map(lambda s: s + WIDE_CHARS)))
def test_canonical_folds_wide_characters_and_is_idempotent(text: str) -> None:
    once = canonical(text)
    assert canonical(once) == once
    assert once == once.strip()
    assert not set(once) & set(WIDE_CHARS)


@FUZZ
@given(st.one_of(hostile, command_line))
@example("办结＃１２ 好了")
@example("查 '; DROP TABLE tickets;--")
def test_find_never_raises_and_returns_a_registered_command(text: str) -> None:
    found = find(text)
    if found is None:
        return
    cmd, rest = found
    assert COMMANDS[cmd.name] is cmd
    line = canonical(text)
    assert any(line.startswith(w) for w in (cmd.name, *cmd.aliases))
    assert line.endswith(rest) and rest == rest.strip() and len(rest) < MAX_COMMAND_LEN
    check_args_bounded(rest)
    looks_deliberate(rest)


@settings(FUZZ, max_examples=25)
@given(oversized_seed)
def test_a_100_kB_message_is_never_a_command_and_parses_in_bounds(seed: tuple[str, str]) -> None:
    text = oversized(seed)
    assert len(text) == 100_000
    assert find(text) is None
    assert split_command(text, commands.words()) is None
    check_args_bounded(canonical(text))  # the regexes stay linear on 100 kB
    assert len(normalize(text)) <= MAX_LEN


@FUZZ
@given(
    command_word,
    st.sampled_from(("#", "＃", "# ", "＃\u3000", "##", "")),
    st.one_of(st.sampled_from(FORGED_NUMBERS), st.integers(0, 10**30)),
    st.booleans(),
)
@example("接单", "#", 1234567890, False)
@example("办结", "＃", 12345678901, True)
def test_a_forged_number_names_exactly_that_ticket_or_none(
    word: str, prefix: str, number: int, wide: bool
) -> None:
    digits = widen(str(number)) if wide else str(number)
    found = find(f"{word} {prefix}{digits} 已处理")
    assert found is not None
    assert parse_args(found[1]).tickets == ((number,) if number <= MAX_TICKET else ())


@FUZZ
@given(command_word, forged_ref)
def test_any_forged_reference_parses_in_bounds(word: str, ref: str) -> None:
    found = find(f"{word} {ref}")
    assert found is not None
    check_args_bounded(found[1])
    if ref.lstrip("#＃+ \u3000\u200b").startswith("-"):  # a negative number is no ticket
        assert parse_args(found[1]).tickets == ()


@pytest.mark.parametrize("number", ["1234567890", "9999999999999999999999", "00000000012"])
def test_a_number_longer_than_a_ticket_number_is_refused_not_truncated(number: str) -> None:
    for text in (f"#{number}", f"＃{widen(number)}", f"# {number} 已修好", number):
        assert parse_args(canonical(text)).tickets == ()
    assert ticket_in(f"工单 #{number} 已受理") is None


@FUZZ
@given(nested_quotes)
def test_quote_replies_split_and_name_tickets_safely(text: str) -> None:
    quote = split_quote(text)
    if quote is not None:
        assert quote.reply in text and quote.quoted_text in text
        find(quote.reply)
        number = ticket_in(quote.quoted_text)
        assert number is None or 0 <= number <= MAX_TICKET
    number = ticket_in(text)
    assert number is None or 0 <= number <= MAX_TICKET


def stub_context(quoted: str | None) -> Context:
    """Just enough Context for `ticket_arg`, which reads only the quoted text."""
    return cast(Context, SimpleNamespace(msg=SimpleNamespace(quoted_text=quoted)))


@FUZZ
@given(st.sampled_from(sorted(COMMANDS.values(), key=lambda c: c.name)), hostile, st.none() | nested_quotes)
def test_ticket_arguments_are_a_bounded_number_or_a_chinese_usage_error(
    cmd: Command, rest: str, quoted: str | None
) -> None:
    args = parse_args(canonical(rest))
    try:
        number = ticket_arg(stub_context(quoted), cmd, args)
    except CommandError as exc:
        assert exc.user_message.startswith("格式不对。用法：")
        assert_user_text(exc.user_message)
    else:
        assert 0 <= number <= MAX_TICKET


@pytest.fixture(scope="module")
def taxonomy() -> Taxonomy:
    """The shipped taxonomy."""
    return load_taxonomy()


@settings(FUZZ, max_examples=150)
@given(label=st.one_of(hostile, st.sampled_from(SQL)))
def test_an_unknown_category_is_a_chinese_user_error(taxonomy: Taxonomy, label: str) -> None:
    ctx = cast(Context, SimpleNamespace(taxonomy=taxonomy))
    try:
        kind, category, shown = Context.category_of(ctx, label)
    except CommandError as exc:
        assert_user_text(exc.user_message, said=label)
    else:
        assert category in taxonomy.category_ids and shown == taxonomy.label(category)


@FUZZ
@given(st.one_of(hostile, st.sampled_from(SQL)))
def test_the_stored_copy_is_made_without_raising(text: str) -> None:
    # normalize and mask run in the persist step, before the error boundary: they must not raise
    stored = mask(normalize(text))
    assert len(stored) <= 2 * MAX_LEN
    assert "\x00" not in stored


@pytest.mark.parametrize("sql", SQL)
def test_sql_looking_text_is_plain_data(sql: str) -> None:
    found = find(f"回复 #7 {sql}")
    assert found is not None and found[0].name == "回复"
    args = parse_args(found[1])
    assert args.tickets[0] == 7
    assert args.text.replace(" ", "") in sql.replace(" ", "") or args.at_names

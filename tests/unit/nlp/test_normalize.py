from __future__ import annotations

import pytest

from gridbot.nlp.normalize import normalize, strip_quote


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("３栋电梯坏了！", "3栋电梯坏了!"),  # full width → half width
        ("電梯壞了，樓道燈不亮", "电梯坏了,楼道灯不亮"),  # Traditional → Simplified
        ("@网格员小王\u20053栋漏水", "3栋漏水"),  # @-mention with WeChat's U+2005
        ("@张三 @李四 收到", "收到"),
        ("收到[强][强]", "收到"),  # WeChat emoji codes
        ("[图片]", ""),
        ("[语音]", ""),
        ("楼道好黑😓😓👍🏻", "楼道好黑"),  # emoji with skin-tone modifier
        ("楼\u200b道\u200d灯\ufeff坏了", "楼道灯坏了"),  # zero-width characters
        ("垃圾\x00没人\x07收\x1b", "垃圾 没人 收"),  # control characters
        ("  好的\n\n谢谢\t ", "好的 谢谢"),
    ],
)
def test_normalize_cases(raw: str, expected: str) -> None:
    assert normalize(raw) == expected


def test_quoted_reply_keeps_only_the_reply() -> None:
    quoted = "「张三：5栋电梯又停了」\n- - - - - - - - - - - - - - -\n我们单元的也停了"
    assert normalize(quoted) == "我们单元的也停了"
    assert "张三" not in strip_quote(quoted)


def test_email_is_not_a_mention() -> None:
    assert "a@b.com" in normalize("邮箱是a@b.com")


@pytest.mark.parametrize("raw", [None, "", "   ", "😀🙏👍", "[动画表情]", "\x00\x01\x02"])
def test_empty_results(raw: str | None) -> None:
    assert normalize(raw) == ""


def test_length_cap() -> None:
    assert len(normalize("楼" * 5000, max_len=2000)) == 2000

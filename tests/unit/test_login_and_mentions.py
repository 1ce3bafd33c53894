"""The login QR code in status and log, and @-mentions resolved against a room's member list."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from gridbot.bot.transport import TransportStatus
from gridbot.bot.watchdog import assess
from gridbot.bot.wechaty_messages import resolve_mentions
from gridbot.bot.wechaty_transport import qr_link, terminal_qr
from gridbot.models.entities import BotState
from gridbot.models.tickets.sla import load_policy

NOW = datetime(2026, 12, 2, 2, 0, tzinfo=UTC)


def test_a_shown_qr_code_is_waiting_scan_with_its_link() -> None:
    cal = load_policy().calendar
    status = TransportStatus(
        name="wechaty", connected=True, login_url=qr_link("https://login.weixin.qq.com/l/abc")
    )
    health = assess(status, NOW, NOW - timedelta(minutes=1), cal, timedelta(hours=2))
    assert health.state is BotState.WAITING_SCAN and health.login_url == status.login_url
    assert health.login_url.startswith("https://wechaty.js.org/qrcode/https%3A%2F%2Flogin.weixin.qq.com")
    status.logged_in, status.login_url = True, None
    assert assess(status, NOW, NOW, cal, timedelta(hours=2)).state is BotState.ONLINE
    status.logged_in = False  # logged out later, no new code yet
    assert assess(status, NOW, NOW, cal, timedelta(hours=2)).state is BotState.LOGGED_OUT


def test_the_terminal_qr_is_drawn_offline() -> None:
    drawn = terminal_qr("https://login.weixin.qq.com/l/abc")
    rows = drawn.strip("\n").splitlines()
    assert len(rows) > 10 and {"█", "▀", "▄"} & set(drawn)


MEMBERS = [
    ("wxid_a", "李明", ""),
    ("wxid_b", "Lily", "李明"),  # calls herself 李明 in this room
    ("wxid_c", "老周", "周师傅"),
]


def test_explicit_mentions_are_taken_by_id_with_the_room_name() -> None:
    assert resolve_mentions("设网格员 @周师傅", ("wxid_c",), MEMBERS) == (("wxid_c", "周师傅"),)


def test_a_typed_name_matches_room_and_wechat_names_and_keeps_clashes() -> None:
    assert resolve_mentions("设网格员 @老周", (), MEMBERS) == (("wxid_c", "周师傅"),)
    assert resolve_mentions("设网格员 @李明", (), MEMBERS) == (("wxid_a", "李明"), ("wxid_b", "李明"))
    assert resolve_mentions("设网格员 @王五", (), MEMBERS) == ()

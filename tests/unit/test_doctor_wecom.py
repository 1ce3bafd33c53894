"""`gridbot doctor` checks the WeCom settings only where WeCom is used, each line naming the setting."""

from __future__ import annotations

from gridbot.doctor import Level, check_wecom
from gridbot.models.settings import Settings, WeComSettings


def test_no_wecom_lines_for_a_wechaty_deployment() -> None:
    assert check_wecom(Settings()) == []


def test_a_wrong_wecom_setting_fails_with_its_name() -> None:
    settings = Settings(wecom=WeComSettings(bot_id="bot-1", bot_ws_url="ws://example.invalid"))
    checks = check_wecom(settings)
    assert {c.name for c in checks} == {"企业微信"}
    failed = [c.detail for c in checks if c.level is Level.FAIL]
    assert any("GRIDBOT_WECOM__BOT_WS_URL" in line for line in failed)
    assert any("BOT_SECRET" in line for line in failed)  # an id without its secret

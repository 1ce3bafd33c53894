"""check_wecom_settings: offline checks that name the setting and the fix."""

from __future__ import annotations

from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

pytest.importorskip("aibot", reason="the wecom extra is not installed")

from gridbot.bot.wecom.setup import check_wecom_settings  # noqa: E402
from gridbot.models.settings import Settings, WeComSettings  # noqa: E402


def settings(**wecom: object) -> Settings:
    return Settings(_env_file=None, wecom=WeComSettings(**wecom))


def failures(s: Settings) -> list[str]:
    return [line for ok, line in check_wecom_settings(s) if not ok]


def test_nothing_configured_names_the_bot_settings() -> None:
    bad = failures(settings())
    assert any("GRIDBOT_WECOM__BOT_ID" in line for line in bad)
    assert all("ARCHIVE" not in line for line in bad)  # the archive is optional


def test_a_complete_setup_passes(tmp_path: Path) -> None:
    key = tmp_path / "archive.pem"
    pem = rsa.generate_private_key(public_exponent=65537, key_size=2048).private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.TraditionalOpenSSL,
        serialization.NoEncryption(),
    )
    key.write_bytes(pem)
    key.chmod(0o600)
    s = settings(
        corp_id="ww1",
        bot_id="b",
        bot_secret="s",
        archive_secret="a",
        archive_private_key_file=key,
        agent_id=1000002,
        app_secret="x",
    )
    assert failures(s) == []


@pytest.mark.parametrize(
    ("wecom", "expected"),
    [
        ({"bot_id": "b", "bot_secret": "s", "bot_ws_url": "ws://openws.work.weixin.qq.com"}, "BOT_WS_URL"),
        ({"bot_id": "b", "bot_secret": "s", "archive_secret": "a"}, "CORP_ID"),
        (
            {"bot_id": "b", "bot_secret": "s", "archive_secret": "a", "corp_id": "w"},
            "ARCHIVE_PRIVATE_KEY_FILE",
        ),
        ({"bot_id": "b", "bot_secret": "s", "agent_id": 1}, "APP_SECRET"),
        ({"bot_id": "b", "bot_secret": "s", "api_base": "qyapi"}, "API_BASE"),
    ],
)
def test_each_mistake_is_one_line_naming_the_setting(wecom: dict[str, object], expected: str) -> None:
    bad = failures(settings(**wecom))
    assert bad and expected in bad[0]
    assert all("GRIDBOT_WECOM__" in line for line in bad) and len(bad) <= 2


def test_an_unreadable_or_keyless_key_file(tmp_path: Path) -> None:
    empty = tmp_path / "empty.pem"
    empty.write_text("not a key")
    bad = failures(
        settings(bot_id="b", bot_secret="s", corp_id="w", archive_secret="a", archive_private_key_file=empty)
    )
    assert len(bad) == 1 and "RSA 私钥" in bad[0]
    loose = tmp_path / "loose.pem"
    loose.write_bytes(
        rsa.generate_private_key(public_exponent=65537, key_size=2048).private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
    )
    loose.chmod(0o644)
    bad = failures(
        settings(bot_id="b", bot_secret="s", corp_id="w", archive_secret="a", archive_private_key_file=loose)
    )
    assert len(bad) == 1 and "chmod 600" in bad[0]

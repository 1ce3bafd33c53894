"""Build the WeCom transport from settings (`gridbot run --transport wecom`), and the offline checks
of its settings (`check_wecom_settings`, for `gridbot doctor`)."""

from __future__ import annotations

import importlib.util
import os
from urllib.parse import urlparse

from sqlalchemy.orm import Session, sessionmaker

from gridbot.bot.transport import TransportError
from gridbot.bot.wecom.finance import ArchiveError, FinanceSdk, KeyRing, default_library
from gridbot.bot.wecom.transport import WeComTransport
from gridbot.models.settings import Settings


def build_transport(settings: Settings, sessions: sessionmaker[Session]) -> WeComTransport:
    """The WeCom transport; with the archive configured, its Finance SDK and private keys loaded."""
    w = settings.wecom
    source = keys = None
    if w.archive_secret is not None:
        if not w.corp_id or w.archive_private_key_file is None:
            raise TransportError(
                "会话存档需要 GRIDBOT_WECOM__CORP_ID 和 GRIDBOT_WECOM__ARCHIVE_PRIVATE_KEY_FILE（与管理后台公钥对应的私钥）"
            )
        try:
            keys = KeyRing.from_file(w.archive_private_key_file)
            source = FinanceSdk(
                w.corp_id,
                w.archive_secret.get_secret_value(),
                w.archive_sdk_path,
                timeout_s=w.archive_timeout_s,
                proxy=w.archive_proxy,
            )
        except ArchiveError as exc:
            raise TransportError(str(exc)) from None
    return WeComTransport(settings, sessions, source=source, keys=keys)


def check_wecom_settings(settings: Settings) -> list[tuple[bool, str]]:
    """Offline checks of the WeCom settings: (ok, one line naming the setting and the fix)."""
    w = settings.wecom
    out: list[tuple[bool, str]] = []

    def add(ok: bool, good: str, bad: str) -> None:
        out.append((ok, good if ok else bad))

    add(
        importlib.util.find_spec("aibot") is not None,
        "企业微信智能机器人 SDK 已安装",
        "未安装 wecom-aibot-python-sdk：pip install 'gridbot[wecom]'",
    )
    add(
        bool(w.bot_id) and w.bot_secret is not None,
        "GRIDBOT_WECOM__BOT_ID / BOT_SECRET 已设置",
        "GRIDBOT_WECOM__BOT_ID / BOT_SECRET 未设置：管理后台「智能机器人」以长连接方式创建后填入",
    )
    url = urlparse(w.bot_ws_url)
    add(
        url.scheme == "wss" and bool(url.hostname),
        f"GRIDBOT_WECOM__BOT_WS_URL = {w.bot_ws_url}",
        f"GRIDBOT_WECOM__BOT_WS_URL={w.bot_ws_url!r} 不是 wss:// 地址（SDK 只走 TLS），默认 wss://openws.work.weixin.qq.com",
    )
    if w.bot_ca_file is not None:
        add(
            w.bot_ca_file.is_file(),
            f"BOT_CA_FILE {w.bot_ca_file} 存在",
            f"GRIDBOT_WECOM__BOT_CA_FILE={w.bot_ca_file} 不存在",
        )
    if w.archive_secret is None:
        out.append((True, "会话存档未启用（未设置 GRIDBOT_WECOM__ARCHIVE_SECRET）：居民消息不会进入"))
    else:
        add(
            bool(w.corp_id),
            "GRIDBOT_WECOM__CORP_ID 已设置",
            "GRIDBOT_WECOM__CORP_ID 未设置：管理后台「我的企业」查看企业 ID",
        )
        key = w.archive_private_key_file
        if key is None:
            out.append(
                (
                    False,
                    "GRIDBOT_WECOM__ARCHIVE_PRIVATE_KEY_FILE 未设置：填与管理后台「消息加密公钥」对应的私钥文件",
                )
            )
        else:
            try:
                ring = KeyRing.from_file(key)
                mode = os.stat(key).st_mode & 0o077
                add(
                    mode == 0,
                    f"私钥文件 {key}：{len(ring.keys)} 把 RSA 私钥",
                    f"私钥文件 {key} 其他用户可读：chmod 600 {key}",
                )
            except ArchiveError as exc:
                out.append((False, str(exc)))
        try:
            lib = w.archive_sdk_path or default_library()
            add(
                lib.is_file(),
                f"会话存档 SDK 库 {lib}",
                f"找不到会话存档 SDK 库 {lib}：设置 GRIDBOT_WECOM__ARCHIVE_SDK_PATH",
            )
        except ArchiveError as exc:
            out.append((False, str(exc)))
    api = urlparse(w.api_base)
    add(
        api.scheme in ("https", "http") and bool(api.hostname),
        f"GRIDBOT_WECOM__API_BASE = {w.api_base}",
        f"GRIDBOT_WECOM__API_BASE={w.api_base!r} 不是 URL，默认 https://qyapi.weixin.qq.com",
    )
    if (w.agent_id is None) != (w.app_secret is None):
        out.append(
            (False, "GRIDBOT_WECOM__AGENT_ID 与 APP_SECRET 需同时设置（自建应用的 AgentId 和 Secret）")
        )
    elif w.agent_id is not None:
        out.append((True, f"自建应用 AgentId {w.agent_id}：应用消息与侧边栏可用"))
    else:
        out.append((True, "未配置自建应用（AGENT_ID/APP_SECRET）：无应用消息兜底，侧边栏不可用"))
    return out

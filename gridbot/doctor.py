"""`gridbot doctor`: each part of a deployment checked, one line each, with the fix when it fails."""

from __future__ import annotations

import socket
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from gridbot.models.settings import Settings


class Level(StrEnum):
    """How a check came out."""

    OK = "ok"
    WARN = "warn"
    FAIL = "fail"


MARK = {Level.OK: "✓", Level.WARN: "!", Level.FAIL: "✗"}


@dataclass(frozen=True)
class Check:
    """One line of the report: what, how it went, and what to do."""

    name: str
    level: Level
    detail: str
    fix: str = ""

    def line(self) -> str:
        """`✓ 数据库: ...` plus `→ fix` when there is one."""
        fix = f"  → {self.fix}" if self.fix and self.level is not Level.OK else ""
        return f"{MARK[self.level]} {self.name}：{self.detail}{fix}"


def check_database(settings: Settings) -> Check:
    """Reachable and migrated to this version's head."""
    from sqlalchemy.exc import ArgumentError, NoSuchModuleError

    from gridbot.models.db import DatabaseUnavailable, check_connection, make_engine
    from gridbot.models.migrate import current_revision, head_revision
    from gridbot.setup_errors import DB_URL_HELP

    try:
        engine = make_engine(settings.db)
    except (ArgumentError, NoSuchModuleError, ValueError):
        return Check("数据库", Level.FAIL, "GRIDBOT_DB__URL 不是有效的数据库地址", DB_URL_HELP)
    where = engine.url.render_as_string(hide_password=True)
    try:
        check_connection(engine)
        current, head = current_revision(engine), head_revision(engine)
    except DatabaseUnavailable as exc:
        return Check("数据库", Level.FAIL, str(exc), "启动数据库，或改正 GRIDBOT_DB__URL")
    finally:
        engine.dispose()
    if current is None:
        return Check("数据库", Level.FAIL, f"{where} 还没有建表", "运行 gridbot db upgrade")
    if current != head:
        return Check(
            "数据库", Level.FAIL, f"{where} 在版本 {current}，需要 {head}", "运行 gridbot db upgrade"
        )
    return Check("数据库", Level.OK, f"{where}，版本 {current}")


def check_redis(settings: Settings) -> Check:
    """Reachable when configured; optional otherwise."""
    if not settings.redis.url:
        return Check("Redis", Level.OK, "未配置（单实例运行无需 Redis）")
    import redis

    try:
        client = redis.Redis.from_url(settings.redis.url, socket_connect_timeout=2, socket_timeout=2)
        client.ping()
        client.close()
    except ValueError:
        return Check(
            "Redis",
            Level.FAIL,
            "GRIDBOT_REDIS__URL 不是 Redis 地址",
            "改为 redis://主机:6379/0，或删除该设置",
        )
    except (redis.RedisError, OSError) as exc:
        return Check(
            "Redis",
            Level.FAIL,
            f"连不上（{type(exc).__name__}）",
            "启动 Redis，或改正/删除 GRIDBOT_REDIS__URL",
        )
    return Check("Redis", Level.OK, "连接正常")


def check_calendar(settings: Settings, today: datetime) -> Check:
    """The SLA policy loads and its holiday list covers this year and the next."""
    from gridbot.models.tickets.holidays import covered_years, missing_years
    from gridbot.models.tickets.sla import SLAPolicyError, load_policy_for

    try:
        policy = load_policy_for(settings.sla)
    except SLAPolicyError as exc:
        return Check("节假日日历", Level.FAIL, str(exc), "改正 SLA 时限文件或节假日文件")
    day = today.astimezone(policy.calendar.tz).date()
    missing = missing_years(policy.calendar, day)
    have = "、".join(str(y) for y in sorted(covered_years(policy.calendar))) or "无"
    if not missing:
        return Check("节假日日历", Level.OK, f"已有 {have} 年的放假安排")
    fix = "国务院办公厅发布通知后运行 gridbot calendar import 文件.yaml"
    level = Level.FAIL if day.year in missing else Level.WARN
    years = "、".join(str(y) for y in missing)
    return Check("节假日日历", level, f"缺少 {years} 年的放假安排（已有：{have}），节假日会被当作工作日", fix)


def check_classifier(settings: Settings) -> Check:
    """The configured model loads."""
    from gridbot.nlp.classifier import load_classifier

    try:
        load_classifier(settings.nlp.model_dir, backend=settings.nlp.backend)
    except Exception as exc:  # any failure to load is the finding itself
        return Check(
            "分类模型",
            Level.FAIL,
            f"加载失败（{type(exc).__name__}: {str(exc)[:120]}）",
            "检查 GRIDBOT_NLP__MODEL_DIR，或删除它使用内置模型",
        )
    where = str(settings.nlp.model_dir) if settings.nlp.model_dir else "内置快速模型"
    return Check("分类模型", Level.OK, where)


def check_channel(settings: Settings) -> Check:
    """The Wechaty gateway endpoint is set and accepts connections."""
    endpoint = settings.wechaty.endpoint
    if not endpoint:
        return Check(
            "微信通道",
            Level.WARN,
            "未配置 GRIDBOT_WECHATY__ENDPOINT（只能用 console/demo）",
            "启动 docker/ 中的 Wechaty 网关并设置 GRIDBOT_WECHATY__ENDPOINT=主机:端口 和 GRIDBOT_WECHATY__TOKEN",
        )
    if settings.wechaty.token is None:
        return Check("微信通道", Level.FAIL, "缺少 GRIDBOT_WECHATY__TOKEN", "设置为网关的 WECHATY_TOKEN")
    host, _, port = endpoint.rpartition(":")
    if not host or not port.isdigit():
        return Check(
            "微信通道",
            Level.FAIL,
            f"GRIDBOT_WECHATY__ENDPOINT={endpoint!r} 不是 主机:端口",
            "例如 gateway:8788",
        )
    try:
        socket.create_connection((host, int(port)), timeout=3).close()
    except OSError as exc:
        return Check(
            "微信通道",
            Level.FAIL,
            f"连不上网关 {endpoint}（{exc.strerror or exc}）",
            "启动网关：docker compose up -d gateway",
        )
    return Check("微信通道", Level.OK, f"网关 {endpoint} 可连接")


def check_timezone(settings: Settings) -> Check:
    """The work-calendar time zone exists on this machine."""
    try:
        ZoneInfo(settings.sla.timezone)
    except (ZoneInfoNotFoundError, ValueError):
        return Check(
            "时区",
            Level.FAIL,
            f"GRIDBOT_SLA__TIMEZONE={settings.sla.timezone!r} 不存在",
            "使用 Asia/Shanghai；若仍失败请安装 tzdata（pip install tzdata）",
        )
    return Check("时区", Level.OK, settings.sla.timezone)


def check_bot(settings: Settings) -> Check:
    """The bot accounts' last recorded state (a QR code waiting to be scanned shows here)."""
    from gridbot.models.db import make_engine, make_session_factory
    from gridbot.models.messaging import bot_status

    try:
        engine = make_engine(settings.db)
        with make_session_factory(engine)() as session:
            rows = bot_status.read_all(session)
        engine.dispose()
    except Exception:  # the database check reports why
        return Check("机器人", Level.WARN, "无法读取状态（见数据库一项）")
    if not rows:
        return Check("机器人", Level.WARN, "还没有运行过", "gridbot run --transport wechaty")
    parts = [f"{r.account} {r.state.value}" for r in rows]
    waiting = [r for r in rows if r.state.value == "waiting_scan"]
    if waiting:
        return Check(
            "机器人", Level.WARN, "；".join(parts), "用机器人微信扫码登录：gridbot status 显示二维码链接"
        )
    bad = [r for r in rows if not r.logged_in]
    return Check(
        "机器人", Level.WARN if bad else Level.OK, "；".join(parts), "见 gridbot status" if bad else ""
    )


CHECKS: tuple[Callable[[Settings], Check], ...] = (
    check_database,
    check_redis,
    check_classifier,
    check_channel,
    check_timezone,
    check_bot,
)


def check_wecom(settings: Settings) -> list[Check]:
    """The 企业微信 settings, offline, when the deployment uses WeCom (a bot id, corp id or archive secret)."""
    w = settings.wecom
    if not (w.bot_id or w.corp_id or w.archive_secret):
        return []
    from gridbot.bot.wecom.setup import check_wecom_settings

    return [
        Check("企业微信", Level.OK, line)
        if ok
        else Check("企业微信", Level.FAIL, line, "见 docs/zh/wecom.md")
        for ok, line in check_wecom_settings(settings)
    ]


def run_all(settings: Settings, now: datetime) -> list[Check]:
    """Every check, in the order an operator fixes them."""
    results = [CHECKS[0](settings), CHECKS[1](settings), check_calendar(settings, now)]
    results += [check(settings) for check in CHECKS[2:]]
    return results + check_wecom(settings)

"""Typed, nested, cached settings read from GRIDBOT_* variables and an optional .env file."""

from __future__ import annotations

import socket
from functools import lru_cache
from pathlib import Path

from pydantic import BaseModel, Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict


class DBSettings(BaseModel):
    """Where tickets live: a SQLite file by default, PostgreSQL via a psycopg URL."""

    url: str = "sqlite:///gridbot.db"
    # the password apart from the URL: any character works (a / or @ inside a URL breaks it)
    password: SecretStr | None = None
    echo: bool = False
    pool_size: int = 5


class RedisSettings(BaseModel):
    """Optional Redis: sweeper lock, inbound de-dup fast path, shared outbound rate limiter."""

    url: str | None = None
    key_prefix: str = "gridbot:"


class WechatySettings(BaseModel):
    """Puppet-service connection for the real WeChat transport."""

    endpoint: str | None = None
    token: SecretStr | None = None
    bot_name: str = "网格助手"
    plugin_port: int = 5000
    login_timeout_s: float = 30.0
    silence_alert_minutes: int = 120


class WeComSettings(BaseModel):
    """企业微信 (WeCom): AI bot for staff, message archive for residents' groups, app messages, sidebar."""

    corp_id: str | None = None
    # 智能机器人 (AI bot) long connection: gridworkers' commands, cards, reminders
    bot_id: str | None = None
    bot_secret: SecretStr | None = None
    bot_ws_url: str = "wss://openws.work.weixin.qq.com"
    bot_ca_file: Path | None = None  # an extra CA to trust for bot_ws_url (a TLS-inspecting proxy)
    bot_heartbeat_s: float = 30.0
    # 会话内容存档 (archive): residents' messages in external groups
    archive_secret: SecretStr | None = None
    archive_private_key_file: Path | None = None  # PEM RSA key(s) matching the uploaded public key
    archive_sdk_path: Path | None = None  # libWeWorkFinanceSdk_C.so; None: the one in pyweworkfinance
    archive_poll_s: float = 5.0
    archive_batch: int = Field(default=500, ge=1, le=1000)
    archive_timeout_s: int = 10
    archive_lag_alert_minutes: float = 60.0  # messages vanish after 5 days: alert long before
    archive_proxy: str = ""
    # 自建应用 (self-built app): private app messages, consent checks, sidebar JS-SDK signature
    api_base: str = "https://qyapi.weixin.qq.com"
    agent_id: int | None = None
    app_secret: SecretStr | None = None
    consent_cache_s: float = 600.0


class NLPSettings(BaseModel):
    """Classifier selection and thresholds."""

    backend: str = "fast"
    model_dir: Path | None = None
    taxonomy_file: Path | None = None

    @field_validator("model_dir", "taxonomy_file", mode="before")
    @classmethod
    def _empty_is_none(cls, v: object) -> object:
        return None if v == "" else v  # compose passes an unset variable as ""

    # None: the threshold the model chose on its validation folds (stored in its manifest)
    review_threshold: float | None = None
    duplicate_merge_threshold: float = 0.5  # tuned on benchmarks/data/duplicate_pairs.jsonl
    duplicate_suggest_threshold: float = 0.35
    duplicate_window_hours: int = 72
    # memo bounds (nlp/memo.py): parsed features of open tickets, and messages' features by text
    duplicate_cache: int = Field(default=512, ge=0)
    text_cache: int = Field(default=256, ge=0)


class FairUseSettings(BaseModel):
    """Per-resident and per-room limits on new tickets (one person or one group cannot flood the grid)."""

    # new tickets a resident may open in the window; further reports go to one review item
    tickets_per_resident: int = Field(default=5, ge=1)
    # new tickets one grid's group may open in the window; further reports go to review items
    tickets_per_room: int = Field(default=60, ge=1)
    window_hours: int = Field(default=24, ge=1)


class APISettings(BaseModel):
    """Administrators' HTTP API."""

    host: str = "127.0.0.1"
    port: int = 8000
    cors_origins: list[str] = Field(default_factory=list)
    jwt_secret: SecretStr | None = None
    rate_limit_per_minute: int = 600
    # the address residents' gridworkers open the work page at (in the bot's private sign-in message)
    public_url: str | None = None
    # the unmask role: tokens created with `--unmask` may read one ticket's raw text, each read audited;
    # off unless this is set (PIPL: need-to-know, e.g. a grid's own gridworker on their ticket)
    unmask_enabled: bool = False
    # request bodies above this are refused with 413 before authentication (notes are at most 500 chars)
    max_body_bytes: int = Field(default=1_048_576, ge=1024)
    # /metrics shows account ids and volumes: with a token, scrapers send `Authorization: Bearer <it>`;
    # without one, only loopback clients (a scraper on the same host or a sidecar) are answered
    metrics_token: SecretStr | None = None
    # lifetime of a new or rotated API token unless `--expires-days` says otherwise (0: never expires)
    token_lifetime_days: int = Field(default=90, ge=0)


class SLASettings(BaseModel):
    """SLA policy file and sweeper cadence."""

    policy_file: Path | None = None

    @field_validator("policy_file", "holidays_file", mode="before")
    @classmethod
    def _empty_is_none(cls, v: object) -> object:
        return None if v == "" else v  # compose passes an unset variable as ""

    # next years' holidays (`gridbot calendar import`), merged over the policy's calendar
    holidays_file: Path | None = Path("gridbot-holidays.yaml")
    timezone: str = "Asia/Shanghai"
    sweep_interval_s: float = 30.0
    # deadlines a sweep transaction tells; each batch costs a fixed round of statements (about 15)
    # and holds the watermark row, which a clock moved meanwhile waits for (about 1 s a 100,000)
    sweep_batch_size: int = 100_000


class BotSettings(BaseModel):
    """How the bot hands inbound messages to the conversation (bot.dispatch.MessageDispatcher)."""

    # messages waiting are handled together, at most this many at once (1: one at a time); a lone
    # message never waits for others
    batch_max: int = Field(default=50, ge=1)
    # batches handled at the same time (rooms differ between them: each room stays in order)
    batches_at_once: int = Field(default=1, ge=1)
    # a batch holds its first message until its last is done: under a burst, at most what fits this
    # many milliseconds at the recent cost per message (0: batch_max only)
    batch_budget_ms: int = Field(default=150, ge=0)


class OutboxSettings(BaseModel):
    """Outbound pacing: protects the WeChat account from throttling and bans."""

    min_interval_s: float = 1.0
    merge_window_s: float = 1.0
    # sends a day (Asia/Shanghai) per bot account and per room; urgent alerts and escalations are
    # never held by either (they still count)
    daily_budget: int = 3000
    daily_budget_per_room: int = 300
    max_attempts: int = 8
    backoff_base_s: float = 5.0
    # an idle sender sleeps until woken by new rows; this is the latest it looks anyway
    safety_poll_s: float = 5.0


class RetentionSettings(BaseModel):
    """How long residents' raw message text is kept (PIPL: no longer than needed); metrics stay."""

    message_text_days: int | None = Field(default=None, ge=1)  # None keeps text; N purges after N days
    # photos, files and voice (files and rows) are deleted after N days; None: message_text_days
    attachment_days: int | None = Field(default=None, ge=1)

    @field_validator("message_text_days", "attachment_days", mode="before")
    @classmethod
    def _empty_is_none(cls, v: object) -> object:
        return None if v == "" else v  # compose passes an unset variable as ""

    @property
    def attachment_days_effective(self) -> int | None:
        """Days attachments are kept: their own setting, else the message text's (None: kept)."""
        return self.attachment_days or self.message_text_days

    purge_interval_s: float = 3600.0


DEFAULT_ATTACHMENT_TYPES = (
    "image/jpeg",
    "image/png",
    "image/gif",
    "image/webp",
    "image/heic",
    "application/pdf",
    "audio/amr",
    "audio/silk",
    "audio/mpeg",
    "audio/mp4",
    "audio/wav",
    "audio/ogg",
    "video/mp4",
)


class AttachmentSettings(BaseModel):
    """Photos, files and voice residents and gridworkers send: where they are kept and what is accepted."""

    # content-addressed files (no name a resident chose); put it on the data volume, never /tmp
    dir: Path = Path("gridbot-attachments")
    max_bytes: int = Field(default=20 * 1024 * 1024, ge=1024)
    # types as sniffed from the file's first bytes (the name and the platform's claim are not trusted)
    allowed_types: list[str] = Field(default_factory=lambda: list(DEFAULT_ATTACHMENT_TYPES))
    # a photo a resident sends this long before or after a report (same person, same group) is evidence
    # of it; a gridworker's photo this long before or after 办结 is its 处置后照片
    link_window_minutes: int = Field(default=5, ge=1, le=120)
    # a local speech-to-text command run as `<command> <file>` printing the text; unset: no transcription
    transcribe_command: str | None = None
    transcribe_timeout_s: float = Field(default=60.0, gt=0)

    @field_validator("transcribe_command", mode="before")
    @classmethod
    def _empty_is_none(cls, v: object) -> object:
        return None if v == "" else v


class ExchangeSettings(BaseModel):
    """The platform exchange: webhook delivery and the per-city mapping file."""

    config_file: Path | None = None  # None: the shipped models/exchange/exchange_default.yaml
    interval_s: float = 2.0
    batch_size: int = Field(default=100, ge=1, le=1000)
    concurrency: int = Field(default=8, ge=1, le=64)
    max_attempts: int = Field(default=8, ge=1)
    backoff_base_s: float = Field(default=10.0, gt=0)
    stale_claim_s: float = 300.0
    inbound_max_bytes: int = 64 * 1024


class NoticeSettings(BaseModel):
    """Notices residents confirm (知晓率)."""

    remind_after_minutes: int = Field(default=240, ge=1)
    ack_window_days: int = Field(default=7, ge=1)  # a 收到 counts for notices of the last N days


class KnowledgeSettings(BaseModel):
    """Answering residents' questions from the community knowledge base."""

    enabled: bool = True
    # precision first; chosen on nlp/data/faq/paraphrases.jsonl (gridbot kb eval prints the sweep)
    threshold: float = Field(default=0.45, gt=0, le=1)
    margin: float = Field(default=0.05, ge=0, le=1)
    coverage: float = Field(default=0.7, ge=0, le=1)


class ParticipationSettings(BaseModel):
    """Residents' points and the monthly thank-you list (off unless a deployment turns it on)."""

    enabled: bool = False
    report_points: int = Field(default=2, ge=0)  # a report that opened a ticket not rejected or merged
    rating_points: int = Field(default=1, ge=0)  # a rating of a resolved ticket
    ack_points: int = Field(default=1, ge=0)  # a 收到 to a notice
    top_n: int = Field(default=10, ge=1, le=50)  # names on the monthly list
    post_hour: int = Field(default=10, ge=0, le=23)  # local hour on the 1st from which the list goes out
    post_window_days: int = Field(default=3, ge=1, le=28)  # a bot down on the 1st still posts until then


class Settings(BaseSettings):
    """All settings; nested groups map to GRIDBOT_<GROUP>__<FIELD> variables."""

    model_config = SettingsConfigDict(
        env_prefix="GRIDBOT_",
        env_nested_delimiter="__",
        env_file=".env",
        env_file_encoding="utf-8",
        extra="ignore",
    )

    db: DBSettings = Field(default_factory=DBSettings)
    redis: RedisSettings = Field(default_factory=RedisSettings)
    wechaty: WechatySettings = Field(default_factory=WechatySettings)
    wecom: WeComSettings = Field(default_factory=WeComSettings)
    nlp: NLPSettings = Field(default_factory=NLPSettings)
    fair_use: FairUseSettings = Field(default_factory=FairUseSettings)
    api: APISettings = Field(default_factory=APISettings)
    sla: SLASettings = Field(default_factory=SLASettings)
    bot: BotSettings = Field(default_factory=BotSettings)
    outbox: OutboxSettings = Field(default_factory=OutboxSettings)
    retention: RetentionSettings = Field(default_factory=RetentionSettings)
    attachments: AttachmentSettings = Field(default_factory=AttachmentSettings)
    exchange: ExchangeSettings = Field(default_factory=ExchangeSettings)
    notices: NoticeSettings = Field(default_factory=NoticeSettings)
    knowledge: KnowledgeSettings = Field(default_factory=KnowledgeSettings)
    participation: ParticipationSettings = Field(default_factory=ParticipationSettings)
    # one name per running bot process: at start it takes back the sends its dead predecessor claimed
    instance_id: str = Field(default_factory=socket.gethostname)
    # inbound messages that arrive while the database is down wait here and are replayed in order
    spool_dir: Path = Path("gridbot-spool")
    log_level: str = "INFO"
    rollup_interval_s: float = 600.0  # how often the bot brings the metric rollups up to date
    bot_metrics_port: int | None = None  # the bot's own Prometheus endpoint on 127.0.0.1


@lru_cache
def get_settings() -> Settings:
    """The process-wide settings (tests call `get_settings.cache_clear()`)."""
    return Settings()

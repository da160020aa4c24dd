"""Service settings: the one place that reads the environment and `.env`.

Names follow the outside contract (interfaces.md); everything else receives explicit arguments.
"""

from __future__ import annotations

import re
from datetime import date, time
from functools import cached_property
from typing import Annotated
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import AliasChoices, Field, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from bot.onestop.links import KeyRing, KeyRingError
from bot.zns.templates import ZnsTemplates, parse_templates
from scoring.rules import IndexRule

CommaList = Annotated[list[str], NoDecode]
CHANNELS = ("telegram", "zalo_oa", "zalo_bot", "zns", "web")
_PERSON_RE = re.compile(rf"({'|'.join(CHANNELS)}):[A-Za-z0-9_.+-]{{1,64}}")


def _people(qualified: list[str], telegram_ids: list[str]) -> frozenset[tuple[str, str]]:
    found = {(item.split(":", 1)[0], item.split(":", 1)[1]) for item in qualified}
    return frozenset(found | {("telegram", i) for i in telegram_ids})


_QUIET_RE = re.compile(r"^\s*(\d{1,2}):(\d{2})\s*-\s*(\d{1,2}):(\d{2})\s*$")


def _env(name: str) -> AliasChoices:
    return AliasChoices(name)


class Settings(BaseSettings):
    """Every setting of the service; see `.env.example` for a commented list."""

    model_config = SettingsConfigDict(
        env_file=".env", env_file_encoding="utf-8", extra="ignore", populate_by_name=True
    )

    database_url: str = Field(
        "sqlite+aiosqlite:///var/sipas.db", validation_alias=_env("SIPAS_DATABASE_URL")
    )
    http_host: str = Field("127.0.0.1", validation_alias=_env("SIPAS_HTTP_HOST"))
    http_port: int = Field(8080, validation_alias=_env("SIPAS_HTTP_PORT"))
    public_url: str = Field("http://127.0.0.1:8080", validation_alias=_env("SIPAS_PUBLIC_URL"))
    onestop_secrets: CommaList = Field(
        default_factory=list, validation_alias=_env("SIPAS_ONESTOP_SECRETS")
    )
    api_token: str = Field("", validation_alias=_env("SIPAS_API_TOKEN"))
    metrics_token: str = Field("", validation_alias=_env("SIPAS_METRICS_TOKEN"))
    secret_key: str = Field("", validation_alias=_env("SIPAS_SECRET_KEY"))
    # The key ring (same `<kid>:<secret>` form) that seals applicants' phone numbers while ZNS
    # may need them, and the days they are kept after the case ends or its survey closes.
    contact_key: str = Field("", validation_alias=_env("SIPAS_CONTACT_KEY"))
    contact_retention_days: int = Field(
        30, gt=0, validation_alias=_env("SIPAS_CONTACT_RETENTION_DAYS")
    )
    timezone: str = Field("Asia/Ho_Chi_Minh", validation_alias=_env("SIPAS_TIMEZONE"))
    telegram_bot_token: str = Field("", validation_alias=_env("TELEGRAM_BOT_TOKEN"))
    telegram_api_base_url: str = Field(
        "https://api.telegram.org/bot", validation_alias=_env("TELEGRAM_API_BASE_URL")
    )
    zalo_oa_id: str = Field("", validation_alias=_env("ZALO_OA_ID"))
    zalo_oa_secret_key: str = Field("", validation_alias=_env("ZALO_OA_SECRET_KEY"))
    zalo_app_id: str = Field("", validation_alias=_env("ZALO_APP_ID"))
    zalo_app_secret: str = Field("", validation_alias=_env("ZALO_APP_SECRET"))
    zalo_oa_access_token: str = Field("", validation_alias=_env("ZALO_OA_ACCESS_TOKEN"))
    zalo_oa_refresh_token: str = Field("", validation_alias=_env("ZALO_OA_REFRESH_TOKEN"))
    zalo_oa_api_base_url: str = Field(
        "https://openapi.zalo.me", validation_alias=_env("ZALO_OA_API_BASE_URL")
    )
    zalo_oauth_base_url: str = Field(
        "https://oauth.zaloapp.com", validation_alias=_env("ZALO_OAUTH_BASE_URL")
    )
    zalo_zns_api_base_url: str = Field(
        "https://business.openapi.zalo.me", validation_alias=_env("ZALO_ZNS_API_BASE_URL")
    )
    # The approved ZNS templates by purpose: `rating=<id>,invite=<id>,apology=<id>,
    # result_ready=<id>` (bot/zns/templates.py); ZNS is off while none is named.
    zalo_zns_templates: str = Field("", validation_alias=_env("ZALO_ZNS_TEMPLATES"))
    # How often the service ratings are read back (`/rating/get`) in case webhooks were lost.
    zalo_zns_poll_seconds: float = Field(
        300.0, gt=0, validation_alias=_env("ZALO_ZNS_POLL_SECONDS")
    )
    zalo_zns_rate_per_second: int = Field(
        10, gt=0, validation_alias=_env("ZALO_ZNS_RATE_PER_SECOND")
    )
    # Calls per second to the OA API (Zalo allows about 4,000 a minute per app) and the burst
    # one user may get.
    zalo_oa_rate_per_second: int = Field(50, gt=0, validation_alias=_env("ZALO_OA_RATE_PER_SECOND"))
    zalo_oa_chat_burst: int = Field(3, gt=0, validation_alias=_env("ZALO_OA_CHAT_BURST"))
    zalo_bot_token: str = Field("", validation_alias=_env("ZALO_BOT_TOKEN"))
    zalo_bot_api_base_url: str = Field(
        "https://bot-api.zaloplatforms.com/bot", validation_alias=_env("ZALO_BOT_API_BASE_URL")
    )
    zalo_bot_mode: str = Field("polling", validation_alias=_env("ZALO_BOT_MODE"))
    zalo_bot_webhook_secret: str = Field("", validation_alias=_env("ZALO_BOT_WEBHOOK_SECRET"))
    zalo_bot_rate_per_second: int = Field(
        20, gt=0, validation_alias=_env("ZALO_BOT_RATE_PER_SECOND")
    )
    zalo_bot_chat_burst: int = Field(3, gt=0, validation_alias=_env("ZALO_BOT_CHAT_BURST"))
    telegram_mode: str = Field("polling", validation_alias=_env("TELEGRAM_MODE"))
    telegram_webhook_secret: str = Field("", validation_alias=_env("TELEGRAM_WEBHOOK_SECRET"))
    admin_telegram_ids: CommaList = Field(
        default_factory=list, validation_alias=_env("SIPAS_ADMIN_TELEGRAM_IDS")
    )
    inspector_telegram_ids: CommaList = Field(
        default_factory=list, validation_alias=_env("SIPAS_INSPECTOR_TELEGRAM_IDS")
    )
    # Channel-qualified people, e.g. "telegram:7101,zalo_oa:8491" (the bare Telegram ids of
    # the two settings above keep working as "telegram:<id>").
    admins: CommaList = Field(default_factory=list, validation_alias=_env("SIPAS_ADMINS"))
    inspectors: CommaList = Field(default_factory=list, validation_alias=_env("SIPAS_INSPECTORS"))
    survey_status: int = Field(10, validation_alias=_env("SIPAS_SURVEY_STATUS"))
    quiet_hours: str = Field("21:00-07:00", validation_alias=_env("SIPAS_QUIET_HOURS"))
    log_level: str = Field("INFO", validation_alias=_env("SIPAS_LOG_LEVEL"))
    log_format: str = Field("json", validation_alias=_env("SIPAS_LOG_FORMAT"))
    max_clock_skew_seconds: int = Field(300, validation_alias=_env("SIPAS_MAX_CLOCK_SKEW"))
    reminder_hours: float = Field(24.0, gt=0, validation_alias=_env("SIPAS_REMINDER_HOURS"))
    survey_expiry_days: float = Field(7.0, gt=0, validation_alias=_env("SIPAS_SURVEY_EXPIRY_DAYS"))
    survey_sweep_seconds: float = Field(
        900.0, gt=0, validation_alias=_env("SIPAS_SURVEY_SWEEP_SECONDS")
    )
    telegram_rate_per_second: int = Field(
        30, gt=0, validation_alias=_env("TELEGRAM_RATE_PER_SECOND")
    )
    telegram_chat_burst: int = Field(3, gt=0, validation_alias=_env("TELEGRAM_CHAT_BURST"))
    clock_file: str = Field("", validation_alias=_env("SIPAS_CLOCK_FILE"))
    scheduler_enabled: bool = Field(True, validation_alias=_env("SIPAS_SCHEDULER"))
    days_off: CommaList = Field(default_factory=list, validation_alias=_env("SIPAS_DAYS_OFF"))
    make_up_days: CommaList = Field(
        default_factory=list, validation_alias=_env("SIPAS_MAKE_UP_DAYS")
    )
    index_rule: str = Field("share_at_least:4", validation_alias=_env("SIPAS_INDEX_RULE"))
    shutdown_timeout_seconds: float = Field(30.0, validation_alias=_env("SIPAS_SHUTDOWN_TIMEOUT"))
    escalation_hours: float = Field(8.0, gt=0, validation_alias=_env("SIPAS_ESCALATION_HOURS"))
    command_rate_per_minute: int = Field(
        20, gt=0, validation_alias=_env("SIPAS_COMMAND_RATE_PER_MINUTE")
    )

    @field_validator(
        "onestop_secrets",
        "admin_telegram_ids",
        "inspector_telegram_ids",
        "admins",
        "inspectors",
        "days_off",
        "make_up_days",
        mode="before",
    )
    @classmethod
    def _split_commas(cls, value: object) -> object:
        if isinstance(value, str):
            return [part.strip() for part in value.split(",") if part.strip()]
        return value

    @field_validator("admins", "inspectors")
    @classmethod
    def _channel_qualified(cls, value: list[str]) -> list[str]:
        for item in value:
            if not _PERSON_RE.fullmatch(item):
                raise ValueError(
                    f"{item!r} is not <channel>:<id> with a channel among {', '.join(CHANNELS)}"
                )
        return value

    @cached_property
    def admin_people(self) -> frozenset[tuple[str, str]]:
        """(channel, id on the channel) of every admin named in the environment."""
        return _people(self.admins, self.admin_telegram_ids)

    @cached_property
    def inspector_people(self) -> frozenset[tuple[str, str]]:
        """(channel, id on the channel) of every inspector named in the environment."""
        return _people(self.inspectors, self.inspector_telegram_ids)

    @field_validator("secret_key")
    @classmethod
    def _key_ring(cls, value: str) -> str:
        KeyRing.parse(value)  # raises KeyRingError (a ValueError) with the reason
        return value.strip()

    @cached_property
    def key_ring(self) -> KeyRing:
        """The link and phone-hash keys, the current one first (empty when unset)."""
        return KeyRing.parse(self.secret_key)

    @field_validator("contact_key")
    @classmethod
    def _contact_ring(cls, value: str) -> str:
        try:
            KeyRing.parse(value)
        except KeyRingError as exc:
            raise ValueError(str(exc).replace("SIPAS_SECRET_KEY", "SIPAS_CONTACT_KEY")) from None
        return value.strip()

    @cached_property
    def contact_ring(self) -> KeyRing:
        """The keys sealing applicants' phone numbers, the current one first (empty when
        unset: then only the phone's hash is kept and ZNS cannot reach anyone)."""
        return KeyRing.parse(self.contact_key)

    @model_validator(mode="after")
    def _webhook_needs_a_secret(self) -> Settings:
        # Without a secret every pushed update is refused: a bot that starts and hears nothing.
        if (
            self.telegram_mode == "webhook"
            and self.telegram_bot_token
            and not self.telegram_webhook_secret
        ):
            raise ValueError(
                "TELEGRAM_MODE=webhook needs TELEGRAM_WEBHOOK_SECRET "
                "(a random string of A-Za-z0-9_-, 1–256 characters)"
            )
        if (
            self.zalo_bot_mode == "webhook"
            and self.zalo_bot_token
            and not 8 <= len(self.zalo_bot_webhook_secret) <= 256
        ):
            raise ValueError(
                "ZALO_BOT_MODE=webhook needs ZALO_BOT_WEBHOOK_SECRET (8–256 characters)"
            )
        return self

    @field_validator("database_url")
    @classmethod
    def _async_driver(cls, value: str) -> str:
        """Accept plain `postgresql://` and `sqlite://` URLs by naming the async driver."""
        if value.startswith(("postgres://", "postgresql://")):
            return "postgresql+asyncpg://" + value.split("://", 1)[1]
        if value.startswith("sqlite://"):
            return "sqlite+aiosqlite://" + value.split("://", 1)[1]
        return value

    @field_validator("days_off", "make_up_days")
    @classmethod
    def _dates(cls, values: list[str]) -> list[str]:
        for value in values:
            try:
                date.fromisoformat(value)
            except ValueError:
                raise ValueError(f"{value!r} is not a date YYYY-MM-DD") from None
        return values

    @field_validator("index_rule")
    @classmethod
    def _rule(cls, value: str) -> str:
        kind, _, threshold = value.strip().partition(":")
        if kind == "mean_score" and not threshold:
            return "mean_score"
        if kind == "share_at_least" and threshold in {"3", "4", "5"}:
            return value.strip()
        raise ValueError("SIPAS_INDEX_RULE must be share_at_least:4 (or :3, :5) or mean_score")

    @cached_property
    def rule(self) -> IndexRule:
        kind, _, threshold = self.index_rule.partition(":")
        if kind == "mean_score":
            return IndexRule(kind="mean_score")
        return IndexRule(kind="share_at_least", threshold=int(threshold or 4))

    @cached_property
    def calendar_days(self) -> tuple[list[date], list[date]]:
        return (
            [date.fromisoformat(d) for d in self.days_off],
            [date.fromisoformat(d) for d in self.make_up_days],
        )

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f"unknown time zone {value!r}") from exc
        return value

    @field_validator("telegram_mode")
    @classmethod
    def _mode(cls, value: str) -> str:
        value = value.strip().lower()
        if value not in {"polling", "webhook"}:
            raise ValueError("TELEGRAM_MODE must be 'polling' or 'webhook'")
        return value

    @field_validator("survey_status")
    @classmethod
    def _survey_status(cls, value: int) -> int:
        if value not in {9, 10}:
            raise ValueError("SIPAS_SURVEY_STATUS must be 9 or 10")
        return value

    @field_validator("quiet_hours")
    @classmethod
    def _quiet(cls, value: str) -> str:
        parse_quiet_hours(value)
        return value.strip()

    @field_validator("zalo_bot_mode")
    @classmethod
    def _zalo_bot_mode(cls, value: str) -> str:
        mode = value.strip().lower() or "polling"
        if mode not in {"polling", "webhook"}:
            raise ValueError("ZALO_BOT_MODE must be polling or webhook")
        return mode

    @field_validator(
        "public_url",
        "telegram_api_base_url",
        "zalo_oa_api_base_url",
        "zalo_oauth_base_url",
        "zalo_zns_api_base_url",
        "zalo_bot_api_base_url",
    )
    @classmethod
    def _no_trailing_slash(cls, value: str) -> str:
        return value.rstrip("/")

    @property
    def zalo_oa_enabled(self) -> bool:
        """The Zalo OA channel is off while its id or its webhook key is empty."""
        return bool(self.zalo_oa_id.strip() and self.zalo_oa_secret_key)

    @property
    def zalo_bot_enabled(self) -> bool:
        """The Zalo Bot channel is off while its token is empty."""
        return bool(self.zalo_bot_token.strip())

    @field_validator("zalo_zns_templates")
    @classmethod
    def _zns_templates(cls, value: str) -> str:
        parse_templates(value)  # raises TemplateSettingError (a ValueError) with the reason
        return value.strip()

    @property
    def zns_templates(self) -> ZnsTemplates:
        """The ZNS template id of each purpose (empty when ZALO_ZNS_TEMPLATES is unset; read
        each time, so a copy with other templates never sees this one's)."""
        return ZnsTemplates.parse(self.zalo_zns_templates)

    @property
    def zns_enabled(self) -> bool:
        """ZNS goes out with the OA's token: on while the OA is on and a template is named."""
        return self.zalo_oa_enabled and bool(self.zns_templates)

    @property
    def typed_code_channels(self) -> tuple[str, ...]:
        """The enabled channels without deep links: a receipt's or an invite's code is sent
        there as text."""
        on = {"zalo_oa": self.zalo_oa_enabled, "zalo_bot": self.zalo_bot_enabled}
        return tuple(name for name, enabled in on.items() if enabled)

    @property
    def zalo_oa_url(self) -> str | None:
        """`https://zalo.me/<ZALO_OA_ID>` (the receipt's `links.zalo`) while the OA is on."""
        return f"https://zalo.me/{self.zalo_oa_id.strip()}" if self.zalo_oa_enabled else None

    @cached_property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    @cached_property
    def quiet_window(self) -> tuple[time, time] | None:
        return parse_quiet_hours(self.quiet_hours)


def parse_quiet_hours(value: str) -> tuple[time, time] | None:
    """`21:00-07:00` → (21:00, 07:00); empty → None; anything else raises ValueError."""
    if not value.strip():
        return None
    match = _QUIET_RE.match(value)
    if (
        match is None
        or any(int(h) > 23 for h in match.groups()[0::2])
        or any(int(m) > 59 for m in match.groups()[1::2])
    ):
        raise ValueError("SIPAS_QUIET_HOURS must look like 21:00-07:00 (or be empty)")
    h1, m1, h2, m2 = (int(g) for g in match.groups())
    return time(h1, m1), time(h2, m2)


# Settings an admin may change by chat (stored in `runtime_settings`, overriding the
# environment in the running service and after a restart).
RUNTIME_FIELDS = (
    "reminder_hours",
    "survey_expiry_days",
    "quiet_hours",
    "survey_status",
    "escalation_hours",
)

"""Settings from the environment (interfaces.md "Configuration")."""

from __future__ import annotations

from datetime import time
from pathlib import Path

import pytest
from pydantic import ValidationError

from bot.config import Settings

VARIABLES = (
    "SIPAS_DATABASE_URL",
    "SIPAS_HTTP_HOST",
    "SIPAS_HTTP_PORT",
    "SIPAS_PUBLIC_URL",
    "SIPAS_ONESTOP_SECRETS",
    "SIPAS_API_TOKEN",
    "SIPAS_SECRET_KEY",
    "SIPAS_TIMEZONE",
    "TELEGRAM_BOT_TOKEN",
    "TELEGRAM_API_BASE_URL",
    "TELEGRAM_MODE",
    "TELEGRAM_WEBHOOK_SECRET",
    "SIPAS_ADMIN_TELEGRAM_IDS",
    "SIPAS_SURVEY_STATUS",
    "SIPAS_QUIET_HOURS",
    "SIPAS_LOG_LEVEL",
    "SIPAS_LOG_FORMAT",
    "SIPAS_MAX_CLOCK_SKEW",
    "SIPAS_SHUTDOWN_TIMEOUT",
    "SIPAS_METRICS_TOKEN",
)


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    """No variable from the real environment and no real `.env` reaches a test."""
    for name in VARIABLES:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.chdir(tmp_path)
    return tmp_path


def test_defaults_match_the_contract() -> None:
    settings = Settings()
    assert settings.database_url == "sqlite+aiosqlite:///var/sipas.db"
    assert settings.http_host == "127.0.0.1"
    assert settings.http_port == 8080
    assert settings.public_url == "http://127.0.0.1:8080"
    assert settings.onestop_secrets == []
    assert settings.api_token == ""
    assert settings.timezone == "Asia/Ho_Chi_Minh"
    assert settings.tz.key == "Asia/Ho_Chi_Minh"
    assert settings.telegram_bot_token == ""
    assert settings.telegram_api_base_url == "https://api.telegram.org/bot"
    assert settings.telegram_mode == "polling"
    assert settings.telegram_webhook_secret == ""
    assert settings.admin_telegram_ids == []
    assert settings.survey_status == 10
    assert settings.quiet_hours == "21:00-07:00"
    assert settings.quiet_window == (time(21, 0), time(7, 0))
    assert settings.max_clock_skew_seconds == 300


def test_environment_variables_are_read(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SIPAS_DATABASE_URL", "sqlite+aiosqlite:////srv/sipas/data.db")
    monkeypatch.setenv("SIPAS_HTTP_HOST", "0.0.0.0")
    monkeypatch.setenv("SIPAS_HTTP_PORT", "9090")
    monkeypatch.setenv("SIPAS_PUBLIC_URL", "https://khaosat.lamdong.gov.vn/")
    monkeypatch.setenv("SIPAS_API_TOKEN", "read-token")
    monkeypatch.setenv("SIPAS_TIMEZONE", "Asia/Bangkok")
    monkeypatch.setenv("TELEGRAM_BOT_TOKEN", "123:abc")
    monkeypatch.setenv("TELEGRAM_API_BASE_URL", "http://127.0.0.1:8081/bot/")
    monkeypatch.setenv("TELEGRAM_MODE", "webhook")
    monkeypatch.setenv("TELEGRAM_WEBHOOK_SECRET", "hook-secret")
    monkeypatch.setenv("SIPAS_SURVEY_STATUS", "9")
    monkeypatch.setenv("SIPAS_QUIET_HOURS", "22:30-06:15")
    settings = Settings()
    assert settings.database_url == "sqlite+aiosqlite:////srv/sipas/data.db"
    assert settings.http_host == "0.0.0.0"
    assert settings.http_port == 9090
    assert settings.public_url == "https://khaosat.lamdong.gov.vn"  # no trailing slash
    assert settings.api_token == "read-token"
    assert settings.timezone == "Asia/Bangkok"
    assert settings.telegram_bot_token == "123:abc"
    assert settings.telegram_api_base_url == "http://127.0.0.1:8081/bot"
    assert settings.telegram_mode == "webhook"
    assert settings.telegram_webhook_secret == "hook-secret"
    assert settings.survey_status == 9
    assert settings.quiet_window == (time(22, 30), time(6, 15))


def test_dot_env_in_the_working_directory_is_read_and_environment_wins(
    monkeypatch: pytest.MonkeyPatch, clean_environment: Path
) -> None:
    (clean_environment / ".env").write_text(
        "SIPAS_API_TOKEN=from-dot-env\nSIPAS_HTTP_PORT=7000\n", encoding="utf-8"
    )
    monkeypatch.setenv("SIPAS_HTTP_PORT", "7001")
    settings = Settings()
    assert settings.api_token == "from-dot-env"
    assert settings.http_port == 7001


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("s1", ["s1"]),
        ("s1,s2", ["s1", "s2"]),
        (" s1 , s2 ,, ", ["s1", "s2"]),
        ("", []),
    ],
)
def test_secrets_are_a_comma_separated_list(
    monkeypatch: pytest.MonkeyPatch, raw: str, expected: list[str]
) -> None:
    monkeypatch.setenv("SIPAS_ONESTOP_SECRETS", raw)
    assert Settings().onestop_secrets == expected


def test_admin_ids_are_a_comma_separated_list(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SIPAS_ADMIN_TELEGRAM_IDS", "12345, 67890")
    assert Settings().admin_telegram_ids == ["12345", "67890"]


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("postgresql://sipas:pw@db:5432/sipas", "postgresql+asyncpg://sipas:pw@db:5432/sipas"),
        ("postgres://sipas@db/sipas", "postgresql+asyncpg://sipas@db/sipas"),
        ("postgresql+asyncpg://sipas@db/sipas", "postgresql+asyncpg://sipas@db/sipas"),
        ("sqlite:///var/other.db", "sqlite+aiosqlite:///var/other.db"),
    ],
)
def test_database_url_names_the_async_driver(
    monkeypatch: pytest.MonkeyPatch, raw: str, expected: str
) -> None:
    monkeypatch.setenv("SIPAS_DATABASE_URL", raw)
    assert Settings().database_url == expected


@pytest.mark.parametrize("mode", ["Webhook", " POLLING "])
def test_telegram_mode_is_case_insensitive(monkeypatch: pytest.MonkeyPatch, mode: str) -> None:
    monkeypatch.setenv("TELEGRAM_MODE", mode)
    assert Settings().telegram_mode == mode.strip().lower()


@pytest.mark.parametrize(
    ("variable", "value"),
    [
        ("TELEGRAM_MODE", "push"),
        ("TELEGRAM_MODE", "long-polling"),
        ("SIPAS_SURVEY_STATUS", "7"),
        ("SIPAS_SURVEY_STATUS", "11"),
        ("SIPAS_SURVEY_STATUS", "ten"),
        ("SIPAS_QUIET_HOURS", "9pm-7am"),
        ("SIPAS_QUIET_HOURS", "21:00"),
        ("SIPAS_QUIET_HOURS", "21-07"),
        ("SIPAS_TIMEZONE", "Asia/Hanoi"),
        ("SIPAS_TIMEZONE", "Mars/Olympus"),
        ("SIPAS_HTTP_PORT", "http"),
    ],
)
def test_invalid_settings_are_refused(
    monkeypatch: pytest.MonkeyPatch, variable: str, value: str
) -> None:
    monkeypatch.setenv(variable, value)
    with pytest.raises(ValidationError) as caught:
        Settings()
    assert variable in str(caught.value) or variable.lower() in str(caught.value).lower()


@pytest.mark.parametrize("value", ["21:60-07:00", "25:00-07:00", "21:00-07:99"])
def test_quiet_hours_that_are_not_a_time_of_day_are_refused(
    monkeypatch: pytest.MonkeyPatch, value: str
) -> None:
    # "21:60" passes validation and later crashes in quiet_window (minute must be 0..59);
    # "25:00" is silently taken as 01:00.
    monkeypatch.setenv("SIPAS_QUIET_HOURS", value)
    with pytest.raises(ValidationError):
        Settings()


def test_empty_quiet_hours_means_none(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SIPAS_QUIET_HOURS", "")
    settings = Settings()
    assert settings.quiet_hours == ""
    assert settings.quiet_window is None


def test_index_rule_days_off_and_make_up_days(monkeypatch: pytest.MonkeyPatch, tmp_path) -> None:  # type: ignore[no-untyped-def]
    from datetime import date

    from bot.config import Settings

    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("SIPAS_INDEX_RULE", "share_at_least:5")
    monkeypatch.setenv("SIPAS_DAYS_OFF", "2026-09-01, 2026-09-02")
    monkeypatch.setenv("SIPAS_MAKE_UP_DAYS", "2026-08-29")
    settings = Settings()
    assert (settings.rule.kind, settings.rule.threshold) == ("share_at_least", 5)
    assert settings.calendar_days == (
        [date(2026, 9, 1), date(2026, 9, 2)],
        [date(2026, 8, 29)],
    )
    monkeypatch.setenv("SIPAS_INDEX_RULE", "mean_score")
    assert Settings().rule.kind == "mean_score"
    for bad in ("average", "share_at_least:9"):
        monkeypatch.setenv("SIPAS_INDEX_RULE", bad)
        with pytest.raises(ValueError, match="SIPAS_INDEX_RULE"):
            Settings()
    monkeypatch.setenv("SIPAS_INDEX_RULE", "share_at_least:4")
    monkeypatch.setenv("SIPAS_DAYS_OFF", "02/09/2026")
    with pytest.raises(ValueError, match="not a date"):
        Settings()


def test_webhook_mode_without_a_secret_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    # It used to start and then refuse every update Telegram pushed.
    monkeypatch.setenv("TELEGRAM_MODE", "webhook")
    monkeypatch.setenv("TELEGRAM_BOT_TOKEN", "123:abc")
    monkeypatch.setenv("TELEGRAM_WEBHOOK_SECRET", "")
    with pytest.raises(ValidationError, match="TELEGRAM_WEBHOOK_SECRET"):
        Settings()
    monkeypatch.setenv("TELEGRAM_WEBHOOK_SECRET", "hook-secret")
    assert Settings().telegram_webhook_secret == "hook-secret"
    monkeypatch.setenv("TELEGRAM_WEBHOOK_SECRET", "")
    monkeypatch.setenv("TELEGRAM_BOT_TOKEN", "")  # the channel is off: nothing to refuse
    assert Settings().telegram_mode == "webhook"


def test_secret_key_is_a_key_ring(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SIPAS_SECRET_KEY", "k2:new-secret, k1:old-secret")
    ring = Settings().key_ring
    assert ring.ids == ("k2", "k1")
    assert ring.current_id == "k2"
    monkeypatch.setenv("SIPAS_SECRET_KEY", "a-bare-secret")
    assert Settings().key_ring.ids == ("k0",)
    monkeypatch.delenv("SIPAS_SECRET_KEY")
    assert not Settings().key_ring


@pytest.mark.parametrize("value", ["k1:a,k1:b", "k1:", "bad kid:secret", "bare-one,bare-two"])
def test_a_malformed_secret_key_is_refused(monkeypatch: pytest.MonkeyPatch, value: str) -> None:
    monkeypatch.setenv("SIPAS_SECRET_KEY", value)
    with pytest.raises(ValidationError, match="SIPAS_SECRET_KEY"):
        Settings()


def test_metrics_token_is_read(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SIPAS_METRICS_TOKEN", "scrape")
    assert Settings().metrics_token == "scrape"


def test_admins_and_inspectors_are_channel_qualified(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SIPAS_ADMINS", "telegram:7101, zalo_oa:8491")
    monkeypatch.setenv("SIPAS_ADMIN_TELEGRAM_IDS", "12345")
    monkeypatch.setenv("SIPAS_INSPECTORS", "zalo_bot:abc_9")
    settings = Settings()
    assert settings.admin_people == {
        ("telegram", "7101"),
        ("zalo_oa", "8491"),
        ("telegram", "12345"),
    }
    assert settings.inspector_people == {("zalo_bot", "abc_9")}


@pytest.mark.parametrize("raw", ["7101", "signal:7101", "telegram:", "zalo_oa:84 91"])
def test_a_person_without_a_known_channel_is_refused(
    monkeypatch: pytest.MonkeyPatch, raw: str
) -> None:
    monkeypatch.setenv("SIPAS_ADMINS", raw)
    with pytest.raises(ValueError, match="channel"):
        Settings()

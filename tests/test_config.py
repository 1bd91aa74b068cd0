"""Settings: the defaults that make `make run` work out of the box, and one clear line for
every value that cannot work."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.config import ConfigError, load_settings

TOKEN = "123456789:AAF-abcdefghijklmnopqrstuvwxyz012345"
# Settings come only from what each test sets.
pytestmark = pytest.mark.usefixtures("no_settings")


def test_defaults_run_a_sandbox_on_a_local_sqlite_file() -> None:
    settings = load_settings()

    assert settings.telegram_bot_token is None
    assert settings.sandbox
    assert settings.telegram_api_url == "https://api.telegram.org"
    assert settings.telegram_mode == "polling"
    assert (settings.http_host, settings.http_port) == ("127.0.0.1", 8080)
    assert settings.database_url == "sqlite:///renfort.db"
    assert settings.timezone.key == "Europe/Paris"
    assert settings.renfort_locale == "fr"
    assert (settings.telegram_rate, settings.sms_rate) == (30.0, 10.0)
    assert settings.public_url is None
    assert not settings.sms_enabled


def test_without_a_configured_secret_each_start_gets_its_own_webhook_secret() -> None:
    first, second = load_settings(), load_settings()

    assert len(first.telegram_webhook_secret) >= 32
    assert first.telegram_webhook_secret != second.telegram_webhook_secret


def test_a_dot_env_file_is_read_and_the_environment_wins(
    no_settings: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (no_settings / ".env").write_text(
        f"TELEGRAM_BOT_TOKEN={TOKEN}\nHTTP_PORT=9000\n", encoding="utf-8"
    )
    monkeypatch.setenv("HTTP_PORT", "9100")

    settings = load_settings()

    assert settings.telegram_bot_token == TOKEN
    assert not settings.sandbox
    assert settings.http_port == 9100


def test_a_blank_token_means_the_sandbox(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TELEGRAM_BOT_TOKEN", "  ")

    assert load_settings().sandbox


def test_sms_is_on_only_with_all_three_twilio_values(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TWILIO_ACCOUNT_SID", "AC" + "0" * 32)
    monkeypatch.setenv("TWILIO_AUTH_TOKEN", "secret")
    assert not load_settings().sms_enabled

    monkeypatch.setenv("TWILIO_FROM_NUMBER", "+33700000000")
    assert load_settings().sms_enabled


@pytest.mark.parametrize(
    ("variable", "value"),
    [
        ("TELEGRAM_BOT_TOKEN", "not-a-token"),
        ("TELEGRAM_API_URL", "api.telegram.org"),
        ("TELEGRAM_MODE", "push"),
        ("TELEGRAM_WEBHOOK_SECRET", "has spaces in it"),
        ("TWILIO_API_URL", "ftp://twilio.example"),
        ("PUBLIC_URL", "renfort.example.org"),
        ("HTTP_PORT", "99999"),
        ("HTTP_PORT", "eighty"),
        ("DATABASE_URL", "mysql://localhost/renfort"),
        ("RENFORT_TIMEZONE", "Europe/Atlantis"),
        ("RENFORT_LOCALE", "de"),
        ("TELEGRAM_RATE", "0"),
        ("SMS_RATE", "-1"),
        # Values that used to crash later, not at start.
        ("DATABASE_URL", "postgresql://root@127.0.0.1:abc/x"),
        ("TELEGRAM_RATE", "inf"),
        ("SMS_RATE", "nan"),
        ("SMS_RATE", "1e400"),
        ("TWILIO_FROM_NUMBER", "abc"),
        ("TWILIO_FROM_NUMBER", "0612345678"),
        ("OUTBOX_BATCH_SIZE", "-5"),
        ("OUTBOX_BATCH_SIZE", "0"),
        ("TELEGRAM_POLL_TIMEOUT", "-1"),
        ("TELEGRAM_POLL_TIMEOUT", "3600"),
        # Ports and durations out of range.
        ("TELEGRAM_API_URL", "http://x:abc"),
        ("GEOCODER_URL", "http://x:99999"),
        ("PURGE_AFTER_MONTHS", "99999999999999999999999"),
    ],
)
def test_each_wrong_value_is_one_line_naming_its_variable(
    monkeypatch: pytest.MonkeyPatch, variable: str, value: str
) -> None:
    monkeypatch.setenv(variable, value)

    with pytest.raises(ConfigError) as refused:
        load_settings()

    message = str(refused.value)
    assert "\n" not in message
    assert message.startswith(f"{variable}: ")
    assert len(message) < 200
    assert refused.value.__cause__ is None and refused.value.__suppress_context__


def test_two_of_the_three_twilio_values_warn_which_one_is_missing(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("TWILIO_ACCOUNT_SID", "AC" + "0" * 32)
    monkeypatch.setenv("TWILIO_FROM_NUMBER", "+33700000000")

    settings = load_settings()

    assert not settings.sms_enabled
    (warning,) = settings.startup_warnings()
    assert warning.startswith("TWILIO_AUTH_TOKEN not set: SMS is off")


def test_complete_or_absent_twilio_values_say_nothing(monkeypatch: pytest.MonkeyPatch) -> None:
    assert load_settings().startup_warnings() == []
    monkeypatch.setenv("TWILIO_ACCOUNT_SID", "AC" + "0" * 32)
    monkeypatch.setenv("TWILIO_AUTH_TOKEN", "secret")
    monkeypatch.setenv("TWILIO_FROM_NUMBER", "+33700000000")
    assert load_settings().startup_warnings() == []


def test_a_dot_env_file_not_in_utf8_is_one_line(no_settings: Path) -> None:
    (no_settings / ".env").write_bytes(b"HTTP_PORT=80\xff\n")

    with pytest.raises(ConfigError, match=r"^\.env: not UTF-8"):
        load_settings()


def test_a_dot_env_file_may_quote_export_comment_and_refer_to_earlier_values(
    no_settings: Path,
) -> None:
    (no_settings / ".env").write_text(
        "# Renfort\n"
        'export SMS_RATE="5"\n'
        "http_host=0.0.0.0  # every interface\n"
        "SITE=https://renfort.example.org\n"
        "PUBLIC_URL=${SITE}/\n"
        "GEOCODER_URL=\n"
        "LOG_LEVEL\n",
        encoding="utf-8",
    )

    settings = load_settings()

    assert settings.sms_rate == 5.0
    assert settings.http_host == "0.0.0.0"
    assert settings.public_url == "https://renfort.example.org"
    assert settings.geocoder_url is None
    assert settings.log_level == "INFO"


@pytest.mark.parametrize(("value", "port"), [("9000", 9000), (" 9000 ", 9000), ("9_000", 9000)])
def test_numbers_are_read_with_spaces_and_underscores(
    monkeypatch: pytest.MonkeyPatch, value: str, port: int
) -> None:
    monkeypatch.setenv("HTTP_PORT", value)

    assert load_settings().http_port == port


def test_variable_names_may_be_in_lower_case(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("renfort_locale", "en")

    assert load_settings().renfort_locale == "en"


@pytest.mark.parametrize(
    ("variable", "value", "message"),
    [
        ("HTTP_PORT", "", "HTTP_PORT: Input should be a valid integer"),
        ("HTTP_PORT", "80.5", "HTTP_PORT: Input should be a valid integer"),
        ("TELEGRAM_RATE", "fast", "TELEGRAM_RATE: Input should be a valid number"),
        ("TELEGRAM_MODE", "push", "TELEGRAM_MODE: Input should be 'polling' or 'webhook'"),
        ("WORKERS", "65", "WORKERS: Input should be less than or equal to 64"),
        ("PURGE_AFTER_MONTHS", "0", "PURGE_AFTER_MONTHS: Input should be greater than or equal"),
        ("RENFORT_TIMEZONE", "x" * 300, "RENFORT_TIMEZONE: 'xxx"),
    ],
)
def test_a_wrong_value_says_what_was_expected(
    monkeypatch: pytest.MonkeyPatch, variable: str, value: str, message: str
) -> None:
    monkeypatch.setenv(variable, value)

    with pytest.raises(ConfigError) as refused:
        load_settings()

    assert str(refused.value).startswith(message)


def test_the_code_s_values_win_over_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HTTP_PORT", "9100")

    assert load_settings(http_port=0).http_port == 0

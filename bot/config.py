"""Configuration from the environment (a `.env` file may supply it)."""

from __future__ import annotations

import math
import re
import secrets
from typing import Literal
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import Field, ValidationError, ValidationInfo, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

TOKEN_PATTERN = re.compile(r"^\d{5,16}:[A-Za-z0-9_-]{30,64}$")
E164_PATTERN = re.compile(r"^\+[1-9][0-9]{6,14}$")
WHATSAPP_PREFIX = "whatsapp:"
TWILIO_VARIABLES = ("twilio_account_sid", "twilio_auth_token", "twilio_from_number")
MAX_RATE = 10_000.0  # far above what either channel allows; guards against typos
MAX_POLL_TIMEOUT = 50  # the longest long poll the Bot API holds
SUPPORTED_LOCALES = ("fr", "en")


class ConfigError(Exception):
    """A configuration value that cannot work; the message is one line for the operator."""


def first_line(error: BaseException) -> str:
    """What a driver's error says, in one line for the operator (its kind when it is silent)."""
    text = str(error).strip()
    return text.splitlines()[0] if text else type(error).__name__


class Settings(BaseSettings):
    """Every knob of Renfort, named exactly as the environment variables."""

    model_config = SettingsConfigDict(env_file=".env", extra="ignore", case_sensitive=False)

    telegram_bot_token: str | None = None
    telegram_api_url: str = "https://api.telegram.org"
    telegram_mode: Literal["polling", "webhook"] = "polling"
    telegram_webhook_secret: str = Field(default_factory=lambda: secrets.token_urlsafe(32))
    twilio_account_sid: str | None = None
    twilio_auth_token: str | None = None
    twilio_from_number: str | None = None
    twilio_whatsapp_from: str | None = None
    twilio_api_url: str | None = None
    public_url: str | None = None
    http_host: str = "127.0.0.1"
    http_port: int = 8080
    database_url: str = "sqlite:///renfort.db"
    renfort_timezone: str = "Europe/Paris"
    renfort_locale: str = "fr"
    telegram_rate: float = 30.0
    sms_rate: float = 10.0
    geocoder_url: str | None = None
    outbox_batch_size: int = 20
    telegram_poll_timeout: int = 10
    purge_after_months: int = Field(default=24, ge=1)  # relay texts and notes kept
    # Several workers: totals for the whole bot, each of N workers takes its share.
    database_pool_size: int = Field(default=10, ge=1)
    database_max_overflow: int = Field(default=10, ge=0)
    workers: int = Field(default=1, ge=1, le=64)  # set by `renfort run --workers N`
    redis_url: str | None = None
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"
    log_format: Literal["text", "json"] = "text"
    metrics_token: str | None = None
    metrics_host: str | None = None
    metrics_port: int | None = None

    @field_validator(
        "telegram_bot_token",
        "twilio_account_sid",
        "twilio_auth_token",
        "twilio_from_number",
        "twilio_whatsapp_from",
        "twilio_api_url",
        "public_url",
        "geocoder_url",
        "redis_url",
        "metrics_token",
        "metrics_host",
    )
    @classmethod
    def _blank_is_none(cls, value: str | None) -> str | None:
        return value.strip() or None if value is not None else None

    @field_validator("telegram_bot_token")
    @classmethod
    def _token_format(cls, value: str | None) -> str | None:
        if value is not None and not TOKEN_PATTERN.match(value):
            raise ValueError("does not look like a bot token (digits:secret, from @BotFather)")
        return value

    @field_validator("telegram_webhook_secret")
    @classmethod
    def _secret_chars(cls, value: str) -> str:
        if not re.fullmatch(r"[A-Za-z0-9_-]{1,256}", value):
            raise ValueError("may use only A-Z a-z 0-9 _ - (1 to 256 characters)")
        return value

    @field_validator("http_port")
    @classmethod
    def _port_range(cls, value: int) -> int:
        if not 0 <= value <= 65535:
            raise ValueError("must be between 0 and 65535")
        return value

    @field_validator("metrics_port")
    @classmethod
    def _metrics_port_range(cls, value: int | None) -> int | None:
        if value is not None and not 0 <= value <= 65535:
            raise ValueError("must be between 0 and 65535")
        return value

    @field_validator("log_level", "log_format", mode="before")
    @classmethod
    def _any_case(cls, value: object, info: ValidationInfo) -> object:
        if not isinstance(value, str):
            return value
        value = value.strip()
        return value.upper() if info.field_name == "log_level" else value.lower()

    @field_validator("redis_url")
    @classmethod
    def _redis_scheme(cls, value: str | None) -> str | None:
        if value is not None and urlsplit(value).scheme not in ("redis", "rediss", "unix"):
            raise ValueError("must start with redis://, rediss:// or unix://")
        return value

    @field_validator("renfort_timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"{value!r} is not a known time zone (e.g. Europe/Paris)") from None
        return value

    @field_validator("renfort_locale")
    @classmethod
    def _known_locale(cls, value: str) -> str:
        if value not in SUPPORTED_LOCALES:
            raise ValueError(f"must be one of {', '.join(SUPPORTED_LOCALES)}")
        return value

    @field_validator("telegram_rate", "sms_rate")
    @classmethod
    def _positive_rate(cls, value: float) -> float:
        # "inf" and "nan" parse as floats; both would break the rate limiter's arithmetic.
        if not math.isfinite(value) or not 0 < value <= MAX_RATE:
            raise ValueError(
                f"must be a positive number of messages per second (at most {MAX_RATE:g})"
            )
        return value

    @field_validator("database_url")
    @classmethod
    def _database_scheme(cls, value: str) -> str:
        parts = urlsplit(value)
        scheme = parts.scheme.split("+")[0]
        if scheme not in ("sqlite", "postgresql", "postgres"):
            raise ValueError("must start with sqlite:/// or postgresql://")
        try:
            parts.port  # noqa: B018 - reading it is the check: a non-numeric port raises
        except ValueError:
            raise ValueError("the port after the host must be a number (e.g. :5432)") from None
        return value

    @field_validator("twilio_from_number")
    @classmethod
    def _e164_sender(cls, value: str | None) -> str | None:
        if value is not None and not E164_PATTERN.match(value):
            raise ValueError(f"{value!r} is not an international number like +33700000000")
        return value

    @field_validator("twilio_whatsapp_from")
    @classmethod
    def _whatsapp_sender(cls, value: str | None) -> str | None:
        if value is not None and not (
            value.startswith(WHATSAPP_PREFIX) and E164_PATTERN.match(value[len(WHATSAPP_PREFIX) :])
        ):
            raise ValueError(f"{value!r} is not a WhatsApp sender like whatsapp:+33700000000")
        return value

    @field_validator("outbox_batch_size")
    @classmethod
    def _positive_batch(cls, value: int) -> int:
        if not 1 <= value <= 1000:
            raise ValueError("must be between 1 and 1000")
        return value

    @field_validator("purge_after_months")
    @classmethod
    def _purge_months(cls, value: int) -> int:
        if value > 1200:
            raise ValueError("must be at most 1200 months")
        return value

    @field_validator("telegram_poll_timeout")
    @classmethod
    def _poll_timeout(cls, value: int) -> int:
        if not 0 <= value <= MAX_POLL_TIMEOUT:
            raise ValueError(f"must be between 0 and {MAX_POLL_TIMEOUT} seconds")
        return value

    @field_validator("public_url", "telegram_api_url", "twilio_api_url", "geocoder_url")
    @classmethod
    def _http_url(cls, value: str | None) -> str | None:
        if value is None:
            return None
        parts = urlsplit(value)
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise ValueError(f"{value!r} is not an http(s) URL")
        try:
            parts.port  # noqa: B018 - reading it is the check: a bad port raises
        except ValueError:
            raise ValueError(f"{value!r} has no valid port number") from None
        return value.rstrip("/")

    @property
    def sandbox(self) -> bool:
        """Without a bot token Renfort talks to a local chat instead of Telegram."""
        return self.telegram_bot_token is None

    @property
    def sms_enabled(self) -> bool:
        return bool(self.twilio_account_sid and self.twilio_auth_token and self.twilio_from_number)

    @property
    def whatsapp_enabled(self) -> bool:
        """WhatsApp goes through the same Twilio account, and falls back to its SMS number."""
        return self.sms_enabled and self.twilio_whatsapp_from is not None

    def startup_warnings(self) -> list[str]:
        """Settings that work but probably not as meant; one line each, said at start."""
        given = [name for name in TWILIO_VARIABLES if getattr(self, name)]
        if given and len(given) < len(TWILIO_VARIABLES):
            missing = [name.upper() for name in TWILIO_VARIABLES if name not in given]
            return [f"{', '.join(missing)} not set: SMS is off (it needs all three TWILIO_ values)"]
        if self.twilio_whatsapp_from and not self.sms_enabled:
            return ["TWILIO_WHATSAPP_FROM set without the SMS settings: WhatsApp is off"]
        return []

    @property
    def pool_share(self) -> tuple[int, int]:
        """This worker's (pool size, overflow): the totals split between the workers, so N
        workers together never open more than DATABASE_POOL_SIZE + DATABASE_MAX_OVERFLOW."""
        return (
            max(1, self.database_pool_size // self.workers),
            self.database_max_overflow // self.workers,
        )

    @property
    def is_postgresql(self) -> bool:
        return urlsplit(self.database_url).scheme.split("+")[0] in ("postgresql", "postgres")

    @property
    def timezone(self) -> ZoneInfo:
        return ZoneInfo(self.renfort_timezone)


def load_settings(**overrides: object) -> Settings:
    """Read the settings, turning a bad value into one clear line."""
    try:
        return Settings(**overrides)  # type: ignore[arg-type]
    except UnicodeDecodeError as error:  # raised while reading the .env file
        raise ConfigError(f".env: not UTF-8 (byte {error.start}); save it as UTF-8") from None
    except ValidationError as error:
        first = error.errors()[0]
        field = ".".join(str(part) for part in first["loc"]).upper() or "configuration"
        message = str(first["msg"]).removeprefix("Value error, ")
        raise ConfigError(f"{field}: {message}") from None

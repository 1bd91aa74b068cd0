"""Configuration from the environment (a `.env` file may supply it).

Read by hand rather than by pydantic-settings: building its model and loading pydantic took
140 ms of every start, a seventh of `renfort run`'s way to its first getUpdates. The rules are
those it applied: keyword arguments, then the environment, then the `.env` file (names in any
case, unknown ones ignored), then the defaults; numbers parsed as it parsed them."""

from __future__ import annotations

import copy
import math
import os
import re
import secrets
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Literal
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

TOKEN_PATTERN = re.compile(r"^\d{5,16}:[A-Za-z0-9_-]{30,64}$")
E164_PATTERN = re.compile(r"^\+[1-9][0-9]{6,14}$")
# What a whole number may look like: "80", " +80 ", "8_0" or "80.0", ASCII digits only.
INTEGER_PATTERN = re.compile(r"\s*([+-]?[0-9](?:_?[0-9])*)(?:\.0+)?\s*", re.ASCII)
WHATSAPP_PREFIX = "whatsapp:"
TWILIO_VARIABLES = ("twilio_account_sid", "twilio_auth_token", "twilio_from_number")
MAX_RATE = 10_000.0  # far above what either channel allows; guards against typos
MAX_POLL_TIMEOUT = 50  # the longest long poll the Bot API holds
SUPPORTED_LOCALES = ("fr", "en")
ENV_FILE = ".env"


class ConfigError(Exception):
    """A configuration value that cannot work; the message is one line for the operator."""


def first_line(error: BaseException) -> str:
    """What a driver's error says, in one line for the operator (its kind when it is silent)."""
    text = str(error).strip()
    return text.splitlines()[0] if text else type(error).__name__


Convert = Callable[[object], object]
# The default of TELEGRAM_WEBHOOK_SECRET: a new random one at each start.
RANDOM_SECRET = object()


def text(value: object) -> str:
    if not isinstance(value, str):
        raise ValueError("Input should be a valid string")
    return value


def optional_text(value: object) -> str | None:
    """A blank value is no value."""
    return None if value is None else text(value).strip() or None


def integer(value: object) -> int:
    if isinstance(value, int):
        return int(value)
    if isinstance(value, float):
        if not math.isfinite(value):
            raise ValueError("Input should be a finite number")
        if value.is_integer():
            return int(value)
        raise ValueError("Input should be a valid integer, got a number with a fractional part")
    if isinstance(value, str):
        match = INTEGER_PATTERN.fullmatch(value)
        if match is None:
            raise ValueError(
                "Input should be a valid integer, unable to parse string as an integer"
            )
        return int(match.group(1))
    raise ValueError("Input should be a valid integer")


def optional_integer(value: object) -> int | None:
    return None if value is None else integer(value)


def number(value: object) -> float:
    if isinstance(value, int | float):
        return float(value)
    if not isinstance(value, str):
        raise ValueError("Input should be a valid number")
    try:
        if value.isascii():  # float() would also read other scripts' digits
            return float(value)
    except ValueError:
        pass
    raise ValueError("Input should be a valid number, unable to parse string as a number")


def one_of(*choices: str) -> Convert:
    listed = " or ".join((", ".join(repr(choice) for choice in choices[:-1]), repr(choices[-1])))

    def convert(value: object) -> object:
        if isinstance(value, str) and value in choices:
            return value
        raise ValueError(f"Input should be {listed}")

    return convert


def at_least(lowest: int) -> Convert:
    def check(value: object) -> object:
        if integer(value) < lowest:
            raise ValueError(f"Input should be greater than or equal to {lowest}")
        return value

    return check


def at_most(highest: int) -> Convert:
    def check(value: object) -> object:
        if integer(value) > highest:
            raise ValueError(f"Input should be less than or equal to {highest}")
        return value

    return check


def steps(*converts: Convert) -> Convert:
    def convert(value: object) -> object:
        for step in converts:
            value = step(value)
        return value

    return convert


def token_format(value: object) -> object:
    if isinstance(value, str) and not TOKEN_PATTERN.match(value):
        raise ValueError("does not look like a bot token (digits:secret, from @BotFather)")
    return value


def secret_chars(value: object) -> object:
    if not re.fullmatch(r"[A-Za-z0-9_-]{1,256}", text(value)):
        raise ValueError("may use only A-Z a-z 0-9 _ - (1 to 256 characters)")
    return value


def port_range(value: object) -> object:
    if isinstance(value, int) and not 0 <= value <= 65535:
        raise ValueError("must be between 0 and 65535")
    return value


def any_case(upper: bool) -> Convert:
    def convert(value: object) -> object:
        if not isinstance(value, str):
            return value
        value = value.strip()
        return value.upper() if upper else value.lower()

    return convert


def redis_scheme(value: object) -> object:
    if isinstance(value, str) and urlsplit(value).scheme not in ("redis", "rediss", "unix"):
        raise ValueError("must start with redis://, rediss:// or unix://")
    return value


def known_zone(value: object) -> object:
    name = text(value)
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, OSError):  # OSError: a name too long for a file
        raise ValueError(f"{value!r} is not a known time zone (e.g. Europe/Paris)") from None
    return value


def known_locale(value: object) -> object:
    if value not in SUPPORTED_LOCALES:
        raise ValueError(f"must be one of {', '.join(SUPPORTED_LOCALES)}")
    return value


def positive_rate(value: object) -> object:
    # "inf" and "nan" parse as floats; both would break the rate limiter's arithmetic.
    rate = number(value)
    if not math.isfinite(rate) or not 0 < rate <= MAX_RATE:
        raise ValueError(f"must be a positive number of messages per second (at most {MAX_RATE:g})")
    return rate


def database_scheme(value: object) -> object:
    parts = urlsplit(text(value))
    scheme = parts.scheme.split("+")[0]
    if scheme not in ("sqlite", "postgresql", "postgres"):
        raise ValueError("must start with sqlite:/// or postgresql://")
    try:
        parts.port  # noqa: B018 - reading it is the check: a non-numeric port raises
    except ValueError:
        raise ValueError("the port after the host must be a number (e.g. :5432)") from None
    return value


def e164_sender(value: object) -> object:
    if isinstance(value, str) and not E164_PATTERN.match(value):
        raise ValueError(f"{value!r} is not an international number like +33700000000")
    return value


def whatsapp_sender(value: object) -> object:
    if isinstance(value, str) and not (
        value.startswith(WHATSAPP_PREFIX) and E164_PATTERN.match(value[len(WHATSAPP_PREFIX) :])
    ):
        raise ValueError(f"{value!r} is not a WhatsApp sender like whatsapp:+33700000000")
    return value


def batch_size(value: object) -> object:
    if not 1 <= integer(value) <= 1000:
        raise ValueError("must be between 1 and 1000")
    return value


def purge_months(value: object) -> object:
    if integer(value) > 1200:
        raise ValueError("must be at most 1200 months")
    return value


def poll_timeout(value: object) -> object:
    if not 0 <= integer(value) <= MAX_POLL_TIMEOUT:
        raise ValueError(f"must be between 0 and {MAX_POLL_TIMEOUT} seconds")
    return value


def http_url(value: object) -> object:
    if value is None:
        return None
    url = text(value)
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise ValueError(f"{url!r} is not an http(s) URL")
    try:
        parts.port  # noqa: B018 - reading it is the check: a bad port raises
    except ValueError:
        raise ValueError(f"{url!r} has no valid port number") from None
    return url.rstrip("/")


# Every setting, in the order its problems are reported: its default, and how a given value
# (a string from the environment, or any object from the code) is read and checked.
FIELDS: dict[str, tuple[object, Convert]] = {
    "telegram_bot_token": (None, steps(optional_text, token_format)),
    "telegram_api_url": ("https://api.telegram.org", steps(text, http_url)),
    "telegram_mode": ("polling", one_of("polling", "webhook")),
    "telegram_webhook_secret": (RANDOM_SECRET, secret_chars),
    "twilio_account_sid": (None, optional_text),
    "twilio_auth_token": (None, optional_text),
    "twilio_from_number": (None, steps(optional_text, e164_sender)),
    "twilio_whatsapp_from": (None, steps(optional_text, whatsapp_sender)),
    "twilio_api_url": (None, steps(optional_text, http_url)),
    "public_url": (None, steps(optional_text, http_url)),
    "http_host": ("127.0.0.1", text),
    "http_port": (8080, steps(integer, port_range)),
    "database_url": ("sqlite:///renfort.db", database_scheme),
    "renfort_timezone": ("Europe/Paris", known_zone),
    "renfort_locale": ("fr", steps(text, known_locale)),
    "telegram_rate": (30.0, positive_rate),
    "sms_rate": (10.0, positive_rate),
    "geocoder_url": (None, steps(optional_text, http_url)),
    "outbox_batch_size": (20, steps(integer, batch_size)),
    "telegram_poll_timeout": (10, steps(integer, poll_timeout)),
    # Relay texts and coordinators' notes are kept this many months.
    "purge_after_months": (24, steps(integer, at_least(1), purge_months)),
    # Several workers: totals for the whole bot, each of N workers takes its share.
    "database_pool_size": (10, steps(integer, at_least(1))),
    "database_max_overflow": (10, steps(integer, at_least(0))),
    "workers": (1, steps(integer, at_least(1), at_most(64))),  # `renfort run --workers N`
    "redis_url": (None, steps(optional_text, redis_scheme)),
    "log_level": ("INFO", steps(any_case(upper=True), one_of("DEBUG", "INFO", "WARNING", "ERROR"))),
    "log_format": ("text", steps(any_case(upper=False), one_of("text", "json"))),
    "metrics_token": (None, optional_text),
    "metrics_host": (None, optional_text),
    "metrics_port": (None, steps(optional_integer, port_range)),
}


def environment() -> dict[str, str]:
    """The environment's variables, by their names in lower case."""
    return {name.lower(): value for name, value in os.environ.items()}


def env_file_values(path: Path) -> dict[str, str]:
    """The variables a `.env` file sets, by their names in lower case; none without one."""
    if not path.is_file():
        return {}
    # python-dotenv reads quotes, `export`, comments and ${VARIABLE}s as pydantic-settings
    # let it; it loads only when there is a file to read.
    from dotenv import dotenv_values

    try:
        values = dotenv_values(path, encoding="utf-8")
    except UnicodeDecodeError as error:
        raise ConfigError(f".env: not UTF-8 (byte {error.start}); save it as UTF-8") from None
    return {name.lower(): value for name, value in values.items() if value is not None}


class Settings:
    """Every knob of Renfort, named exactly as the environment variables.

    Keyword arguments win over the environment, which wins over the `.env` file (`_env_file`,
    None for none); unknown names are ignored. A bad value raises ConfigError naming it."""

    telegram_bot_token: str | None
    telegram_api_url: str
    telegram_mode: Literal["polling", "webhook"]
    telegram_webhook_secret: str
    twilio_account_sid: str | None
    twilio_auth_token: str | None
    twilio_from_number: str | None
    twilio_whatsapp_from: str | None
    twilio_api_url: str | None
    public_url: str | None
    http_host: str
    http_port: int
    database_url: str
    renfort_timezone: str
    renfort_locale: str
    telegram_rate: float
    sms_rate: float
    geocoder_url: str | None
    outbox_batch_size: int
    telegram_poll_timeout: int
    purge_after_months: int
    database_pool_size: int
    database_max_overflow: int
    workers: int
    redis_url: str | None
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"]
    log_format: Literal["text", "json"]
    metrics_token: str | None
    metrics_host: str | None
    metrics_port: int | None

    def __init__(self, _env_file: str | Path | None = ENV_FILE, **values: object) -> None:
        sources: list[Mapping[str, object]] = [values, environment()]
        if _env_file is not None:
            sources.append(env_file_values(Path(_env_file)))
        for name, (default, convert) in FIELDS.items():
            source = next((source for source in sources if name in source), None)
            if source is None:
                value = secrets.token_urlsafe(32) if default is RANDOM_SECRET else default
            else:
                try:
                    value = convert(source[name])
                except ValueError as error:
                    raise ConfigError(f"{name.upper()}: {error}") from None
            setattr(self, name, value)

    def replaced(self, **changes: object) -> Settings:
        """A copy with some values changed as given (unchecked: the code chose them)."""
        copied = copy.copy(self)
        for name, value in changes.items():
            setattr(copied, name, value)
        return copied

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


def load_settings(_env_file: str | Path | None = ENV_FILE, **overrides: object) -> Settings:
    """Read the settings, or one clear line (ConfigError) about the first bad value."""
    return Settings(_env_file, **overrides)

"""Settings for several workers, logs and metrics: sane defaults, one clear line when wrong."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from bot.config import ConfigError, Settings, load_settings
from renfort import cli

TOKEN = "123456:TEST-TOKEN-abcdefghijklmnopqrstuvwxyz"


def settings(**values: object) -> Settings:
    return load_settings(_env_file=None, **values)


def test_the_pool_totals_are_shared_between_workers() -> None:
    assert settings().pool_share == (10, 10)
    assert settings(workers=4).pool_share == (2, 2)
    # 4 workers x (3 + 2) stays within the 12 + 8 the operator allowed the whole bot.
    assert settings(workers=4, database_pool_size=12, database_max_overflow=8).pool_share == (
        3,
        2,
    )
    assert settings(workers=16, database_pool_size=10, database_max_overflow=0).pool_share == (
        1,
        0,
    )


@pytest.mark.parametrize(
    ("values", "message"),
    [
        ({"log_level": "LOUD"}, "LOG_LEVEL"),
        ({"log_format": "xml"}, "LOG_FORMAT"),
        ({"redis_url": "http://cache:6379"}, "REDIS_URL: must start with redis://"),
        ({"metrics_port": 70000}, "METRICS_PORT: must be between 0 and 65535"),
        ({"database_pool_size": 0}, "DATABASE_POOL_SIZE"),
        ({"workers": 0}, "WORKERS"),
    ],
)
def test_bad_values_are_one_line_naming_the_variable(
    values: dict[str, object], message: str
) -> None:
    with pytest.raises(ConfigError, match=message):
        settings(**values)


def test_log_settings_accept_any_case_and_blank_redis_is_unset() -> None:
    chosen = settings(log_level="debug", log_format="JSON", redis_url="  ")
    assert (chosen.log_level, chosen.log_format, chosen.redis_url) == ("DEBUG", "json", None)


def test_several_workers_on_sqlite_are_refused_in_one_line(
    no_settings: Path, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'one.db'}")
    monkeypatch.setenv("TELEGRAM_BOT_TOKEN", TOKEN)
    result = CliRunner().invoke(cli.app, ["run", "--workers", "2"])
    assert result.exit_code == 2
    assert "Traceback" not in result.output
    assert "several workers need DATABASE_URL=postgresql://" in result.output

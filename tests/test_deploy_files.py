"""The deployment files say the truth about the code: .env.example lists every setting with
its real default, and the proxy examples pass exactly the routes the service serves."""

from __future__ import annotations

import re
from pathlib import Path

from bot.config import FIELDS, load_settings
from handlers.sms.sender import STATUS_PATH
from handlers.sms.webhook import INBOUND_PATH
from handlers.web import TELEGRAM_WEBHOOK_PATH

ROOT = Path(__file__).resolve().parent.parent
ENV_EXAMPLE = ROOT / ".env.example"
RANDOM_EACH_START = {"telegram_webhook_secret"}


def documented() -> dict[str, str]:
    """NAME=value lines of .env.example, commented-out ones included."""
    found = re.findall(r"^#? ?([A-Z][A-Z0-9_]+)=(.*)$", ENV_EXAMPLE.read_text(), re.MULTILINE)
    return {name.lower(): value for name, value in found}


def test_env_example_lists_every_setting() -> None:
    assert set(FIELDS) - set(documented()) == set()
    assert set(documented()) - set(FIELDS) == set()


def test_env_example_loads_and_gives_the_defaults() -> None:
    example = load_settings(_env_file=ENV_EXAMPLE)
    defaults = load_settings(_env_file=None)
    for name in set(FIELDS) - RANDOM_EACH_START:
        assert getattr(example, name) == getattr(defaults, name), name


def test_the_proxy_examples_pass_every_webhook_and_nothing_else() -> None:
    webhooks = {TELEGRAM_WEBHOOK_PATH, INBOUND_PATH, STATUS_PATH, "/healthz"}
    caddy = (ROOT / "deploy" / "Caddyfile").read_text()
    nginx = (ROOT / "deploy" / "nginx.conf").read_text()
    [caddy_paths] = re.findall(r"@public path (.+)", caddy)
    assert set(caddy_paths.split()) == webhooks | {"/ics/*", "/files/*", "/board", "/board/*"}
    assert "location /board {" in nginx and "location /files/ {" in nginx
    [nginx_paths] = re.findall(r"location ~ \^/\((.+)\)\$", nginx)
    assert {"/" + p for p in nginx_paths.split("|")} == webhooks

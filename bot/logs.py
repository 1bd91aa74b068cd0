"""Log lines for operators: a UTC date on every line, plain text or JSON lines, and no
personal data (people are named by their ids; a phone number that slips into a message or
a traceback is masked before the line is written)."""

from __future__ import annotations

import json
import logging
import os
import re
import sys
import time
from typing import Literal, TextIO

LogFormat = Literal["text", "json"]
TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"
DATE_FORMAT = "%Y-%m-%dT%H:%M:%S"
# The libraries that speak at INFO about every request (httpx even logs URLs, which carry
# the bot token): only their problems are worth a line.
QUIET_LOGGERS = ("httpx", "httpcore", "apscheduler", "alembic", "telegram.ext")
# E.164 numbers and French national ones (06 12 34 56 78, 0612345678): the digits after
# the first few say who the person is.
PHONE = re.compile(r"(?<![\w+])(?:\+\d{1,3}|0(?=[1-9]))(?:[ .-]?\d){7,13}(?!\d)")


def mask_phones(text: str) -> str:
    """'+33612345678' becomes '+33…': enough to tell a country, not a person."""
    return PHONE.sub(lambda match: _kept(match.group(0)) + "…", text)


def _kept(number: str) -> str:
    return number[:3] if number.startswith("+") else "0"


class _UtcDates(logging.Formatter):
    def formatTime(self, record: logging.LogRecord, datefmt: str | None = None) -> str:
        stamp = time.strftime(DATE_FORMAT, time.gmtime(record.created))
        return f"{stamp}.{int(record.msecs):03d}Z"


class TextFormatter(_UtcDates):
    """`2026-12-06T05:15:02.123Z INFO renfort.app: message` (worker index when several)."""

    def __init__(self, worker: str | None = None) -> None:
        prefix = f"[worker {worker}] " if worker is not None else ""
        super().__init__(TEXT_FORMAT.replace("%(name)s", prefix + "%(name)s"))

    def format(self, record: logging.LogRecord) -> str:
        return mask_phones(super().format(record))


class JsonFormatter(_UtcDates):
    """One JSON object per line, for log collectors."""

    def __init__(self, worker: str | None = None) -> None:
        super().__init__()
        self.worker = worker

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, object] = {
            "time": self.formatTime(record),
            "level": record.levelname,
            "logger": record.name,
            "message": mask_phones(record.getMessage()),
        }
        if self.worker is not None:
            entry["worker"] = self.worker
        if record.exc_info:
            entry["exception"] = mask_phones(self.formatException(record.exc_info))
        return json.dumps(entry, ensure_ascii=False)


class _Stderr(logging.StreamHandler[TextIO]):
    """Writes to whatever sys.stderr is when a line is logged (a test runner or a sandbox
    may swap it after logging was configured)."""

    @property
    def stream(self) -> TextIO:
        return sys.stderr

    @stream.setter
    def stream(self, _value: object) -> None:
        pass


def configure_logging(level: str | int = logging.INFO, log_format: LogFormat = "text") -> None:
    """Send every log line to stderr in the chosen shape, replacing earlier handlers."""
    worker = os.environ.get("WORKER_INDEX") if os.environ.get("WORKERS", "1") != "1" else None
    handler = _Stderr()
    handler.setFormatter(JsonFormatter(worker) if log_format == "json" else TextFormatter(worker))
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(level)
    for name in QUIET_LOGGERS:
        logging.getLogger(name).setLevel(max(logging.WARNING, root.level))

"""Operators' logs: a date on every line, JSON lines on demand, and nothing a person wrote
or shared (phone numbers, message text), even when a handler fails on it."""

from __future__ import annotations

import json
import logging
from pathlib import Path

import pytest

from bot.logs import JsonFormatter, TextFormatter, configure_logging, mask_phones
from bot.services import phones
from handlers.telegram import volunteer as volunteer_handlers
from tests.conftest import NOW
from tests.factories import volunteer
from tests.harness import FakeClock, running_bot, sqlite_file_url

PHONE = "+33612345678"
SECRET_TEXT = "j'habite au 12 rue des Lilas, appelez le 06 12 34 56 78"


def rendered(records: list[logging.LogRecord]) -> str:
    text, as_json = TextFormatter(), JsonFormatter()
    return "\n".join(f(r) for r in records for f in (text.format, as_json.format))


async def test_a_failing_handler_logs_ids_not_what_the_person_shared(
    tmp_path: Path, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    async def broken_link(_db: object, _person: int, number: str, **_kw: object) -> None:
        raise ValueError(f"cannot store {number}")  # libraries echo their input like this

    async def broken_help(*_args: object) -> None:
        raise RuntimeError("help is broken")

    monkeypatch.setattr(phones, "link_phone", broken_link)
    async with running_bot(sqlite_file_url(tmp_path), FakeClock(NOW)) as bot:
        monkeypatch.setattr(volunteer_handlers, "help_command", broken_help)
        await volunteer(bot.db, 1, "Camille")
        bot.double.user(1, "Camille")
        with caplog.at_level(logging.INFO):
            contact = bot.double.share_contact(1, PHONE)
            await bot.handled(contact)
            apology = await bot.say(1, SECRET_TEXT)
    errors = [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert len(errors) >= 1
    assert any(f"update {contact}" in r.getMessage() for r in errors)
    assert any("Désolé" in m.text for m in apology)
    lines = rendered(caplog.records)
    assert "cannot store +33…" in lines  # the error is there, the number is not
    for secret in (PHONE, "612345678", "06 12 34 56 78", "rue des Lilas"):
        assert secret not in lines


def test_every_line_has_a_utc_date_and_json_lines_parse() -> None:
    record = logging.LogRecord("renfort.app", logging.WARNING, __file__, 1, "sent %s", ("x",), None)
    record.created = 1_807_000_000.25  # 2027-04-06T08:26:40.250Z
    record.msecs = 250
    line = TextFormatter().format(record)
    assert line.startswith("2027-04-06T08:26:40.250Z WARNING renfort.app: sent x")
    entry = json.loads(JsonFormatter(worker="1").format(record))
    assert entry == {
        "time": "2027-04-06T08:26:40.250Z",
        "level": "WARNING",
        "logger": "renfort.app",
        "message": "sent x",
        "worker": "1",
    }


@pytest.mark.parametrize(
    ("text", "masked"),
    [
        ("SMS to +33612345678 failed", "SMS to +33… failed"),
        ("from 06 12 34 56 78.", "from 0…."),
        ("took 0.123456789 s", "took 0.123456789 s"),
        ("whatsapp:+447700900123", "whatsapp:+44…"),
        ("outbox 1234567 and update 98765432", "outbox 1234567 and update 98765432"),
    ],
)
def test_phone_numbers_are_masked_and_ids_kept(text: str, masked: str) -> None:
    assert mask_phones(text) == masked


def test_log_level_and_format_come_from_the_settings(capsys: pytest.CaptureFixture[str]) -> None:
    root = logging.getLogger()
    before = (list(root.handlers), root.level)
    try:
        configure_logging("WARNING", "json")
        logging.getLogger("bot.test").info("not shown")
        logging.getLogger("bot.test").warning("shown to %s", PHONE)
        err = capsys.readouterr().err.strip().splitlines()
        assert len(err) == 1
        assert json.loads(err[0])["message"] == "shown to +33…"
    finally:
        root.handlers[:], root.level = before

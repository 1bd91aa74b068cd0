"""The `renfort` command as an operator uses it, on a throwaway SQLite file."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner, Result

from bot.config import FIELDS
from bot.importer import HEADER
from renfort import cli

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "examples"
runner = CliRunner()


# A clean environment: no .env, no inherited variables, a fresh database file.
pytestmark = pytest.mark.usefixtures("operator_env")


def renfort(*args: str) -> Result:
    return runner.invoke(cli.app, list(args))


def one_line_error(result: Result) -> str:
    assert result.exit_code != 0
    assert "Traceback" not in result.output
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    return lines[0]


def organisations() -> list[dict[str, Any]]:
    result = renfort("org", "list", "--json")
    assert result.exit_code == 0, result.output
    rows = json.loads(result.stdout)
    assert isinstance(rows, list)
    return rows


def test_org_create_json_prints_one_object_with_its_invite_code() -> None:
    result = renfort("org", "create", "Mairie de Saint-Dizier", "--postcode", "52100", "--json")

    assert result.exit_code == 0, result.output
    assert len(result.stdout.strip().splitlines()) == 1
    created = json.loads(result.stdout)
    assert created["name"] == "Mairie de Saint-Dizier"
    assert created["postcode"] == "52100"
    assert isinstance(created["id"], int)
    assert len(created["invite_code"]) == 8


def test_org_create_shows_the_invite_code_to_hand_to_coordinators() -> None:
    result = renfort("org", "create", "Mairie de Saint-Dizier", "--postcode", "52100")

    assert result.exit_code == 0, result.output
    code = organisations()[0]["invite_code"]
    assert f"/join {code}" in result.stdout


def test_a_duplicate_name_is_one_line_and_a_failure() -> None:
    assert renfort("org", "create", "Mairie de Saint-Dizier").exit_code == 0

    line = one_line_error(renfort("org", "create", "MAIRIE DE SAINT-DIZIER"))

    assert "already exists" in line
    assert len(organisations()) == 1


def test_a_bad_postcode_is_one_line_and_a_failure() -> None:
    line = one_line_error(renfort("org", "create", "Mairie", "--postcode", "521"))

    assert "postcode '521' must be 5 digits" in line
    assert organisations() == []


@pytest.mark.parametrize(
    ("args", "said"),
    [
        (["Mairie", "--postcode", "５２１００"], "must be 5 digits"),
        (["M" * 201], "at most 200 characters"),
        (["\x1b\x07 "], "needs a name"),
    ],
)
def test_odd_organisation_values_are_one_line(args: list[str], said: str) -> None:
    assert said in one_line_error(renfort("org", "create", *args))
    assert organisations() == []


def test_org_list_shows_every_organisation() -> None:
    renfort("org", "create", "Mairie de Saint-Dizier", "--postcode", "52100")
    renfort("org", "create", "Secours populaire", "--postcode", "52000")

    table = renfort("org", "list")

    assert table.exit_code == 0
    assert "Secours populaire" in table.stdout
    assert [o["name"] for o in organisations()] == ["Mairie de Saint-Dizier", "Secours populaire"]


def test_the_examples_import_cleanly() -> None:
    renfort("org", "create", "Mairie de Saint-Dizier", "--postcode", "52100")
    renfort("org", "create", "Restos du Cœur de Saint-Dizier", "--postcode", "52100")

    election = renfort("missions", "import", str(EXAMPLES / "election-saint-dizier.csv"))
    food_aid = renfort("missions", "import", str(EXAMPLES / "aide-alimentaire.csv"))

    assert election.exit_code == 0, election.output
    assert "Imported 12 mission(s) with 36 slot(s)" in election.stdout
    assert food_aid.exit_code == 0, food_aid.output
    assert "Imported 4 mission(s) with 15 slot(s)" in food_aid.stdout
    assert election.stderr == food_aid.stderr == ""
    assert [o["missions"] for o in organisations()] == [12, 4]


def bad_file(tmp_path: Path) -> Path:
    station = "Mairie de Saint-Dizier,Assesseur,citizenship,,Hôtel de ville,52100,48.6,4.9,no"
    path = tmp_path / "bad.csv"
    path.write_text(
        "\n".join(
            [
                ",".join(HEADER),
                f"{station},2027-06-13T08:00,2027-06-13T13:00,2",
                f"{station},2027-06-13T13:00,2027-06-13T18:00,deux",
                f"{station},2027-06-20T08:00,2027-06-20T13:00,2",
            ]
        ),
        encoding="utf-8",
    )
    return path


def test_a_bad_row_is_reported_by_line_and_nothing_is_imported(tmp_path: Path) -> None:
    renfort("org", "create", "Mairie de Saint-Dizier")

    result = renfort("missions", "import", str(bad_file(tmp_path)))

    assert result.exit_code == 1
    assert "bad.csv line 3: capacity 'deux' must be a positive whole number" in result.stderr
    assert "nothing imported" in result.stderr
    assert organisations()[0]["missions"] == 0


def test_skip_bad_imports_the_good_rows(tmp_path: Path) -> None:
    renfort("org", "create", "Mairie de Saint-Dizier")

    result = renfort("missions", "import", str(bad_file(tmp_path)), "--skip-bad")

    assert result.exit_code == 0, result.output
    assert "line 3:" in result.stderr
    assert "Imported 1 mission(s) with 2 slot(s)" in result.stdout
    assert "skipped 1 bad row(s)" in result.stdout
    assert organisations()[0]["missions"] == 1


def test_a_missing_or_malformed_file_is_one_line(tmp_path: Path) -> None:
    assert "cannot read" in one_line_error(renfort("missions", "import", "nothere.csv"))
    wrong = tmp_path / "wrong.csv"
    wrong.write_text("name,date\n", encoding="utf-8")
    assert "the header must be exactly" in one_line_error(renfort("missions", "import", str(wrong)))


def test_db_upgrade_creates_a_fresh_database(operator_env: Path) -> None:
    result = renfort("db", "upgrade")

    assert result.exit_code == 0, result.output
    assert (operator_env / "cli.db").exists()
    assert "newest schema" in result.stdout


@pytest.mark.parametrize(
    ("variable", "value", "named"),
    [
        ("HTTP_PORT", "99999", "HTTP_PORT"),
        ("TELEGRAM_BOT_TOKEN", "not-a-token", "TELEGRAM_BOT_TOKEN"),
        ("DATABASE_URL", "mysql://localhost/renfort", "DATABASE_URL"),
        ("DATABASE_URL", "postgresql://root@127.0.0.1:abc/x", "DATABASE_URL"),
        ("TELEGRAM_RATE", "inf", "TELEGRAM_RATE"),
        ("SMS_RATE", "nan", "SMS_RATE"),
        ("TWILIO_FROM_NUMBER", "abc", "TWILIO_FROM_NUMBER"),
        ("OUTBOX_BATCH_SIZE", "-5", "OUTBOX_BATCH_SIZE"),
        ("TELEGRAM_POLL_TIMEOUT", "-1", "TELEGRAM_POLL_TIMEOUT"),
    ],
)
def test_a_bad_setting_stops_run_with_one_line(
    monkeypatch: pytest.MonkeyPatch, variable: str, value: str, named: str
) -> None:
    monkeypatch.setenv(variable, value)

    result = renfort("run")

    assert result.exit_code == 2
    assert named in one_line_error(result)


def test_an_unreachable_database_is_one_line(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DATABASE_URL", "sqlite:////nonexistent-dir/renfort.db")

    result = renfort("org", "list")

    assert result.exit_code == 2
    assert one_line_error(result).startswith("Error: DATABASE_URL")


def test_the_installed_command_prints_no_traceback(operator_env: Path) -> None:
    env = {k: v for k, v in os.environ.items() if k.upper() not in _setting_names()}
    env.update(HTTP_PORT="99999", PYTHONPATH=str(ROOT))

    done = subprocess.run(
        [sys.executable, "-m", "bot", "run"],
        cwd=operator_env,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )

    assert done.returncode == 2
    [line] = done.stderr.strip().splitlines()
    assert line.startswith("Error: HTTP_PORT: ") and "65535" in line
    assert done.stdout == ""


def _setting_names() -> set[str]:
    return {name.upper() for name in FIELDS}


async def test_whatsapp_templates_are_made_once_then_listed_with_whatsapps_verdict() -> None:
    from renfort.sandbox.twilio_double import TwilioDouble

    twilio = TwilioDouble()
    await twilio.start()
    twilio.approve_templates = False
    env = {
        "TWILIO_ACCOUNT_SID": twilio.account_sid,
        "TWILIO_AUTH_TOKEN": twilio.auth_token,
        "TWILIO_FROM_NUMBER": twilio.number,
        "TWILIO_WHATSAPP_FROM": twilio.whatsapp_number,
        "TWILIO_API_URL": twilio.base_url,
        "PUBLIC_URL": "https://renfort.example.org",
    }

    def templates() -> list[dict[str, Any]]:
        # The command runs its own event loop; the double serves from this one.
        result = runner.invoke(cli.app, ["whatsapp", "templates", "--json"], env=env)
        assert result.exit_code == 0, result.output
        rows = json.loads(result.stdout)
        assert isinstance(rows, list)
        return rows

    try:
        first = await asyncio.to_thread(templates)
        twilio.reject("renfort_offer")
        second = await asyncio.to_thread(templates)
    finally:
        await twilio.stop()

    assert len(first) == 16 and all(row["created"] for row in first)
    assert {(r["name"], r["language"]) for r in first} >= {
        ("renfort_reminder", "fr"),
        ("renfort_callout", "en"),
        ("renfort_decision", "fr"),
    }
    assert not any(row["created"] for row in second)
    verdicts = {(r["name"], r["language"]): r["status"] for r in second}
    assert verdicts[("renfort_offer", "fr")] == verdicts[("renfort_offer", "en")] == "rejected"
    assert verdicts[("renfort_reminder", "fr")] == "pending"
    assert verdicts[("renfort_choices_2", "en")] == "session"  # quick replies need no review
    assert len(twilio.contents) == 16  # nothing made twice


def test_whatsapp_templates_say_when_whatsapp_is_off() -> None:
    result = renfort("whatsapp", "templates")
    assert "TWILIO_WHATSAPP_FROM" in one_line_error(result) and result.exit_code == 2

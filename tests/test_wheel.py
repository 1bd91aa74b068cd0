"""The wheel as an operator installs it: built from this checkout, installed with plain pip
into a fresh virtualenv outside it, seeded with its own `renfort` command, then `renfort run`
against the Bot API double speaks French to a French-speaking volunteer.

Slow (a wheel, a virtualenv, pip from its cache or PyPI): one virtualenv for the whole
session, and marked `wheel`: `pytest -m "not wheel"` leaves it out while working on
something else; `make test` runs it."""

from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
import subprocess
import sys
import zipfile
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

import pytest

from bot.config import FIELDS
from bot.i18n import Translator
from bot.importer import HEADER
from renfort.sandbox.telegram_double import TelegramDouble
from tests.harness import free_port
from tests.test_journey import Person, register_and_apply

pytestmark = pytest.mark.wheel

ROOT = Path(__file__).resolve().parent.parent
NOT_SOURCES = shutil.ignore_patterns(
    ".git", ".venv", "build", "dist", "*.egg-info", "__pycache__", ".*_cache", "*.db*", ".env"
)
BUILD_TIMEOUT = 900  # seconds: a cold pip cache on a busy machine
START_TIMEOUT = 120.0
VOLUNTEER = 1
MISSION = "Assesseur — bureau de vote n°3"


@dataclass(frozen=True)
class Installed:
    wheel: Path
    bin: Path

    @property
    def site_packages(self) -> Path:
        [found] = self.bin.parent.glob("lib/python3*/site-packages")
        return found


def _run(
    args: list[str | Path], cwd: Path | None = None, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    done = subprocess.run(
        [str(a) for a in args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=BUILD_TIMEOUT,
        check=False,
    )
    assert done.returncode == 0, f"{args} failed:\n{done.stdout}\n{done.stderr}"
    return done


def log_text(log: Path) -> str:
    return log.read_text(errors="replace")


def operator_env(database_url: str, **extra: str) -> dict[str, str]:
    """The machine's environment without any Renfort setting or path into this checkout."""
    env = {
        k: v
        for k, v in os.environ.items()
        if k.lower() not in FIELDS and k not in ("PYTHONPATH", "VIRTUAL_ENV")
    }
    env.update(DATABASE_URL=database_url, **extra)
    return env


@pytest.fixture(scope="session")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Installed:
    """The wheel built from a copy of the checkout (nothing stale from an earlier build),
    installed into a virtualenv of its own with the pinned versions."""
    base = tmp_path_factory.mktemp("wheel")
    source = base / "source"
    shutil.copytree(ROOT, source, ignore=NOT_SOURCES)
    _run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--quiet", "-w", base / "dist", source]
    )
    [wheel] = (base / "dist").glob("renfort-*.whl")
    _run([sys.executable, "-m", "venv", base / "venv"])
    python = base / "venv" / "bin" / "python"
    _run([python, "-m", "pip", "install", "--quiet", wheel, "-c", ROOT / "constraints.txt"])
    return Installed(wheel=wheel, bin=base / "venv" / "bin")


def test_the_wheel_carries_the_compiled_catalogues_migrations_and_licence(
    installed: Installed,
) -> None:
    names = set(zipfile.ZipFile(installed.wheel).namelist())
    for locale in ("fr", "en"):
        assert f"bot/locales/{locale}/LC_MESSAGES/messages.mo" in names
    assert any(n.endswith(".dist-info/licenses/LICENSE") for n in names)
    assert "storage/migrations/env.py" in names
    assert any(n.startswith("storage/migrations/versions/0001") for n in names)
    assert "bot/data/communes.csv" in names
    for page in ("board.html", "live.html", "print.html"):
        assert f"handlers/board/templates/{page}" in names
    for asset in ("board.css", "board.js", "print.css"):
        assert f"handlers/board/static/{asset}" in names


def next_sunday_in_a_week() -> date:
    today = date.today()
    return today + timedelta(days=7 + (6 - today.weekday()) % 7)


def seed(installed: Installed, workdir: Path, env: dict[str, str]) -> None:
    """An organisation and its polling-station mission, with the installed command."""
    renfort = installed.bin / "renfort"
    _run(
        [renfort, "org", "create", "Mairie de Saint-Dizier", "--postcode", "52100"],
        cwd=workdir,
        env=env,
    )
    day = next_sunday_in_a_week().isoformat()
    rows = [
        ",".join(HEADER),
        f"Mairie de Saint-Dizier,{MISSION},citizenship,Tenir le bureau de vote.,"
        f"École Jean-Macé,52100,48.6377,4.949,no,{day}T08:00,{day}T13:00,2",
    ]
    (workdir / "missions.csv").write_text("\n".join(rows) + "\n", encoding="utf-8")
    _run([renfort, "missions", "import", "missions.csv"], cwd=workdir, env=env)


@contextlib.asynccontextmanager
async def renfort_run(
    installed: Installed, workdir: Path, env: dict[str, str]
) -> AsyncIterator[Path]:
    """The installed `renfort run` as a process; yields its log file."""
    log = workdir / "renfort.log"
    with log.open("wb") as output:
        process = await asyncio.create_subprocess_exec(
            str(installed.bin / "renfort"),
            "run",
            cwd=workdir,
            env=env,
            stdout=output,
            stderr=output,
        )
        try:
            yield log
        finally:
            if process.returncode is None:
                process.terminate()
                try:
                    await asyncio.wait_for(process.wait(), 30)
                except TimeoutError:
                    process.kill()
                    await process.wait()


async def polling(double: TelegramDouble, log: Path) -> None:
    """Until the process asks the double for updates: it is up, whatever the machine's load."""
    deadline = asyncio.get_running_loop().time() + START_TIMEOUT
    while not any(method == "getUpdates" for method, _ in double.calls):
        if asyncio.get_running_loop().time() > deadline:
            raise TimeoutError(f"renfort run never polled; its log:\n{log_text(log)}")
        await asyncio.sleep(0.1)


async def test_the_installed_renfort_speaks_french_to_a_french_speaking_volunteer(
    installed: Installed, tmp_path: Path
) -> None:
    double = TelegramDouble()
    env = operator_env(
        f"sqlite:///{tmp_path / 'renfort.db'}",
        TELEGRAM_BOT_TOKEN=double.token,
        HTTP_PORT=str(free_port()),
        TELEGRAM_POLL_TIMEOUT="1",
        RENFORT_LOCALE="fr",
    )
    seed(installed, tmp_path, env)
    await double.start()
    env["TELEGRAM_API_URL"] = double.base_url
    try:
        async with renfort_run(installed, tmp_path, env) as log:
            await polling(double, log)
            double.user(VOLUNTEER, "Camille", "fr")
            try:
                await register_and_apply(Person(double, VOLUNTEER, Translator("fr")))
            except TimeoutError as error:
                raise AssertionError(f"{error}\nrenfort run's log:\n{log_text(log)}") from None
    finally:
        await double.stop()

    said = "\n".join(double.texts(VOLUNTEER))
    # Literal French, not only what this checkout's catalogue says: English would fail here.
    assert "Bienvenue sur Renfort" in said
    assert "Où habitez-vous ?" in said
    assert "Inscription terminée, Camille" in said
    assert "a été envoyée à Mairie de Saint-Dizier" in said
    assert "dimanche" in said  # Babel's French dates, amid French text
    assert "Welcome" not in said and "Where do you live" not in said


@contextlib.contextmanager
def moved_away(path: Path) -> Iterator[None]:
    aside = path.with_name(path.name + ".aside")
    path.rename(aside)
    try:
        yield
    finally:
        aside.rename(path)


def test_an_installation_without_its_french_catalogue_refuses_to_start(
    installed: Installed, tmp_path: Path
) -> None:
    catalogue = installed.site_packages / "bot/locales/fr/LC_MESSAGES/messages.mo"
    env = operator_env(
        f"sqlite:///{tmp_path / 'renfort.db'}",
        TELEGRAM_BOT_TOKEN="123456:TEST-TOKEN-abcdefghijklmnopqrstuvwxyz",
        TELEGRAM_API_URL=f"http://127.0.0.1:{free_port()}",  # never reached
        HTTP_PORT=str(free_port()),
    )
    with moved_away(catalogue):
        done = subprocess.run(
            [str(installed.bin / "renfort"), "run"],
            cwd=tmp_path,
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
    assert done.returncode == 1, done.stderr
    [line] = done.stderr.strip().splitlines()
    assert "broken installation" in line and "'fr'" in line

"""How the `renfort` command loads: the collector paused (and the survivors frozen) while
modules load, httpx without its command-line client, and `renfort run` without typer."""

from __future__ import annotations

import gc
import os
import subprocess
import sys
import types
from pathlib import Path

import pytest

from bot.config import FIELDS
from renfort.loading import paused_collector


def test_loading_pauses_the_collector_and_freezes_what_it_loaded(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    frozen = gc.get_freeze_count()
    try:
        with paused_collector():
            assert not gc.isenabled()
            monkeypatch.setitem(sys.modules, "renfort_test_loaded", types.ModuleType("x"))
        assert gc.isenabled()
        assert gc.get_freeze_count() > frozen
    finally:
        gc.unfreeze()


def test_nothing_loaded_nothing_frozen() -> None:
    gc.unfreeze()
    garbage: list[object] = []
    garbage.append(garbage)  # a cycle only a collection frees
    del garbage
    with paused_collector():
        pass
    assert gc.isenabled()
    assert gc.get_freeze_count() == 0


def test_the_collector_stays_off_when_it_was_off() -> None:
    gc.disable()
    try:
        with paused_collector():
            pass
        assert not gc.isenabled()
    finally:
        gc.enable()
        gc.unfreeze()


def test_httpx_loads_without_its_command_line_client() -> None:
    # A fresh interpreter: this one imported httpx long ago.
    script = (
        "import sys\n"
        "from renfort.launch import skip_httpx_cli\n"
        "skip_httpx_cli()\n"
        "import httpx\n"
        "import telegram.ext\n"
        "assert httpx.AsyncClient and callable(httpx.main)\n"
        "print(sorted({'rich', 'pygments', 'click'} & set(sys.modules)))\n"
    )
    run = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=True, timeout=60
    )
    assert run.stdout.strip() == "[]"


def test_run_alone_starts_without_parsing_a_command_line(tmp_path: Path) -> None:
    # A bad port stops the start right after the settings, with the usual one line.
    script = (
        "import sys\n"
        "sys.argv[1:] = ['run']\n"
        "from renfort.launch import main\n"
        "try:\n"
        "    main()\n"
        "except SystemExit as leaving:\n"
        "    print(leaving.code, sorted({'typer', 'click', 'pydantic'} & set(sys.modules)))\n"
    )
    env = {k: v for k, v in os.environ.items() if k.lower() not in FIELDS}
    env["HTTP_PORT"] = "99999"
    run = subprocess.run(
        [sys.executable, "-c", script],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    assert run.stdout.strip() == "2 []"
    [line] = run.stderr.strip().splitlines()
    assert line.startswith("Error: HTTP_PORT: ")

"""Check that the lowest versions pyproject.toml allows really work: install every direct
dependency (the dev extra included) at its floor into a fresh virtualenv, then run the tests
given on the command line there (all but the wheel test when none are given).

    python3.11 .ci/floors.py [tests/test_cli.py ...]      # what `make floors` runs
"""

from __future__ import annotations

import re
import subprocess
import sys
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
WORK = ROOT / "build" / "floors"
FLOOR = re.compile(r"^\s*([A-Za-z0-9_.-]+)(?:\[[^\]]*\])?\s*(?:>=|==)\s*([0-9][^,;\s]*)")


def floors() -> list[str]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    wanted = [*project["dependencies"], *project["optional-dependencies"]["dev"]]
    pins = []
    for requirement in wanted:
        found = FLOOR.match(requirement)
        if found is None:
            raise SystemExit(f"no floor in {requirement!r}: give every dependency a >= or ==")
        pins.append(f"{found[1]}=={found[2]}")
    return pins


def run(*args: str | Path) -> None:
    print("+", " ".join(map(str, args)), flush=True)
    subprocess.run([str(a) for a in args], check=True, cwd=ROOT)


def main(tests: list[str]) -> int:
    WORK.mkdir(parents=True, exist_ok=True)
    constraints = WORK / "floors.txt"
    constraints.write_text("\n".join(floors()) + "\n")
    venv = WORK / "venv"
    if not venv.exists():
        run(sys.executable, "-m", "venv", venv)
    pip = (venv / "bin" / "python", "-m", "pip")
    run(*pip, "install", "--quiet", "-e", ".[dev]", "-c", constraints)
    selection = tests or ["-m", "not wheel"]
    completed = subprocess.run(
        [str(venv / "bin" / "pytest"), "-q", "-p", "no:cacheprovider", *selection], cwd=ROOT
    )
    return completed.returncode


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

"""The layers of the README's layout hold: the domain (bot/) imports no channel library and
nothing of the edges or the assembly, the edges (handlers/) nothing of the assembly. A
channel library reaching into the services would make a fourth channel a fourth copy."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
CHANNEL_LIBRARIES = {"telegram", "twilio", "starlette", "jinja2"}


def imported_packages(path: Path) -> set[str]:
    """The top-level packages a module imports, at its top or inside a function."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module.split(".")[0])
    return found


def modules(package: str) -> list[Path]:
    return sorted((ROOT / package).rglob("*.py"))


@pytest.mark.parametrize(
    ("package", "forbidden", "exempt"),
    [
        # `python -m bot` is the assembly's command under the domain's name.
        ("bot", CHANNEL_LIBRARIES | {"handlers", "renfort"}, {"bot/__main__.py"}),
        ("handlers", {"renfort"}, set()),
        ("storage", {"telegram", "twilio", "starlette", "jinja2", "handlers", "renfort"}, set()),
    ],
)
def test_each_layer_imports_only_the_layers_below_it(
    package: str, forbidden: set[str], exempt: set[str]
) -> None:
    crossings = {
        str(path.relative_to(ROOT)): sorted(imported_packages(path) & forbidden)
        for path in modules(package)
        if str(path.relative_to(ROOT)) not in exempt
    }
    assert {name: found for name, found in crossings.items() if found} == {}


def test_the_check_sees_a_crossing(tmp_path: Path) -> None:
    module = tmp_path / "m.py"
    module.write_text("def f():\n    from telegram import Bot\n    import renfort.app\n")
    assert imported_packages(module) == {"telegram", "renfort"}

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


PACKAGES = ("bot", "handlers", "renfort", "storage")


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def import_graph() -> dict[str, set[str]]:
    """Which of the project's modules each one imports, at its top or inside a function."""
    paths = {module_name(p): p for package in PACKAGES for p in modules(package)}
    graph: dict[str, set[str]] = {name: set() for name in paths}
    for name, path in paths.items():
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            targets: list[str] = []
            if isinstance(node, ast.Import):
                targets = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                targets = [node.module, *(f"{node.module}.{a.name}" for a in node.names)]
            graph[name].update(t for t in targets if t in paths and t != name)
    return graph


def circles(graph: dict[str, set[str]]) -> list[set[str]]:
    """The groups of modules that import each other, directly or round a loop."""

    def reach(start: str) -> set[str]:
        seen, todo = set(), [start]
        while todo:
            for target in graph[todo.pop()]:
                if target not in seen:
                    seen.add(target)
                    todo.append(target)
        return seen

    reached = {name: reach(name) for name in graph}
    found: list[set[str]] = []
    for name in graph:
        group = {other for other in reached[name] if name in reached[other]}
        if group and group not in found:
            found.append(group)
    return found


def test_no_module_imports_back_into_one_that_imports_it() -> None:
    """An import circle ties the modules in it into one: none can be read, tested or loaded
    without the others (a function-level import counts; it only moves the circle to run
    time)."""
    assert circles(import_graph()) == []


def test_the_check_sees_a_circle() -> None:
    assert circles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [{"a", "b", "c"}]

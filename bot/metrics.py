"""Counters and gauges exposed at GET /metrics in Prometheus' text format."""

from __future__ import annotations

from collections import defaultdict
from threading import Lock


class Metrics:
    """A tiny registry: labelled counters and gauges, enough for a service's dashboards."""

    def __init__(self) -> None:
        self._lock = Lock()
        self._counters: dict[tuple[str, tuple[tuple[str, str], ...]], float] = defaultdict(float)
        self._gauges: dict[tuple[str, tuple[tuple[str, str], ...]], float] = {}
        self._help: dict[str, tuple[str, str]] = {}

    def count(self, name: str, amount: float = 1, help_text: str = "", **labels: str) -> None:
        key = (name, tuple(sorted(labels.items())))
        with self._lock:
            self._counters[key] += amount
            self._help.setdefault(name, ("counter", help_text))

    def gauge(self, name: str, value: float, help_text: str = "", **labels: str) -> None:
        key = (name, tuple(sorted(labels.items())))
        with self._lock:
            self._gauges[key] = value
            self._help.setdefault(name, ("gauge", help_text))

    def value(self, name: str, **labels: str) -> float:
        key = (name, tuple(sorted(labels.items())))
        with self._lock:
            return self._counters.get(key, self._gauges.get(key, 0.0))

    def render(self) -> str:
        lines: list[str] = []
        with self._lock:
            series = sorted({**self._counters, **self._gauges}.items())
            seen: set[str] = set()
            for (name, labels), value in series:
                if name not in seen:
                    kind, help_text = self._help[name]
                    lines.append(f"# HELP renfort_{name} {help_text or name}")
                    lines.append(f"# TYPE renfort_{name} {kind}")
                    seen.add(name)
                rendered = ",".join(f'{k}="{_escape(v)}"' for k, v in labels)
                lines.append(
                    f"renfort_{name}{{{rendered}}} {value:g}"
                    if rendered
                    else f"renfort_{name} {value:g}"
                )
        return "\n".join(lines) + "\n"


def _escape(value: str) -> str:
    return value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")

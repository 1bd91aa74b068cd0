"""`python -m bench` (or `make bench`): every benchmark, one after the other, with figures."""

from __future__ import annotations

import importlib
import sys

BENCHMARKS = ("bench.latency", "bench.dispatch", "bench.scheduler", "bench.targeting")


def main() -> None:
    for name in BENCHMARKS:
        module = importlib.import_module(name)
        print(f"== {name}", flush=True)
        sys.argv = [name]  # each benchmark's own defaults
        module.main()
        print(flush=True)


if __name__ == "__main__":
    main()

"""`python -m bench [--quick]` (or `make bench`): every benchmark, one after the other, then
one table of all their figures beside the floor measured in the same run and the goal.

The default size fits about ten minutes on a small machine; `--quick` shrinks every
benchmark to a few minutes in all."""

from __future__ import annotations

import argparse
import importlib
import time

from bench.table import Row, render

BENCHMARKS = (
    "bench.latency",
    "bench.cold_start",
    "bench.dispatch",
    "bench.callout_answers",
    "bench.discovery",
    "bench.scheduler",
    "bench.targeting",
)


def collect(quick: bool) -> tuple[list[Row], list[str]]:
    """Every module's rows; a line for each module that is absent or has no rows yet."""
    rows: list[Row] = []
    notes: list[str] = []
    for name in BENCHMARKS:
        try:
            module = importlib.import_module(name)
        except ModuleNotFoundError as error:
            if error.name != name:
                raise
            notes.append(f"{name}: not present, skipped")
            continue
        produce = getattr(module, "rows", None)
        if produce is None:
            notes.append(f"{name}: has no rows(quick) yet, skipped")
            continue
        print(f"== {name}", flush=True)
        started = time.perf_counter()
        found = produce(quick)
        print(f"   {len(found)} rows in {time.perf_counter() - started:.0f} s", flush=True)
        rows.extend(found)
    return rows, notes


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="smaller sizes, a few minutes")
    args = parser.parse_args()
    started = time.perf_counter()
    rows, notes = collect(args.quick)
    print()
    print(render(rows))
    for note in notes:
        print(note)
    print(f"all benchmarks in {time.perf_counter() - started:.0f} s")


if __name__ == "__main__":
    main()

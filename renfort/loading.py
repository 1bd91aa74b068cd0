"""Loading what a process keeps for its whole life: with the cyclic garbage collector
paused, and the survivors frozen; and httpx without its command-line client. The `renfort`
command (renfort/launch.py), `renfort run` (renfort/cli.py) and the service's start
(renfort/app.py) all load through here, so this module imports nothing of Renfort."""

from __future__ import annotations

import gc
import sys
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def paused_collector() -> Iterator[None]:
    """Load modules meant to live as long as the process without collecting meanwhile.

    Loading Renfort creates some 120,000 objects that live as long as the process (modules,
    classes, SQL tables, handlers). Collections triggered while they are being created only
    rescan them, a fifth of the start-up time, and free next to nothing (under a thousand
    objects). Frozen afterwards, they are left out of every later collection, which then
    scans only what handling updates creates. A command loads what it alone uses inside
    this too (`renfort run`: the service, then what starts after the first getUpdates).

    Nothing new loaded (a second service in one process, as in the tests): nothing frozen,
    so that the garbage waiting for a collection at that moment is not kept for good."""
    enabled = gc.isenabled()
    loaded = len(sys.modules)
    gc.disable()
    try:
        yield
    finally:
        if len(sys.modules) > loaded:
            gc.freeze()
        if enabled:
            gc.enable()


def skip_httpx_cli() -> None:
    """httpx (python-telegram-bot's requests, the geocoder) imports its command-line client
    whenever click, rich and pygments are installed, and they are: a tenth of the start-up
    and 4 MiB for a tool Renfort never runs. A None entry makes that one import fail, which
    httpx expects: `httpx.main` is then its stub that names the missing extra."""
    if "httpx" not in sys.modules and "httpx._main" not in sys.modules:
        sys.modules["httpx._main"] = None  # type: ignore[assignment]

"""The event loop Renfort runs on: uvloop where it is installed (it is a dependency on Linux
and macOS), else asyncio's own.

Under a hundred updates a second, the loop's own bookkeeping (ready callbacks, timers,
socket reads and writes) was about a tenth of each turn's CPU; uvloop does it in C."""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine
from typing import Any, TypeVar

Result = TypeVar("Result")


def run(coroutine: Coroutine[Any, Any, Result]) -> Result:
    """Run `coroutine` to its end on a new loop, as asyncio.run does."""
    try:
        import uvloop
    except ImportError:  # Windows, or a platform without a wheel
        return asyncio.run(coroutine)
    return uvloop.run(coroutine)

"""The `renfort` command and `python -m bot`: load the program with the cyclic garbage
collector paused, then run the command."""

from __future__ import annotations

import gc


def main() -> None:
    """Entry point of the `renfort` script and of `python -m bot`."""
    # Loading Renfort creates some 120,000 objects that live as long as the process
    # (modules, classes, SQL tables, handlers). Collections triggered while they are being
    # created only rescan them, a fifth of the start-up time, and free next to nothing
    # (under a thousand objects). Frozen afterwards, they are left out of every later
    # collection, which then scans only what handling updates creates.
    gc.disable()
    try:
        from renfort.cli import main as run_command
    finally:
        gc.freeze()
        gc.enable()
    run_command()

"""The `renfort` command and `python -m bot`: load the program with the cyclic garbage
collector paused, then run the command."""

from __future__ import annotations

import sys

from renfort.loading import paused_collector, skip_httpx_cli

__all__ = ["main", "paused_collector", "skip_httpx_cli"]


def main() -> None:
    """Entry point of the `renfort` script and of `python -m bot`."""
    skip_httpx_cli()
    if sys.argv[1:] == ["run"]:  # how the service starts: no command line to parse
        with paused_collector():
            from renfort.run_command import main as run_service
        run_service()
        return
    with paused_collector():
        from renfort.cli import main as run_command
    run_command()

"""`renfort run`: the service, the sandbox without a token, or N workers.

`renfort run` with no option, as the service is started (the Dockerfile, the systemd unit,
each worker of `--workers N`), comes here from renfort/launch.py without typer: typer checks
a command's options with pydantic, and loading both and building that check took 170 ms of
the way to the first getUpdates. With options (or --help) typer parses them and calls `run`."""

from __future__ import annotations

import logging

from bot.config import ConfigError
from bot.i18n import CatalogueMissing
from bot.logs import configure_logging
from renfort import event_loop
from renfort.cli_common import (
    EXIT_CONFIG,
    EXIT_INTERRUPTED,
    SANDBOX_HINT,
    fail,
    out,
    settings_or_exit,
)
from renfort.loading import paused_collector


def main() -> None:
    """`renfort run` with no option."""
    configure_logging()
    run()


def run(workers: int = 1) -> None:
    """Start Renfort; leaves by SystemExit with the exit code when it is not 0."""
    settings = settings_or_exit()
    try:
        if workers > 1:
            from renfort.workers import run_workers

            raise SystemExit(run_workers(settings, workers))
        if settings.sandbox:
            out().print(SANDBOX_HINT)
            # The terminal belongs to the sandbox chat; only problems are logged there.
            logging.getLogger().setLevel(logging.WARNING)
            with paused_collector():  # the double and console: sandbox only
                from renfort.sandbox.run import run_sandbox

            event_loop.run(run_sandbox(settings))
        else:
            with paused_collector():
                from renfort.app import Service, run_until_stopped

            event_loop.run(run_until_stopped(Service(settings)))
    except ConfigError as error:
        fail(str(error), EXIT_CONFIG)
    except CatalogueMissing as error:
        fail(f"broken installation: {error}")
    except KeyboardInterrupt:
        raise SystemExit(EXIT_INTERRUPTED) from None

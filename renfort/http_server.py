"""The HTTP server of a Renfort process: uvicorn on a socket bound at start-up.

Its own module so that uvicorn and starlette load after the first getUpdates is on its way
(renfort.app), not before it."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

import uvicorn
from starlette.applications import Starlette


class Server(uvicorn.Server):
    """uvicorn without its own signal handling: the service decides how to stop."""

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield


def http_config(app: Starlette) -> uvicorn.Config:
    # log_config=None: uvicorn's lines go through our handlers (dated, JSON when asked)
    # instead of its own undated format.
    return uvicorn.Config(
        app, log_level="warning", log_config=None, lifespan="off", access_log=False
    )


def http_server(app: Starlette) -> Server:
    return Server(http_config(app))

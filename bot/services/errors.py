"""Why a service refused; each carries a stable code the channels turn into words."""

from __future__ import annotations

from typing import Any


class ServiceError(Exception):
    code = "error"

    def __init__(self, code: str | None = None, **details: Any) -> None:
        self.code = code or self.code
        self.details = details
        super().__init__(self.code, details)


class NotFound(ServiceError):
    code = "not_found"


class NotAllowed(ServiceError):
    code = "not_allowed"


class InvalidInput(ServiceError):
    code = "invalid"


class Conflict(ServiceError):
    code = "conflict"

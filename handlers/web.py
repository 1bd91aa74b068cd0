"""HTTP routes: the Telegram webhook, Twilio's webhooks, health and metrics."""

from __future__ import annotations

import hmac
import json
import logging
from collections.abc import Awaitable, Callable

from sqlalchemy import text
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Route
from telegram import Update

from bot.messaging.outbox_health import outbox_health
from bot.metrics import CONTENT_TYPE
from bot.runtime import Renfort
from bot.services import exports
from handlers.telegram.common import RenfortApplication

log = logging.getLogger(__name__)
TELEGRAM_WEBHOOK_PATH = "/telegram/webhook"
SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"

Endpoint = Callable[[Request], Awaitable[Response]]


def build_web_app(
    renfort: Renfort,
    telegram: RenfortApplication | None,
    extra_routes: list[Route] | None = None,
) -> Starlette:
    """The one HTTP server of a Renfort process."""

    async def healthz(_request: Request) -> Response:
        """Alive and the database answers."""
        try:
            async with renfort.db.reading("healthz") as conn:
                await conn.execute(text("SELECT 1"))
        except Exception as error:  # any database failure means unhealthy
            log.warning("health check failed: %s", error)
            return JSONResponse({"status": "unhealthy", "database": "unreachable"}, status_code=503)
        return JSONResponse({"status": "ok", "database": "ok", "sandbox": renfort.sandbox})

    async def telegram_webhook(request: Request) -> Response:
        """Updates pushed by Telegram; the secret token proves they come from it."""
        if telegram is None:
            return PlainTextResponse("Telegram is not configured", status_code=404)
        given = request.headers.get(SECRET_HEADER, "")
        if not hmac.compare_digest(given, renfort.settings.telegram_webhook_secret):
            return PlainTextResponse("Forbidden", status_code=403)
        try:
            body = await request.json()
            update = Update.de_json(body, telegram.bot)
        except (json.JSONDecodeError, KeyError, TypeError, ValueError):
            return PlainTextResponse("Bad update", status_code=400)
        await telegram.update_queue.put(update)
        return Response(status_code=200)

    async def ics_feed(request: Request) -> Response:
        """An organisation's slots as an iCal feed; the token in the path is the secret."""
        token = str(request.path_params.get("token", ""))
        body = await exports.organisation_feed(renfort.db, token, now=renfort.now())
        if body is None:
            return PlainTextResponse("Not found", status_code=404)
        return Response(body, media_type="text/calendar; charset=utf-8")

    routes = [
        Route("/healthz", healthz, methods=["GET"]),
        Route("/ics/{token}.ics", ics_feed, methods=["GET"]),
        *([] if renfort.settings.metrics_port is not None else [metrics_route(renfort)]),
        Route(TELEGRAM_WEBHOOK_PATH, telegram_webhook, methods=["POST"]),
        *(extra_routes or []),
    ]
    return Starlette(routes=routes)


def metrics_route(renfort: Renfort) -> Route:
    """GET /metrics, behind METRICS_TOKEN (a bearer token) when it is set."""

    async def metrics(request: Request) -> Response:
        token = renfort.settings.metrics_token
        if token is not None:
            given = request.headers.get("Authorization", "")
            if not hmac.compare_digest(given.encode(), f"Bearer {token}".encode()):
                return PlainTextResponse(
                    "Unauthorized", status_code=401, headers={"WWW-Authenticate": "Bearer"}
                )
        try:
            health = await outbox_health(renfort.db, renfort.now())
        except Exception as error:  # the counters are still worth serving
            log.warning("outbox backlog unreadable for the metrics: %s", error)
        else:
            renfort.metrics.snapshot(
                [
                    ("outbox_pending", "Notifications waiting to be sent", health.pending),
                    ("outbox_sending", "Notifications being sent", health.sending),
                    (
                        "outbox_oldest_due_seconds",
                        "How long the oldest due notification has waited",
                        health.oldest_due_seconds,
                    ),
                ]
            )
        return Response(renfort.metrics.render(), media_type=CONTENT_TYPE)

    return Route("/metrics", metrics, methods=["GET"])


def build_metrics_app(renfort: Renfort) -> Starlette:
    """The metrics alone, for METRICS_HOST/METRICS_PORT (kept off the public address)."""
    return Starlette(routes=[metrics_route(renfort)])

"""HTTP routes: the Telegram webhook, Twilio's webhooks, health, metrics, the board, and the
links to a resident's data."""

from __future__ import annotations

import hmac
import json
import logging
import re
from collections.abc import Awaitable, Callable

from sqlalchemy import text
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import BaseRoute, Route
from telegram import Update

from bot.messaging.outbox_health import outbox_health
from bot.metrics import CONTENT_TYPE
from bot.runtime import Renfort
from bot.services import documents, exports
from handlers.board.routes import board_routes
from handlers.sms.documents import FILES_PATH
from handlers.telegram.common import RenfortApplication

log = logging.getLogger(__name__)
TELEGRAM_WEBHOOK_PATH = "/telegram/webhook"
SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
UNPARSABLE = (
    RecursionError,
    ValueError,
    TypeError,
    KeyError,
    AttributeError,
    ArithmeticError,
    OSError,
)

# A Telegram update with the longest text and all its entities stays far below this.
MAX_UPDATE_BYTES = 1_000_000
FEED_TOKEN = re.compile(r"[A-Za-z0-9_-]{1,64}")

Endpoint = Callable[[Request], Awaitable[Response]]


async def limited_body(request: Request, limit: int) -> bytes | None:
    """The request's body, or None once it grows past `limit` bytes (read no further)."""
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            return None
        chunks.append(chunk)
    return b"".join(chunks)


def path_secret(request: Request) -> str | None:
    """The secret a link carries in its path (a calendar feed's, a document's), or None
    when it cannot be one: secrets are URL-safe base64, so '%00' or a novel in the path
    never reach the database."""
    token = str(request.path_params.get("token", ""))
    return token if FEED_TOKEN.fullmatch(token) else None


def not_found() -> Response:
    """A link unknown, expired, malformed or erased: the same plain answer for all."""
    return PlainTextResponse("Not found", status_code=404)


def parse_update(raw: bytes, telegram: RenfortApplication) -> Update | None:
    """The update in a webhook body, or None (logged once, by kind only: the body may hold
    someone's words) when it is not one."""
    try:
        body = json.loads(raw)
        if not isinstance(body, dict) or type(body.get("update_id")) is not int:
            raise ValueError("not an object with an integer update_id")
        return Update.de_json(body, telegram.bot)
    # Anything the JSON or python-telegram-bot's parsing raises on a hostile body, including
    # RecursionError on deep nesting, is a bad request, never a 500.
    except UNPARSABLE as error:
        log.info("telegram webhook body refused: %s", type(error).__name__)
        return None


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

    expected_secret = renfort.settings.telegram_webhook_secret.encode("utf-8")

    async def telegram_webhook(request: Request) -> Response:
        """Updates pushed by Telegram; the secret token proves they come from it."""
        if telegram is None:
            return PlainTextResponse("Telegram is not configured", status_code=404)
        # Header values arrive as latin-1 text; compared as bytes, any character is fine.
        given = request.headers.get(SECRET_HEADER, "").encode("utf-8")
        if not hmac.compare_digest(given, expected_secret):
            log.info("telegram webhook refused: wrong secret token")
            return PlainTextResponse("Forbidden", status_code=403)
        raw = await limited_body(request, MAX_UPDATE_BYTES)
        if raw is None:
            log.info("telegram webhook body refused: too large")
            return PlainTextResponse("Too large", status_code=413)
        update = parse_update(raw, telegram)
        if update is None:
            return PlainTextResponse("Bad update", status_code=400)
        await telegram.update_queue.put(update)
        return Response(status_code=200)

    async def ics_feed(request: Request) -> Response:
        """An organisation's slots as an iCal feed; the token in the path is the secret."""
        token = path_secret(request)
        if token is None:
            return not_found()
        body = await exports.organisation_feed(renfort.db, token, now=renfort.now())
        if body is None:
            return not_found()
        return Response(body, media_type="text/calendar; charset=utf-8")

    async def document_file(request: Request) -> Response:
        """A person's document behind a link's secret, built from their data as it is now;
        unknown, expired or erased are the same plain 404."""
        token = path_secret(request)
        if token is None:
            return not_found()
        document = await documents.download(renfort.db, token, now=renfort.now())
        if document is None:
            return not_found()
        return Response(
            document.content,
            media_type=document.media_type,
            headers={
                "Content-Disposition": f'attachment; filename="{document.filename}"',
                # Personal data: no cache on the way keeps a copy.
                "Cache-Control": "no-store",
            },
        )

    routes: list[BaseRoute] = [
        Route("/healthz", healthz, methods=["GET"]),
        Route("/ics/{token}.ics", ics_feed, methods=["GET"]),
        Route(FILES_PATH + "{token}", document_file, methods=["GET"]),
        *([] if renfort.settings.metrics_port is not None else [metrics_route(renfort)]),
        Route(TELEGRAM_WEBHOOK_PATH, telegram_webhook, methods=["POST"]),
        *(extra_routes or []),
        *board_routes(renfort, telegram.bot if telegram is not None else None),
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

"""The board's HTTP routes. Every page and form checks the session (cookie signature, then
the database: not expired, not revoked) and the organisation of what it touches: anything
outside the session's organisations is a 404, as if it did not exist. Forms carry a CSRF
token; actions call the same services as the chat."""

from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass
from datetime import date
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl, urlencode, urlsplit
from zoneinfo import ZoneInfo

from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response
from starlette.routing import BaseRoute, Mount, Route
from starlette.staticfiles import StaticFiles
from telegram import Bot
from telegram.error import TelegramError

from bot.config import SUPPORTED_LOCALES
from bot.domain import AUTOMATIC_REASONS, DOMAINS, REFUSAL_REASONS, ApplicationStatus
from bot.i18n import Translator
from bot.runtime import Renfort
from bot.services import applications, board, board_links, callouts, exports, people, rosters
from bot.services.board import Board, BoardSlot, Scope
from bot.services.board_links import BoardSession
from bot.services.callout_choices import admin_group_of
from bot.services.callout_views import Targeting
from bot.services.errors import ServiceError
from handlers.board.mapping import map_points
from handlers.board.session import COOKIE, LANG_COOKIE, Attempts, Signer
from handlers.board.words import notice_text
from handlers.telegram.admin_group import show_decision
from handlers.telegram.callout_board import post_status_in
from handlers.telegram.exports import csv_headers
from handlers.telegram.render.organisers import status_label

if TYPE_CHECKING:
    from jinja2 import Environment

log = logging.getLogger(__name__)
HERE = Path(__file__).resolve().parent
LIVE_SECONDS = 3  # how often an open board asks whether anything changed
SECURITY_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self';"
        " frame-ancestors 'none'; form-action 'self'; base-uri 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    # The link's secret never leaves in a Referer; same-origin POSTs keep their Origin.
    "Referrer-Policy": "same-origin",
    "Cache-Control": "no-store",
    "X-Frame-Options": "DENY",
}
TOKEN_CHARACTERS = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-")


@dataclass(frozen=True)
class Visitor:
    """A request whose session checked out."""

    session: BoardSession
    token: str
    t: Translator
    locale: str
    scope: Scope


class BoardRoutes:
    def __init__(self, renfort: Renfort, bot: Bot | None = None) -> None:
        self.renfort = renfort
        self.bot = bot  # to show decisions on the chats' copies of an application
        self.signer = Signer(renfort.settings.telegram_bot_token)
        self.attempts = Attempts()
        # The link's address is PUBLIC_URL, else the local HTTP port (a trial, the sandbox):
        # a Secure cookie would never come back over plain http.
        self.secure = (renfort.settings.public_url or "").startswith("https://")

    @cached_property
    def templates(self) -> Environment:
        """The pages' templates, loaded with jinja2 on the board's first page: a process
        whose board nobody opens never loads them, and its start does not wait for them."""
        from jinja2 import Environment, PackageLoader, select_autoescape

        return Environment(
            loader=PackageLoader("handlers.board", "templates"),
            autoescape=select_autoescape(["html"]),
            trim_blocks=True,
            lstrip_blocks=True,
        )

    def page(self, template: str, t: Translator, status: int = 200, **values: Any) -> Response:
        html = self.templates.get_template(template).render(_=t._, n_=t.n_, lang=t.locale, **values)
        return HTMLResponse(html, status_code=status, headers=SECURITY_HEADERS)

    def message(self, t: Translator, status: int, title: str, text: str) -> Response:
        return self.page("message.html", t, status, title=title, text=text)

    def anonymous_translator(self, request: Request) -> Translator:
        chosen = request.cookies.get(LANG_COOKIE)
        header = request.headers.get("accept-language", "")[:16]
        return self.renfort.translator(chosen if chosen in SUPPORTED_LOCALES else None, header)

    def signed_out(self, request: Request) -> Response:
        t = self.anonymous_translator(request)
        return self.message(
            t,
            401,
            t._("Signed out"),
            t._("Your board session has ended. Send /board to the bot for a new link."),
        )

    def not_found(self, t: Translator) -> Response:
        return self.message(t, 404, t._("Not found"), t._("There is nothing here."))

    async def visitor(self, request: Request) -> Visitor | None:
        token = self.signer.unsign(request.cookies.get(COOKIE))
        if token is None:
            return None
        session = await board_links.session_of(self.renfort.db, token, now=self.renfort.now())
        if session is None:
            return None
        person = await people.get_person(self.renfort.db, session.person_id)
        chosen = request.cookies.get(LANG_COOKIE)
        t = self.renfort.translator(
            chosen if chosen in SUPPORTED_LOCALES else person.locale, person.telegram_language
        )
        scope = await board.session_scope(self.renfort.db, session)
        return Visitor(session, token, t, t.locale, scope)

    async def form(self, request: Request, visitor: Visitor) -> FormData | None:
        """The posted form when its CSRF token matches the session and it comes from here."""
        if not _same_origin(request):
            return None
        form = await request.form(max_files=0, max_fields=20)
        given = form.get("csrf")
        return (
            form
            if self.signer.csrf_ok(visitor.token, given if isinstance(given, str) else None)
            else None
        )

    async def link_page(self, request: Request) -> Response:
        """The link from Telegram: a button to open the board. Opening it is a POST, so a
        link preview or a prefetch cannot use up the link."""
        t = self.anonymous_translator(request)
        token = str(request.path_params["token"])
        if not _token_shaped(token):
            return self.not_found(t)
        return self.page("link.html", t, action=request.url.path)

    async def redeem(self, request: Request) -> Response:
        t = self.anonymous_translator(request)
        if not _same_origin(request):
            # Another site posting its own link would sign the visitor in as someone else.
            return self.message(t, 403, t._("Form expired"), t._("Please open the link again."))
        client = request.client.host if request.client else "?"
        if not self.attempts.allow(client):
            log.info("board link redemption refused: too many attempts")
            return self.message(
                t, 429, t._("Too many attempts"), t._("Please wait a minute and try again.")
            )
        token = str(request.path_params["token"])
        if not _token_shaped(token):
            return self.not_found(t)
        try:
            secret, session = await board_links.redeem_link(
                self.renfort.db, token, now=self.renfort.now()
            )
        except ServiceError:
            return self.message(
                t,
                410,
                t._("This link no longer works"),
                t._(
                    "A board link works once, for 15 minutes. Send /board to the bot for a new one."
                ),
            )
        log.info("board session %s opened", session.session_id)
        response = RedirectResponse("/board", status_code=303, headers=SECURITY_HEADERS)
        lifetime = int((session.expires_at - self.renfort.now()).total_seconds())
        response.set_cookie(
            COOKIE,
            self.signer.sign(secret),
            max_age=lifetime,
            path="/board",
            secure=self.secure,
            httponly=True,
            samesite="lax",
        )
        return response

    async def sign_out(self, request: Request) -> Response:
        visitor = await self.visitor(request)
        if visitor is None:
            return self.signed_out(request)
        if await self.form(request, visitor) is None:
            return self.forbidden(visitor.t)
        await board_links.sign_out_everywhere(
            self.renfort.db, person_id=visitor.session.person_id, now=self.renfort.now()
        )
        response = self.message(
            visitor.t,
            200,
            visitor.t._("Signed out"),
            visitor.t._("Every board session of yours is closed. Send /board for a new link."),
        )
        response.delete_cookie(COOKIE, path="/board", secure=self.secure, httponly=True)
        return response

    def forbidden(self, t: Translator) -> Response:
        return self.message(
            t,
            403,
            t._("Form expired"),
            t._("This form is out of date: reload the board and try again."),
        )

    async def language(self, request: Request) -> Response:
        locale = str(request.path_params["locale"])
        if locale not in SUPPORTED_LOCALES:
            return self.not_found(self.anonymous_translator(request))
        response = RedirectResponse("/board", status_code=303, headers=SECURITY_HEADERS)
        response.set_cookie(
            LANG_COOKIE,
            locale,
            max_age=365 * 86400,
            path="/board",
            secure=self.secure,
            samesite="lax",
        )
        return response

    async def _board(self, request: Request, visitor: Visitor) -> tuple[Board, dict[str, Any]]:
        query = request.query_params
        day = _day(query.get("day"))
        domain = query.get("domain") if query.get("domain") in DOMAINS else None
        short = query.get("short") == "1"
        organisation = _int(query.get("organisation"))
        data = await board.board(
            self.renfort.db,
            visitor.session,
            now=self.renfort.now(),
            day=day,
            domain=domain,
            short_only=short,
            organisation_id=organisation,
        )
        filters = {
            "day": day.isoformat() if day else "",
            "domain": domain or "",
            "short": short,
            "organisation": organisation,
        }
        return data, filters

    def _values(self, visitor: Visitor, data: Board, filters: dict[str, Any]) -> dict[str, Any]:
        t = visitor.t
        now = self.renfort.now()
        query = urlencode(
            {k: ("1" if v is True else v) for k, v in filters.items() if v not in ("", None, False)}
        )
        days: list[tuple[date, list[BoardSlot]]] = []
        for slot in data.slots:
            if not days or days[-1][0] != slot.day:
                days.append((slot.day, []))
            days[-1][1].append(slot)
        return {
            "board": data,
            "days": days,
            "filters": filters,
            "query": query,
            "csrf": self.signer.csrf(visitor.token),
            "points": map_points(data.missions),
            "now": now,
            "day_label": t.weekday_date,
            "span": lambda s: t.slot_span(s.starts_at, s.ends_at, ZoneInfo(s.timezone)),
            "status_of": lambda status: status_label(t, status),
            "domain_label": lambda key: t._(DOMAINS[key]) if key in DOMAINS else key,
            "reasons": [
                (key, t._(label))
                for key, label in REFUSAL_REASONS.items()
                if key not in AUTOMATIC_REASONS
            ],
            "may_act": lambda s: s.organisation_id in data.scope.coordinated,
            "S": ApplicationStatus,
            "live_seconds": LIVE_SECONDS,
            "locales": SUPPORTED_LOCALES,
        }

    async def show(self, request: Request) -> Response:
        visitor = await self.visitor(request)
        if visitor is None:
            return self.signed_out(request)
        data, filters = await self._board(request, visitor)
        notice = notice_text(visitor.t, request.query_params.get("notice"))
        return self.page(
            "board.html", visitor.t, notice=notice, **self._values(visitor, data, filters)
        )

    async def live(self, request: Request) -> Response:
        """The changing part of the board, for the page's short poll; 304 while nothing
        changed (the session is checked on every call all the same)."""
        visitor = await self.visitor(request)
        if visitor is None:
            return self.signed_out(request)
        data, filters = await self._board(request, visitor)
        html = self.templates.get_template("live.html").render(
            _=visitor.t._,
            n_=visitor.t.n_,
            lang=visitor.locale,
            **self._values(visitor, data, filters),
        )
        tag = '"' + hashlib.sha256(html.encode("utf-8")).hexdigest()[:32] + '"'
        headers = SECURITY_HEADERS | {"ETag": tag}
        if request.headers.get("if-none-match") == tag:
            return Response(status_code=304, headers=headers)
        return HTMLResponse(html, headers=headers)

    async def print_roster(self, request: Request) -> Response:
        visitor = await self.visitor(request)
        if visitor is None:
            return self.signed_out(request)
        slot_id = _int(request.path_params.get("slot_id"))
        slot = (
            None
            if slot_id is None
            else await board.board_slot(self.renfort.db, visitor.session, slot_id)
        )
        if slot is None:
            return self.not_found(visitor.t)
        values = self._values(visitor, board.Board(visitor.scope, (), (), (), (), ()), {})
        return self.page("print.html", visitor.t, slot=slot, **values)

    async def export_csv(self, request: Request) -> Response:
        visitor = await self.visitor(request)
        if visitor is None:
            return self.signed_out(request)
        mission_id = _int(request.path_params.get("mission_id"))
        organisation = (
            None
            if mission_id is None
            else await board.organisation_of_mission(self.renfort.db, mission_id)
        )
        if mission_id is None or organisation not in visitor.scope.coordinated:
            return self.not_found(visitor.t)
        t = visitor.t
        export = await exports.export_applications(
            self.renfort.db, actor_id=visitor.session.person_id, mission_id=mission_id
        )
        body = exports.to_csv(export, csv_headers(t), t._("yes"), t._("no"))
        return Response(
            body,
            media_type="text/csv; charset=utf-8",
            headers=SECURITY_HEADERS
            | {"Content-Disposition": f'attachment; filename="mission-{mission_id}.csv"'},
        )

    async def export_ics(self, request: Request) -> Response:
        visitor = await self.visitor(request)
        if visitor is None:
            return self.signed_out(request)
        organisation_id = _int(request.path_params.get("organisation_id"))
        if organisation_id is None or organisation_id not in visitor.scope.coordinated:
            return self.not_found(visitor.t)
        token = await exports.ensure_ics_token(
            self.renfort.db, actor_id=visitor.session.person_id, organisation_id=organisation_id
        )
        body = await exports.organisation_feed(self.renfort.db, token, now=self.renfort.now())
        if body is None:
            return self.not_found(visitor.t)
        return Response(
            body,
            media_type="text/calendar; charset=utf-8",
            headers=SECURITY_HEADERS
            | {"Content-Disposition": f'attachment; filename="organisation-{organisation_id}.ics"'},
        )

    async def _act(self, request: Request, find: str) -> tuple[Visitor, FormData, int] | Response:
        """The visitor, their form and the id in the path, or the response refusing them."""
        visitor = await self.visitor(request)
        if visitor is None:
            return self.signed_out(request)
        subject = _int(request.path_params.get(find))
        if find == "slot_id":
            organisation = (
                None
                if subject is None
                else await board.organisation_of_slot(self.renfort.db, subject)
            )
        else:
            organisation = (
                None
                if subject is None
                else await board.organisation_of_application(self.renfort.db, subject)
            )
        if subject is None or organisation not in visitor.scope.coordinated:
            return self.not_found(visitor.t)
        form = await self.form(request, visitor)
        if form is None:
            return self.forbidden(visitor.t)
        return visitor, form, subject

    def back(self, form: FormData, notice: str, anchor: str) -> Response:
        query = str(form.get("back") or "")
        # Only the board's own filters come back: never an address of someone else's choosing.
        kept = {k: v for k, v in _pairs(query) if k in ("day", "domain", "short", "organisation")}
        kept["notice"] = notice
        target = "/board?" + urlencode(kept) + "#" + anchor
        return RedirectResponse(target, status_code=303, headers=SECURITY_HEADERS)

    async def decide(self, request: Request) -> Response:
        found = await self._act(request, "application_id")
        if isinstance(found, Response):
            return found
        visitor, form, application_id = found
        approve = form.get("approve") == "yes"
        reason = form.get("reason")
        note = form.get("note")
        try:
            decision = await applications.decide(
                self.renfort.db,
                application_id=application_id,
                actor_id=visitor.session.person_id,
                approve=approve,
                reason=None if approve else (reason if isinstance(reason, str) else None),
                note=note if isinstance(note, str) else None,
                now=self.renfort.now(),
            )
        except ServiceError as error:
            return self.back(form, error.code, f"application-{application_id}")
        self.renfort.notify_outbox()
        if decision.changed and self.bot is not None:
            try:
                await show_decision(self.bot, self.renfort, decision.application)
            except TelegramError as error:  # the decision stands; only a copy is stale
                log.info("application %s: chat copies not updated: %s", application_id, error)
        done = ("approved" if approve else "refused") if decision.changed else "already_decided"
        return self.back(form, done, f"slot-{decision.application.slot_id}")

    async def attendance(self, request: Request) -> Response:
        found = await self._act(request, "application_id")
        if isinstance(found, Response):
            return found
        visitor, form, application_id = found
        try:
            marked = await rosters.mark_attendance(
                self.renfort.db,
                actor_id=visitor.session.person_id,
                application_id=application_id,
                present=form.get("present") == "yes",
                now=self.renfort.now(),
            )
        except ServiceError as error:
            return self.back(form, error.code, f"application-{application_id}")
        return self.back(form, "marked", f"slot-{marked.roster.slot_id}")

    async def callout(self, request: Request) -> Response:
        found = await self._act(request, "slot_id")
        if isinstance(found, Response):
            return found
        visitor, form, slot_id = found
        needed = _int(str(form.get("needed") or ""))
        if needed is None or not 1 <= needed <= 500:
            return self.back(form, "needed", f"slot-{slot_id}")
        try:
            view = await callouts.launch(
                self.renfort.db,
                actor_id=visitor.session.person_id,
                slot_id=slot_id,
                needed=needed,
                targeting=Targeting(urgent=form.get("urgent") == "yes"),
                now=self.renfort.now(),
            )
        except ServiceError as error:
            return self.back(form, error.code, f"slot-{slot_id}")
        self.renfort.notify_outbox()
        # The coordination room and the group follow the same callout: the group gets its
        # live status message with the stop and widen buttons, as from the chat.
        group = await admin_group_of(self.renfort.db, view.organisation_id)
        if group is not None and self.bot is not None:
            await post_status_in(self.bot, self.renfort, group, view, self.renfort.now())
        return self.back(form, "callout_launched", f"slot-{slot_id}")

    def routes(self) -> list[BaseRoute]:
        return [
            Route("/board", self.show, methods=["GET"]),
            Route("/board/live", self.live, methods=["GET"]),
            Route("/board/link/{token}", self.link_page, methods=["GET"]),
            Route("/board/link/{token}", self.redeem, methods=["POST"]),
            Route("/board/sign-out", self.sign_out, methods=["POST"]),
            Route("/board/lang/{locale}", self.language, methods=["GET"]),
            Route("/board/slots/{slot_id}/print", self.print_roster, methods=["GET"]),
            Route("/board/slots/{slot_id}/callout", self.callout, methods=["POST"]),
            Route(
                "/board/missions/{mission_id}/applications.csv", self.export_csv, methods=["GET"]
            ),
            Route(
                "/board/organisations/{organisation_id}/calendar.ics",
                self.export_ics,
                methods=["GET"],
            ),
            Route("/board/applications/{application_id}/decision", self.decide, methods=["POST"]),
            Route(
                "/board/applications/{application_id}/attendance",
                self.attendance,
                methods=["POST"],
            ),
            Mount("/board/static", StaticFiles(directory=HERE / "static"), name="board_static"),
        ]


def board_routes(renfort: Renfort, bot: Bot | None = None) -> list[BaseRoute]:
    return BoardRoutes(renfort, bot).routes()


def _same_origin(request: Request) -> bool:
    """No Origin (an old browser) or this very host: browsers send it with every POST."""
    origin = request.headers.get("origin")
    return not origin or urlsplit(origin).netloc == request.headers.get("host")


def _token_shaped(token: str) -> bool:
    return 20 <= len(token) <= 64 and set(token) <= TOKEN_CHARACTERS


def _int(value: object) -> int | None:
    text = str(value) if value is not None else ""
    return int(text) if text.isascii() and text.isdigit() and len(text) < 12 else None


def _day(value: str | None) -> date | None:
    try:
        return date.fromisoformat(value) if value else None
    except ValueError:
        return None


def _pairs(query: str) -> list[tuple[str, str]]:
    return parse_qsl(query)[:10]

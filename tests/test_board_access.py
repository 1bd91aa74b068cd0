"""Who may open what on the board: every route, for nobody, the coordinator of the
organisation, the coordinator of another one, and a referent of the territory; links that
work once and for 15 minutes; sessions that end when asked."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass

import httpx
import pytest
from sqlalchemy import select

from bot.config import Settings
from bot.domain import ApplicationStatus
from bot.geo import Geocoder
from bot.runtime import Renfort
from bot.services import board_links, organisations
from bot.services.errors import NotAllowed
from handlers.web import build_web_app
from storage import schema
from storage.database import Database
from tests.conftest import NOW
from tests.factories import first_slot, polling_station, volunteer
from tests.harness import FakeClock
from tests.organiser_jobs import SOON, applied, set_status

CSRF = re.compile(r'name="csrf" value="([0-9a-f]+)"')


@dataclass
class Town:
    organisation_id: int
    coordinator_id: int
    mission_id: int
    slot_id: int
    application_id: int


async def town(db: Database, name: str, coordinator: int, applicant: int, title: str) -> Town:
    organisation = await organisations.create_organisation(db, name, "52100")
    person = await volunteer(db, coordinator, f"Coord{coordinator}")
    await organisations.join(db, person.id, organisation.invite_code)
    mission_id = await polling_station(
        db, organisation.id, now=NOW, starts_at=SOON, capacity=3, title=title
    )
    slot_id = await first_slot(db, mission_id)
    view = await applied(db, slot_id, applicant, f"Vol{applicant}")
    return Town(organisation.id, person.id, mission_id, slot_id, view.id)


def renfort_at(db: Database, clock: FakeClock) -> Renfort:
    """Renfort as deployed: behind https at PUBLIC_URL, speaking English by default."""
    settings = Settings(
        renfort_timezone="Europe/Paris",
        renfort_locale="en",
        public_url="https://board.test",
        _env_file=None,
    )
    return Renfort(settings=settings, db=db, geocoder=Geocoder(None), clock=clock)


@asynccontextmanager
async def browser(renfort: Renfort) -> AsyncIterator[httpx.AsyncClient]:
    app = build_web_app(renfort, None)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="https://board.test") as client:
        yield client


async def signed_in(
    client: httpx.AsyncClient, renfort: Renfort, person_id: int, organisation_id: int | None
) -> str:
    """Redeem a fresh link in this client; returns the board page's CSRF token."""
    token = await board_links.issue_link(
        renfort.db, person_id=person_id, organisation_id=organisation_id, now=renfort.now()
    )
    confirm = await client.get(f"/board/link/{token}")
    assert confirm.status_code == 200 and "<form" in confirm.text
    opened = await client.post(f"/board/link/{token}")
    assert opened.status_code == 303 and opened.headers["location"] == "/board"
    cookie = opened.headers["set-cookie"].lower()
    assert "httponly" in cookie and "secure" in cookie and "samesite=lax" in cookie
    assert token not in opened.headers["set-cookie"]
    page = await client.get("/board")
    assert page.status_code == 200
    found = CSRF.search(page.text)
    assert found is not None
    return found.group(1)


async def test_every_route_answers_each_kind_of_visitor_as_it_should(db: Database) -> None:
    clock = FakeClock(NOW)
    renfort = renfort_at(db, clock)
    a = await town(db, "Mairie de Saint-Dizier", 1, 11, "Bureau 1 — Saint-Dizier")
    b = await town(db, "Mairie de Chancenay", 2, 12, "Bureau 1 — Chancenay")
    referent = await volunteer(db, 3, "Rita")
    async with db.transaction("test_referent") as conn:
        await conn.execute(
            schema.referents.insert().values(person_id=referent.id, territory="52", created_at=NOW)
        )
    async with (
        browser(renfort) as nobody,
        browser(renfort) as own,
        browser(renfort) as other,
        browser(renfort) as looker,
    ):
        own_csrf = await signed_in(own, renfort, a.coordinator_id, None)
        other_csrf = await signed_in(other, renfort, b.coordinator_id, None)
        looker_csrf = await signed_in(looker, renfort, referent.id, None)
        # (method, path, form) → status for nobody, A's coordinator, B's, the referent
        matrix: list[tuple[str, str, dict[str, str], tuple[int, int, int, int]]] = [
            ("GET", "/board", {}, (401, 200, 200, 200)),
            ("GET", "/board/live", {}, (401, 200, 200, 200)),
            ("GET", f"/board/slots/{a.slot_id}/print", {}, (401, 200, 404, 200)),
            ("GET", f"/board/missions/{a.mission_id}/applications.csv", {}, (401, 200, 404, 404)),
            (
                "GET",
                f"/board/organisations/{a.organisation_id}/calendar.ics",
                {},
                (401, 200, 404, 404),
            ),
            (
                "POST",
                f"/board/slots/{a.slot_id}/callout",
                {"needed": "1"},
                (401, 303, 404, 404),
            ),
            (
                "POST",
                f"/board/applications/{a.application_id}/attendance",
                {"present": "yes"},
                (401, 303, 404, 404),
            ),
            (
                "POST",
                f"/board/applications/{a.application_id}/decision",
                {"approve": "yes"},
                (401, 303, 404, 404),
            ),
        ]
        visitors = ((nobody, ""), (own, own_csrf), (other, other_csrf), (looker, looker_csrf))
        for method, path, form, expected in matrix:
            got = []
            # The owner last: their POSTs change things the others must not.
            for client, csrf in (visitors[0], visitors[2], visitors[3], visitors[1]):
                if method == "GET":
                    response = await client.get(path)
                else:
                    response = await client.post(path, data=form | {"csrf": csrf})
                got.append(response.status_code)
            got = [got[0], got[3], got[1], got[2]]
            assert tuple(got) == expected, (method, path, got)

        # The approval went through the chat's service: the volunteer is told.
        async with db.reading("test") as conn:
            status = await conn.scalar(
                select(schema.applications.c.status).where(
                    schema.applications.c.id == a.application_id
                )
            )
            told = await conn.scalar(
                select(schema.outbox.c.id).where(schema.outbox.c.kind == "application_decided")
            )
        assert status == ApplicationStatus.APPROVED and told is not None

        # Each board shows its own organisations; the referent's shows the territory's.
        assert "Saint-Dizier" not in (await other.get("/board")).text
        assert "Chancenay" not in (await own.get("/board")).text
        both = (await looker.get("/board")).text
        assert "Bureau 1 — Saint-Dizier" in both and "Bureau 1 — Chancenay" in both
        assert "/decision" not in both  # a referent looks; the organisation decides

        # A form without the session's CSRF token, or from another site, changes nothing.
        forged = await own.post(
            f"/board/applications/{b.application_id}/decision", data={"approve": "yes"}
        )
        assert forged.status_code == 404
        await set_status(db, a.application_id, ApplicationStatus.PENDING)
        no_token = await own.post(
            f"/board/applications/{a.application_id}/decision", data={"approve": "yes"}
        )
        wrong_token = await own.post(
            f"/board/applications/{a.application_id}/decision",
            data={"approve": "yes", "csrf": other_csrf},
        )
        cross_site = await own.post(
            f"/board/applications/{a.application_id}/decision",
            data={"approve": "yes", "csrf": own_csrf},
            headers={"Origin": "https://evil.example"},
        )
        assert (no_token.status_code, wrong_token.status_code, cross_site.status_code) == (
            403,
            403,
            403,
        )

        # Signing out everywhere closes the session for every later request.
        out = await own.post("/board/sign-out", data={"csrf": own_csrf})
        assert out.status_code == 200
        assert (await own.get("/board")).status_code == 401
        assert (await nobody.post("/board/sign-out", data={"csrf": ""})).status_code == 401


async def test_a_link_works_once_for_fifteen_minutes_and_board_again_closes_sessions(
    db: Database,
) -> None:
    clock = FakeClock(NOW)
    renfort = renfort_at(db, clock)
    a = await town(db, "Mairie de Saint-Dizier", 1, 11, "Bureau 1")
    async with browser(renfort) as first, browser(renfort) as second:
        token = await board_links.issue_link(
            db, person_id=a.coordinator_id, organisation_id=a.organisation_id, now=clock()
        )
        assert (await first.post(f"/board/link/{token}")).status_code == 303
        again = await second.post(f"/board/link/{token}")
        assert again.status_code == 410 and "/board" in again.text
        assert (await second.get("/board")).status_code == 401

        late = await board_links.issue_link(
            db, person_id=a.coordinator_id, organisation_id=None, now=clock()
        )
        # Asking /board again ended the first browser's session.
        assert (await first.get("/board")).status_code == 401
        clock.advance(minutes=16)
        assert (await second.post(f"/board/link/{late}")).status_code == 410

        fresh = await board_links.issue_link(
            db, person_id=a.coordinator_id, organisation_id=None, now=clock()
        )
        assert (await second.post(f"/board/link/{fresh}")).status_code == 303
        assert (await second.get("/board")).status_code == 200
        clock.advance(hours=12, minutes=1)
        assert (await second.get("/board")).status_code == 401

    async with db.reading("test") as conn:
        stored = set(await conn.scalars(select(schema.board_links.c.token_hash)))
    assert token not in stored and late not in stored  # digests only


async def test_guessing_links_is_slowed_down_and_strangers_get_no_link(db: Database) -> None:
    renfort = renfort_at(db, FakeClock(NOW))
    stranger = await volunteer(db, 5, "Sam")
    with pytest.raises(NotAllowed):
        await board_links.issue_link(db, person_id=stranger.id, organisation_id=None, now=NOW)
    async with browser(renfort) as client:
        codes = [
            (await client.post(f"/board/link/{'x' * 40}{n:02d}")).status_code for n in range(12)
        ]
    assert codes[:10] == [410] * 10 and codes[10:] == [429, 429]


async def test_a_session_asked_for_in_a_group_sees_that_organisation_only(db: Database) -> None:
    clock = FakeClock(NOW)
    renfort = renfort_at(db, clock)
    a = await town(db, "Mairie de Saint-Dizier", 1, 11, "Bureau 1 — Saint-Dizier")
    b = await town(db, "Mairie de Chancenay", 2, 12, "Bureau 1 — Chancenay")
    chancenay = await organisations.find_organisation_by_name(db, "Mairie de Chancenay")
    assert chancenay is not None
    await organisations.join(db, a.coordinator_id, chancenay.invite_code)
    async with browser(renfort) as client:
        await signed_in(client, renfort, a.coordinator_id, a.organisation_id)
        page = (await client.get("/board")).text
        assert "Saint-Dizier" in page and "Chancenay" not in page
        assert (await client.get(f"/board/slots/{b.slot_id}/print")).status_code == 404


async def test_the_board_acts_as_the_chat_does_refusal_attendance_and_exports(
    db: Database,
) -> None:
    clock = FakeClock(NOW)
    renfort = renfort_at(db, clock)
    a = await town(db, "Mairie de Saint-Dizier", 1, 11, "Bureau 1 — Saint-Dizier")
    second = await applied(db, a.slot_id, 13, "Zoé")
    async with browser(renfort) as client:
        csrf = await signed_in(client, renfort, a.coordinator_id, None)
        assert "Tableau Renfort" in (await client.get("/board")).text  # Nadia reads French
        assert (await client.get("/board/lang/en")).status_code == 303
        refused = await client.post(
            f"/board/applications/{second.id}/decision",
            data={
                "csrf": csrf,
                "approve": "no",
                "reason": "requirements",
                "note": "Il faut être inscrite sur les listes.",
                "back": "short=1&day=bad&next=https://evil.example",
            },
        )
        # Back to the board's own filters only, never to an address from the form.
        location = refused.headers["location"]
        assert location.startswith("/board?short=1&day=bad&notice=refused#slot-")
        assert "evil" not in location
        async with db.reading("test") as conn:
            told = (
                await conn.execute(
                    select(schema.outbox.c.payload).where(
                        schema.outbox.c.kind == "application_decided"
                    )
                )
            ).scalar_one()
            audited = await conn.scalar(
                select(schema.audit_log.c.actor_id).where(
                    schema.audit_log.c.action == "application.refused"
                )
            )
        assert told["status"] == "refused" and "listes" in told["reason_note"]
        assert audited == a.coordinator_id

        # A refusal needs a reason, as in the chat.
        await set_status(db, second.id, ApplicationStatus.PENDING)
        no_reason = await client.post(
            f"/board/applications/{second.id}/decision", data={"csrf": csrf, "approve": "no"}
        )
        page = await client.get(no_reason.headers["location"])
        assert "Please choose a reason for the refusal." in page.text

        # Short of people: the slot shows with its missing place (two of three are held by
        # applications, pending ones included, as in the chat); another day shows nothing.
        short = await client.get("/board?short=1")
        assert f'id="slot-{a.slot_id}"' in short.text and "1 place missing" in short.text
        other_day = await client.get("/board?day=2030-01-01")
        assert f'id="slot-{a.slot_id}"' not in other_day.text

        # The live part answers 304 while nothing changed, and the new state once it did.
        live = await client.get("/board/live")
        tag = live.headers["etag"]
        assert (await client.get("/board/live", headers={"If-None-Match": tag})).status_code == 304
        await set_status(db, a.application_id, ApplicationStatus.CONFIRMED)
        changed = await client.get("/board/live", headers={"If-None-Match": tag})
        assert changed.status_code == 200 and "confirmed" in changed.text

        # After the slot began, who came is marked from the board; the counts follow.
        clock.advance(days=21)
        assert (await client.get("/board")).status_code == 401  # 12 hours are long gone
        csrf = await signed_in(client, renfort, a.coordinator_id, None)
        marked = await client.post(
            f"/board/applications/{a.application_id}/attendance",
            data={"csrf": csrf, "present": "yes"},
        )
        assert "notice=marked" in marked.headers["location"]
        async with db.reading("test") as conn:
            status = await conn.scalar(
                select(schema.applications.c.status).where(
                    schema.applications.c.id == a.application_id
                )
            )
            attended = await conn.scalar(
                select(schema.people.c.attended_count)
                .join(schema.applications, schema.applications.c.person_id == schema.people.c.id)
                .where(schema.applications.c.id == a.application_id)
            )
        assert status == ApplicationStatus.ATTENDED and attended == 1

        exported = await client.get(f"/board/missions/{a.mission_id}/applications.csv")
        assert exported.headers["content-type"].startswith("text/csv")
        body = exported.content.decode("utf-8-sig")
        assert "Vol11" in body and "Zoé" in body and "+33" not in body
        calendar = await client.get(f"/board/organisations/{a.organisation_id}/calendar.ics")
        assert calendar.text.startswith("BEGIN:VCALENDAR")

        printed = await client.get(f"/board/slots/{a.slot_id}/print")
        assert "Vol11" in printed.text and 'media="print"' in printed.text


async def test_another_site_cannot_sign_a_visitor_in_with_its_own_link(db: Database) -> None:
    renfort = renfort_at(db, FakeClock(NOW))
    a = await town(db, "Mairie de Saint-Dizier", 1, 11, "Bureau 1")
    token = await board_links.issue_link(
        db, person_id=a.coordinator_id, organisation_id=None, now=NOW
    )
    async with browser(renfort) as client:
        forged = await client.post(
            f"/board/link/{token}", headers={"Origin": "https://evil.example"}
        )
        assert forged.status_code == 403 and "set-cookie" not in forged.headers
        opened = await client.post(f"/board/link/{token}", headers={"Origin": "https://board.test"})
        assert opened.status_code == 303  # the refused attempt did not use the link up

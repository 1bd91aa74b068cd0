"""What people read in their notifications (English message ids; no catalog needed)."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import select

from bot.i18n import Translator
from bot.services import applications, organisations
from handlers.telegram.render import RENDERERS, UnknownNotification, render
from storage import schema
from storage.database import Database
from tests.conftest import NOW
from tests.factories import commune, first_slot, polling_station, volunteer

EN = Translator("en")


def snapshot(**extra: Any) -> dict[str, Any]:
    """A payload as applications._snapshot writes it, for Sunday 13 June 2027 8:00–13:00."""
    return {
        "application_id": 17,
        "mission_id": 3,
        "mission_title": "Assesseur — bureau de vote n°3",
        "organisation_name": "Mairie de Saint-Dizier",
        "address": "École Jules Ferry, 12 rue de la République",
        "remote": False,
        "timezone": "Europe/Paris",
        "starts_at": "2027-06-13T06:00:00+00:00",
        "ends_at": "2027-06-13T11:00:00+00:00",
        **extra,
    }


def submitted(**extra: Any) -> dict[str, Any]:
    facts = {
        "volunteer_name": "Camille",
        "volunteer_via_sms": False,
        "distance_km": 2.34,
        "attended": 3,
        "no_shows": 0,
    }
    return snapshot(**(facts | extra))


def test_coordinators_see_who_applied_for_which_slot_with_approve_and_refuse() -> None:
    message = render("application_submitted", submitted(), EN)

    assert "Camille" in message.text
    assert "Assesseur — bureau de vote n°3" in message.text
    assert "Sunday 13 June 2027, 8:00\u202fAM–1:00\u202fPM" in message.text  # Paris time
    assert "2.3 km" in message.text and "3 missions attended" in message.text
    assert "no-show" not in message.text
    [[approve, refuse]] = message.rows
    assert (approve.label, approve.action, approve.data) == (
        "✅ Approve",
        "approve",
        {"application_id": 17},
    )
    assert (refuse.label, refuse.action, refuse.data) == (
        "❌ Refuse",
        "refuse",
        {"application_id": 17},
    )


def test_coordinators_see_no_shows_and_sms_applicants_but_never_a_phone_number() -> None:
    payload = submitted(volunteer_via_sms=True, distance_km=None, attended=0, no_shows=2)
    payload["phone"] = "+33612345678"  # even if a payload ever carried one

    text = render("application_submitted", payload, EN).text

    assert "Camille (via SMS)" in text
    assert "2 no-shows" in text and "no mission attended yet" in text
    assert "km" not in text
    assert "612345678" not in text


def test_values_from_people_are_escaped_for_telegram_html() -> None:
    payload = submitted(volunteer_name="<b>Bob</b>", mission_title="Soupe & café <gratuit>")

    text = render("application_submitted", payload, EN).text

    assert "&lt;b&gt;Bob&lt;/b&gt;" in text
    assert "Soupe &amp; café &lt;gratuit&gt;" in text


def test_an_approved_volunteer_gets_the_slot_the_place_and_where_to_see_it() -> None:
    text = render("application_decided", snapshot(status="approved", reason=None), EN).text

    assert "You're in" in text
    assert "Sunday 13 June 2027" in text
    assert "École Jules Ferry" in text
    assert "/mymissions" in text


def test_a_remote_mission_says_remote_instead_of_an_address() -> None:
    payload = snapshot(status="approved", reason=None, remote=True, address="")

    assert "Remote" in render("application_decided", payload, EN).text


def test_a_refused_volunteer_gets_kind_words_and_the_reason() -> None:
    payload = snapshot(status="refused", reason="slot_filled")

    text = render("application_decided", payload, EN).text

    assert "could not accept" in text
    assert "The slot is already filled" in text
    assert "/missions" in text
    assert not render("application_decided", payload, EN).choices


def test_the_organisation_hears_that_a_place_is_free_again() -> None:
    text = render("application_cancelled", snapshot(volunteer_name="Lucas"), EN).text

    assert "Lucas cancelled" in text and "free again" in text
    assert "Sunday 13 June 2027" in text


def test_an_unknown_kind_or_decision_is_a_clear_error() -> None:
    with pytest.raises(UnknownNotification, match="crisis_callout"):
        render("crisis_callout", snapshot(), EN)
    with pytest.raises(UnknownNotification, match="pending"):
        render("application_decided", snapshot(status="pending"), EN)


# Kinds about an organisation's week rather than one slot: no slot date to show.
WITHOUT_A_SLOT = {
    "weekly_digest",
    "mission_approved",
    "mission_changes_requested",
    "mission_refused",
    "relay_to_organisation",
    "relay_to_volunteer",
    "territory_alert",
    "alert_volunteer_available",
}


@pytest.mark.parametrize("kind", sorted(RENDERERS))
def test_every_kind_renders_in_french_with_french_dates(kind: str) -> None:
    payload = submitted(
        status="refused",
        reason="other",
        offer_expires_at="2027-06-12T20:00:00+00:00",
        callout_id=5,
        alert_id=6,
        offer_id=7,
        recipient_id=8,
        organisation_id=9,
        first_name="Camille",
        text="Crue de la Marne : aide pour remplir des sacs de sable.",
        date="2027-06-13",  # the evening list: its day and the applications on it
        items=[submitted()],
    )

    if kind == "weekly_digest":
        payload["no_shows"] = []  # the digest's no-shows are first names, an applicant's a count
    message = render(kind, payload, Translator("fr"))

    if kind not in WITHOUT_A_SLOT:
        assert "dimanche 13 juin 2027" in message.text
    assert 0 < len(message.text) <= 4096


async def test_payloads_written_by_the_services_render(sqlite_db: Database) -> None:
    org = await commune(sqlite_db)
    slot_id = await first_slot(sqlite_db, await polling_station(sqlite_db, org.id, now=NOW))
    coordinator = await volunteer(sqlite_db, 1, "Nadia")
    await organisations.join(sqlite_db, coordinator.id, org.invite_code)
    lucas = await volunteer(sqlite_db, 2, "Lucas")
    applied = await applications.apply(sqlite_db, person_id=lucas.id, slot_id=slot_id, now=NOW)
    await applications.decide(
        sqlite_db, application_id=applied.id, actor_id=coordinator.id, approve=True
    )
    async with sqlite_db.reading("test") as conn:
        rows = (await conn.execute(select(schema.outbox.c.kind, schema.outbox.c.payload))).all()

    texts = {row.kind: render(row.kind, row.payload, EN).text for row in rows}
    assert set(texts) == {"application_submitted", "application_decided"}
    assert "Lucas" in texts["application_submitted"]
    assert "You're in" in texts["application_decided"]

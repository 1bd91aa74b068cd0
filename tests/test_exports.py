"""Exports: a mission's applications as CSV (phones only when allowed), the organisation's
iCal feed, a volunteer's own calendar."""

from __future__ import annotations

import csv
import io

from sqlalchemy import select, update

from bot import ical
from bot.services import applications, exports, organisations, phone_consents
from storage import schema
from storage.database import Database
from tests.conftest import NOW
from tests.factories import commune, first_slot, polling_station, volunteer


def parse_ics(data: bytes) -> list[dict[str, str]]:
    """VEVENTs of an iCalendar file, unfolding continuation lines."""
    text = data.decode()
    assert text.endswith("\r\n")
    lines: list[str] = []
    for line in text.split("\r\n")[:-1]:
        assert len(line.encode()) <= 75
        if line.startswith(" "):
            lines[-1] += line[1:]
        else:
            lines.append(line)
    assert lines[0] == "BEGIN:VCALENDAR" and lines[-1] == "END:VCALENDAR"
    events: list[dict[str, str]] = []
    for line in lines:
        if line == "BEGIN:VEVENT":
            events.append({})
        elif events and ":" in line and line != "END:VEVENT":
            key, value = line.split(":", 1)
            events[-1].setdefault(key, value)
    return events


async def scenario(db: Database) -> tuple[int, int, int, int]:
    """A commune, a coordinator, a polling station, two volunteers approved; one shares."""
    org = await commune(db)
    coordinator = await volunteer(db, 1, "Nadia")
    await organisations.join(db, coordinator.id, org.invite_code)
    mission = await polling_station(db, org.id, now=NOW, capacity=3)
    slot = await first_slot(db, mission)
    sharer = await volunteer(db, 2, "Camille")
    private = await volunteer(db, 3, "Dominique")
    async with db.transaction("test") as conn:
        await conn.execute(
            update(schema.people)
            .where(schema.people.c.id == sharer.id)
            .values(phone="+33611111111", phone_shared=True)
        )
        await conn.execute(
            update(schema.people)
            .where(schema.people.c.id == private.id)
            .values(phone="+33622222222", phone_shared=False)
        )
    for person in (sharer, private):
        view = await applications.apply(db, person_id=person.id, slot_id=slot, now=NOW)
        await applications.decide(db, application_id=view.id, actor_id=coordinator.id, approve=True)
    return org.id, coordinator.id, mission, sharer.id


async def test_csv_has_phone_only_when_allowed_and_is_audited(db: Database) -> None:
    org, coordinator, mission, sharer = await scenario(db)
    shared_only = await exports.export_applications(db, actor_id=coordinator, mission_id=mission)
    assert all(line.phone is None for line in shared_only.lines)  # given for SMS, not for them
    await phone_consents.decide(db, person_id=sharer, organisation_id=org, allowed=True, now=NOW)
    export = await exports.export_applications(db, actor_id=coordinator, mission_id=mission)
    headers = ["first", "phone", "start", "end", "status", "by", "at", "attended", "conditions"]
    data = exports.to_csv(export, headers, "yes", "no")
    rows = list(csv.DictReader(io.StringIO(data.decode("utf-8-sig"))))
    by_name = {r["first"]: r for r in rows}
    assert by_name["Camille"]["phone"] == "+33611111111"
    assert by_name["Dominique"]["phone"] == ""
    assert "+33622222222" not in data.decode("utf-8-sig")
    assert by_name["Camille"]["start"] == "2027-06-13 08:00"  # local time
    assert by_name["Camille"]["end"] == "2027-06-13 13:00"
    assert by_name["Camille"]["status"] == "approved"
    assert by_name["Camille"]["by"] == "Nadia" and by_name["Camille"]["at"]
    assert by_name["Camille"]["attended"] == ""
    log = schema.audit_log
    async with db.reading("test") as conn:
        actors = list(
            await conn.scalars(select(log.c.actor_id).where(log.c.action == "mission.exported"))
        )
    assert actors == [coordinator, coordinator]  # each export leaves its trace


async def test_only_members_export(db: Database) -> None:
    _org, _coordinator, mission, sharer = await scenario(db)
    try:
        await exports.export_applications(db, actor_id=sharer, mission_id=mission)
    except Exception as error:  # NotAllowed
        assert getattr(error, "code", "") == "not_member"
    else:
        raise AssertionError("a volunteer exported applications")


async def test_the_ics_feed_lists_slots_in_utc(db: Database) -> None:
    org, coordinator, _mission, _ = await scenario(db)
    token = await exports.ensure_ics_token(db, actor_id=coordinator, organisation_id=org)
    assert token == await exports.ensure_ics_token(db, actor_id=coordinator, organisation_id=org)
    assert await exports.organisation_feed(db, "nope", now=NOW) is None
    data = await exports.organisation_feed(db, token, now=NOW)
    assert data is not None
    (event,) = parse_ics(data)
    assert event["DTSTART"] == "20270613T060000Z"  # 08:00 in Paris, summer time
    assert event["DTEND"] == "20270613T110000Z"
    assert event["SUMMARY"].startswith("Assesseur")
    assert event["LOCATION"] == "École Jules Ferry\\, 12 rue de la République"
    assert event["UID"].startswith("slot-")


async def test_a_volunteer_calendar_has_their_commitments(db: Database) -> None:
    _org, _coordinator, _mission, sharer = await scenario(db)
    data = await exports.volunteer_calendar(db, person_id=sharer, now=NOW, name="Mine")
    (event,) = parse_ics(data)
    assert event["DTSTART"] == "20270613T060000Z"


def test_long_lines_fold_and_values_escape() -> None:
    text = ical.escape("a;b,c\\d\ne")
    assert text == "a\\;b\\,c\\\\d\\ne"
    folded = ical.fold("SUMMARY:" + "é" * 100)
    assert all(len(part.encode()) <= 75 for part in folded.split("\r\n"))
    assert folded.replace("\r\n ", "") == "SUMMARY:" + "é" * 100

"""Referents review the missions of their territory: publish, ask for changes, refuse;
duplicates are pointed out; verified organisations' template missions skip review; only
verified organisations launch callouts where a referent is in place."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from bot.domain import GeoPoint, MissionStatus
from bot.services import callouts, missions, moderation, organisations, review, templates
from bot.services.callouts import Targeting
from bot.services.errors import NotAllowed, NotFound
from bot.services.missions import MissionSpec, SlotSpec
from storage import schema
from storage.database import Database
from tests.conftest import NOW
from tests.factories import ELECTION_MORNING, SAINT_DIZIER, commune, first_slot, volunteer
from tests.harness import Bot, FakeClock, running_bot, sqlite_file_url
from tests.organiser_steps import (
    COORDINATOR,
    STRANGER,
    callback_data,
    meet_everyone,
    person_of,
    say,
    tap,
    tap_action,
)

REFERENT_TG = 7


@dataclass
class Scene:
    db: Database
    organisation_id: int
    coordinator_id: int
    referent_id: int


async def scene(db: Database, *, verified: bool = False) -> Scene:
    org = await commune(db)
    coordinator = await volunteer(db, 1, "Nadia")
    await organisations.join(db, coordinator.id, org.invite_code)
    referent = await volunteer(db, REFERENT_TG, "Régine")
    await moderation.add_referent(db, territory="52", telegram_user_id=REFERENT_TG)
    if verified:
        await moderation.verify_organisation(db, organisation_id=org.id, actor_id=referent.id)
    return Scene(db, org.id, coordinator.id, referent.id)


async def assessor_mission(
    s: Scene,
    *,
    title: str = "Assesseur — bureau 1",
    point: GeoPoint = SAINT_DIZIER,
    template: bool = True,
    organisation_id: int | None = None,
) -> int:
    template_id = None
    if template:
        async with s.db.transaction("test_template") as conn:
            template_id = (await templates.builtin_template(conn, "assessor")).id
    spec = MissionSpec(
        organisation_id=organisation_id or s.organisation_id,
        title=title,
        domain="citizenship",
        address="Hôtel de ville",
        postcode="52100",
        point=point,
        slots=(SlotSpec(ELECTION_MORNING, ELECTION_MORNING + timedelta(hours=5), 2),),
        template_id=template_id,
    )
    return await missions.create_mission(s.db, spec, actor_id=None, now=NOW)


async def status_of(db: Database, mission_id: int) -> MissionStatus:
    return (await missions.mission_detail(db, mission_id)).status


async def notes(db: Database, kind: str) -> list[tuple[int, dict[str, Any]]]:
    o = schema.outbox
    async with db.reading("test") as conn:
        rows = (
            await conn.execute(
                select(o.c.person_id, o.c.payload).where(o.c.kind == kind).order_by(o.c.id)
            )
        ).all()
    return [(int(r.person_id), dict(r.payload)) for r in rows]


async def visible(db: Database) -> list[int]:
    page = await missions.discover(db, now=NOW, near=None, radius_km=None, limit=50)
    return [card.id for card in page.cards]


async def audit_actions(db: Database, mission_id: int) -> list[str]:
    a = schema.audit_log
    async with db.reading("test") as conn:
        rows = await conn.scalars(
            select(a.c.action)
            .where(a.c.subject_type == "mission", a.c.subject_id == mission_id)
            .order_by(a.c.id)
        )
        return list(rows)


async def test_a_referent_must_have_started_the_bot(db: Database) -> None:
    with pytest.raises(NotFound):
        await moderation.add_referent(db, territory="52", telegram_user_id=404)
    referent = await volunteer(db, REFERENT_TG, "Régine")
    await moderation.add_referent(db, territory="521", person_id=referent.id)
    assert [(r.person_id, r.territory) for r in await moderation.list_referents(db)] == [
        (referent.id, "521")
    ]


async def test_an_unverified_organisation_goes_to_review_and_the_referent_publishes(
    db: Database,
) -> None:
    s = await scene(db)
    mission_id = await assessor_mission(s)

    assert await status_of(db, mission_id) == MissionStatus.IN_REVIEW
    assert mission_id not in await visible(db)
    [(to, payload)] = await notes(db, "mission_review")
    assert to == s.referent_id and payload["organisation_name"] == "Mairie de Saint-Dizier"
    assert payload["slots"][0]["capacity"] == 2 and payload["duplicates"] == []

    with pytest.raises(NotAllowed):
        await moderation.publish(db, mission_id=mission_id, referent_id=s.coordinator_id)
    await moderation.publish(db, mission_id=mission_id, referent_id=s.referent_id)

    assert mission_id in await visible(db)
    assert [p for p, _ in await notes(db, "mission_approved")] == [s.coordinator_id]
    assert await audit_actions(db, mission_id) == [
        "mission.created",
        "mission.submitted",
        "mission.review_publish",
    ]


async def test_ask_for_changes_then_resubmit_goes_back_to_review(db: Database) -> None:
    s = await scene(db)
    mission_id = await assessor_mission(s)

    await moderation.ask_changes(
        db, mission_id=mission_id, referent_id=s.referent_id, note="Précisez l'adresse du bureau."
    )

    assert await status_of(db, mission_id) == MissionStatus.DRAFT
    [(to, payload)] = await notes(db, "mission_changes_requested")
    assert to == s.coordinator_id and payload["note"] == "Précisez l'adresse du bureau."
    assert await moderation.drafts_sent_back(db, s.coordinator_id) == [
        (mission_id, "Assesseur — bureau 1")
    ]
    await moderation.resubmit(db, mission_id=mission_id, actor_id=s.coordinator_id)
    assert await status_of(db, mission_id) == MissionStatus.IN_REVIEW
    assert len(await notes(db, "mission_review")) == 2


async def test_a_refused_mission_is_cancelled_and_the_organisation_told(db: Database) -> None:
    s = await scene(db)
    mission_id = await assessor_mission(s)

    await moderation.refuse(db, mission_id=mission_id, referent_id=s.referent_id)

    assert await status_of(db, mission_id) == MissionStatus.CANCELLED
    assert [p for p, _ in await notes(db, "mission_refused")] == [s.coordinator_id]
    assert mission_id not in await visible(db)


async def test_likely_duplicates_are_pointed_out(db: Database) -> None:
    s = await scene(db)
    other = await organisations.create_organisation(db, "Comité des fêtes", "52100")
    first = await assessor_mission(s, title="Assesseur bureau de vote 1")
    await assessor_mission(s, title="Assesseur - bureau de vote 1")  # same organisation
    await assessor_mission(
        s, title="Assesseur bureau de vote n°1", organisation_id=other.id
    )  # 0 km away
    far = await organisations.create_organisation(db, "Amicale laïque", "52100")
    await assessor_mission(
        s,
        title="Assesseur bureau de vote 1",
        organisation_id=far.id,
        point=GeoPoint(SAINT_DIZIER.latitude + 0.1, SAINT_DIZIER.longitude),
    )  # 11 km away
    await assessor_mission(s, title="Distribution alimentaire")

    reviews = [payload for _, payload in await notes(db, "mission_review")]
    assert reviews[0]["duplicates"] == []
    assert [h["mission_id"] for h in reviews[1]["duplicates"]] == [first]
    assert [h["mission_id"] for h in reviews[2]["duplicates"]] == [first, first + 1]
    assert reviews[3]["duplicates"] == []
    assert reviews[4]["duplicates"] == []


async def test_a_verified_organisations_template_mission_skips_review(db: Database) -> None:
    s = await scene(db, verified=True)

    from_template = await assessor_mission(s)
    from_scratch = await assessor_mission(s, title="Autre chose", template=False)

    assert await status_of(db, from_template) == MissionStatus.PUBLISHED
    assert await status_of(db, from_scratch) == MissionStatus.IN_REVIEW


async def test_without_a_referent_missions_are_published_at_once(db: Database) -> None:
    org = await commune(db)
    s = Scene(db, org.id, 0, 0)
    assert await status_of(db, await assessor_mission(s)) == MissionStatus.PUBLISHED


async def test_an_unverified_organisation_cannot_launch_a_callout_where_a_referent_is(
    db: Database,
) -> None:
    s = await scene(db, verified=False)
    mission_id = await assessor_mission(s)
    await moderation.publish(db, mission_id=mission_id, referent_id=s.referent_id)

    async def launch() -> Any:
        return await callouts.launch(
            db,
            actor_id=s.coordinator_id,
            slot_id=await first_slot(db, mission_id),
            needed=1,
            targeting=Targeting(radius_km=10, domains=()),
            now=NOW,
        )

    with pytest.raises(NotAllowed) as refused:
        await launch()
    assert refused.value.code == "organisation_not_verified"
    assert [o.id for o in await moderation.unverified_organisations(db, s.referent_id)] == [
        s.organisation_id
    ]
    await moderation.verify_organisation(
        db, organisation_id=s.organisation_id, actor_id=s.referent_id
    )
    assert (await launch()).needed == 1


# ---- in Telegram -------------------------------------------------------------------------


async def telegram_scene(bot: Bot) -> organisations.Organisation:
    meet_everyone(bot)
    bot.double.user(REFERENT_TG, "Régine", language_code="en")
    organisation = await commune(bot.db)
    await say(bot, COORDINATOR, f"/join {organisation.invite_code}")
    await say(bot, REFERENT_TG, "/start")
    await moderation.add_referent(bot.db, territory="52", telegram_user_id=REFERENT_TG)
    return organisation


async def post_from_template(bot: Bot, organisation_id: int) -> None:
    start = (await say(bot, COORDINATOR, "/newmission"))[-1]
    assessor = (await templates.templates_for(bot.db, organisation_id))[0]
    await tap_action(bot, COORDINATOR, start, "nm_template", template_id=assessor.id)
    await say(bot, COORDINATOR, "Hôtel de ville, 52100 Saint-Dizier")
    final = (await say(bot, COORDINATOR, "13/06/2027 8h"))[-1]
    await tap_action(bot, COORDINATOR, final, "nm_publish")


async def test_review_in_telegram_changes_resubmit_then_publish(tmp_path: Path) -> None:
    async with running_bot(sqlite_file_url(tmp_path), FakeClock(NOW)) as bot:
        organisation = await telegram_scene(bot)

        await post_from_template(bot, organisation.id)
        sent = bot.double.messages[COORDINATOR]
        assert any("Sent to the referent" in m.text for m in sent)
        review = bot.double.messages[REFERENT_TG][-1]
        assert "Mission to review" in review.text and "Polling station assessor" in review.text
        assert "Mairie de Saint-Dizier" in review.text and "Sunday 13 June 2027" in review.text

        await tap_action(bot, REFERENT_TG, review, "mod.changes")
        await say(bot, REFERENT_TG, "Please give the room number.")
        told = bot.double.messages[COORDINATOR][-1]
        assert "asks for changes" in told.text and "Please give the room number." in told.text
        await tap_action(bot, COORDINATOR, told, "mod.resubmit")
        again = bot.double.messages[REFERENT_TG][-1]
        assert "Mission to review" in again.text

        await tap_action(bot, REFERENT_TG, again, "mod.publish")
        assert "Published" in again.text and again.buttons == []
        assert "approved" in bot.double.messages[COORDINATOR][-1].text
        page = await missions.discover(bot.db, now=NOW, near=None, radius_km=None)
        assert [c.title for c in page.cards] == ["Polling station assessor"]


async def test_refuse_and_verify_in_telegram(tmp_path: Path) -> None:
    async with running_bot(sqlite_file_url(tmp_path), FakeClock(NOW)) as bot:
        organisation = await telegram_scene(bot)
        await post_from_template(bot, organisation.id)
        review = bot.double.messages[REFERENT_TG][-1]

        await tap_action(bot, REFERENT_TG, review, "mod.refuse")
        assert "refused" in bot.double.messages[COORDINATOR][-1].text

        listed = (await say(bot, REFERENT_TG, "/verify"))[-1]
        assert "Mairie de Saint-Dizier" in listed.text
        await tap(
            bot,
            REFERENT_TG,
            listed,
            await callback_data(bot, listed, "mod.verify", organisation=organisation.id),
        )
        found = await organisations.find_organisation_by_name(bot.db, organisation.name)
        assert found is not None and found.verified

        stranger = await say(bot, STRANGER, "/verify")
        assert "referent" in stranger[-1].text
        coordinator = await person_of(bot, COORDINATOR)
        async with bot.db.reading("test_territories") as conn:
            assert await moderation.territories_of(conn, coordinator.id) == []


@pytest.mark.parametrize("territory", ["５２", "²", "52" * 10, "\x00"])
def test_a_territory_in_other_digits_or_too_long_is_refused(territory: str) -> None:
    assert review.normalise_territory(territory) is None

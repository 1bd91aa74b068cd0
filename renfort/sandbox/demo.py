"""Demo data for the sandbox: a commune with polling stations next Sunday, a food-aid
association with distributions this week, a coordinator and the commune's admin group.

Everything goes through the services, as a real coordinator's actions would; seeding again
adds nothing, except fresh missions once an organisation's demo slots are all past."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select

from bot.domain import GeoPoint
from bot.geo import lookup_offline
from bot.services import missions, organisations, people
from bot.services.missions import MissionSpec, SlotSpec
from bot.services.organisations import Organisation
from storage import schema
from storage.database import Database

COMMUNE = "Mairie de Saint-Dizier"
FOOD_AID = "Restos du Cœur de Saint-Dizier"
POSTCODE = "52100"
SUNDAY, TUESDAY, FRIDAY = 6, 1, 4

POLLING_STATIONS = (
    (1, "Hôtel de ville", "Hôtel de ville, place Aristide-Briand", GeoPoint(48.6377, 4.9490)),
    (2, "École Diderot", "École élémentaire Diderot, 8 rue Diderot", GeoPoint(48.6412, 4.9556)),
    (
        3,
        "Vert-Bois",
        "Maison de quartier du Vert-Bois, 2 rue Albert-Camus",
        GeoPoint(48.6233, 4.9608),
    ),
)
ASSESSOR = (
    "Tenir le bureau de vote avec le président : vérifier l'identité des électeurs, faire signer"
    " la liste d'émargement. Être inscrit sur les listes électorales de la commune."
)
COUNTING = "Compter les bulletins à la clôture du scrutin, par tables de quatre."
DISTRIBUTION_CENTRE = "Centre de distribution, 21 rue Ernest-Renan"
DISTRIBUTION_POINT = GeoPoint(48.6405, 4.9441)


@dataclass(frozen=True)
class Cast:
    """Who the sandbox console speaks as; fixed ids, so a second start finds them again."""

    volunteer_id: int = 1001
    volunteer_name: str = "Camille"
    coordinator_id: int = 1002
    coordinator_name: str = "Dominique"
    group_id: int = -1001000000001
    group_title: str = "Mairie de Saint-Dizier – coordination"


CAST = Cast()


@dataclass(frozen=True)
class Seeded:
    commune: Organisation
    food_aid: Organisation
    coordinator_person_id: int
    missions_created: int


def next_weekday(today: date, weekday: int) -> date:
    """The first `weekday` strictly after `today` (Monday is 0)."""
    return today + timedelta(days=(weekday - today.weekday() - 1) % 7 + 1)


def at(day: date, hour: int, minute: int, zone: ZoneInfo) -> datetime:
    return datetime.combine(day, time(hour, minute), tzinfo=zone)


async def seed(db: Database, *, now: datetime, zone: ZoneInfo, cast: Cast = CAST) -> Seeded:
    """Create whatever of the demo is missing."""
    commune = await _organisation(db, COMMUNE)
    food_aid = await _organisation(db, FOOD_AID)
    coordinator = await _coordinator(db, cast, commune)
    await organisations.link_admin_chat(
        db,
        person_id=coordinator,
        organisation_id=commune.id,
        chat_id=cast.group_id,
        title=cast.group_title,
    )
    today = now.astimezone(zone).date()
    created = 0
    if not await _has_upcoming_slot(db, commune.id, now):
        for spec in election_missions(commune.id, next_weekday(today, SUNDAY), zone):
            await missions.create_mission(db, spec, actor_id=coordinator, now=now)
            created += 1
    if not await _has_upcoming_slot(db, food_aid.id, now):
        for spec in food_aid_missions(food_aid.id, today, zone):
            await missions.create_mission(db, spec, actor_id=None, now=now)
            created += 1
    return Seeded(commune, food_aid, coordinator, created)


async def _organisation(db: Database, name: str) -> Organisation:
    found = await organisations.find_organisation_by_name(db, name)
    return found or await organisations.create_organisation(db, name, POSTCODE)


async def _coordinator(db: Database, cast: Cast, commune: Organisation) -> int:
    """The demo coordinator: registered, living in the commune, a member of it."""
    person = await people.ensure_telegram_person(
        db,
        telegram_user_id=cast.coordinator_id,
        chat_id=cast.coordinator_id,
        first_name=cast.coordinator_name,
        language_code="fr",
    )
    if not person.registered:
        await people.update_profile(
            db,
            person.id,
            home=lookup_offline(POSTCODE),
            interests=["citizenship", "solidarity"],
            complete_registration=True,
        )
    await organisations.join(db, person.id, commune.invite_code)
    return person.id


async def _has_upcoming_slot(db: Database, organisation_id: int, now: datetime) -> bool:
    m, s = schema.missions, schema.slots
    async with db.reading("demo_has_upcoming_slot") as conn:
        found = await conn.scalar(
            select(s.c.id)
            .join(m, m.c.id == s.c.mission_id)
            .where(m.c.organisation_id == organisation_id, s.c.starts_at > now)
            .limit(1)
        )
    return found is not None


def election_missions(organisation_id: int, sunday: date, zone: ZoneInfo) -> list[MissionSpec]:
    """Assessors for the morning and the afternoon at each station, and the count."""
    specs = [
        MissionSpec(
            organisation_id=organisation_id,
            title=f"Assesseur – bureau de vote n°{number} ({name})",
            domain="citizenship",
            description=ASSESSOR,
            address=address,
            postcode=POSTCODE,
            point=point,
            timezone=zone.key,
            slots=(
                SlotSpec(at(sunday, 8, 0, zone), at(sunday, 13, 0, zone), 2),
                SlotSpec(at(sunday, 13, 0, zone), at(sunday, 18, 0, zone), 2),
            ),
        )
        for number, name, address, point in POLLING_STATIONS
    ]
    number, name, address, point = POLLING_STATIONS[0]
    specs.append(
        MissionSpec(
            organisation_id=organisation_id,
            title=f"Scrutateur – dépouillement, bureau n°{number} ({name})",
            domain="citizenship",
            description=COUNTING,
            address=address,
            postcode=POSTCODE,
            point=point,
            timezone=zone.key,
            slots=(SlotSpec(at(sunday, 18, 0, zone), at(sunday, 20, 0, zone), 4),),
        )
    )
    return specs


def food_aid_missions(organisation_id: int, today: date, zone: ZoneInfo) -> list[MissionSpec]:
    """The coming Tuesday's and Friday's distributions, and phone calls from home."""
    tuesday, friday = next_weekday(today, TUESDAY), next_weekday(today, FRIDAY)
    return [
        MissionSpec(
            organisation_id=organisation_id,
            title="Distribution alimentaire",
            domain="solidarity",
            description="Préparer les colis et les remettre aux familles inscrites.",
            address=DISTRIBUTION_CENTRE,
            postcode=POSTCODE,
            point=DISTRIBUTION_POINT,
            timezone=zone.key,
            slots=tuple(
                SlotSpec(at(day, 13, 30, zone), at(day, 17, 0, zone), 6)
                for day in sorted((tuesday, friday))
            ),
        ),
        MissionSpec(
            organisation_id=organisation_id,
            title="Appels de suivi aux familles",
            domain="solidarity",
            description="Appeler depuis chez soi les familles qui n'ont pas pu venir.",
            remote=True,
            timezone=zone.key,
            slots=(SlotSpec(at(tuesday, 10, 0, zone), at(tuesday, 12, 0, zone), 2),),
        ),
    ]

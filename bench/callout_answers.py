"""A burst of answers to a crisis callout: 3,000 people asked, 100 needed, "I'm available"
taps arriving at 50 a second for 60 s. Every answer must be recorded, the 100 places given
first come first served, everyone else thanked, each tap answered quickly.

The Bot API double runs in a process of its own and taps the callout's button in each
person's chat; Renfort runs here on SQLite. Run:
`python -m bench.callout_answers [--people N] [--needed N] [--rate N]`."""

from __future__ import annotations

import argparse
import tempfile
import time
from collections import Counter
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

from sqlalchemy import func, insert, select

from bench.latency import FIRST_PERSON, Driver, Figures, renfort_driven
from bench.table import Row
from bot.actions import CALLOUT_YES
from bot.buttons import Button, save_buttons
from bot.domain import GeoPoint
from bot.services import callouts, missions, organisations, people
from bot.services.callout_views import Targeting
from bot.services.missions import MissionSpec, SlotSpec
from renfort import event_loop
from storage import schema
from storage.database import Database

SAINT_DIZIER = GeoPoint(48.6383, 4.9497)
P, R, A = schema.people, schema.callout_recipients, schema.applications


@dataclass(frozen=True)
class Outcome:
    figures: Figures
    answers: Counter[str]  # outcome -> how many recorded
    taken: int  # approved applications on the slot
    first_come: bool  # the places went to the first ones whose answer was recorded
    cpu_ms_per_tap: float  # this process's CPU while the taps came in, per tap answered


async def callout_asking_everyone(db: Database, count: int, needed: int, now: datetime) -> int:
    """A verified commune, a slot for `needed` people tomorrow, `count` registered volunteers
    next door, and an urgent callout that has asked them all; returns its id."""
    commune = await organisations.create_organisation(db, "Mairie de Saint-Dizier", "52100")
    coordinator = await people.ensure_telegram_person(
        db, telegram_user_id=1, chat_id=1, first_name="Nadia", language_code="fr"
    )
    await organisations.join(db, coordinator.id, commune.invite_code)
    starts = now + timedelta(days=1)
    mission_id = await missions.create_mission(
        db,
        MissionSpec(
            organisation_id=commune.id,
            title="Renfort digue",
            domain="emergency",
            address="Quai de la Marne",
            postcode="52100",
            point=SAINT_DIZIER,
            slots=(SlotSpec(starts, starts + timedelta(hours=4), needed),),
        ),
        actor_id=None,
        now=now,
    )
    slot_id = (await missions.mission_detail(db, mission_id)).slots[0].id
    async with db.transaction("bench_people") as conn:
        await conn.execute(
            insert(P),
            [
                {
                    "first_name": f"V{i}",
                    "locale": "fr",
                    "telegram_user_id": FIRST_PERSON + i,
                    "telegram_chat_id": FIRST_PERSON + i,
                    "latitude": SAINT_DIZIER.latitude,
                    "longitude": SAINT_DIZIER.longitude,
                    "interests": ["emergency"],
                    "availability": {},
                    "registered_at": now - timedelta(days=30),
                    "created_at": now,
                    "updated_at": now,
                }
                for i in range(count)
            ],
        )
    view = await callouts.launch(
        db,
        actor_id=coordinator.id,
        slot_id=slot_id,
        needed=needed,
        targeting=Targeting(radius_km=10, domains=("emergency",), urgent=True),
        now=now,
    )
    async with db.transaction("bench_ask_everyone") as conn:
        asked = set(await conn.scalars(select(R.c.person_id).where(R.c.callout_id == view.id)))
        rest = await conn.scalars(
            select(P.c.id).where(P.c.telegram_user_id >= FIRST_PERSON).order_by(P.c.id)
        )
        rows = [
            {"callout_id": view.id, "person_id": pid, "wave": 1, "rank": rank, "created_at": now}
            for rank, pid in enumerate(rest, start=len(asked) + 1)
            if pid not in asked
        ]
        if rows:
            await conn.execute(insert(R), rows)
    return view.id


async def recorded(db: Database, callout_id: int) -> tuple[Counter[str], int, bool]:
    """Outcomes recorded, places approved, and whether the places went to the first answers
    recorded (the audit log keeps their order)."""
    log = schema.audit_log
    async with db.reading("bench_answers") as conn:
        outcomes = Counter(
            str(o)
            for o in await conn.scalars(
                select(R.c.outcome).where(R.c.callout_id == callout_id, R.c.answer.is_not(None))
            )
        )
        in_order = list(
            await conn.scalars(
                select(log.c.action)
                .where(log.c.subject_type == "callout", log.c.subject_id == callout_id)
                .where(log.c.action.in_(["callout.taken", "callout.waitlisted"]))
                .order_by(log.c.id)
            )
        )
        slot_id = await conn.scalar(
            select(schema.callouts.c.slot_id).where(schema.callouts.c.id == callout_id)
        )
        taken = await conn.scalar(
            select(func.count()).where(A.c.slot_id == slot_id, A.c.status == "approved")
        )
    places = outcomes["taken"]
    first_come = in_order[:places] == ["callout.taken"] * places
    return outcomes, int(taken or 0), first_come


async def measure(count: int, needed: int, rate: float, workdir: Path) -> Outcome:
    driver = Driver(rate, count / rate, count, taps=True)
    async with renfort_driven(driver, workdir / "callout.db") as renfort:
        db = renfort.db
        callout_id = await callout_asking_everyone(db, count, needed, renfort.now())
        stored = await save_buttons(
            db, [[Button("Disponible", CALLOUT_YES, {"callout_id": callout_id})]]
        )
        cpu = time.process_time()
        figures = await driver.offer(stored[0][0][1])
        cpu_ms = (time.process_time() - cpu) * 1000 / max(figures.answered, 1)
        answers, taken, first_come = await recorded(db, callout_id)
    return Outcome(figures, answers, taken, first_come, cpu_ms)


def correct(outcome: Outcome, count: int, needed: int) -> bool:
    answers = outcome.answers
    return (
        outcome.figures.unanswered == 0
        and sum(answers.values()) == count
        and answers["taken"] == needed == outcome.taken
        and answers["waitlisted"] == count - needed
        and outcome.first_come
    )


def rows(quick: bool) -> list[Row]:
    count, needed = (600, 20) if quick else (3000, 100)
    with tempfile.TemporaryDirectory() as workdir:
        outcome = event_loop.run(measure(count, needed, 50.0, Path(workdir)))
    p99 = outcome.figures.p(0.99)
    ok = correct(outcome, count, needed)
    return [
        Row(
            f"callout taps p99, 50/s, {count} people, {needed} needed",
            p99,
            "ms",
            "≤ 1000 ms, all recorded, first come first served",
            p99 <= 1000 and ok,
        )
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--people", type=int, default=3000)
    parser.add_argument("--needed", type=int, default=100)
    parser.add_argument("--rate", type=float, default=50.0, help="taps per second")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as workdir:
        outcome = event_loop.run(measure(args.people, args.needed, args.rate, Path(workdir)))
    f = outcome.figures
    print(f"{args.people} people tap 'available' at {args.rate:g}/s; {args.needed} needed")
    print(
        f"  answered {f.answered}/{f.offered}  p50 {f.p(0.5):.1f} ms  p99 {f.p(0.99):.1f} ms"
        f"  max {max(f.samples, default=float('nan')):.1f} ms"
    )
    print(f"  CPU per tap {outcome.cpu_ms_per_tap:.1f} ms")
    print(f"  recorded {dict(outcome.answers)}; approved on the slot {outcome.taken}")
    print(f"  places to the first answers: {outcome.first_come}")
    print(f"  correct: {correct(outcome, args.people, args.needed)}")


if __name__ == "__main__":
    main()

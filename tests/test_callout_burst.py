"""A burst of answers to a callout: everyone taps "I'm available" at once. Every answer is
recorded and answered, the places go to the first ones, the others are thanked and wait."""

from __future__ import annotations

from collections import Counter
from datetime import timedelta
from pathlib import Path

from sqlalchemy import func, insert, select

from bot.actions import CALLOUT_YES
from bot.buttons import Button, save_buttons
from bot.services import callouts, organisations, people
from bot.services.callout_views import Targeting
from renfort.sandbox.telegram_double import SentMessage
from storage import schema
from tests.conftest import NOW
from tests.factories import commune, first_slot, polling_station, volunteer
from tests.harness import FakeClock, running_bot, sqlite_file_url
from tests.test_turn_costs import Costs

FIRST = 3000
PEOPLE, NEEDED = 30, 5
R, A, L = schema.callout_recipients, schema.applications, schema.audit_log


async def test_thirty_yeses_at_once_fill_five_places_first_come_and_thank_the_rest(
    tmp_path: Path,
) -> None:
    async with running_bot(sqlite_file_url(tmp_path), FakeClock(NOW)) as bot:
        organisation = await commune(bot.db)
        nadia = await volunteer(bot.db, 1, "Nadia")
        await organisations.join(bot.db, nadia.id, organisation.invite_code)
        mission = await polling_station(
            bot.db, organisation.id, now=NOW, capacity=NEEDED, starts_at=NOW + timedelta(days=1)
        )
        slot_id = await first_slot(bot.db, mission)
        ids = []
        for n in range(PEOPLE):
            bot.double.user(FIRST + n, f"V{n}")
            ids.append((await volunteer(bot.db, FIRST + n, f"V{n}")).id)
        for person_id in ids:
            await people.update_profile(bot.db, person_id, interests=["emergency"])
        callout = await callouts.launch(
            bot.db,
            actor_id=nadia.id,
            slot_id=slot_id,
            needed=NEEDED,
            targeting=Targeting(radius_km=10, domains=("emergency",), urgent=True),
            now=NOW,
        )
        async with bot.db.transaction("test_ask_everyone") as conn:
            asked = set(
                await conn.scalars(select(R.c.person_id).where(R.c.callout_id == callout.id))
            )
            await conn.execute(
                insert(R),
                [
                    {"callout_id": callout.id, "person_id": pid, "wave": 1, "rank": 100 + i}
                    for i, pid in enumerate(ids)
                    if pid not in asked
                ],
            )
        token = (
            await save_buttons(bot.db, [[Button("Oui", CALLOUT_YES, {"callout_id": callout.id})]])
        )[0][0][1]
        alerts = []
        for n in range(PEOPLE):
            alert = SentMessage(
                9000 + n, FIRST + n, "Alerte", [[{"text": "Oui", "callback_data": token}]]
            )
            bot.double.messages[FIRST + n].append(alert)
            alerts.append(alert)

        costs = Costs(bot)
        taps = [bot.double.tap_data(FIRST + n, alerts[n], token) for n in range(PEOPLE)]
        for update_id in taps:
            await bot.handled(update_id, timeout=30)
        spent = [await costs.of(update_id) for update_id in taps]
        assert {c.writes for c in spent} == {1}, "each answer is one write transaction"

        async with bot.db.reading("test_outcomes") as conn:
            answered = (
                await conn.scalars(
                    select(R.c.outcome).where(R.c.callout_id == callout.id, R.c.answer == "yes")
                )
            ).all()
            # The audit log keeps the order in which the answers were recorded.
            in_order = (
                await conn.scalars(
                    select(L.c.action)
                    .where(L.c.subject_type == "callout", L.c.subject_id == callout.id)
                    .where(L.c.action.in_(["callout.taken", "callout.waitlisted"]))
                    .order_by(L.c.id)
                )
            ).all()
            approved = await conn.scalar(
                select(func.count()).where(A.c.slot_id == slot_id, A.c.status == "approved")
            )
        assert Counter(answered) == {"taken": NEEDED, "waitlisted": PEOPLE - NEEDED}
        assert in_order == ["callout.taken"] * NEEDED + ["callout.waitlisted"] * (PEOPLE - NEEDED)
        assert approved == NEEDED
        assert all(alert.edits == 1 for alert in alerts), "every tap is answered on its message"
        thanked = sum("attente" in alert.text.lower() for alert in alerts)
        assert thanked == PEOPLE - NEEDED

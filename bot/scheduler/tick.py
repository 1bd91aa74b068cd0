"""One tick: run every scan job at the service's current time."""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable, Callable
from datetime import datetime

from bot.runtime import Renfort
from bot.scheduler.attendance import ask_attendance, flag_unanswered
from bot.scheduler.callouts import send_due_waves
from bot.scheduler.checkpoint import copy_back_log
from bot.scheduler.closing import close_finished_missions
from bot.scheduler.digest import send_digests
from bot.scheduler.election_week import evening_lists, nudge_before_start
from bot.scheduler.nudges import flag_late, nudge_pending
from bot.scheduler.offers import expire_offers
from bot.scheduler.purge import purge_personal_data
from bot.scheduler.reactivity import refresh_reactivity
from bot.scheduler.reminders import send_reminders
from bot.scheduler.review_reminders import remind_reviews
from bot.scheduler.rosters import ask_feedback, post_rosters

log = logging.getLogger(__name__)

# A job looks at the database as of `now`, writes what is due (outbox rows with dedupe
# keys, status changes with their audit rows) and returns how many things it did.
Job = Callable[[Renfort, datetime], Awaitable[int]]

TICK_SECONDS = 30


def jobs() -> list[tuple[str, Job]]:
    """Every scan, in the order they should run within one tick."""
    return [
        ("offers", expire_offers),  # first: a withdrawn offer frees a place now
        ("callouts", send_due_waves),  # early: a crisis does not wait for the rest
        ("reminders", send_reminders),
        ("attendance_ask", ask_attendance),
        ("attendance_flag", flag_unanswered),
        ("nudges", nudge_pending),
        ("nudges_soon", nudge_before_start),
        ("evening_lists", evening_lists),
        ("late", flag_late),
        ("review_reminders", remind_reviews),
        ("rosters", post_rosters),
        ("feedback", ask_feedback),
        ("closing", close_finished_missions),
        ("reactivity", refresh_reactivity),  # scores discovery ranks by
        ("digest", send_digests),  # last: counts what the jobs above just settled
        ("purge", purge_personal_data),  # once a day: old relay texts and notes
    ]


async def tick(renfort: Renfort) -> dict[str, int]:
    """Run every job once; one failing job is logged and the others still run."""
    now = renfort.now()
    done: dict[str, int] = {}
    for name, job in jobs():
        started = time.perf_counter()
        try:
            done[name] = await job(renfort, now)
            if done[name]:
                await copy_back_log(renfort)  # before the log is long enough to stall a commit
        except Exception:  # a broken job must not stop reminders of the others
            log.exception("scheduler job %s failed", name)
            renfort.metrics.count("scheduler_job_errors_total", job=name)
            continue
        elapsed = time.perf_counter() - started
        renfort.metrics.gauge("scheduler_job_seconds", elapsed, job=name)
    if any(done.values()):
        renfort.notify_outbox()
    return done

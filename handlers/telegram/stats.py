"""/stats in the admin group: the organisation's figures in words, and a chart."""

from __future__ import annotations

import asyncio
from datetime import timedelta

from babel.numbers import format_decimal
from telegram import Update

from bot.charts import stats_chart
from bot.i18n import Translator
from bot.services import stats
from bot.services.stats import OrganisationStats
from handlers.telegram.common import RenfortContext, esc, reply
from handlers.telegram.exports import organisations_here


def percent(value: float | None) -> str:
    return "—" if value is None else f"{round(100 * value)} %"


def duration(t: Translator, value: timedelta | None) -> str:
    if value is None:
        return "—"
    hours = value.total_seconds() / 3600
    if hours < 48:
        return t._("{hours} h", hours=format_decimal(round(hours, 1), locale=t.locale))
    days = round(hours / 24, 1)
    # From 48 hours on there are at least 2 days: the plural form, whatever the decimals.
    return t.n_("{days} day", "{days} days", int(days), days=format_decimal(days, locale=t.locale))


def stats_text(t: Translator, figures: OrganisationStats) -> str:
    lines = [
        "📊 " + t._("<b>Figures</b> · {organisation}", organisation=esc(figures.name)),
        t._(
            "Places taken: {taken}/{capacity} ({rate})",
            taken=figures.taken,
            capacity=figures.capacity,
            rate=percent(figures.fill_rate),
        ),
    ]
    for mission in figures.missions[:10]:
        lines.append(
            t._(
                "  • {title}: {taken}/{capacity} ({rate}), upcoming {up_taken}/{up_capacity}",
                title=esc(mission.title),
                taken=mission.taken,
                capacity=mission.capacity,
                rate=percent(mission.rate),
                up_taken=mission.upcoming_taken,
                up_capacity=mission.upcoming_capacity,
            )
        )
    recent = sum(count for _, count in figures.weekly)
    lines += [
        t.n_(
            "Applications: {total} in all, {recent} in the last {n} week",
            "Applications: {total} in all, {recent} in the last {n} weeks",
            len(figures.weekly),
            total=figures.applications,
            recent=recent,
        ),
        t._("Median time to answer: {time}", time=duration(t, figures.median_answer)),
        t._(
            "Answered within 7 days: {share}",
            share=percent(figures.reactivity.share_in_time),
        ),
        t._(
            "Reactivity score: {score}/100",
            score="—" if figures.score is None else figures.score,
        ),
        t._(
            "Attendance: {attended} came, {no_show} did not ({rate} no-show)",
            attended=figures.attended,
            no_show=figures.no_show,
            rate=percent(figures.no_show_rate),
        ),
    ]
    return "\n".join(lines)


async def stats_command(update: Update, context: RenfortContext) -> None:
    """/stats: figures and a chart of the organisation (or each one the sender coordinates)."""
    t, turn, renfort = context.turn.t, context.turn, context.renfort
    for organisation in await organisations_here(update, context):
        figures = await stats.organisation_stats(
            renfort.db, organisation.id, now=turn.now, zone=renfort.settings.timezone
        )
        await reply(update, context, stats_text(t, figures))
        png = await asyncio.to_thread(stats_chart, figures, t)
        if turn.chat_id is not None:
            await context.bot.send_document(
                turn.chat_id, png, filename=f"stats-{organisation.id}.png"
            )

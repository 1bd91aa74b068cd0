"""The /stats chart: applications per week and how full each mission is, as a PNG.
matplotlib's Agg backend draws without a display."""

from __future__ import annotations

import io

from bot.figures import new_figure
from bot.i18n import Translator
from bot.services.stats import OrganisationStats

MAX_MISSIONS = 8
TITLE_CHARS = 28


def _short(title: str) -> str:
    return title if len(title) <= TITLE_CHARS else title[: TITLE_CHARS - 1] + "…"


def stats_chart(stats: OrganisationStats, t: Translator) -> bytes:
    """Two panels: bars of applications per week, and each mission's fill rate."""
    figure = new_figure(figsize=(9, 7), dpi=100, layout="constrained")
    weekly_axes, fill_axes = figure.subplots(2, 1, height_ratios=[1, 1])
    labels = [t.short_date(week) for week, _ in stats.weekly]
    counts = [count for _, count in stats.weekly]
    weekly_axes.bar(range(len(counts)), counts, color="#2f6db5")
    weekly_axes.set_xticks(range(len(labels)), labels, rotation=45, ha="right", fontsize=8)
    weekly_axes.set_title(t._("Applications per week"))
    weekly_axes.yaxis.get_major_locator().set_params(integer=True)
    missions = [m for m in stats.missions if m.capacity][:MAX_MISSIONS]
    rates = [100 * (m.rate or 0) for m in missions]
    fill_axes.barh(range(len(missions)), rates, color="#3a9a5b")
    fill_axes.set_yticks(range(len(missions)), [_short(m.title) for m in missions], fontsize=8)
    fill_axes.invert_yaxis()
    fill_axes.set_xlim(0, 100)
    fill_axes.set_xlabel("%")
    fill_axes.set_title(t._("Places taken per mission"))
    if not missions:
        fill_axes.text(50, 0, t._("No mission yet"), ha="center", va="center")
    figure.suptitle(stats.name)
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png")
    return buffer.getvalue()

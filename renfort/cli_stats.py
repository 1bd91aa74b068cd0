"""`renfort stats [--json]`: every organisation's figures on the command line."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Annotated, Any

import typer

from renfort import cli_common
from renfort.cli_common import escape, out, settings_or_exit, with_database

if TYPE_CHECKING:
    from bot.services.stats import OrganisationStats


def _pct(value: float | None) -> float | None:
    return None if value is None else round(100 * value, 1)


def stats_json(s: OrganisationStats) -> dict[str, Any]:
    median = s.median_answer
    return {
        "organisation_id": s.organisation_id,
        "name": s.name,
        "missions": len(s.missions),
        "places_taken": s.taken,
        "capacity": s.capacity,
        "fill_rate": _pct(s.fill_rate),
        "applications": s.applications,
        "applications_per_week": [
            {"week": week.isoformat(), "count": count} for week, count in s.weekly
        ],
        "median_answer_hours": None if median is None else round(median.total_seconds() / 3600, 1),
        "answered_within_7_days": _pct(s.reactivity.share_in_time),
        "reactivity_score": s.score,
        "attended": s.attended,
        "no_show": s.no_show,
        "no_show_rate": _pct(s.no_show_rate),
    }


def _cell(value: object, suffix: str = "") -> str:
    return "—" if value is None else f"{value}{suffix}"


def stats_command(
    as_json: Annotated[bool, typer.Option("--json", help="Print a JSON array.")] = False,
) -> None:
    """Figures of every organisation: fill rate, applications, answers, attendance."""
    from rich import box
    from rich.table import Table

    from bot.services import stats

    settings = settings_or_exit()

    found = with_database(
        settings, lambda db: stats.all_stats(db, now=cli_common.clock(), zone=settings.timezone)
    )
    rows = [stats_json(s) for s in found]
    if as_json:
        typer.echo(json.dumps(rows, ensure_ascii=False))
        return
    if not rows:
        out().print("No organisation yet.")
        return
    table = Table(box=box.SIMPLE_HEAD, show_edge=False, pad_edge=False)
    table.add_column("organisation", no_wrap=True)
    for header in ("missions", "places", "fill", "applications", "median answer", "in 7 days"):
        table.add_column(header, justify="right")
    for header in ("score", "no-show"):
        table.add_column(header, justify="right")
    for r in rows:
        table.add_row(
            escape(str(r["name"])),
            str(r["missions"]),
            f"{r['places_taken']}/{r['capacity']}",
            _cell(r["fill_rate"], " %"),
            str(r["applications"]),
            _cell(r["median_answer_hours"], " h"),
            _cell(r["answered_within_7_days"], " %"),
            _cell(r["reactivity_score"]),
            _cell(r["no_show_rate"], " %"),
        )
    out().print(table)


__all__ = ["stats_command"]

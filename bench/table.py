"""One line of `make bench`'s closing table: a measure, Renfort's figure, the floor measured in
the same run (an echo bot, direct sends) when there is one, and the goal it is held to.

Each benchmark module exposes `rows(quick: bool) -> list[Row]`; `python -m bench` runs them and
prints one table. `quick` shrinks the data so the whole table fits a few minutes."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Row:
    measure: str
    renfort: float
    unit: str
    goal: str
    met: bool
    baseline: float | None = None  # the floor, measured in the same run

    @property
    def ratio(self) -> float | None:
        if self.baseline is None or self.baseline == 0:
            return None
        return self.renfort / self.baseline


def render(rows: list[Row]) -> str:
    """A plain-text table, one row per measure."""
    header = ("measure", "Renfort", "floor", "ratio", "goal", "met")
    lines = [
        (
            row.measure,
            f"{row.renfort:,.1f} {row.unit}",
            "" if row.baseline is None else f"{row.baseline:,.1f} {row.unit}",
            "" if row.ratio is None else f"{row.ratio:.2f}",
            row.goal,
            "yes" if row.met else "NO",
        )
        for row in rows
    ]
    widths = [max(len(cell) for cell in column) for column in zip(header, *lines, strict=False)]
    out = [" | ".join(cell.ljust(w) for cell, w in zip(header, widths, strict=True))]
    out.append("-+-".join("-" * w for w in widths))
    out.extend(
        " | ".join(cell.ljust(w) for cell, w in zip(line, widths, strict=True)) for line in lines
    )
    return "\n".join(out)

"""matplotlib, loaded the first time a picture is drawn: it costs a third of a second and
tens of MiB that a bot which never draws a chart or a poster should not pay at start."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from matplotlib.figure import Figure


def new_figure(**options: Any) -> Figure:
    """A matplotlib Figure drawn by the Agg backend (no display needed)."""
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib.figure import Figure

    return Figure(**options)

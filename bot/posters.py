"""A printable A4 poster of a mission: title, organisation, dates, place, a QR code that
opens the bot on the mission, and the SMS keyword for people without a smartphone.
Drawn with matplotlib (Agg), as a PDF to print and a PNG to share."""

from __future__ import annotations

import io
import textwrap
from dataclasses import dataclass
from typing import TYPE_CHECKING

from bot.figures import new_figure

if TYPE_CHECKING:
    from matplotlib.figure import Figure

A4_INCHES = (8.27, 11.69)
PNG_DPI = 150


@dataclass(frozen=True)
class PosterText:
    """Everything printed, already in the coordinator's language."""

    title: str
    organisation: str
    dates: tuple[str, ...]
    place: str
    link: str
    scan: str  # "Scan to sign up on Telegram"
    sms: str | None  # "No smartphone? Send BUREAU3 to 07 00 00 00 00"


def deep_link(bot_username: str, mission_id: int) -> str:
    """Opens a private chat with the bot on the mission (/start m<id>)."""
    return f"https://t.me/{bot_username}?start=m{mission_id}"


def qr_matrix(data: str) -> list[list[int]]:
    """The QR code as rows of 0 (light) and 1 (dark), with its quiet zone."""
    import segno  # only when a poster is drawn

    code = segno.make(data, error="m", micro=False)
    return [[1 if cell else 0 for cell in row] for row in code.matrix_iter(border=4)]


def _figure(poster: PosterText) -> Figure:
    figure = new_figure(figsize=A4_INCHES)
    ax = figure.add_axes((0, 0, 1, 1))
    ax.set_xlim(0, 1)
    ax.set_ylim(0, 1)
    ax.axis("off")
    y = 0.93
    for line in textwrap.wrap(poster.title, 28)[:3]:
        ax.text(0.5, y, line, ha="center", va="top", fontsize=30, weight="bold")
        y -= 0.055
    ax.text(0.5, y - 0.005, poster.organisation, ha="center", va="top", fontsize=17, color="#444")
    y -= 0.06
    for line in poster.dates[:4]:
        ax.text(0.5, y, line, ha="center", va="top", fontsize=15)
        y -= 0.032
    for line in textwrap.wrap(poster.place, 50)[:2]:
        ax.text(0.5, y, line, ha="center", va="top", fontsize=13, color="#333")
        y -= 0.028
    qr = figure.add_axes((0.27, 0.2, 0.46, 0.46 * A4_INCHES[0] / A4_INCHES[1]))
    qr.imshow(qr_matrix(poster.link), cmap="binary", interpolation="nearest", vmin=0, vmax=1)
    qr.axis("off")
    ax.text(0.5, 0.155, poster.scan, ha="center", va="top", fontsize=14)
    if poster.sms:
        for k, line in enumerate(textwrap.wrap(poster.sms, 45)[:2]):
            ax.text(0.5, 0.1 - 0.03 * k, line, ha="center", va="top", fontsize=16, weight="bold")
    return figure


def render_poster(poster: PosterText) -> tuple[bytes, bytes]:
    """The poster as (PDF, PNG)."""
    figure = _figure(poster)
    pdf, png = io.BytesIO(), io.BytesIO()
    figure.savefig(pdf, format="pdf")
    figure.savefig(png, format="png", dpi=PNG_DPI)
    return pdf.getvalue(), png.getvalue()

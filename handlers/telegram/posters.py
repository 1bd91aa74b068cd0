"""/poster: pick a mission, get a printable A4 poster (PDF) and a picture of it (PNG)
with a QR code opening the bot on the mission and, when SMS is on, its keyword."""

from __future__ import annotations

import asyncio
from dataclasses import replace
from zoneinfo import ZoneInfo

from telegram import Update

from bot.i18n import Translator
from bot.posters import PosterText, deep_link, render_poster
from bot.services import keywords, missions
from bot.services.errors import ServiceError
from bot.services.missions import MissionDetail
from handlers.sms.parse import Kind, parse_command
from handlers.telegram.common import RenfortContext, answer_query, refusal_text, reply
from handlers.telegram.exports import mission_buttons, picked_mission

POSTER_PICK = "poster_pick"
MAX_DATES = 4


def reserved(word: str) -> bool:
    """Words the SMS conversation reads otherwise (STOP, AIDE, OUI, numbers...)."""
    return parse_command(word).kind != Kind.TEXT


def phone_display(number: str) -> str:
    """+33700000000 -> 07 00 00 00 00; other countries stay as they are."""
    if number.startswith("+33") and len(number) == 12:
        national = "0" + number[3:]
        return " ".join(national[k : k + 2] for k in range(0, 10, 2))
    return number


def poster_text(
    t: Translator, detail: MissionDetail, link: str, keyword: str, number: str | None
) -> PosterText:
    zone = ZoneInfo(detail.timezone)
    spans = [t.slot_span(s.starts_at, s.ends_at, zone) for s in detail.slots]
    dates = spans[:MAX_DATES]
    if len(spans) > MAX_DATES:
        dates[-1] = t.n_("and {n} more slot", "and {n} more slots", len(spans) - MAX_DATES + 1)
    place = t._("Remote") if detail.remote else detail.address
    sms = None
    if number is not None:
        sms = t._(
            "No smartphone? Send {keyword} to {number}",
            keyword=keyword,
            number=phone_display(number),
        )
    return PosterText(
        title=detail.title,
        organisation=detail.organisation_name,
        dates=tuple(dates),
        place=place,
        link=link,
        scan=t._("Scan to sign up with Telegram"),
        sms=sms,
    )


async def poster_command(update: Update, context: RenfortContext) -> None:
    """/poster: which mission?"""
    question = context.turn.t._("Which mission do you want a poster for?")
    await mission_buttons(update, context, POSTER_PICK, question)


async def poster_pick(update: Update, context: RenfortContext) -> None:
    """The mission button under /poster: draw and send the poster."""
    t, turn, renfort = context.turn.t, context.turn, context.renfort
    picked = await picked_mission(update, context)
    if picked is None:
        return
    mission_id, chat_id = picked
    try:
        keyword = await keywords.ensure_keyword(
            renfort.db, actor_id=turn.me.id, mission_id=mission_id, reserved=reserved
        )
        detail = await missions.mission_detail(renfort.db, mission_id)
    except ServiceError as error:
        await answer_query(update)
        await reply(update, context, refusal_text(t, error))
        return
    await answer_query(update)
    settings = renfort.settings
    number = settings.twilio_from_number if settings.sms_enabled else None
    upcoming = tuple(s for s in detail.slots if s.ends_at > turn.now) or detail.slots
    shown = replace(detail, slots=upcoming)
    text = poster_text(t, shown, deep_link(context.bot.username, mission_id), keyword, number)
    pdf, png = await asyncio.to_thread(render_poster, text)
    name = f"poster-mission-{mission_id}"
    await context.bot.send_document(chat_id, pdf, filename=f"{name}.pdf")
    await context.bot.send_document(
        chat_id,
        png,
        filename=f"{name}.png",
        caption=t._("SMS keyword: {keyword}", keyword=keyword) if number else None,
    )

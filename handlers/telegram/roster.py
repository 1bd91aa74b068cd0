"""Rosters in Telegram: /roster shows who is expected on the next slots; after a slot, one
tap under its roster marks each volunteer present or absent and the message shows it."""

from __future__ import annotations

from zoneinfo import ZoneInfo

from telegram import Update

from bot.buttons import Button
from bot.domain import HOLDING
from bot.i18n import Translator
from bot.services import rosters
from bot.services.errors import ServiceError
from bot.services.organisations import Organisation
from bot.services.rosters import Roster, RosterLine
from handlers.telegram.admin_group import alert, chat_translator
from handlers.telegram.common import RenfortContext, answer_query, esc, refusal_text, reply
from handlers.telegram.exports import organisations_here
from handlers.telegram.flow import tapped_choice
from handlers.telegram.mission_edit import LIST as EDIT_LIST
from handlers.telegram.render.organisers import slot_roster, status_label

MAX_TEXT = 4000  # Telegram stops at 4096 characters


def _confirmed(t: Translator, line: RosterLine) -> str:
    if not line.conditions:
        return ""
    count = len(line.conditions)
    return " · ☑️ " + t.n_("{n} condition confirmed", "{n} conditions confirmed", count)


def _slot_block(t: Translator, roster: Roster) -> list[str]:
    span = t.slot_span(roster.starts_at, roster.ends_at, ZoneInfo(roster.timezone))
    holding = sum(1 for line in roster.lines if line.status in HOLDING)
    lines = [
        t._(
            "<b>{mission}</b> · {slot} · {taken}/{capacity}",
            mission=esc(roster.mission_title),
            slot=esc(span),
            taken=holding,
            capacity=roster.capacity,
        )
    ]
    lines += [
        f"  • {esc(v.first_name)} — {status_label(t, v.status)}{_confirmed(t, v)}"
        for v in roster.lines
    ]
    if not roster.lines:
        lines.append("  • " + t._("nobody yet"))
    return lines


def overview(t: Translator, organisation: Organisation, upcoming: list[Roster]) -> str:
    """The next slots of one organisation with who is on each, in one message."""
    lines = ["📋 " + t._("<b>Next slots</b> · {organisation}", organisation=esc(organisation.name))]
    if not upcoming:
        lines.append(t._("No slot in the next 14 days."))
    for roster in upcoming:
        lines += ["", *_slot_block(t, roster)]
    text = "\n".join(lines)
    return text if len(text) <= MAX_TEXT else text[:MAX_TEXT].rsplit("\n", 1)[0] + "\n…"


async def roster_command(update: Update, context: RenfortContext) -> None:
    """/roster: in the admin group, its organisation's next slots; privately, those of each
    organisation the sender coordinates."""
    t, db, turn = context.turn.t, context.renfort.db, context.turn
    for organisation in await organisations_here(update, context):
        upcoming = await rosters.upcoming_rosters(db, organisation_id=organisation.id, now=turn.now)
        edit = [[Button(t._("✏️ Change a mission"), EDIT_LIST, {"o": organisation.id})]]
        await reply(update, context, overview(t, organisation, upcoming), edit)


def _mark_refusal(t: Translator, error: ServiceError) -> str:
    if error.code == "not_member":
        return t._("Only coordinators of this organisation can mark who came.")
    if error.code == "slot_not_started":
        return t._("This slot has not started yet.")
    if error.code == "not_active":
        return t._("This volunteer is no longer on the roster.")
    return refusal_text(t, error)


async def mark(update: Update, context: RenfortContext) -> None:
    """✅ or ❌ under a roster: mark the volunteer, then show every mark on the message."""
    t = context.turn.t
    tapped = tapped_choice(context.turn, "application_id", "present")
    if tapped is None:
        await alert(update, t._("This button has expired. Send /help to start again."))
        return
    application_id, present = tapped
    try:
        marked = await rosters.mark_attendance(
            context.renfort.db,
            actor_id=context.turn.me.id,
            application_id=application_id,
            present=present,
            now=context.turn.now,
            inbound=context.turn.inbound,
        )
    except ServiceError as error:
        await alert(update, _mark_refusal(t, error))
        return
    await answer_query(update, t._("Noted.") if marked.changed else None)
    here = await chat_translator(context, context.turn.chat_id or 0)
    rendered = slot_roster(marked.roster.notification(), here)
    await reply(update, context, rendered.text, rendered.rows, edit=True)

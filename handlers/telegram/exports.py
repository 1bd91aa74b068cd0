"""Exports in Telegram: /export sends a mission's applications as a CSV, /ics the address
of the organisation's calendar feed, and a volunteer's /calendar their commitments."""

from __future__ import annotations

from collections.abc import Callable

from telegram import Update

from bot.buttons import Button
from bot.i18n import Translator
from bot.services import exports, organisations
from bot.services.errors import NotAllowed, ServiceError
from bot.services.organisations import Organisation
from handlers.telegram.common import RenfortContext, answer_query, esc, refusal_text, reply

EXPORT_PICK = "export_pick"
ICS_PATH = "/ics/{token}.ics"


async def organisations_here(
    update: Update,
    context: RenfortContext,
    refuse: Callable[[Translator, ServiceError], str] = refusal_text,
) -> list[Organisation]:
    """The admin group's organisation when the sender coordinates it, or privately those the
    sender coordinates; an empty list after saying why (in `refuse`'s words)."""
    t, db, turn = context.turn.t, context.renfort.db, context.turn
    if turn.private:
        mine = await organisations.memberships(db, turn.me.id)
        if not mine:
            await reply(update, context, refuse(t, NotAllowed("not_member")))
        return mine
    linked = await organisations.organisation_of_chat(db, turn.chat_id or 0)
    if linked is None:
        text = t._("This group is not linked to an organisation yet: a coordinator sends /link.")
        await reply(update, context, text)
        return []
    # Anyone can be added to the group: its figures, names and titles are for coordinators.
    if turn.person is None or linked.id not in {
        o.id for o in await organisations.memberships(db, turn.person.id)
    }:
        await reply(update, context, refuse(t, NotAllowed("not_member")))
        return []
    return [linked]


async def mission_buttons(
    update: Update, context: RenfortContext, action: str, question: str
) -> None:
    """Ask which mission, one button per recent mission of the organisations here."""
    t = context.turn.t
    rows: list[list[Button]] = []
    here = await organisations_here(update, context)
    if not here:
        return  # organisations_here said why
    for organisation in here:
        for mission in await exports.organisation_missions(context.renfort.db, organisation.id):
            rows.append([Button(mission.title[:60], action, {"mission_id": mission.id})])
    if rows:
        await reply(update, context, question, rows)
    else:
        await reply(update, context, t._("There is no mission to choose yet."))


async def picked_mission(update: Update, context: RenfortContext) -> tuple[int, int] | None:
    """The mission a button under /export or /poster names, and the chat to send its file
    to; None, with the tapper told the button expired, when either is missing."""
    payload = context.turn.payload
    value = payload.data.get("mission_id") if payload else None
    chat_id = context.turn.chat_id
    if not isinstance(value, int) or chat_id is None:
        t = context.turn.t
        await answer_query(update, t._("This button has expired. Send /help to start again."))
        return None
    return value, chat_id


def csv_headers(t: Translator) -> list[str]:
    return [
        t._("First name"),
        t._("Phone"),
        t._("Slot start"),
        t._("Slot end"),
        t._("Status"),
        t._("Decided by"),
        t._("Decided at"),
        t._("Attended"),
        t._("Conditions confirmed"),
    ]


async def export_command(update: Update, context: RenfortContext) -> None:
    """/export: pick a mission, get its applications as a spreadsheet."""
    question = context.turn.t._("Which mission's applications do you want as a spreadsheet?")
    await mission_buttons(update, context, EXPORT_PICK, question)


async def export_pick(update: Update, context: RenfortContext) -> None:
    """The mission button under /export: send the CSV."""
    t, turn = context.turn.t, context.turn
    picked = await picked_mission(update, context)
    if picked is None:
        return
    mission_id, chat_id = picked
    try:
        export = await exports.export_applications(
            context.renfort.db, actor_id=turn.me.id, mission_id=mission_id, inbound=turn.inbound
        )
    except ServiceError as error:
        await answer_query(update)
        await reply(update, context, refusal_text(t, error))
        return
    await answer_query(update)
    data = exports.to_csv(export, csv_headers(t), t._("yes"), t._("no"))
    caption = t.n_(
        "{title}: {n} application. A phone number appears only when its volunteer allowed"
        " your organisation to see it.",
        "{title}: {n} applications. A phone number appears only when its volunteer allowed"
        " your organisation to see it.",
        len(export.lines),
        title=export.mission_title,
    )
    await context.bot.send_document(
        chat_id, data, filename=f"applications-mission-{mission_id}.csv", caption=caption
    )


async def ics_command(update: Update, context: RenfortContext) -> None:
    """/ics: the address of the organisation's calendar feed (a secret link)."""
    t, turn, renfort = context.turn.t, context.turn, context.renfort
    for organisation in await organisations_here(update, context):
        try:
            token = await exports.ensure_ics_token(
                renfort.db, actor_id=turn.me.id, organisation_id=organisation.id
            )
        except ServiceError as error:
            await reply(update, context, refusal_text(t, error))
            return
        path = ICS_PATH.format(token=token)
        base = renfort.settings.public_url
        if base is None:
            text = t._(
                "The calendar feed of <b>{organisation}</b> is at {path} on this server, but"
                " PUBLIC_URL is not set, so I cannot give its full address. Ask whoever runs"
                " Renfort to set PUBLIC_URL.",
                organisation=esc(organisation.name),
                path=esc(path),
            )
        else:
            text = t._(
                "Calendar feed of <b>{organisation}</b>: {url}\nAdd it to your calendar app"
                " (subscribe by URL). Keep it private: anyone with the link sees the slots.",
                organisation=esc(organisation.name),
                url=esc(base.rstrip("/") + path),
            )
        await reply(update, context, text)


async def calendar_command(update: Update, context: RenfortContext) -> None:
    """/calendar: the volunteer's commitments as a calendar file."""
    t, turn = context.turn.t, context.turn
    if turn.chat_id is None:
        return
    data = await exports.volunteer_calendar(
        context.renfort.db, person_id=turn.me.id, now=turn.now, name=t._("My Renfort missions")
    )
    await context.bot.send_document(
        turn.chat_id,
        data,
        filename="renfort.ics",
        caption=t._(
            "Your approved missions still to come: open the file to add them to your calendar."
        ),
    )

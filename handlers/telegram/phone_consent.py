"""Who may see the volunteer's phone number: each organisation is asked about once, the
first time the volunteer applies to it with a number given, and /profile changes it."""

from __future__ import annotations

from telegram import Update

from bot.buttons import Button
from bot.i18n import Translator
from bot.services import phone_consents
from bot.services.phone_consents import PhoneConsent
from handlers.telegram.common import RenfortContext, answer_query, esc, reply
from handlers.telegram.flow import tapped_choice

DECIDE = "vol.phone_consent"
MENU = "vol.phone_consents"


def question(t: Translator, organisation_name: str) -> str:
    return t._(
        "📱 May <b>{organisation}</b> see your phone number? Its coordinators would find it in"
        " their list of volunteers, to call you if needed. If not, they can only write to you"
        " through me.",
        organisation=esc(organisation_name),
    )


def choice_buttons(t: Translator, organisation_id: int) -> list[list[Button]]:
    return [
        [Button("✅ " + t._("Yes, they may"), DECIDE, {"org": organisation_id, "ok": True})],
        [Button("🔒 " + t._("No, keep it private"), DECIDE, {"org": organisation_id, "ok": False})],
    ]


async def ask_after_applying(
    update: Update, context: RenfortContext, organisation_id: int, organisation_name: str
) -> None:
    """The first application to an organisation with a number given: may it see the number?"""
    db, t, me = context.renfort.db, context.turn.t, context.turn.me
    if await phone_consents.to_ask(db, person_id=me.id, organisation_id=organisation_id):
        question_text = question(t, organisation_name)
        await reply(update, context, question_text, choice_buttons(t, organisation_id))


async def decide(update: Update, context: RenfortContext) -> None:
    """Yes or No under the question, or a toggle in the profile's list."""
    turn = context.turn
    t = turn.t
    tapped = tapped_choice(turn, "org", "ok")
    if tapped is None:
        await answer_query(update, t._("This button has expired. Send /help to start again."))
        return
    organisation_id, allowed = tapped
    await answer_query(update)
    name = await phone_consents.decide(
        context.renfort.db,
        person_id=turn.me.id,
        organisation_id=organisation_id,
        allowed=allowed,
        now=turn.now,
        inbound=turn.inbound,
    )
    if allowed:
        text = t._(
            "Done: the coordinators of <b>{organisation}</b> can see your phone number. Change"
            " it at any time in /profile.",
            organisation=esc(name),
        )
    else:
        text = t._(
            "Done: <b>{organisation}</b> will not see your phone number. Change it at any time"
            " in /profile.",
            organisation=esc(name),
        )
    await reply(update, context, text, edit=True)


def consent_line(t: Translator, consent: PhoneConsent) -> str:
    if consent.allowed:
        return t._("✅ {organisation} sees it", organisation=esc(consent.organisation_name))
    return t._("🔒 {organisation} does not see it", organisation=esc(consent.organisation_name))


async def show_consents(update: Update, context: RenfortContext) -> None:
    """From /profile: each organisation and whether it sees the number, with a toggle."""
    await answer_query(update)
    t, me = context.turn.t, context.turn.me
    if not me.has_phone:
        await reply(update, context, t._("You have not given a phone number."), edit=True)
        return
    mine = await phone_consents.consents(context.renfort.db, person_id=me.id)
    if not mine:
        text = t._(
            "No organisation sees your phone number. I will ask you the first time you apply"
            " to one of them."
        )
        await reply(update, context, text, edit=True)
        return
    lines = ["<b>" + t._("Who sees your phone number") + "</b>", ""]
    buttons: list[list[Button]] = []
    for consent in mine:
        lines.append(consent_line(t, consent))
        if consent.allowed:
            label = "🔒 " + t._("Hide from {organisation}", organisation=consent.organisation_name)
        else:
            label = "✅ " + t._("Show to {organisation}", organisation=consent.organisation_name)
        data = {"org": consent.organisation_id, "ok": not consent.allowed}
        buttons.append([Button(label[:60], DECIDE, data)])
    await reply(update, context, "\n".join(lines), buttons, edit=True)

"""The second half of /callout: who to alert (radius, interests, channel, night), how many
people match, then the confirmation that launches the callout."""

from __future__ import annotations

from typing import Any

from telegram import Update

from bot.buttons import Button
from bot.domain import DOMAINS
from bot.i18n import Translator
from bot.services import callouts
from bot.services.callouts import Targeting
from bot.services.errors import ServiceError
from handlers.telegram import callout_board as board
from handlers.telegram.callout_board import RADII
from handlers.telegram.callout_steps import (
    CO_CONFIRM,
    CO_TARGET,
    button,
    cancel_row,
    goto,
    heading,
    still_at,
    tap_please,
    unless_stale,
)
from handlers.telegram.common import Callback, RenfortContext, answer_query, esc, reply
from handlers.telegram.flow import checked, radius_button, radius_text

SET = "co.set"  # data: what (radius, domain, channels, urgent) and value
SHOW_DOMAINS = "co.domains"
SHOW_TARGET = "co.target"
REVIEW = "co.review"
SEND = "co.send"

RADIUS, DOMAIN, CHANNELS, URGENT = "radius", "domain", "channels", "urgent"
BOTH = ("telegram", "sms")
CHANNEL_CHOICES: tuple[tuple[str, ...], ...] = (("telegram",), ("sms",), BOTH)


def targeting(data: dict[str, Any]) -> Targeting:
    """The wizard's answers as the service's targeting."""
    return Targeting(
        radius_km=data.get("radius_km"),
        domains=tuple(data.get("domains", ())),
        channels=tuple(data.get("channels", BOTH)),
        urgent=bool(data.get("urgent")),
    )


async def start(update: Update, context: RenfortContext, needed: int, *, edit: bool = True) -> None:
    """The need is known: show the targeting with the default choices."""
    sms = context.renfort.settings.sms_enabled
    goto(
        context,
        CO_TARGET,
        needed=needed,
        radius_km=10,
        domains=[],
        channels=list(BOTH if sms else ("telegram",)),
        urgent=False,
    )
    await _show_target(update, context, edit=edit)


def channels_text(t: Translator, channels: tuple[str, ...]) -> str:
    if set(channels) >= set(BOTH):
        return t._("Telegram and SMS")
    return t._("SMS") if channels == ("sms",) else t._("Telegram")


def domains_text(t: Translator, domains: tuple[str, ...]) -> str:
    if not domains:
        return t._("any")
    return esc(", ".join(t._(DOMAINS[d]) for d in domains if d in DOMAINS))


def target_lines(t: Translator, chosen: Targeting) -> list[str]:
    """The targeting in a few lines (the wizard and the status message share them)."""
    return [
        "📍 " + t._("Radius: {radius}", radius=radius_text(t, chosen.radius_km)),
        "🏷 " + t._("Interests: {domains}", domains=domains_text(t, chosen.domains)),
        "📨 " + t._("Channel: {channels}", channels=channels_text(t, chosen.channels)),
        "🌙 "
        + (
            t._("Urgent: yes, even at night")
            if chosen.urgent
            else t._("Urgent: no, nobody is woken at night")
        ),
    ]


async def _matching(context: RenfortContext) -> int:
    data = context.turn.data
    return await callouts.preview(
        context.renfort.db,
        organisation_id=int(data["organisation_id"]),
        slot_id=int(data["slot_id"]),
        targeting=targeting(data),
        now=context.turn.now,
    )


async def _show_target(update: Update, context: RenfortContext, *, edit: bool = True) -> None:
    t = context.turn.t
    chosen = targeting(context.turn.data)
    count = await _matching(context)
    lines = [
        heading(context),
        "",
        t._("<b>Who should be alerted?</b>"),
        *target_lines(t, chosen),
        "",
        "👥 " + t.n_("{n} person matches.", "{n} people match.", count),
    ]
    await reply(update, context, "\n".join(lines), _target_buttons(context, chosen), edit=edit)


def _target_buttons(context: RenfortContext, chosen: Targeting) -> list[list[Button]]:
    t = context.turn.t

    def option(label: str, what: str, value: Any, on: bool) -> Button:
        return button(context, checked(label, on), SET, what=what, value=value)

    rows = [
        [option(radius_button(t, r), RADIUS, r, chosen.radius_km == r) for r in RADII],
        [
            button(
                context,
                "🏷 " + t._("Interests: {domains}", domains=domains_text(t, chosen.domains)),
                SHOW_DOMAINS,
            )
        ],
    ]
    if context.renfort.settings.sms_enabled:
        rows.append(
            [
                option(channels_text(t, c), CHANNELS, list(c), set(chosen.channels) == set(c))
                for c in CHANNEL_CHOICES
            ]
        )
    rows.append(
        [
            option("🌙 " + t._("Not at night"), URGENT, False, not chosen.urgent),
            option("🚨 " + t._("Urgent, day and night"), URGENT, True, chosen.urgent),
        ]
    )
    rows.append([button(context, t._("Next »"), REVIEW)])
    return [*rows, cancel_row(context)]


def _domain_buttons(context: RenfortContext, chosen: Targeting) -> list[list[Button]]:
    t = context.turn.t
    keys = list(DOMAINS)
    rows = [
        [
            button(
                context, checked(t._(DOMAINS[k]), k in chosen.domains), SET, what=DOMAIN, value=k
            )
            for k in keys[i : i + 2]
        ]
        for i in range(0, len(keys), 2)
    ]
    return [*rows, [button(context, t._("« Done"), SHOW_TARGET)]]


async def set_option(update: Update, context: RenfortContext) -> None:
    """A targeting choice tapped: save it and show the new number of people matching."""
    if not await still_at(update, context, CO_TARGET):
        return
    await answer_query(update)
    payload = context.turn.payload
    what = payload.data.get("what") if payload else None
    value = payload.data.get("value") if payload else None
    data = context.turn.data
    if what == RADIUS and (value is None or value in RADII):
        goto(context, CO_TARGET, radius_km=value)
    elif what == CHANNELS and isinstance(value, list) and tuple(value) in CHANNEL_CHOICES:
        goto(context, CO_TARGET, channels=value)
    elif what == URGENT and isinstance(value, bool):
        goto(context, CO_TARGET, urgent=value)
    elif what == DOMAIN and value in DOMAINS:
        domains = [d for d in data.get("domains", []) if d != value]
        if value not in data.get("domains", []):
            domains.append(value)
        goto(context, CO_TARGET, domains=[d for d in DOMAINS if d in domains])
        await _show_domains(update, context)
        return
    await _show_target(update, context)


async def _show_domains(update: Update, context: RenfortContext) -> None:
    t = context.turn.t
    text = (
        heading(context)
        + "\n\n"
        + t._("Alert only people interested in these domains (none ticked: everyone).")
    )
    await reply(
        update, context, text, _domain_buttons(context, targeting(context.turn.data)), edit=True
    )


async def show_domains(update: Update, context: RenfortContext) -> None:
    """The Interests button: the domain toggles."""
    if not await still_at(update, context, CO_TARGET):
        return
    await answer_query(update)
    goto(context, CO_TARGET)
    await _show_domains(update, context)


async def show_target(update: Update, context: RenfortContext) -> None:
    """Done under the domains, or Change under the confirmation: back to the targeting."""
    if not await still_at(update, context, CO_TARGET, CO_CONFIRM):
        return
    await answer_query(update)
    goto(context, CO_TARGET)
    await _show_target(update, context)


async def review(update: Update, context: RenfortContext) -> None:
    """Next: say exactly what will happen and ask to confirm."""
    if not await still_at(update, context, CO_TARGET):
        return
    await answer_query(update)
    t = context.turn.t
    count = await _matching(context)
    back = button(context, t._("« Change"), SHOW_TARGET)
    lines = [heading(context), "", *target_lines(t, targeting(context.turn.data)), ""]
    if count == 0:
        goto(context, CO_TARGET)
        lines.append(
            t._("Nobody matches these choices. Widen the radius, or alert by SMS as well.")
        )
        await reply(update, context, "\n".join(lines), [[back], cancel_row(context)], edit=True)
        return
    goto(context, CO_CONFIRM)
    needed = int(context.turn.data["needed"])
    lines.append(
        t.n_(
            "👥 {n} person matches. The nearest are alerted first, a few at a time, and"
            " more until {needed} said yes.",
            "👥 {n} people match. The nearest are alerted first, a few at a time, and"
            " more until {needed} said yes.",
            count,
            needed=needed,
        )
    )
    lines.append(t._("<b>Send the callout now?</b>"))
    send = button(context, "🚨 " + t._("Send now"), SEND)
    await reply(update, context, "\n".join(lines), [[send], [back], cancel_row(context)], edit=True)


async def send(update: Update, context: RenfortContext) -> None:
    """Send now: launch the callout; this message becomes its live status."""
    if not await still_at(update, context, CO_CONFIRM):
        return
    t = context.turn.t
    data = context.turn.data
    inbound = context.turn.inbound.goto(None)
    try:
        view = await callouts.launch(
            context.renfort.db,
            actor_id=context.turn.me.id,
            slot_id=int(data["slot_id"]),
            needed=int(data["needed"]),
            targeting=targeting(data),
            now=context.turn.now,
            status_chat_id=None if context.turn.private else context.turn.chat_id,
            inbound=inbound,
        )
    except ServiceError as error:
        inbound.goto(None)  # rolled back with the launch; the draft is moot either way
        await answer_query(update)
        await reply(update, context, board.refusal(t, error), edit=True)
        return
    context.renfort.notify_outbox()
    await answer_query(update, t._("Sent."))
    await board.post_status(update, context, view)


STATES: dict[str, Callback] = {
    CO_TARGET: unless_stale(tap_please),
    CO_CONFIRM: unless_stale(tap_please),
}
ACTIONS: dict[str, Callback] = {
    SET: set_option,
    SHOW_DOMAINS: show_domains,
    SHOW_TARGET: show_target,
    REVIEW: review,
    SEND: send,
}

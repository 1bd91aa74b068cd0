"""/alert: a referent alerts the volunteers of their territory to an exceptional event, in
the private chat: text -> place (postcode or town, or the whole territory) and radius ->
domains -> urgent? -> preview with the number of people reached -> launch. The referent
then follows a live count with Refresh."""

from __future__ import annotations

from datetime import timedelta

from telegram import Update

from bot.buttons import Button
from bot.domain import DOMAINS, GeoPoint
from bot.i18n import Translator
from bot.services import territory_alerts
from bot.services.callout_targeting import quiet_until
from bot.services.errors import InvalidInput
from bot.services.territory_alerts import AlertSpec, AlertView
from handlers.telegram.common import (
    Callback,
    RenfortContext,
    answer_query,
    esc,
    refusal_text,
    reply,
    typed_text,
)
from handlers.telegram.discovery import domain_label
from handlers.telegram.wizard import advance, at_step, expiring

TA_TEXT = "ta_text"
TA_PLACE = "ta_place"
TA_RADIUS = "ta_radius"
TA_DOMAINS = "ta_domains"
TA_URGENT = "ta_urgent"
TA_CONFIRM = "ta_confirm"

WHOLE = "ta.whole"
RADIUS = "ta.radius"
DOMAIN = "ta.domain"
DOMAINS_DONE = "ta.domains_done"
URGENT = "ta.urgent"
LAUNCH = "ta.launch"
CANCEL = "ta.cancel"
REFRESH = "ta.refresh"

RADII = (5, 10, 20, 50)
unless_stale = expiring(
    timedelta(hours=6),
    lambda t: t._("Your unfinished alert from earlier was dropped. Send /alert to start again."),
)


def _cancel_row(t: Translator) -> list[Button]:
    return [Button(t._("Cancel"), CANCEL)]


async def alert_command(update: Update, context: RenfortContext) -> None:
    """/alert: referents only, in the private chat."""
    turn = context.turn
    t = turn.t
    if not turn.private:
        await reply(update, context, t._("Send /alert to me in a private chat."))
        return
    if not turn.territories:
        await reply(
            update, context, t._("Only a referent of a territory can alert its volunteers.")
        )
        return
    advance(context, TA_TEXT, fresh=True)
    text = t._(
        "📣 <b>Territory alert</b>\nWhat is happening, and what help is needed? One short text"
        " (up to 200 characters), sent as it is to the volunteers."
    )
    await reply(update, context, text, [_cancel_row(t)])


@unless_stale
async def on_text(update: Update, context: RenfortContext) -> None:
    """The alert's text."""
    t = context.turn.t
    text = " ".join(typed_text(update).split())
    if not territory_alerts.TEXT_LENGTH[0] <= len(text) <= territory_alerts.TEXT_LENGTH[1]:
        await reply(update, context, t._("Please type 3 to 200 characters."), [_cancel_row(t)])
        return
    advance(context, TA_PLACE, text=text)
    question = t._("Where? Type a postcode or a town, or alert the whole territory.")
    buttons = [[Button("🗺 " + t._("Whole territory"), WHOLE)], _cancel_row(t)]
    await reply(update, context, question, buttons)


@unless_stale
async def on_place(update: Update, context: RenfortContext) -> None:
    """A postcode or town: then the radius."""
    t = context.turn.t
    query = typed_text(update).strip()
    place = await context.renfort.geocoder.resolve(query) if query else None
    if place is None:
        text = t._("I could not find this place. Type a postcode (e.g. 52100) or a town.")
        buttons = [[Button("🗺 " + t._("Whole territory"), WHOLE)], _cancel_row(t)]
        await reply(update, context, text, buttons)
        return
    await _ask_radius(update, context, place.name, place.postcode, place.point)


async def location_shared(update: Update, context: RenfortContext, point: GeoPoint) -> None:
    """A location shared with Telegram's button instead of a typed place."""
    await _ask_radius(update, context, None, None, point)


async def _ask_radius(
    update: Update,
    context: RenfortContext,
    name: str | None,
    postcode: str | None,
    point: GeoPoint,
) -> None:
    t = context.turn.t
    advance(
        context,
        TA_RADIUS,
        place=name,
        postcode=postcode,
        lat=point.latitude,
        lon=point.longitude,
    )
    row = [Button(f"{km} km", RADIUS, {"km": km}) for km in RADII]
    where = esc(name) if name else t._("the location you shared")
    text = t._("Around {place}: within how many kilometres?", place=where)
    await reply(update, context, text, [row, _cancel_row(t)])


async def whole_territory(update: Update, context: RenfortContext) -> None:
    """No place: everyone registered in the territory."""
    await answer_query(update)
    if not await at_step(update, context, (TA_PLACE, TA_RADIUS), _over(context.turn.t)):
        return
    advance(context, TA_DOMAINS, place=None, postcode=None, lat=None, lon=None, km=None)
    await _ask_domains(update, context)


async def pick_radius(update: Update, context: RenfortContext) -> None:
    await answer_query(update)
    if not await at_step(update, context, (TA_RADIUS,), _over(context.turn.t)):
        return
    payload = context.turn.payload
    km = payload.data.get("km") if payload else None
    if km not in RADII:
        return
    advance(context, TA_DOMAINS, km=km)
    await _ask_domains(update, context)


async def _ask_domains(update: Update, context: RenfortContext) -> None:
    t, data = context.turn.t, context.turn.data
    chosen = [str(d) for d in data.get("domains") or []]
    buttons = [
        [Button(("✅ " if d in chosen else "▫️ ") + domain_label(t, d), DOMAIN, {"d": d})]
        for d in DOMAINS
    ]
    buttons.append([Button("➡ " + t._("Next"), DOMAINS_DONE)])
    buttons.append(_cancel_row(t))
    text = t._("Which volunteers? Tick the domains that matter, or none to alert everyone.")
    await reply(update, context, text, buttons, edit=True)


async def toggle_domain(update: Update, context: RenfortContext) -> None:
    await answer_query(update)
    if not await at_step(update, context, (TA_DOMAINS,), _over(context.turn.t)):
        return
    payload = context.turn.payload
    domain = payload.data.get("d") if payload else None
    if domain not in DOMAINS:
        return
    chosen = [str(d) for d in context.turn.data.get("domains") or []]
    chosen = [d for d in chosen if d != domain] if domain in chosen else [*chosen, domain]
    advance(context, TA_DOMAINS, domains=chosen)
    await _ask_domains(update, context)


async def domains_done(update: Update, context: RenfortContext) -> None:
    await answer_query(update)
    t = context.turn.t
    if not await at_step(update, context, (TA_DOMAINS,), _over(t)):
        return
    advance(context, TA_URGENT)
    text = t._(
        "Is it urgent? An urgent alert goes out at once, even at night; otherwise it waits"
        " for 08:00 during the night."
    )
    buttons = [
        [
            Button("🚨 " + t._("Urgent"), URGENT, {"u": True}),
            Button(t._("Not urgent"), URGENT, {"u": False}),
        ],
        _cancel_row(t),
    ]
    await reply(update, context, text, buttons, edit=True)


def _spec(context: RenfortContext) -> AlertSpec:
    data = context.turn.data
    lat, lon = data.get("lat"), data.get("lon")
    point = GeoPoint(float(lat), float(lon)) if lat is not None and lon is not None else None
    return AlertSpec(
        text=str(data.get("text") or ""),
        point=point,
        place_name=str(data["place"]) if data.get("place") else None,
        postcode=str(data["postcode"]) if data.get("postcode") else None,
        radius_km=int(data["km"]) if data.get("km") else None,
        domains=tuple(str(d) for d in data.get("domains") or []),
        urgent=bool(data.get("urgent")),
    )


def _where(t: Translator, spec: AlertSpec) -> str:
    if spec.point is None:
        return t._("the whole territory")
    place = esc(spec.place_name) if spec.place_name else t._("the location you shared")
    return t._("within {km} km of {place}", km=spec.radius_km or 0, place=place)


async def pick_urgent(update: Update, context: RenfortContext) -> None:
    """Urgent or not: the preview, with the number of people reached."""
    await answer_query(update)
    t = context.turn.t
    if not await at_step(update, context, (TA_URGENT,), _over(t)):
        return
    payload = context.turn.payload
    advance(context, TA_CONFIRM, urgent=bool(payload.data.get("u")) if payload else False)
    spec = _spec(context)
    reached = await territory_alerts.preview(
        context.renfort.db, referent_id=context.turn.me.id, spec=spec, now=context.turn.now
    )
    domains = ", ".join(domain_label(t, d) for d in spec.domains) or t._("all domains")
    lines = [
        "📣 <b>" + t._("Send this alert?") + "</b>",
        "",
        esc(spec.text),
        "",
        "📍 " + _where(t, spec),
        "🏷 " + esc(domains),
        ("🚨 " + t._("Urgent")) if spec.urgent else t._("Not urgent"),
        "",
        t.n_("{n} person will be alerted.", "{n} people will be alerted.", reached),
    ]
    zone = context.renfort.settings.timezone
    morning = None if spec.urgent else quiet_until(context.turn.now, zone)
    if morning is not None:
        lines.append("🌙 " + t._("It is night: the alert will go out at 08:00."))
    buttons = [[Button("📣 " + t._("Send the alert"), LAUNCH)], _cancel_row(t)]
    await reply(update, context, "\n".join(lines), buttons, edit=True)


async def launch(update: Update, context: RenfortContext) -> None:
    await answer_query(update)
    turn, t = context.turn, context.turn.t
    if not await at_step(update, context, (TA_CONFIRM,), _over(t)):
        return
    spec = _spec(context)
    advance(context, None)
    try:
        view = await territory_alerts.launch(
            context.renfort.db,
            referent_id=turn.me.id,
            spec=spec,
            now=turn.now,
            zone=context.renfort.settings.timezone,
            inbound=turn.inbound,
        )
    except InvalidInput as error:
        await reply(update, context, refusal_text(t, error), edit=True)
        return
    context.renfort.notify_outbox()
    await _show(update, context, view)


def status_text(t: Translator, view: AlertView) -> str:
    """The live count: who was alerted, who is available, what the organisations offered."""
    lines = [
        "📣 <b>" + t._("Territory alert") + "</b> · " + esc(view.territory),
        esc(view.text),
        "",
        t.n_("{n} person alerted", "{n} people alerted", view.asked),
        "✅ "
        + t._("Available: {n}", n=view.available)
        + " · ❌ "
        + t._("Not available: {n}", n=view.unavailable),
        "📩 "
        + t._(
            "Slots offered: {offers} · accepted: {accepted}",
            offers=view.offers,
            accepted=view.accepted,
        ),
    ]
    if view.people:
        lines += ["", t._("Available:")]
        for person in view.people[:30]:
            line = "• " + esc(person.first_name)
            if person.distance_km is not None:
                line += " · " + t.distance(person.distance_km)
            elif person.town:
                line += " · " + esc(person.town)
            lines.append(line)
    return "\n".join(lines)


async def _show(update: Update, context: RenfortContext, view: AlertView) -> None:
    t = context.turn.t
    buttons = [[Button("🔄 " + t._("Refresh"), REFRESH, {"alert": view.id})]]
    await reply(update, context, status_text(t, view), buttons, edit=True)


async def refresh(update: Update, context: RenfortContext) -> None:
    """The referent's live count, redrawn."""
    await answer_query(update)
    payload = context.turn.payload
    alert_id = payload.data.get("alert") if payload else None
    view = await territory_alerts.alert_view(
        context.renfort.db, alert_id=int(alert_id or 0), referent_id=context.turn.me.id
    )
    await _show(update, context, view)


async def cancel(update: Update, context: RenfortContext) -> None:
    await answer_query(update)
    if context.turn.state not in WIZARD_STATES:
        return
    advance(context, None)
    await reply(update, context, context.turn.t._("Alert cancelled; nothing was sent."), edit=True)


def _over(t: Translator) -> str:
    return t._("This step is over. Send /alert to start again.")


async def tap_please(update: Update, context: RenfortContext) -> None:
    """Typed text while the wizard waits for a tap."""
    t = context.turn.t
    await reply(
        update, context, t._("Please tap one of the buttons above, or Cancel."), [_cancel_row(t)]
    )


WIZARD_STATES = (TA_TEXT, TA_PLACE, TA_RADIUS, TA_DOMAINS, TA_URGENT, TA_CONFIRM)
STATES: dict[str, Callback] = {
    TA_TEXT: on_text,
    TA_PLACE: on_place,
    TA_RADIUS: on_place,  # another place typed instead of a radius
    TA_DOMAINS: tap_please,
    TA_URGENT: tap_please,
    TA_CONFIRM: tap_please,
}
ACTIONS: dict[str, Callback] = {
    WHOLE: whole_territory,
    RADIUS: pick_radius,
    DOMAIN: toggle_domain,
    DOMAINS_DONE: domains_done,
    URGENT: pick_urgent,
    LAUNCH: launch,
    CANCEL: cancel,
    REFRESH: refresh,
}

"""The SMS conversation's side of every exchange: questions, lists, confirmations, refusals,
each meant to fit one segment in French and English; lists are paged ("SUITE" / "MORE")
instead of spilling into a second part."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from datetime import date
from zoneinfo import ZoneInfo

from bot.domain import DOMAINS, ApplicationStatus
from bot.i18n import N_, Translator
from bot.messaging.message import Choice, Message
from bot.services.applications import ApplicationView
from bot.services.errors import ServiceError
from bot.services.missions import MissionCard, MissionDetail, SlotView
from handlers.sms import dates
from handlers.sms.gsm7 import fit_encoding, segments
from handlers.sms.render.shared import SHORTEST, fit, shorten, yes_no

LIST_TITLE = 40  # characters of a mission title in a numbered list, at most
LIST_TITLE_SHORTEST = 24
# A mission's first page says what it is in one SMS and lists its slots in a second.
DETAIL_PARTS = 2

# Asked before the language is known, so each language is named in its own words.
LANGUAGE_QUESTION = Message(
    fit_encoding("Répondez 1 pour le français / Reply 2 for English"),
    (Choice("Français", "1"), Choice("English", "2")),
)

# Short names of the domains of action, numbered in this order in the interests question.
SHORT_DOMAINS: dict[str, str] = {
    "citizenship": N_("Elections"),
    "solidarity": N_("Solidarity"),
    "health": N_("Health"),
    "education": N_("Education"),
    "environment": N_("Environment"),
    "culture": N_("Culture"),
    "sport": N_("Sport"),
    "emergency": N_("Emergencies"),
    "neighbourhood": N_("Neighbours"),
}
DOMAIN_ORDER: tuple[str, ...] = tuple(d for d in DOMAINS if d in SHORT_DOMAINS)


def one(text: str) -> str:
    """A sentence of ours in the cheapest encoding."""
    return fit_encoding(text)


def menu(text: str, lines: Sequence[str], codes: Sequence[str]) -> Message:
    """`text` offering each of its `lines` as a choice, answered by typing its reply."""
    return Message(text, tuple(Choice(line, c) for line, c in zip(lines, codes, strict=True)))


def paged(build: Callable[[int], str], available: int, parts: int = 1) -> tuple[str, int]:
    """The text with as many of `available` items as fit `parts` segments (at least one)."""
    text = fit_encoding(build(1))
    shown = 1
    for count in range(2, available + 1):
        candidate = fit_encoding(build(count))
        if segments(candidate) > parts:
            break
        text, shown = candidate, count
    return text, shown


# ---- registration --------------------------------------------------------------------


def welcome(t: Translator) -> str:
    """The answer to a first message that did not say who is writing. It offers the other
    language, since the first message's words may have misled us."""
    return one(
        t._(
            "Renfort: volunteering near you. Send your first name and postcode, e.g. Camille"
            " 52100. FRANCAIS pour le français. STOP to stop."
        )
    )


def ask_introduction(t: Translator) -> str:
    return one(t._("Please send your first name and postcode, e.g. Camille 52100."))


def ask_first_name(t: Translator) -> str:
    return one(t._("Welcome to Renfort! What is your first name?"))


def bad_first_name(t: Translator) -> str:
    return one(t._("Please send just your first name, in letters (e.g. Camille)."))


def ask_home(t: Translator, name: str) -> str:
    return one(t._("Thank you {name}. What is your postcode? (e.g. 52100)", name=name))


def unknown_home(t: Translator) -> str:
    return one(t._("We do not know this place. Please send your 5-digit postcode, e.g. 52100."))


def interest_labels(t: Translator) -> list[str]:
    return [t._(SHORT_DOMAINS[d]) for d in DOMAIN_ORDER]


def ask_interests(t: Translator) -> str:
    choices = " ".join(f"{i} {label}" for i, label in enumerate(interest_labels(t), 1))
    return one(
        t._("What interests you? Reply with numbers, e.g. 1 3: {choices} 0 All", choices=choices)
    )


def bad_interests(t: Translator) -> str:
    return one(t._("Please reply with the numbers of what interests you, e.g. 1 3, or 0 for all."))


def interests_chosen(t: Translator, labels: Sequence[str]) -> str:
    return fit(
        lambda v: t._("Noted: {interests}. Send MISSIONS to see the missions.", **v),
        {"interests": ", ".join(labels)},
        ("interests",),
    )


def registered(t: Translator, name: str, town: str) -> str:
    return fit(
        lambda v: t._(
            "Thank you {name}, you are registered near {town}. MISSIONS: the missions."
            " INTERESTS: your topics. FRANCAIS: en français. STOP: no more messages.",
            **v,
        ),
        {"name": name, "town": town},
        ("town", "name"),
    )


def registered_short(t: Translator, name: str) -> str:
    """Registration done, said before the mission that brought the person."""
    return t._("Thank you {name}, you are registered.", name=name)


def finish_registering_first(t: Translator, question: str) -> str:
    return fit(
        lambda v: t._("Let us finish registering first. {question}", **v),
        {"question": question},
    )


# ---- missions ------------------------------------------------------------------------


def _full(t: Translator, card: MissionCard) -> str:
    """Empty while a place is free; a full mission is listed to join its waiting list."""
    if not card.full:
        return ""
    if not card.waitlisted:
        return t._("full, waiting list")
    return t.n_("full, {n} waiting", "full, {n} waiting", card.waitlisted)


def _where(t: Translator, card: MissionCard) -> str:
    if card.remote:
        return t._("remote")
    if card.distance_km is None:
        return card.postcode or ""
    return t.distance(max(card.distance_km, 0.1))  # "0 m" reads like a mistake


def mission_list(
    t: Translator,
    cards: Sequence[MissionCard],
    first_number: int,
    remaining_after: Callable[[int], bool],
    today: date | None = None,
    slot_numbers: Mapping[int, int] | None = None,
) -> tuple[Message, int]:
    """'1.1 Assesseur bureau 3 - dim. 13 juin 8h - 1,2 km' lines, as many as fit one SMS:
    the mission's number, then the number of the slot whose date is shown. Each line is a
    choice: its code applies for that slot, or shows the mission."""
    # No heading: the numbers and the footer say what the lines are, and a heading would
    # cost a mission. Titles are cut only as far as a second line needs, never below
    # LIST_TITLE_SHORTEST, since their end often tells two missions apart.
    # `remaining_after(k)`: whether missions are left once k of `cards` are shown.
    numbers = slot_numbers or {}

    def code(i: int) -> str:
        slot = numbers.get(cards[i].id)
        return f"{first_number + i}" if slot is None else f"{first_number + i}.{slot}"

    def build(count: int, size: int) -> str:
        lines = [
            " - ".join(
                part
                for part in (
                    f"{code(i)} {shorten(card.title, size)}",
                    dates.moment(t.locale, card.next_start, card.zone, today),
                    _where(t, card),
                    _full(t, card),
                )
                if part
            )
            for i, card in enumerate(cards[:count])
        ]
        return "\n".join(
            [*lines, _list_footer(t, code(0), str(first_number), remaining_after(count))]
        )

    def listed(text: str, count: int) -> tuple[Message, int]:
        # One line per mission: titles and the rest are single-spaced by then.
        return menu(text, text.splitlines()[:count], [code(i) for i in range(count)]), count

    for count in range(len(cards), 0, -1):
        shortest = LIST_TITLE_SHORTEST if count > 1 else SHORTEST
        for size in range(LIST_TITLE, shortest - 1, -1):
            text = fit_encoding(build(count, size))
            if segments(text) == 1:
                return listed(text, count)
    return listed(fit_encoding(build(1, SHORTEST)), 1)


def _list_footer(t: Translator, code: str, number: str, more: bool) -> str:
    if "." not in code:  # no slot to apply for straight from the list
        if more:
            return t._("Number for details, MORE for more.")
        return t._("Reply a number for details.")
    if more:
        return t._("{code}: apply, {number}: details, MORE: more.", code=code, number=number)
    return t._("Reply {code} to apply, {number} for details.", code=code, number=number)


def no_missions(t: Translator) -> str:
    return one(t._("No open mission near you right now. Send MISSIONS again in a few days."))


def nothing_more(t: Translator) -> str:
    return one(t._("That is all. Send MISSIONS to see the missions again."))


def _slot_line(
    t: Translator, number: int, slot: SlotView, zone: ZoneInfo, today: date | None
) -> str:
    line = f"{number} {dates.span(t.locale, slot.starts_at, slot.ends_at, zone, today)}"
    return line if slot.free > 0 else line + " " + t._("(full: waiting list)")


def mission_detail(
    t: Translator,
    detail: MissionDetail,
    slots: Sequence[SlotView],
    first_number: int,
    remaining_after: Callable[[int], bool],
    today: date | None = None,
    lead: str = "",
) -> tuple[Message, int]:
    """The mission, where it is, what it is about, and its next slots numbered to apply,
    each slot a choice.

    The first page takes up to two SMS: the first says what the mission is (its description
    cut to fit), the second lists the slots. Later pages (MORE) fit one."""
    if first_number > 1:

        def later(count: int) -> str:
            body = _slots_body(t, detail, slots, count, first_number, remaining_after, today)
            return shorten(detail.title, LIST_TITLE) + "\n" + body

        text, shown = paged(later, len(slots))
    else:
        intro = mission_intro(t, detail, lead)

        def build(count: int) -> str:
            body = _slots_body(t, detail, slots, count, first_number, remaining_after, today)
            return intro + "\n" + body

        text, shown = paged(build, len(slots), parts=DETAIL_PARTS)
    # The slots are the lines just above the footer, whatever the intro's lines hold.
    lines = text.splitlines()[-1 - shown : -1]
    return menu(text, lines, [str(first_number + i) for i in range(shown)]), shown


def mission_intro(t: Translator, detail: MissionDetail, lead: str = "") -> str:
    """One SMS saying what the mission is: title, organisation, place and description."""
    where = t._("remote") if detail.remote else detail.address or detail.postcode or ""
    values = {
        "title": detail.title,
        "organisation": detail.organisation_name,
        "where": where,
        "description": detail.description,
        "conditions": " ".join(detail.conditions),
    }

    def build(v: Mapping[str, str]) -> str:
        lines = [lead] if lead else []
        lines.append(t._("{title} ({organisation})\n{where}", **v))
        if v["conditions"]:
            lines.append(t._("Conditions: {conditions}", conditions=v["conditions"]))
        if v["description"]:
            lines.append(v["description"])
        return "\n".join(lines)

    shrinkable = ("description", "conditions", "title", "where", "organisation")
    return fit(build, values, shrinkable)


def _slots_body(
    t: Translator,
    detail: MissionDetail,
    slots: Sequence[SlotView],
    count: int,
    first_number: int,
    remaining_after: Callable[[int], bool],
    today: date | None,
) -> str:
    lines = [
        _slot_line(t, first_number + i, slot, detail.zone, today)
        for i, slot in enumerate(slots[:count])
    ]
    footer = (
        t._("Reply a slot number to apply, MORE for more slots.")
        if remaining_after(count)
        else t._("Reply a slot number to apply.")
    )
    return "\n".join([*lines, footer])


def ask_condition(t: Translator, condition: str, number: int, count: int) -> Message:
    """One of a mission's conditions, to confirm with YES before applying."""
    return yes_no(
        t,
        fit(
            lambda v: t._(
                "Condition {number}/{count}: {condition} Is this true for you? Reply YES or NO.",
                **v,
            ),
            {"condition": condition, "number": str(number), "count": str(count)},
            ("condition",),
        ),
    )


def condition_not_met(t: Translator) -> str:
    return one(t._("Then this mission is not for you, sorry. Send MISSIONS to see other missions."))


def no_slots(t: Translator) -> str:
    return one(t._("This mission has no slot left to apply for. Send MISSIONS to see others."))


def applied(t: Translator, view: ApplicationView, today: date | None = None) -> str:
    values = {"mission": view.mission_title, "when": _span(t, view, today)}
    if view.status == ApplicationStatus.WAITLISTED:
        values["position"] = str(view.waitlist_position or 1)
        return fit(
            lambda v: t._(
                "{mission}, {when} is full: you are number {position} on the waiting list."
                " We will text you if a place frees up.",
                **v,
            ),
            values,
            ("mission",),
        )
    values["organisation"] = view.organisation_name
    return fit(
        lambda v: t._(
            "Applied: {mission}, {when}. {organisation} will answer you. MY MISSIONS to see yours.",
            **v,
        ),
        values,
        ("mission", "organisation"),
    )


def _span(t: Translator, view: ApplicationView, today: date | None) -> str:
    return dates.span(t.locale, view.starts_at, view.ends_at, ZoneInfo(view.timezone), today)


# ---- the person's missions -----------------------------------------------------------


def _status(t: Translator, view: ApplicationView) -> str:
    if view.status == ApplicationStatus.WAITLISTED:
        if view.offer_expires_at is not None:
            return t._("place offered: reply YES")
        return t._("waiting list no. {position}", position=view.waitlist_position or 1)
    labels = {
        ApplicationStatus.PENDING: N_("pending"),
        ApplicationStatus.APPROVED: N_("accepted"),
        ApplicationStatus.CONFIRMED: N_("confirmed"),
    }
    return t._(labels.get(view.status, N_("pending")))


def my_missions(
    t: Translator,
    views: Sequence[ApplicationView],
    first_number: int,
    remaining_after: Callable[[int], bool],
    today: date | None = None,
) -> tuple[str, int]:
    """'1 dim. 13 juin 8h-13h Assesseur... (en attente)' lines, as many as fit."""

    def build(count: int) -> str:
        lines = [
            f"{first_number + i} {_span(t, view, today)} {shorten(view.mission_title, 24)}"
            f" ({_status(t, view)})"
            for i, view in enumerate(views[:count])
        ]
        footer = (
            t._("CANCEL n to cancel, MORE for more.")
            if remaining_after(count)
            else t._("CANCEL n to cancel one.")
        )
        return "\n".join([t._("Your missions:"), *lines, footer])

    return paged(build, len(views))


def no_applications(t: Translator) -> str:
    return one(t._("You have no mission yet. Send MISSIONS to find one near you."))


def confirm_cancel(t: Translator, view: ApplicationView, today: date | None = None) -> Message:
    return yes_no(
        t,
        fit(
            lambda v: t._(
                "Cancel your place for {mission}, {when}? Reply YES to cancel, NO to keep it.", **v
            ),
            {"mission": view.mission_title, "when": _span(t, view, today)},
            ("mission",),
        ),
    )


def cancelled(t: Translator, view: ApplicationView, today: date | None = None) -> str:
    return fit(
        lambda v: t._("Cancelled: {mission}, {when}. Thank you for telling us.", **v),
        {"mission": view.mission_title, "when": _span(t, view, today)},
        ("mission",),
    )


def cancel_kept(t: Translator) -> str:
    return one(t._("All right, you keep your place."))


def yes_or_no(t: Translator) -> Message:
    return yes_no(t, one(t._("Please reply YES to cancel, or NO to keep your place.")))


def cancel_needs_number(t: Translator) -> str:
    return one(t._("Send CANCEL and the number from MY MISSIONS, e.g. CANCEL 1."))


def no_such_number(t: Translator, count: int) -> str:
    if count == 1:
        return one(t._("Reply 1, or send MISSIONS to see the missions again."))
    return one(
        t._(
            "Reply a number from 1 to {count}, or send MISSIONS to see the missions again.",
            count=str(count),
        )
    )


def no_such_slot(t: Translator, number: int, count: int) -> str:
    """'2.5' when mission 2 has fewer slots."""
    if count == 1:
        return one(
            t._("Mission {number} has one date: reply {number}.1 to apply.", number=str(number))
        )
    return one(
        t._(
            "Mission {number} has {count} dates: reply {number}.1 to {number}.{count}, or"
            " {number} to see them.",
            number=str(number),
            count=str(count),
        )
    )


def no_such_application(t: Translator) -> str:
    return one(t._("There is no mission with this number. Send MY MISSIONS for the list."))


def number_without_list(t: Translator) -> str:
    return one(t._("Send MISSIONS to see the missions, then reply with a number."))


# ---- a place offered from the waiting list (YES / NO) ---------------------------------


def offer_accepted(t: Translator, view: ApplicationView, today: date | None = None) -> str:
    return fit(
        lambda v: t._(
            "The place is yours: {mission}, {when}. {organisation} has your application and"
            " will answer you.",
            **v,
        ),
        {
            "mission": view.mission_title,
            "when": _span(t, view, today),
            "organisation": view.organisation_name,
        },
        ("mission", "organisation"),
    )


def offer_declined(t: Translator, view: ApplicationView, today: date | None = None) -> str:
    return fit(
        lambda v: t._(
            "All right, the place for {mission}, {when} goes to the next person. Thank you.", **v
        ),
        {"mission": view.mission_title, "when": _span(t, view, today)},
        ("mission",),
    )


def offer_too_late(t: Translator, view: ApplicationView, today: date | None = None) -> str:
    return fit(
        lambda v: t._(
            "Sorry, the time to answer is over: the place for {mission} went to the next"
            " person. Send MISSIONS for others.",
            **v,
        ),
        {"mission": view.mission_title},
        ("mission",),
    )


def offer_closed(t: Translator) -> str:
    return one(t._("This offer is no longer open. Send MY MISSIONS to see yours."))


# ---- keywords at any time ------------------------------------------------------------


def help_text(t: Translator) -> str:
    return one(
        t._(
            "Renfort: volunteering near you. MISSIONS: the list. MY MISSIONS: yours."
            " CANCEL n: cancel one. INTERESTS: topics. FRANCAIS: en français. STOP: no more"
            " messages.",
        )
    )


def stopped(t: Translator) -> str:
    return one(
        t._("You will get no more messages from Renfort on this number. Send START to come back.")
    )


def resumed(t: Translator) -> str:
    return one(t._("Welcome back! You will get Renfort messages again. Send MISSIONS or HELP."))


def language_set(t: Translator) -> str:
    return one(t._("Language: English. Send MISSIONS to see the missions."))


def not_understood(t: Translator) -> str:
    return one(t._("Sorry, I did not understand. Send MISSIONS, MY MISSIONS or HELP."))


def nothing_to_answer(t: Translator) -> str:
    return one(
        t._("No question is waiting for your answer. MISSIONS: the list. MY MISSIONS: yours.")
    )


def empty(t: Translator) -> str:
    return one(t._("Your message was empty. Send MISSIONS, MY MISSIONS or HELP."))


def apology(t: Translator) -> str:
    return one(t._("Sorry, something went wrong on our side. Please try again in a moment."))


def refusal(t: Translator, error: ServiceError) -> str:
    """A service's refusal, in SMS words."""
    messages = {
        "not_registered": N_("Please finish registering first: answer my last question."),
        "slot_not_found": N_("This slot no longer exists. Send MISSIONS to see others."),
        "mission_not_found": N_("This mission no longer exists. Send MISSIONS to see others."),
        "application_not_found": N_("There is no mission with this number. Send MY MISSIONS."),
        "mission_closed": N_("This mission is closed now. Send MISSIONS to see others."),
        "slot_started": N_("This slot has already started. Send MISSIONS to see others."),
        "slot_over": N_("This slot is already over."),
        "slot_cancelled": N_("This slot is cancelled. Send MISSIONS to see others."),
        "already_applied": N_("You have already applied for this slot. Send MY MISSIONS."),
        "not_active": N_("This application is no longer active. Send MY MISSIONS."),
        "conditions_unconfirmed": N_(
            "This mission asks you to confirm its conditions first. Send its number again."
        ),
        "alert_not_found": N_("This alert no longer exists. Thank you!"),
        "offer_not_found": N_("This offer is over. Thank you!"),
    }
    if error.code == "overlap":
        return fit(
            lambda v: t._(
                "You are already busy at that time ({mission}). Cancel it first: MY MISSIONS.",
                **v,
            ),
            {"mission": str(error.details.get("mission_title", ""))},
            ("mission",),
        )
    message = messages.get(error.code)
    if message is None:
        return one(t._("Sorry, that is not possible right now. Send HELP for help."))
    return one(t._(message))

"""Telegram texts of the organisers' side: nudges about waiting applications, the Monday
digest, the roster to mark after a slot, and the volunteers' notes about answers that are
late and about how the slot went. Registered in render.RENDERERS."""

from __future__ import annotations

from bot.actions import FEEDBACK, ROSTER_MARK
from bot.buttons import Button
from bot.domain import ANSWER_WITHIN_DAYS, ApplicationStatus
from bot.i18n import Translator
from bot.messaging.message import Message
from bot.notifications.organisers import (
    ApplicationLate,
    ApplicationNudge,
    FeedbackRequest,
    SlotRoster,
    WeeklyDigest,
)
from handlers.telegram.render.shared import Renderer, decision_buttons, esc, slot_text


def status_label(t: Translator, status: str) -> str:
    """How a roster shows where each volunteer stands."""
    labels = {
        ApplicationStatus.PENDING: t._("⏳ waiting for an answer"),
        ApplicationStatus.WAITLISTED: t._("🕒 on the waiting list"),
        ApplicationStatus.APPROVED: t._("approved"),
        ApplicationStatus.CONFIRMED: t._("confirmed"),
        ApplicationStatus.ATTENDED: t._("✅ present"),
        ApplicationStatus.NO_SHOW: t._("❌ absent"),
    }
    return labels.get(ApplicationStatus(status), status)


def application_nudge(n: ApplicationNudge, t: Translator) -> Message:
    """To the organisation: an application has been waiting for days; decide from here."""
    days = int(n.days_waiting or 0)
    text = "\n".join(
        [
            "⏰ "
            + t._(
                "<b>Still waiting for an answer</b> · {organisation}",
                organisation=esc(n.organisation_name),
            ),
            t.n_(
                "<b>{name}</b> applied {n} day ago for <b>{mission}</b>.",
                "<b>{name}</b> applied {n} days ago for <b>{mission}</b>.",
                days,
                name=esc(n.volunteer_name),
                mission=esc(n.mission_title),
            ),
            "🗓 " + slot_text(n, t),
            "",
            t.n_(
                "Volunteers are promised an answer within {n} day.",
                "Volunteers are promised an answer within {n} days.",
                ANSWER_WITHIN_DAYS,
            ),
        ]
    )
    return Message.with_buttons(text, decision_buttons(t, n.application_id))


def application_late(n: ApplicationLate, t: Translator) -> Message:
    """To the volunteer: no answer yet; their application stays, other missions are open."""
    text = "\n".join(
        [
            "⏳ "
            + t._(
                "Your application for <b>{mission}</b> is still waiting for an answer from"
                " {organisation}.",
                mission=esc(n.mission_title),
                organisation=esc(n.organisation_name),
            ),
            "🗓 " + slot_text(n, t),
            "",
            t._(
                "Sorry for the wait. It stays open, and in the meantime you are free to look at"
                " other missions: /missions"
            ),
        ]
    )
    return Message(text)


def _digest_pending(n: WeeklyDigest, t: Translator) -> list[str]:
    count = int(n.pending_count or 0)
    if not count:
        return ["📝 " + t._("No application is waiting for an answer.")]
    lines = [
        "📝 "
        + t.n_(
            "<b>{n} application</b> waiting for an answer",
            "<b>{n} applications</b> waiting for an answer",
            count,
        )
    ]
    late = int(n.late_count or 0)
    if late:
        lines.append(
            t.n_(
                "including {n} for more than {days} days",
                "including {n} for more than {days} days",
                late,
                days=ANSWER_WITHIN_DAYS,
            )
        )
    for item in n.oldest:
        lines.append(
            "• "
            + t.n_(
                "{name} · {mission} · {n} day",
                "{name} · {mission} · {n} days",
                int(item.days),
                name=esc(item.name),
                mission=esc(item.mission_title),
            )
        )
    return lines


def _digest_slots(n: WeeklyDigest, t: Translator) -> list[str]:
    count = int(n.underfilled_count or 0)
    if not count:
        return ["🗓 " + t._("Every slot of the next 14 days is full.")]
    lines = [
        "🗓 "
        + t.n_(
            "<b>{n} slot</b> of the next 14 days still needs people",
            "<b>{n} slots</b> of the next 14 days still need people",
            count,
        )
    ]
    shown = n.underfilled
    for item in shown:
        left = t.n_("{n} place left", "{n} places left", int(item.places_left))
        lines.append(f"• {esc(item.mission_title)} · {slot_text(item, t)} · {left}")
    if count > len(shown):
        lines.append(t.n_("and {n} more", "and {n} more", count - len(shown)))
    return lines


def weekly_digest(n: WeeklyDigest, t: Translator) -> Message:
    """To the organisation on Monday morning: the backlog, the gaps, last week's no-shows."""
    no_shows = [esc(name) for name in n.no_shows]
    absent = (
        "🚫 " + t._("No-shows last week: {names}", names=", ".join(no_shows))
        if no_shows
        else "🚫 " + t._("No no-show last week.")
    )
    text = "\n".join(
        [
            "📬 "
            + t._(
                "<b>Your week</b> · {organisation}",
                organisation=esc(n.organisation_name),
            ),
            "",
            *_digest_pending(n, t),
            "",
            *_digest_slots(n, t),
            "",
            absent,
        ]
    )
    return Message(text)


def slot_roster(n: SlotRoster, t: Translator) -> Message:
    """To the organisation after a slot: who was expected; one tap marks present or absent."""
    lines = [
        "📋 " + t._("<b>Who came?</b> · {mission}", mission=esc(n.mission_title)),
        "🗓 " + slot_text(n, t),
        "",
    ]
    buttons: list[list[Button]] = []
    for volunteer in n.volunteers:
        name = esc(volunteer.name)
        lines.append(f"• {name} — {status_label(t, volunteer.status)}")
        application_id = int(volunteer.application_id)
        buttons.append(
            [
                Button(
                    t._("✅ {name}", name=volunteer.name),
                    ROSTER_MARK,
                    {"application_id": application_id, "present": True},
                ),
                Button(
                    t._("❌ {name}", name=volunteer.name),
                    ROSTER_MARK,
                    {"application_id": application_id, "present": False},
                ),
            ]
        )
    lines += ["", t._("Tap ✅ for each person who came, ❌ for each who did not.")]
    return Message.with_buttons("\n".join(lines), buttons)


def feedback_request(n: FeedbackRequest, t: Translator) -> Message:
    """To the volunteer the day after: did it go well?"""
    text = "\n".join(
        [
            "🙏 "
            + t._(
                "Thank you for <b>{mission}</b> with {organisation}!",
                mission=esc(n.mission_title),
                organisation=esc(n.organisation_name),
            ),
            "🗓 " + slot_text(n, t),
            "",
            t._("Did it go well?"),
        ]
    )
    data = {"application_id": n.application_id}
    buttons = [
        [
            Button(t._("👍 Yes"), FEEDBACK, data | {"good": True}),
            Button(t._("👎 Not really"), FEEDBACK, data | {"good": False}),
        ]
    ]
    return Message.with_buttons(text, buttons)


ORGANISER_RENDERERS: dict[str, Renderer] = {
    ApplicationNudge.kind: application_nudge,
    ApplicationLate.kind: application_late,
    WeeklyDigest.kind: weekly_digest,
    SlotRoster.kind: slot_roster,
    FeedbackRequest.kind: feedback_request,
}

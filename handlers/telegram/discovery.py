"""The volunteer discovers missions: nearest first within their radius, filtered by domain
and date, a page at a time; then one mission in detail with its slots."""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any
from urllib.parse import quote

from telegram import Update

from bot.buttons import Button
from bot.conversation import discovering
from bot.conversation.discovering import ANY, MINE, MONTH, WEEK, WEEKEND, WHEN
from bot.domain import DOMAINS, RADII
from bot.geo import haversine_km
from bot.i18n import Translator
from bot.services.missions import Cursor, MissionCard, MissionDetail
from bot.services.people import Person
from handlers.telegram import profile
from handlers.telegram.common import RenfortContext, answer_query, esc, reply
from handlers.telegram.flow import (
    PICK_SLOT,
    SHOW_LIST,
    checked,
    home_area,
    leave_profile_edit,
    radius_button,
    radius_text,
)

SHOW_MISSION = "vol.mission"
CHOOSE_DOMAIN = "vol.domains"
LIST_RADIUS = "vol.radius"

PAGE_SIZE = 5
# Pages the previous-page button walks back, one at a time, before it jumps to the first:
# every button of a page stores them.
BACK_PAGES = 20
# The whole message must stay under Telegram's 4096 characters.
DESCRIPTION_LIMIT = 1500
MAX_SLOTS_SHOWN = 12


@dataclass(frozen=True)
class Filters:
    """What the list shows; carried in the buttons' data so any button can redraw it. A page
    starts after the cursor of the page before (`after`); `back` keeps the cursors the pages
    before it started after, for the previous-page button; `offset` numbers the cards."""

    domain: str | None = None
    when: str = ANY
    offset: int = 0
    after: Cursor | None = None
    back: tuple[Cursor | None, ...] = ()

    @classmethod
    def of(cls, data: dict[str, Any]) -> Filters:
        domain, when = data.get("d"), data.get("w")
        after = Cursor.of(data.get("a"))
        back = data.get("b")
        earlier = tuple(Cursor.of(c) for c in back) if isinstance(back, list) else ()
        return cls(
            domain=domain if domain == MINE or domain in DOMAINS else None,
            when=when if when in WHEN else ANY,
            # A page without its cursor (a button from before pages had one) is the first.
            offset=max(int(data.get("o") or 0), 0) if after is not None else 0,
            after=after,
            back=earlier if after is not None else (),
        )

    def first(self, **changes: Any) -> Filters:
        """The first page of the list, with these changes."""
        return replace(self, offset=0, after=None, back=(), **changes)

    def following(self, cursor: Cursor) -> Filters:
        back = (*self.back, self.after)[-BACK_PAGES:]
        return replace(self, offset=self.offset + PAGE_SIZE, after=cursor, back=back)

    def previous(self) -> Filters:
        if not self.back:
            return self.first()
        return replace(
            self, offset=max(self.offset - PAGE_SIZE, 0), after=self.back[-1], back=self.back[:-1]
        )

    def data(self) -> dict[str, Any]:
        return {
            "d": self.domain,
            "w": self.when,
            "o": self.offset,
            "a": None if self.after is None else self.after.data(),
            "b": [None if c is None else c.data() for c in self.back],
        }


def when_label(t: Translator, when: str) -> str:
    labels = {
        ANY: t._("Any date"),
        WEEK: t._("Next 7 days"),
        WEEKEND: t._("This weekend"),
        MONTH: t._("Next 30 days"),
    }
    return labels[when]


def domain_label(t: Translator, domain: str | None) -> str:
    if domain is None:
        return t._("All kinds")
    if domain == MINE:
        return t._("My interests")
    return t._(DOMAINS[domain])


async def missions_command(update: Update, context: RenfortContext) -> None:
    """Missions nearest first, those with a free place before the full ones."""
    leave_profile_edit(context.turn)
    await show_list(update, context, Filters())


async def show_list(
    update: Update, context: RenfortContext, filters: Filters, *, edit: bool = False
) -> None:
    turn = context.turn
    t, me = turn.t, turn.me
    page = await discovering.discover(
        context.renfort.db,
        me,
        now=turn.now,
        zone=context.renfort.settings.timezone,
        limit=PAGE_SIZE,
        domain=filters.domain,
        when=filters.when,
        after=filters.after,
    )
    radius = page.radius_km
    if not page.cards and filters.after is not None:  # the list shrank since that page
        await show_list(update, context, filters.first(), edit=edit)
        return
    total = None if page.total is None else filters.offset + page.total
    lines = [_list_header(t, me, radius, filters, total), ""]
    buttons: list[list[Button]] = []
    for number, card in enumerate(page.cards, start=filters.offset + 1):
        lines += [_card_text(t, card, number), ""]
        label = f"{number}. {card.title[:40]}"
        buttons.append([Button(label, SHOW_MISSION, {"id": card.id, **filters.data()})])
    if not page.cards:
        lines += [t._("No mission matches right now. Try a wider radius or other dates."), ""]
    paging = []
    if filters.after is not None:
        paging.append(Button("◀ " + t._("Previous"), SHOW_LIST, filters.previous().data()))
    if page.next is not None:
        paging.append(Button(t._("Next") + " ▶", SHOW_LIST, filters.following(page.next).data()))
    buttons.append(paging)
    if me.home is not None:
        buttons.append(
            [
                Button(
                    checked(radius_button(t, r), r == radius),
                    LIST_RADIUS,
                    {"km": r, **filters.first().data()},
                )
                for r in RADII
            ]
        )
    buttons.append(
        [
            Button(
                checked(when_label(t, w), w == filters.when),
                SHOW_LIST,
                filters.first(when=w).data(),
            )
            for w in WHEN
        ]
    )
    buttons.append(
        [Button("🏷 " + domain_label(t, filters.domain), CHOOSE_DOMAIN, filters.first().data())]
    )
    await reply(update, context, "\n".join(lines).strip(), buttons, edit=edit)


def _list_header(
    t: Translator, me: Person, radius: int | None, filters: Filters, total: int | None
) -> str:
    chosen = [when_label(t, filters.when), domain_label(t, filters.domain)]
    if total is not None:  # not counted when more match than one page needs
        chosen.append(t.n_("{n} mission", "{n} missions", total))
    if me.home is None:
        return "\n".join(
            [
                "🔎 <b>" + t._("Missions to join") + "</b>",
                esc(" · ".join(chosen)),
                t._(
                    "Tip: share your location (📎 → Location) or set your home area in "
                    "/profile to see the nearest missions first."
                ),
            ]
        )
    return "\n".join(
        [
            "🔎 <b>" + t._("Missions near {place}", place=home_area(t, me)) + "</b>",
            esc(" · ".join([_within(t, radius), *chosen])),
        ]
    )


def _within(t: Translator, radius: int | None) -> str:
    if radius is None:
        return t._("Everywhere")
    return t._("within {radius}", radius=radius_text(t, radius))


def _card_text(t: Translator, card: MissionCard, number: int) -> str:
    if card.remote:
        where = "💻 " + t._("Remote")
    else:
        where = "📍 " + esc(card.address or card.postcode or "")
        if card.distance_km is not None:
            where += " · " + t.distance(card.distance_km)
    places = t.n_("{n} place left", "{n} places left", card.free_places)
    if card.full and card.waitlisted:
        places = t.n_(
            "Full · {n} on the waiting list", "Full · {n} on the waiting list", card.waitlisted
        )
    elif card.full:
        places = t._("Full · join the waiting list")
    when = t.short_date(card.next_start.astimezone(card.zone))
    return "\n".join(
        [
            f"<b>{number}. {esc(card.title)}</b>",
            "🏛 " + esc(card.organisation_name),
            where,
            f"🗓 {esc(when)} · {places}",
        ]
    )


async def list_button(update: Update, context: RenfortContext) -> None:
    """Another page, date or domain of the list."""
    await answer_query(update)
    assert context.turn.payload is not None
    await show_list(update, context, Filters.of(context.turn.payload.data), edit=True)


async def list_radius(update: Update, context: RenfortContext) -> None:
    """A radius chosen under the list: remembered on the person, then the list again."""
    await profile.save_radius(update, context)
    assert context.turn.payload is not None
    await show_list(update, context, Filters.of(context.turn.payload.data), edit=True)


async def choose_domain(update: Update, context: RenfortContext) -> None:
    """The kinds of mission to filter the list by."""
    await answer_query(update)
    turn = context.turn
    assert turn.payload is not None
    t, filters = turn.t, Filters.of(turn.payload.data)
    choices: list[str | None] = [None, *([MINE] if turn.me.interests else []), *DOMAINS]
    buttons = [
        [
            Button(
                checked(domain_label(t, d), d == filters.domain),
                SHOW_LIST,
                filters.first(domain=d).data(),
            )
        ]
        for d in choices
    ]
    await reply(update, context, t._("Which kind of mission?"), buttons, edit=True)


async def mission_button(update: Update, context: RenfortContext) -> None:
    """A mission tapped in the list."""
    await answer_query(update)
    data = context.turn.payload.data if context.turn.payload else {}
    await show_mission(update, context, int(data.get("id") or 0), Filters.of(data), edit=True)


async def show_mission(
    update: Update,
    context: RenfortContext,
    mission_id: int,
    back: Filters | None = None,
    *,
    edit: bool = False,
) -> None:
    """The mission in detail, with one button per upcoming slot."""
    turn = context.turn
    opened = await discovering.open_mission(context.renfort.db, mission_id, turn.now)
    detail = opened.detail
    t = turn.t
    later = len(opened.slots) - MAX_SLOTS_SHOWN
    upcoming = opened.slots[:MAX_SLOTS_SHOWN]
    lines = [_detail_text(t, detail, turn.me), "", "<b>" + t._("Slots") + "</b>"]
    buttons: list[list[Button]] = []
    for slot in upcoming:
        span = t.slot_span(slot.starts_at, slot.ends_at, detail.zone)
        places = (
            t.n_("{n} place left", "{n} places left", slot.free)
            if slot.free
            else t._("full, waiting list")
        )
        lines.append(f"• {esc(span)} — {places}")
        buttons.append([Button(f"{span} · {places}", PICK_SLOT, {"slot": slot.id})])
    if later > 0:
        lines.append(t.n_("…and {n} later slot.", "…and {n} later slots.", later))
    if not upcoming:
        lines.append(t._("No upcoming slot."))
    navigation = [Button("◀ " + t._("Back to the list"), SHOW_LIST, (back or Filters()).data())]
    if context.bot.username:
        link = f"https://t.me/{context.bot.username}?start=m{detail.id}"
        share = f"https://t.me/share/url?url={quote(link, safe='')}"
        navigation.append(Button("🔗 " + t._("Share"), "", url=share))
    buttons.append(navigation)
    await reply(update, context, "\n".join(lines), buttons, edit=edit, place=opened.pin)


def _detail_text(t: Translator, detail: MissionDetail, me: Person) -> str:
    if detail.remote:
        where = "💻 " + t._("Remote")
    else:
        address = ", ".join(p for p in (detail.address, detail.postcode or "") if p)
        where = "📍 " + esc(address)
        if detail.point is not None and me.home is not None:
            where += " · " + t.distance(haversine_km(me.home, detail.point))
    description = detail.description
    if len(description) > DESCRIPTION_LIMIT:
        description = description[:DESCRIPTION_LIMIT].rsplit(" ", 1)[0] + "…"
    lines = [
        f"<b>{esc(detail.title)}</b>",
        "🏛 " + esc(detail.organisation_name),
        where,
        "🏷 " + esc(t._(DOMAINS.get(detail.domain, detail.domain))),
    ]
    if description:
        lines += ["", esc(description)]
    return "\n".join(lines)

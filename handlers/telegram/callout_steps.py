"""What the /callout wizard's steps share: their names, moving on with the answers kept in
the stored conversation, and buttons that only their author may use."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from telegram import Update

from bot.buttons import Button
from handlers.telegram.admin_group import alert
from handlers.telegram.common import RenfortContext, esc, reply
from handlers.telegram.wizard import advance, at_step, expiring

CO_ORGANISATION = "co_organisation"
CO_MISSION = "co_mission"
CO_SLOT = "co_slot"
CO_NEEDED = "co_needed"
CO_TARGET = "co_target"
CO_CONFIRM = "co_confirm"
WIZARD_STATES = (CO_ORGANISATION, CO_MISSION, CO_SLOT, CO_NEEDED, CO_TARGET, CO_CONFIRM)

CANCEL = "co.cancel"
# A crisis is now: a draft left this long is more likely forgotten than still wanted.
WIZARD_TTL = timedelta(hours=6)


def goto(
    context: RenfortContext, state: str | None, *, fresh: bool = False, **changes: Any
) -> dict[str, Any]:
    """Move the callout wizard on (see wizard.advance)."""
    return advance(context, state, fresh=fresh, **changes)


def button(context: RenfortContext, label: str, action: str, **data: Any) -> Button:
    """A wizard button marked with its author: in a group everyone sees it."""
    return Button(label, action, {**data, "by": context.turn.me.id})


def cancel_row(context: RenfortContext) -> list[Button]:
    return [button(context, context.turn.t._("Cancel"), CANCEL)]


async def still_at(update: Update, context: RenfortContext, *states: str) -> bool:
    """Whether a tapped wizard button is the tapper's own and belongs to the current step
    (old buttons stay on screen)."""
    t = context.turn.t
    payload = context.turn.payload
    author = payload.data.get("by") if payload else None
    if author is not None and author != context.turn.me.id:
        await alert(
            update,
            t._(
                "This callout is being prepared by someone else. Send /callout to prepare your own."
            ),
        )
        return False
    return await at_step(
        update, context, states, t._("This step is over. Send /callout to start again.")
    )


unless_stale = expiring(
    WIZARD_TTL,
    lambda t: t._(
        "Your unfinished callout from earlier was dropped. Send /callout to start again."
    ),
)


def slot_of(data: dict[str, Any]) -> tuple[datetime, datetime, ZoneInfo]:
    return (
        datetime.fromisoformat(str(data["starts_at"])),
        datetime.fromisoformat(str(data["ends_at"])),
        ZoneInfo(str(data["timezone"])),
    )


def heading(context: RenfortContext) -> str:
    """The mission and slot chosen so far, and the need once known."""
    t, data = context.turn.t, context.turn.data
    starts_at, ends_at, zone = slot_of(data)
    lines = [
        "🚨 " + t._("<b>Callout</b> · {mission}", mission=esc(data.get("mission_title", ""))),
        esc(t.slot_span(starts_at, ends_at, zone)),
    ]
    if data.get("needed"):
        lines.append(t.n_("{n} person needed", "{n} people needed", int(data["needed"])))
    return "\n".join(lines)


async def tap_please(update: Update, context: RenfortContext) -> None:
    """Typed text while the wizard waits for a tap."""
    text = context.turn.t._("Please tap one of the buttons above, or Cancel.")
    await reply(update, context, text, [cancel_row(context)])

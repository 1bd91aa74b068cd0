"""The actions of the buttons a notification carries: the renderers that build the buttons
and the handlers that answer the taps both import them from here, so a renamed action
cannot leave a button without an answer."""

from __future__ import annotations

# A coordinator deciding an application (handlers/telegram/admin_group).
APPROVE = "approve"
REFUSE = "refuse"

# A volunteer answering a callout (handlers/telegram/callout_answers).
CALLOUT_YES = "callout_yes"
CALLOUT_NO = "callout_no"

# A territory alert and the slot an organisation offers through it
# (handlers/telegram/alert_answers).
ALERT_YES = "ta.yes"
ALERT_NO = "ta.no"
ALERT_OFFER_SLOT = "ta.offer"
ALERT_OFFER_ACCEPT = "ta.accept"
ALERT_OFFER_DECLINE = "ta.decline"

# A freed place offered to someone on the waitlist (handlers/telegram/volunteer).
ACCEPT_OFFER = "offer.accept"
DECLINE_OFFER = "offer.decline"

# A volunteer letting go of an application (handlers/telegram/applying).
ASK_CANCEL = "vol.cancel_ask"

# A referent reviewing a mission, its coordinators resubmitting it
# (handlers/telegram/moderation).
REVIEW_PUBLISH = "mod.publish"
REVIEW_CHANGES = "mod.changes"
REVIEW_REFUSE = "mod.refuse"
RESUBMIT = "mod.resubmit"
VERIFY = "mod.verify"

# Organisers marking a roster and saying how a slot went (handlers/telegram/organiser).
ROSTER_MARK = "roster_mark"
FEEDBACK = "feedback"

# A volunteer answering a relayed message (handlers/telegram/relay).
REPLY_TO_RELAY = "relay.reply"

# A volunteer confirming they come (handlers/telegram/attendance).
ATTENDANCE_YES = "att.yes"
ATTENDANCE_NO = "att.no"

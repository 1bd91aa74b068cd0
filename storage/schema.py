"""The whole schema, in the words of the design: people, organisations, missions, slots,
applications, and the machinery that makes messaging reliable (outbox, inbound ids,
conversation state, button payloads)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    CheckConstraint,
    Column,
    DateTime,
    Dialect,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    TypeDecorator,
    UniqueConstraint,
    text,
    true,
)

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}
metadata = MetaData(naming_convention=NAMING)


class UTCDateTime(TypeDecorator[datetime]):
    """Aware datetimes in, aware UTC datetimes out, naive UTC on disk on every backend."""

    impl = DateTime
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to the database")
        return value.astimezone(UTC).replace(tzinfo=None)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        return None if value is None else value.replace(tzinfo=UTC)


def now() -> datetime:
    return datetime.now(UTC)


def _created() -> Column[Any]:
    return Column("created_at", UTCDateTime(), nullable=False, default=now)


people = Table(
    "people",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("first_name", String(80), nullable=False, default=""),
    Column("locale", String(8)),  # chosen by the person; wins over telegram_language
    Column("telegram_language", String(16)),
    Column("telegram_user_id", BigInteger, unique=True),
    Column("telegram_chat_id", BigInteger),
    Column("telegram_unreachable_at", UTCDateTime()),
    Column("phone", String(20), unique=True),  # E.164, never shown to anyone else
    Column("phone_shared", Boolean, nullable=False, default=False),
    Column("sms_stopped_at", UTCDateTime()),  # STOP by SMS or WhatsApp: the phone is silent
    Column("phone_channel", String(10)),  # how the phone is reached: whatsapp, else SMS
    Column("whatsapp_seen_at", UTCDateTime()),  # last WhatsApp message: the 24-hour window
    Column("preferred_channel", String(10)),  # telegram, sms or whatsapp; NULL: Telegram first
    Column("postcode", String(10)),
    Column("town", String(120)),
    Column("latitude", Float),
    Column("longitude", Float),
    Column("search_radius_km", Integer),
    Column("interests", JSON, nullable=False, default=list),
    Column("availability", JSON, nullable=False, default=dict),
    Column("timezone", String(64)),
    Column("registered_at", UTCDateTime()),
    Column("attended_count", Integer, nullable=False, default=0),
    Column("no_show_count", Integer, nullable=False, default=0),
    Column("erased_at", UTCDateTime()),  # /forget: personal data wiped, counts kept
    _created(),
    Column("updated_at", UTCDateTime(), nullable=False, default=now, onupdate=now),
)

organisations = Table(
    "organisations",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("name", String(200), nullable=False, unique=True),
    Column("postcode", String(10)),
    Column("invite_code", String(16), nullable=False, unique=True),
    Column("verified", Boolean, nullable=False, default=False),
    Column("timezone", String(64)),
    # Reminders and attendance, adjustable by coordinators; NULL switches one off.
    Column("remind_day_before_at", Integer, server_default=text("18")),  # local hour, day before
    Column("remind_hours_before", Integer, server_default=text("2")),
    Column("attendance_check", Boolean, nullable=False, server_default=true()),
    Column("offer_window_hours", Integer, nullable=False, server_default=text("12")),
    # Missions from a template by a verified organisation may skip the referent's review.
    Column("templates_skip_review", Boolean, nullable=False, server_default=true()),
    Column("ics_token", String(40), unique=True),  # the secret part of the iCal feed URL
    # Reactivity score (0-100) kept here: discovery ranks by it and cannot recompute it per
    # query. Refreshed when an application is decided and by the scheduler (0006).
    Column("reactivity", Integer),
    Column("reactivity_at", UTCDateTime()),
    _created(),
)

members = Table(
    "members",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("organisation_id", ForeignKey("organisations.id", ondelete="CASCADE"), nullable=False),
    Column("person_id", ForeignKey("people.id", ondelete="CASCADE"), nullable=False),
    Column("role", String(16), nullable=False),
    _created(),
    UniqueConstraint("organisation_id", "person_id", name="uq_members_organisation_person"),
    CheckConstraint("role in ('owner', 'coordinator')", name="role"),
)

admin_chats = Table(
    "admin_chats",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("organisation_id", ForeignKey("organisations.id", ondelete="CASCADE"), nullable=False),
    Column("telegram_chat_id", BigInteger, nullable=False, unique=True),
    Column("title", String(200)),
    Column("linked_by", ForeignKey("people.id", ondelete="SET NULL")),
    _created(),
)

referents = Table(
    "referents",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("person_id", ForeignKey("people.id", ondelete="CASCADE"), nullable=False),
    Column("territory", String(10), nullable=False),  # postcode prefix or département
    _created(),
    UniqueConstraint("person_id", "territory", name="uq_referents_person_territory"),
)

templates = Table(
    "templates",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("organisation_id", ForeignKey("organisations.id", ondelete="CASCADE")),
    Column("key", String(40), nullable=False),
    Column("title", String(200), nullable=False),
    Column("description", Text, nullable=False, default=""),
    Column("domain", String(32), nullable=False),
    Column("duration_minutes", Integer),
    Column("prerequisites", Text, nullable=False, default=""),
    Column("default_capacity", Integer, nullable=False, default=1),
    _created(),
)

missions = Table(
    "missions",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("organisation_id", ForeignKey("organisations.id", ondelete="CASCADE"), nullable=False),
    Column("template_id", ForeignKey("templates.id", ondelete="SET NULL")),
    Column("title", String(200), nullable=False),
    Column("description", Text, nullable=False, default=""),
    Column("domain", String(32), nullable=False),
    Column("address", String(300), nullable=False, default=""),
    Column("postcode", String(10)),
    Column("latitude", Float),
    Column("longitude", Float),
    Column("remote", Boolean, nullable=False, default=False),
    Column("timezone", String(64), nullable=False),
    Column("status", String(16), nullable=False, default="draft"),
    Column("created_by", ForeignKey("people.id", ondelete="SET NULL")),
    _created(),
    Column("published_at", UTCDateTime()),
    Column("closed_at", UTCDateTime()),
    # Moderation by the territory's referent, and the SMS keyword printed on posters.
    Column("review_note", Text),
    Column("reviewed_by", ForeignKey("people.id", ondelete="SET NULL")),
    Column("reviewed_at", UTCDateTime()),
    # What a volunteer must confirm before applying ("on the electoral roll of the
    # département"); None on rows older than the column, read as none.
    Column("conditions", JSON),
    Column("submitted_at", UTCDateTime()),  # last sent for review
    Column("review_reminded_at", UTCDateTime()),  # the referent reminded of it, once
    Column("keyword", String(20), unique=True),
    # Why a coordinator cancelled it, as they typed or chose it (0009).
    Column("cancel_reason", String(300)),
    # The organisation's kept reactivity score, copied here so that discovery walks remote
    # missions best score first down an index (bot.services.reactivity.refresh keeps it).
    Column("reactivity", Integer, nullable=False, server_default=text("50")),
    CheckConstraint(
        "status in ('draft', 'in_review', 'published', 'closed', 'cancelled')", name="status"
    ),
    Index("ix_missions_status_coords", "status", "latitude", "longitude"),
    Index("ix_missions_status_domain_coords", "status", "domain", "latitude", "longitude"),
    Index("ix_missions_remote_rank", "remote", "status", "reactivity", "id"),
    Index("ix_missions_organisation", "organisation_id"),  # an organisation's reactivity
)

slots = Table(
    "slots",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("mission_id", ForeignKey("missions.id", ondelete="CASCADE"), nullable=False),
    Column("starts_at", UTCDateTime(), nullable=False),
    Column("ends_at", UTCDateTime(), nullable=False),
    Column("capacity", Integer, nullable=False),
    # Kept in the transaction that changes an application (bot/services/places.py), so
    # discovery reads free places without counting applications (0006).
    Column("taken", Integer, nullable=False, server_default=text("0")),
    Column("waitlisted", Integer, nullable=False, server_default=text("0")),
    _created(),
    # A cancelled slot keeps its row (applications, history) with no place left (0009).
    Column("cancelled_at", UTCDateTime()),
    Column("cancel_reason", String(300)),
    CheckConstraint("capacity >= 0", name="capacity"),
    CheckConstraint("ends_at > starts_at", name="order"),
    Index("ix_slots_mission_starts", "mission_id", "starts_at"),
    Index("ix_slots_starts_at", "starts_at"),
    Index("ix_slots_mission_ends", "mission_id", "ends_at"),  # missions whose last slot ended
)

applications = Table(
    "applications",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("slot_id", ForeignKey("slots.id", ondelete="CASCADE"), nullable=False),
    Column("person_id", ForeignKey("people.id", ondelete="CASCADE"), nullable=False),
    Column("status", String(16), nullable=False),
    Column("reason", String(40)),
    Column("reason_note", Text),  # a refusal's reason in the coordinator's own words
    Column("conditions", JSON),  # the mission's conditions the volunteer confirmed
    Column("decided_by", ForeignKey("people.id", ondelete="SET NULL")),
    Column("decided_at", UTCDateTime()),
    # A waitlisted person offered a freed place, until they accept, decline or time runs out.
    Column("offer_expires_at", UTCDateTime()),
    Column("attendance_asked_at", UTCDateTime()),  # "Still coming?" sent
    Column("attendance_flagged_at", UTCDateTime()),  # no answer by H-1: coordinator told
    Column("nudged_at", UTCDateTime()),  # pending for 3 days: the admin group reminded
    Column("late_at", UTCDateTime()),  # pending for 7 days: marked late, volunteer told
    # pending the evening before the slot: in the admin group's list, volunteer told
    Column("evening_listed_at", UTCDateTime()),
    _created(),
    Column("updated_at", UTCDateTime(), nullable=False, default=now, onupdate=now),
    CheckConstraint(
        "status in ('pending', 'approved', 'refused', 'cancelled', 'waitlisted', 'confirmed',"
        " 'attended', 'no_show')",
        name="status",
    ),
    Index("ix_applications_slot_status", "slot_id", "status"),
    # An organisation's applications of the last months, without reading the rows (0014).
    Index("ix_applications_slot_created", "slot_id", "created_at", "status", "id"),
    Index("ix_applications_status_created", "status", "created_at"),
    Index("ix_applications_offer_expires", "offer_expires_at"),
    Index("ix_applications_person_status", "person_id", "status"),
    # Only the applications the 3-day and 7-day scans still have to look at (0007).
    Index(
        "ix_applications_nudge_due",
        "status",
        "created_at",
        sqlite_where=text("status = 'pending' AND nudged_at IS NULL"),
        postgresql_where=text("status = 'pending' AND nudged_at IS NULL"),
    ),
    Index(
        "ix_applications_late_due",
        "status",
        "created_at",
        sqlite_where=text("status = 'pending' AND late_at IS NULL"),
        postgresql_where=text("status = 'pending' AND late_at IS NULL"),
    ),
)

application_events = Table(
    "application_events",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("application_id", ForeignKey("applications.id", ondelete="CASCADE"), nullable=False),
    Column("from_status", String(16)),
    Column("to_status", String(16), nullable=False),
    Column("actor_id", ForeignKey("people.id", ondelete="SET NULL")),
    Column("reason", String(40)),
    Column("at", UTCDateTime(), nullable=False, default=now),
    Index("ix_application_events_application", "application_id"),
)

audit_log = Table(
    "audit_log",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("at", UTCDateTime(), nullable=False, default=now),
    Column("transaction", String(60), nullable=False),
    Column("actor_id", ForeignKey("people.id", ondelete="SET NULL")),
    Column("action", String(60), nullable=False),
    Column("subject_type", String(30), nullable=False),
    Column("subject_id", Integer),
    Column("details", JSON, nullable=False, default=dict),
)

outbox = Table(
    "outbox",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("kind", String(40), nullable=False),
    Column("person_id", ForeignKey("people.id", ondelete="CASCADE")),
    Column("chat_id", BigInteger),  # a group chat, when the recipient is not a person
    Column("channel", String(10)),  # chosen when sent: telegram or sms
    Column("payload", JSON, nullable=False, default=dict),
    Column("priority", Integer, nullable=False, default=5),  # lower goes first
    Column("status", String(12), nullable=False, default="pending"),
    Column("not_before", UTCDateTime(), nullable=False, default=now),
    Column("attempts", Integer, nullable=False, default=0),
    Column("last_error", String(300)),
    Column("provider_id", String(64)),
    # Scheduled notifications carry a key so a job run twice (restart, second worker)
    # enqueues them once: e.g. "reminder_day_before:application:42".
    Column("dedupe_key", String(120), unique=True),
    Column("delivery_status", String(20)),
    _created(),
    Column("sent_at", UTCDateTime()),
    # While 'sending' on PostgreSQL: the server process id of the claiming dispatcher's
    # presence session, so the others put its rows back as soon as that session is gone.
    Column("claimed_by", Integer),
    CheckConstraint(
        "status in ('pending', 'sending', 'sent', 'failed', 'cancelled')", name="status"
    ),
    CheckConstraint("person_id is not null or chat_id is not null", name="recipient"),
    Index("ix_outbox_due", "status", "priority", "not_before"),
)

posted_messages = Table(
    "posted_messages",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("subject_type", String(30), nullable=False),
    Column("subject_id", Integer, nullable=False),
    Column("chat_id", BigInteger, nullable=False),
    Column("message_id", BigInteger, nullable=False),
    _created(),
    Index("ix_posted_messages_subject", "subject_type", "subject_id"),
)

inbound_processed = Table(
    "inbound_processed",
    metadata,
    Column("channel", String(10), primary_key=True),
    Column("external_id", String(64), primary_key=True),
    Column("processed_at", UTCDateTime(), nullable=False, default=now),
)

conversations = Table(
    "conversations",
    metadata,
    Column("channel", String(10), primary_key=True),
    Column("chat_key", String(40), primary_key=True),
    Column("state", String(40), nullable=False),
    Column("data", JSON, nullable=False, default=dict),
    Column("updated_at", UTCDateTime(), nullable=False, default=now, onupdate=now),
)

button_payloads = Table(
    "button_payloads",
    metadata,
    Column("token", String(16), primary_key=True),
    Column("action", String(40), nullable=False),
    Column("data", JSON, nullable=False, default=dict),
    _created(),
)


callouts = Table(
    "callouts",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("organisation_id", ForeignKey("organisations.id", ondelete="CASCADE"), nullable=False),
    Column("slot_id", ForeignKey("slots.id", ondelete="CASCADE"), nullable=False),
    Column("needed", Integer, nullable=False),
    Column("status", String(12), nullable=False, default="active"),
    Column("radius_km", Integer),  # NULL: everywhere
    Column("domains", JSON, nullable=False, default=list),
    Column("channels", JSON, nullable=False, default=list),
    Column("urgent", Boolean, nullable=False, default=False),  # may wake people at night
    Column("wave_factor", Integer, nullable=False, default=3),  # people asked per place needed
    Column("wave_wait_minutes", Integer, nullable=False, default=15),
    Column("waves_sent", Integer, nullable=False, default=0),
    Column("next_wave_at", UTCDateTime()),
    # Matching people not asked yet, counted at the last targeting pass: a full pass over a
    # large register is too slow to repeat for every answer and status message (0004).
    Column("pool_left", Integer),
    Column("created_by", ForeignKey("people.id", ondelete="SET NULL")),
    _created(),
    Column("updated_at", UTCDateTime(), nullable=False, default=now, onupdate=now),
    Column("closed_at", UTCDateTime()),
    # The live status message in the admin group, and when it last showed the counts.
    Column("status_chat_id", BigInteger),
    Column("status_message_id", BigInteger),
    Column("status_rendered_at", UTCDateTime()),
    CheckConstraint("status in ('active', 'filled', 'stopped', 'exhausted')", name="status"),
    CheckConstraint("needed > 0", name="needed"),
    Index("ix_callouts_status_next_wave", "status", "next_wave_at"),
)

callout_recipients = Table(
    "callout_recipients",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("callout_id", ForeignKey("callouts.id", ondelete="CASCADE"), nullable=False),
    Column("person_id", ForeignKey("people.id", ondelete="CASCADE"), nullable=False),
    Column("wave", Integer, nullable=False),
    Column("rank", Integer, nullable=False),
    Column("distance_km", Float),
    Column("outbox_id", Integer),  # the message; cancelled while unsent once the need is met
    Column("answer", String(8)),  # yes / no
    Column("answered_at", UTCDateTime()),
    Column("outcome", String(12)),  # taken / waitlisted / declined
    _created(),
    UniqueConstraint("callout_id", "person_id", name="uq_callout_recipients_callout_person"),
    CheckConstraint("answer is null or answer in ('yes', 'no')", name="answer"),
    Index("ix_callout_recipients_callout_wave", "callout_id", "wave"),
    Index("ix_callout_recipients_person_created", "person_id", "created_at"),
)


relay_messages = Table(
    "relay_messages",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("organisation_id", ForeignKey("organisations.id", ondelete="CASCADE"), nullable=False),
    Column("person_id", ForeignKey("people.id", ondelete="CASCADE"), nullable=False),
    Column("mission_id", ForeignKey("missions.id", ondelete="SET NULL")),
    Column("direction", String(16), nullable=False),  # to_volunteer / to_organisation
    Column("sender_id", ForeignKey("people.id", ondelete="SET NULL")),
    Column("body", Text, nullable=False),
    # The copy in the admin group: a coordinator replying to it answers that volunteer.
    Column("group_chat_id", BigInteger),
    Column("group_message_id", BigInteger),
    _created(),
    CheckConstraint("direction in ('to_volunteer', 'to_organisation')", name="direction"),
    Index("ix_relay_messages_person_created", "person_id", "created_at"),
    Index("ix_relay_messages_group_message", "group_chat_id", "group_message_id"),
)

relay_blocks = Table(
    "relay_blocks",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("person_id", ForeignKey("people.id", ondelete="CASCADE"), nullable=False),
    Column("organisation_id", ForeignKey("organisations.id", ondelete="CASCADE"), nullable=False),
    _created(),
    UniqueConstraint("person_id", "organisation_id", name="uq_relay_blocks_person_organisation"),
)

# Whether an organisation may see the phone number a volunteer gave: asked once per
# organisation; no row means no.
phone_consents = Table(
    "phone_consents",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("person_id", ForeignKey("people.id", ondelete="CASCADE"), nullable=False),
    Column("organisation_id", ForeignKey("organisations.id", ondelete="CASCADE"), nullable=False),
    Column("allowed", Boolean, nullable=False),
    Column("decided_at", UTCDateTime(), nullable=False, default=now),
    UniqueConstraint("person_id", "organisation_id", name="uq_phone_consents_person_organisation"),
)


# The send budget several workers share when the database is PostgreSQL (without REDIS_URL):
# per key ("telegram", "telegram:<chat>", "sms"), the store's epoch second from which the
# next send may go. See bot/messaging/shared_budget.py.
rate_budgets = Table(
    "rate_budgets",
    metadata,
    Column("key", String(80), primary_key=True),
    Column("next_at", Float(precision=53), nullable=False),
)

# A referent's alert to the registered volunteers of a territory for an exceptional event;
# those who answer available are listed to the territory's organisations (0012).
territory_alerts = Table(
    "territory_alerts",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("territory", String(10), nullable=False),
    Column("created_by", ForeignKey("people.id", ondelete="SET NULL")),
    Column("text", String(500), nullable=False),
    Column("place_name", String(200)),  # NULL with no point: the whole territory
    Column("latitude", Float),
    Column("longitude", Float),
    Column("radius_km", Integer),
    Column("domains", JSON, nullable=False, default=list),
    Column("urgent", Boolean, nullable=False, default=False),
    _created(),
)

alert_recipients = Table(
    "alert_recipients",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("alert_id", ForeignKey("territory_alerts.id", ondelete="CASCADE"), nullable=False),
    Column("person_id", ForeignKey("people.id", ondelete="CASCADE"), nullable=False),
    Column("distance_km", Float),
    Column("outbox_id", Integer),
    Column("answer", String(8)),  # yes / no
    Column("answered_at", UTCDateTime()),
    _created(),
    UniqueConstraint("alert_id", "person_id", name="uq_alert_recipients_alert_person"),
    CheckConstraint("answer is null or answer in ('yes', 'no')", name="answer"),
    # The weekly cap counts alerts and callouts together.
    Index("ix_alert_recipients_person_created", "person_id", "created_at"),
)

# A slot an organisation offered to a volunteer available for an alert; accepting makes an
# approved application.
alert_offers = Table(
    "alert_offers",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("recipient_id", ForeignKey("alert_recipients.id", ondelete="CASCADE"), nullable=False),
    Column("slot_id", ForeignKey("slots.id", ondelete="CASCADE"), nullable=False),
    Column("organisation_id", ForeignKey("organisations.id", ondelete="CASCADE"), nullable=False),
    Column("offered_by", ForeignKey("people.id", ondelete="SET NULL")),
    Column("status", String(12), nullable=False, default="open"),
    Column("application_id", ForeignKey("applications.id", ondelete="SET NULL")),
    _created(),
    Column("answered_at", UTCDateTime()),
    UniqueConstraint("recipient_id", "slot_id", name="uq_alert_offers_recipient_slot"),
    CheckConstraint("status in ('open', 'accepted', 'declined', 'closed')", name="status"),
)


# Twilio Content API templates Renfort made (`renfort whatsapp templates`), by name and
# language, with WhatsApp's verdict on them.
whatsapp_templates = Table(
    "whatsapp_templates",
    metadata,
    Column("name", String(40), primary_key=True),
    Column("locale", String(8), primary_key=True),
    Column("content_sid", String(64), nullable=False),
    Column("status", String(20), nullable=False),
    Column("updated_at", UTCDateTime(), nullable=False, default=now, onupdate=now),
)

# One-time codes that join a phone (WhatsApp or SMS) to an existing profile.
link_codes = Table(
    "link_codes",
    metadata,
    Column("code", String(12), primary_key=True),
    Column("person_id", Integer, ForeignKey("people.id", ondelete="CASCADE"), nullable=False),
    Column("expires_at", UTCDateTime(), nullable=False),
)

# A coordinator's one-use link to the board in the browser, and the sessions it opens; only
# digests of the secrets are kept, so a copy of the database opens nothing (0013).
board_links = Table(
    "board_links",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("token_hash", String(64), nullable=False, unique=True),
    Column("person_id", ForeignKey("people.id", ondelete="CASCADE"), nullable=False),
    # Asked in an organisation's admin group: the session sees that organisation only.
    Column("organisation_id", ForeignKey("organisations.id", ondelete="CASCADE")),
    _created(),
    Column("expires_at", UTCDateTime(), nullable=False),
    Column("used_at", UTCDateTime()),
    Index("ix_board_links_person", "person_id"),
)

board_sessions = Table(
    "board_sessions",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("token_hash", String(64), nullable=False, unique=True),
    Column("person_id", ForeignKey("people.id", ondelete="CASCADE"), nullable=False),
    Column("organisation_id", ForeignKey("organisations.id", ondelete="CASCADE")),
    _created(),
    Column("expires_at", UTCDateTime(), nullable=False),
    Column("revoked_at", UTCDateTime()),
    Index("ix_board_sessions_person", "person_id"),
)

# A link to download a document (one's data) where a message cannot carry the file (SMS,
# WhatsApp through Twilio): only the secret's digest is kept, and what the document is,
# never its contents; it is built afresh when the link is opened (0016).
document_links = Table(
    "document_links",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("token_hash", String(64), nullable=False, unique=True),
    Column("person_id", ForeignKey("people.id", ondelete="CASCADE"), nullable=False),
    Column("kind", String(32), nullable=False),
    _created(),
    Column("expires_at", UTCDateTime(), nullable=False),
    Index("ix_document_links_person", "person_id"),
    Index("ix_document_links_expires_at", "expires_at"),
)

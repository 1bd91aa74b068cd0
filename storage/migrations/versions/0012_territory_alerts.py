"""territory alerts: a referent's alert to the volunteers of a territory, their answers,
and the slots organisations offer to those available

Revision ID: 0012
Revises: 0007
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0012"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # New tables only: no alert was ever sent before, so there is nothing to backfill.
    op.create_table(
        "territory_alerts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("territory", sa.String(length=10), nullable=False),
        sa.Column("created_by", sa.Integer(), nullable=True),
        sa.Column("text", sa.String(length=500), nullable=False),
        sa.Column("place_name", sa.String(length=200), nullable=True),
        sa.Column("latitude", sa.Float(), nullable=True),
        sa.Column("longitude", sa.Float(), nullable=True),
        sa.Column("radius_km", sa.Integer(), nullable=True),
        sa.Column("domains", sa.JSON(), nullable=False),
        sa.Column("urgent", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["created_by"],
            ["people.id"],
            name=op.f("fk_territory_alerts_created_by_people"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_territory_alerts")),
    )
    op.create_table(
        "alert_recipients",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("alert_id", sa.Integer(), nullable=False),
        sa.Column("person_id", sa.Integer(), nullable=False),
        sa.Column("distance_km", sa.Float(), nullable=True),
        sa.Column("outbox_id", sa.Integer(), nullable=True),
        sa.Column("answer", sa.String(length=8), nullable=True),
        sa.Column("answered_at", sa.DateTime(), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.CheckConstraint(
            "answer is null or answer in ('yes', 'no')", name=op.f("ck_alert_recipients_answer")
        ),
        sa.ForeignKeyConstraint(
            ["alert_id"],
            ["territory_alerts.id"],
            name=op.f("fk_alert_recipients_alert_id_territory_alerts"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["person_id"],
            ["people.id"],
            name=op.f("fk_alert_recipients_person_id_people"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_alert_recipients")),
        sa.UniqueConstraint("alert_id", "person_id", name="uq_alert_recipients_alert_person"),
    )
    op.create_index(
        "ix_alert_recipients_person_created", "alert_recipients", ["person_id", "created_at"]
    )
    op.create_table(
        "alert_offers",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("recipient_id", sa.Integer(), nullable=False),
        sa.Column("slot_id", sa.Integer(), nullable=False),
        sa.Column("organisation_id", sa.Integer(), nullable=False),
        sa.Column("offered_by", sa.Integer(), nullable=True),
        sa.Column("status", sa.String(length=12), nullable=False),
        sa.Column("application_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("answered_at", sa.DateTime(), nullable=True),
        sa.CheckConstraint(
            "status in ('open', 'accepted', 'declined', 'closed')",
            name=op.f("ck_alert_offers_status"),
        ),
        sa.ForeignKeyConstraint(
            ["recipient_id"],
            ["alert_recipients.id"],
            name=op.f("fk_alert_offers_recipient_id_alert_recipients"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["slot_id"],
            ["slots.id"],
            name=op.f("fk_alert_offers_slot_id_slots"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["organisation_id"],
            ["organisations.id"],
            name=op.f("fk_alert_offers_organisation_id_organisations"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["offered_by"],
            ["people.id"],
            name=op.f("fk_alert_offers_offered_by_people"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["application_id"],
            ["applications.id"],
            name=op.f("fk_alert_offers_application_id_applications"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_alert_offers")),
        sa.UniqueConstraint("recipient_id", "slot_id", name="uq_alert_offers_recipient_slot"),
    )


def downgrade() -> None:
    op.drop_table("alert_offers")
    op.drop_index("ix_alert_recipients_person_created", table_name="alert_recipients")
    op.drop_table("alert_recipients")
    op.drop_table("territory_alerts")

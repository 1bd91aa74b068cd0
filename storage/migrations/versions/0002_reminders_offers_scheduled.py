"""reminders, offers and scheduled notifications

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-26 22:06:05.577120
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("applications", schema=None) as batch_op:
        batch_op.add_column(sa.Column("offer_expires_at", sa.DateTime(), nullable=True))
        batch_op.add_column(sa.Column("attendance_asked_at", sa.DateTime(), nullable=True))
        batch_op.add_column(sa.Column("attendance_flagged_at", sa.DateTime(), nullable=True))
        batch_op.add_column(sa.Column("nudged_at", sa.DateTime(), nullable=True))
        batch_op.add_column(sa.Column("late_at", sa.DateTime(), nullable=True))
        batch_op.create_index("ix_applications_offer_expires", ["offer_expires_at"], unique=False)
        batch_op.create_index(
            "ix_applications_status_created", ["status", "created_at"], unique=False
        )

    with op.batch_alter_table("missions", schema=None) as batch_op:
        batch_op.add_column(sa.Column("closed_at", sa.DateTime(), nullable=True))

    with op.batch_alter_table("organisations", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                "remind_day_before_at", sa.Integer(), nullable=True, server_default=sa.text("18")
            )
        )
        batch_op.add_column(
            sa.Column(
                "remind_hours_before", sa.Integer(), nullable=True, server_default=sa.text("2")
            )
        )
        batch_op.add_column(
            sa.Column("attendance_check", sa.Boolean(), nullable=False, server_default=sa.true())
        )
        batch_op.add_column(
            sa.Column(
                "offer_window_hours", sa.Integer(), nullable=False, server_default=sa.text("12")
            )
        )

    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.add_column(sa.Column("dedupe_key", sa.String(length=120), nullable=True))
        batch_op.create_unique_constraint(batch_op.f("uq_outbox_dedupe_key"), ["dedupe_key"])


def downgrade() -> None:
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("uq_outbox_dedupe_key"), type_="unique")
        batch_op.drop_column("dedupe_key")

    with op.batch_alter_table("organisations", schema=None) as batch_op:
        batch_op.drop_column("offer_window_hours")
        batch_op.drop_column("attendance_check")
        batch_op.drop_column("remind_hours_before")
        batch_op.drop_column("remind_day_before_at")

    with op.batch_alter_table("missions", schema=None) as batch_op:
        batch_op.drop_column("closed_at")

    with op.batch_alter_table("applications", schema=None) as batch_op:
        batch_op.drop_index("ix_applications_status_created")
        batch_op.drop_index("ix_applications_offer_expires")
        batch_op.drop_column("late_at")
        batch_op.drop_column("nudged_at")
        batch_op.drop_column("attendance_flagged_at")
        batch_op.drop_column("attendance_asked_at")
        batch_op.drop_column("offer_expires_at")

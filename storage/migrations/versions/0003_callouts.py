"""callouts

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-26 22:28:07.963098
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "callouts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("organisation_id", sa.Integer(), nullable=False),
        sa.Column("slot_id", sa.Integer(), nullable=False),
        sa.Column("needed", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=12), nullable=False),
        sa.Column("radius_km", sa.Integer(), nullable=True),
        sa.Column("domains", sa.JSON(), nullable=False),
        sa.Column("channels", sa.JSON(), nullable=False),
        sa.Column("urgent", sa.Boolean(), nullable=False),
        sa.Column("wave_factor", sa.Integer(), nullable=False),
        sa.Column("wave_wait_minutes", sa.Integer(), nullable=False),
        sa.Column("waves_sent", sa.Integer(), nullable=False),
        sa.Column("next_wave_at", sa.DateTime(), nullable=True),
        sa.Column("created_by", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.Column("closed_at", sa.DateTime(), nullable=True),
        sa.Column("status_chat_id", sa.BigInteger(), nullable=True),
        sa.Column("status_message_id", sa.BigInteger(), nullable=True),
        sa.Column("status_rendered_at", sa.DateTime(), nullable=True),
        sa.CheckConstraint(
            "status in ('active', 'filled', 'stopped', 'exhausted')",
            name=op.f("ck_callouts_status"),
        ),
        sa.CheckConstraint("needed > 0", name=op.f("ck_callouts_needed")),
        sa.ForeignKeyConstraint(
            ["created_by"],
            ["people.id"],
            name=op.f("fk_callouts_created_by_people"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["organisation_id"],
            ["organisations.id"],
            name=op.f("fk_callouts_organisation_id_organisations"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["slot_id"], ["slots.id"], name=op.f("fk_callouts_slot_id_slots"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_callouts")),
    )
    with op.batch_alter_table("callouts", schema=None) as batch_op:
        batch_op.create_index(
            "ix_callouts_status_next_wave", ["status", "next_wave_at"], unique=False
        )

    op.create_table(
        "callout_recipients",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("callout_id", sa.Integer(), nullable=False),
        sa.Column("person_id", sa.Integer(), nullable=False),
        sa.Column("wave", sa.Integer(), nullable=False),
        sa.Column("rank", sa.Integer(), nullable=False),
        sa.Column("distance_km", sa.Float(), nullable=True),
        sa.Column("outbox_id", sa.Integer(), nullable=True),
        sa.Column("answer", sa.String(length=8), nullable=True),
        sa.Column("answered_at", sa.DateTime(), nullable=True),
        sa.Column("outcome", sa.String(length=12), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.CheckConstraint(
            "answer is null or answer in ('yes', 'no')", name=op.f("ck_callout_recipients_answer")
        ),
        sa.ForeignKeyConstraint(
            ["callout_id"],
            ["callouts.id"],
            name=op.f("fk_callout_recipients_callout_id_callouts"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["person_id"],
            ["people.id"],
            name=op.f("fk_callout_recipients_person_id_people"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_callout_recipients")),
        sa.UniqueConstraint("callout_id", "person_id", name="uq_callout_recipients_callout_person"),
    )
    with op.batch_alter_table("callout_recipients", schema=None) as batch_op:
        batch_op.create_index(
            "ix_callout_recipients_callout_wave", ["callout_id", "wave"], unique=False
        )
        batch_op.create_index(
            "ix_callout_recipients_person_created", ["person_id", "created_at"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("callout_recipients", schema=None) as batch_op:
        batch_op.drop_index("ix_callout_recipients_person_created")
        batch_op.drop_index("ix_callout_recipients_callout_wave")

    op.drop_table("callout_recipients")
    with op.batch_alter_table("callouts", schema=None) as batch_op:
        batch_op.drop_index("ix_callouts_status_next_wave")

    op.drop_table("callouts")

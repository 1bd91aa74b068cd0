"""organiser tools

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-26 22:44:21.164230
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "relay_blocks",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("person_id", sa.Integer(), nullable=False),
        sa.Column("organisation_id", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["organisation_id"],
            ["organisations.id"],
            name=op.f("fk_relay_blocks_organisation_id_organisations"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["person_id"],
            ["people.id"],
            name=op.f("fk_relay_blocks_person_id_people"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_relay_blocks")),
        sa.UniqueConstraint(
            "person_id", "organisation_id", name="uq_relay_blocks_person_organisation"
        ),
    )
    op.create_table(
        "relay_messages",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("organisation_id", sa.Integer(), nullable=False),
        sa.Column("person_id", sa.Integer(), nullable=False),
        sa.Column("mission_id", sa.Integer(), nullable=True),
        sa.Column("direction", sa.String(length=16), nullable=False),
        sa.Column("sender_id", sa.Integer(), nullable=True),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("group_chat_id", sa.BigInteger(), nullable=True),
        sa.Column("group_message_id", sa.BigInteger(), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.CheckConstraint(
            "direction in ('to_volunteer', 'to_organisation')",
            name=op.f("ck_relay_messages_direction"),
        ),
        sa.ForeignKeyConstraint(
            ["mission_id"],
            ["missions.id"],
            name=op.f("fk_relay_messages_mission_id_missions"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["organisation_id"],
            ["organisations.id"],
            name=op.f("fk_relay_messages_organisation_id_organisations"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["person_id"],
            ["people.id"],
            name=op.f("fk_relay_messages_person_id_people"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["sender_id"],
            ["people.id"],
            name=op.f("fk_relay_messages_sender_id_people"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_relay_messages")),
    )
    with op.batch_alter_table("relay_messages", schema=None) as batch_op:
        batch_op.create_index(
            "ix_relay_messages_group_message", ["group_chat_id", "group_message_id"], unique=False
        )
        batch_op.create_index(
            "ix_relay_messages_person_created", ["person_id", "created_at"], unique=False
        )

    with op.batch_alter_table("missions", schema=None) as batch_op:
        batch_op.add_column(sa.Column("review_note", sa.Text(), nullable=True))
        batch_op.add_column(sa.Column("reviewed_by", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("reviewed_at", sa.DateTime(), nullable=True))
        batch_op.add_column(sa.Column("keyword", sa.String(length=20), nullable=True))
        batch_op.create_unique_constraint(batch_op.f("uq_missions_keyword"), ["keyword"])
        batch_op.create_foreign_key(
            batch_op.f("fk_missions_reviewed_by_people"),
            "people",
            ["reviewed_by"],
            ["id"],
            ondelete="SET NULL",
        )

    with op.batch_alter_table("organisations", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                "templates_skip_review", sa.Boolean(), server_default=sa.true(), nullable=False
            )
        )
        batch_op.add_column(sa.Column("ics_token", sa.String(length=40), nullable=True))
        batch_op.create_unique_constraint(batch_op.f("uq_organisations_ics_token"), ["ics_token"])

    with op.batch_alter_table("people", schema=None) as batch_op:
        batch_op.add_column(sa.Column("erased_at", sa.DateTime(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("people", schema=None) as batch_op:
        batch_op.drop_column("erased_at")

    with op.batch_alter_table("organisations", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("uq_organisations_ics_token"), type_="unique")
        batch_op.drop_column("ics_token")
        batch_op.drop_column("templates_skip_review")

    with op.batch_alter_table("missions", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("fk_missions_reviewed_by_people"), type_="foreignkey")
        batch_op.drop_constraint(batch_op.f("uq_missions_keyword"), type_="unique")
        batch_op.drop_column("keyword")
        batch_op.drop_column("reviewed_at")
        batch_op.drop_column("reviewed_by")
        batch_op.drop_column("review_note")

    with op.batch_alter_table("relay_messages", schema=None) as batch_op:
        batch_op.drop_index("ix_relay_messages_person_created")
        batch_op.drop_index("ix_relay_messages_group_message")

    op.drop_table("relay_messages")
    op.drop_table("relay_blocks")

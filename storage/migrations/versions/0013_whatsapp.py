"""WhatsApp: the channel a person's phone is reached on, when they last wrote on WhatsApp
(the 24-hour window), a one-time code to link WhatsApp to an existing profile, and the
Content API templates Renfort created

Revision ID: 0013_whatsapp
Revises: 0012
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0013_whatsapp"
down_revision: str | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # NULL means SMS, as for everyone who wrote before WhatsApp existed here.
    op.add_column("people", sa.Column("phone_channel", sa.String(length=10), nullable=True))
    op.add_column("people", sa.Column("whatsapp_seen_at", sa.DateTime(), nullable=True))
    op.add_column("people", sa.Column("preferred_channel", sa.String(length=10), nullable=True))
    op.create_table(
        "whatsapp_templates",
        sa.Column("name", sa.String(length=40), nullable=False),
        sa.Column("locale", sa.String(length=8), nullable=False),
        sa.Column("content_sid", sa.String(length=64), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("name", "locale", name=op.f("pk_whatsapp_templates")),
    )
    op.create_table(
        "link_codes",
        sa.Column("code", sa.String(length=12), nullable=False),
        sa.Column("person_id", sa.Integer(), nullable=False),
        sa.Column("expires_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["person_id"],
            ["people.id"],
            name=op.f("fk_link_codes_person_id_people"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("code", name=op.f("pk_link_codes")),
    )


def downgrade() -> None:
    op.drop_table("link_codes")
    op.drop_table("whatsapp_templates")
    op.drop_column("people", "preferred_channel")
    op.drop_column("people", "whatsapp_seen_at")
    op.drop_column("people", "phone_channel")

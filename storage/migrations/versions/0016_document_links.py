"""links to download a document where a message cannot carry it

Revision ID: 0016_document_links
Revises: 0015_discovery_domains
Create Date: 2026-12-06 16:30:00.000000

A resident on SMS or WhatsApp asks for their data: Twilio can only point at a file by its
URL, so they get a link valid one hour. The table keeps the digest of the link's secret,
whose document it is and until when; the document itself is built when the link is opened.
A new table only: nothing existing changes, on SQLite as on PostgreSQL.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0016_document_links"
down_revision: str | None = "0015_discovery_domains"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "document_links",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("person_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("expires_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["person_id"],
            ["people.id"],
            name=op.f("fk_document_links_person_id_people"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_document_links")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_document_links_token_hash")),
    )
    op.create_index("ix_document_links_person", "document_links", ["person_id"])
    op.create_index("ix_document_links_expires_at", "document_links", ["expires_at"])


def downgrade() -> None:
    op.drop_index("ix_document_links_expires_at", table_name="document_links")
    op.drop_index("ix_document_links_person", table_name="document_links")
    op.drop_table("document_links")

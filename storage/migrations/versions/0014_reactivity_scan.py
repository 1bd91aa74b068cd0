"""an index for measuring an organisation's reactivity

Revision ID: 0014_reactivity_scan
Revises: 0013_board
Create Date: 2026-12-06 09:00:00.000000

Measuring an organisation reads every application of its slots created in the last 180 days:
with the creation time, status and id in the index, that read never visits the table rows
(thousands of random page reads for a large organisation on a database bigger than memory).
Both SQLite and PostgreSQL build it; existing rows are indexed as they stand.
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0014_reactivity_scan"
down_revision: str | None = "0013_board"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index(
        "ix_applications_slot_created",
        "applications",
        ["slot_id", "created_at", "status", "id"],
    )


def downgrade() -> None:
    op.drop_index("ix_applications_slot_created", table_name="applications")

"""indexes for the scheduler's scans

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-06 05:30:00.000000

Partial indexes hold only the rows a scan still has to look at (pending applications not
yet nudged or flagged late), so a tick reads a handful of entries however large the table
grows. They lead with status like ix_applications_status_created, or SQLite's planner
prefers that one and walks every pending application already nudged. Both SQLite and
PostgreSQL build them; existing rows are indexed as they stand.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

NUDGE_DUE = sa.text("status = 'pending' AND nudged_at IS NULL")
LATE_DUE = sa.text("status = 'pending' AND late_at IS NULL")


def upgrade() -> None:
    op.create_index("ix_slots_mission_ends", "slots", ["mission_id", "ends_at"])
    op.create_index(
        "ix_applications_nudge_due",
        "applications",
        ["status", "created_at"],
        sqlite_where=NUDGE_DUE,
        postgresql_where=NUDGE_DUE,
    )
    op.create_index(
        "ix_applications_late_due",
        "applications",
        ["status", "created_at"],
        sqlite_where=LATE_DUE,
        postgresql_where=LATE_DUE,
    )


def downgrade() -> None:
    op.drop_index("ix_applications_late_due", table_name="applications")
    op.drop_index("ix_applications_nudge_due", table_name="applications")
    op.drop_index("ix_slots_mission_ends", table_name="slots")

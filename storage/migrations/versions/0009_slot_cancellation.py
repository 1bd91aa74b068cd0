"""slot and mission cancellation by coordinators

Revision ID: 0009
Revises: 0005
Create Date: 2026-12-06 05:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Nothing was cancelled by a coordinator before this revision: NULL is every existing
    # row's true value (missions refused by a referent keep their review note instead).
    op.add_column("slots", sa.Column("cancelled_at", sa.DateTime(), nullable=True))
    op.add_column("slots", sa.Column("cancel_reason", sa.String(length=300), nullable=True))
    op.add_column("missions", sa.Column("cancel_reason", sa.String(length=300), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("missions") as batch:
        batch.drop_column("cancel_reason")
    with op.batch_alter_table("slots") as batch:
        batch.drop_column("cancel_reason")
        batch.drop_column("cancelled_at")

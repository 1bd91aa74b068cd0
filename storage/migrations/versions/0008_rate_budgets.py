"""rate budgets shared by the workers, and who claimed an outbox row

Revision ID: 0008
Revises: 0010
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # A new table: nothing to backfill, an empty budget means every key is free now.
    op.create_table(
        "rate_budgets",
        sa.Column("key", sa.String(length=80), nullable=False),
        sa.Column("next_at", sa.Float(precision=53), nullable=False),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_rate_budgets")),
    )
    # Rows being sent now were claimed by a dispatcher of the previous version: NULL leaves
    # them to the claim's lease, as before.
    with op.batch_alter_table("outbox") as batch:
        batch.add_column(sa.Column("claimed_by", sa.Integer(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("outbox") as batch:
        batch.drop_column("claimed_by")
    op.drop_table("rate_budgets")

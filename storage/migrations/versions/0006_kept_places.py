"""places kept on slots, reactivity kept on organisations

Revision ID: 0006
Revises: 0008
Create Date: 2026-12-06 05:20:00.000000
"""

from collections.abc import Sequence
from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

HOLDING = "('pending', 'approved', 'confirmed')"


def upgrade() -> None:
    # Plain ALTER TABLE on both engines: a batch copy of these tables on SQLite drops the
    # old one, and with foreign keys on that deletes every application (ON DELETE CASCADE).
    op.add_column(
        "slots", sa.Column("taken", sa.Integer(), nullable=False, server_default=sa.text("0"))
    )
    op.add_column(
        "slots",
        sa.Column("waitlisted", sa.Integer(), nullable=False, server_default=sa.text("0")),
    )
    op.add_column("organisations", sa.Column("reactivity", sa.Integer(), nullable=True))
    op.add_column("organisations", sa.Column("reactivity_at", sa.DateTime(), nullable=True))
    op.add_column(
        "missions",
        sa.Column("reactivity", sa.Integer(), nullable=False, server_default=sa.text("50")),
    )
    op.create_index("ix_missions_remote_rank", "missions", ["remote", "status", "reactivity", "id"])
    # The same rule as bot.services.places.takes_a_place, written out: a migration must
    # not change meaning when the code later does.
    op.execute(
        "UPDATE slots SET"
        " taken = (SELECT count(*) FROM applications a WHERE a.slot_id = slots.id"
        f" AND (a.status IN {HOLDING}"
        " OR (a.status = 'waitlisted' AND a.offer_expires_at IS NOT NULL))),"
        " waitlisted = (SELECT count(*) FROM applications a WHERE a.slot_id = slots.id"
        " AND a.status = 'waitlisted')"
    )
    op.create_index("ix_missions_organisation", "missions", ["organisation_id"])
    _backfill_reactivity()
    op.execute(
        "UPDATE missions SET reactivity = coalesce((SELECT o.reactivity FROM organisations o"
        " WHERE o.id = missions.organisation_id), 50)"
    )


def _backfill_reactivity() -> None:
    from bot.services import reactivity

    bind = op.get_bind()
    now = datetime.now(UTC)
    scored = reactivity.fold(bind.execute(reactivity.answers_query(now)).all(), now)
    organisations = sa.table(
        "organisations",
        sa.column("id", sa.Integer),
        sa.column("reactivity", sa.Integer),
        sa.column("reactivity_at", sa.DateTime),
    )
    for organisation_id, measured in scored.items():
        op.execute(
            organisations.update()
            .where(organisations.c.id == organisation_id)
            .values(reactivity=measured.score, reactivity_at=now.replace(tzinfo=None))
        )


def downgrade() -> None:
    op.drop_index("ix_missions_remote_rank", table_name="missions")
    op.drop_index("ix_missions_organisation", table_name="missions")
    # DROP COLUMN in place (SQLite 3.35+), for the same reason as above.
    for table, column in (
        ("missions", "reactivity"),
        ("organisations", "reactivity_at"),
        ("organisations", "reactivity"),
        ("slots", "waitlisted"),
        ("slots", "taken"),
    ):
        op.execute(f"ALTER TABLE {table} DROP COLUMN {column}")

"""an index for discovering missions of some domains near a place

Revision ID: 0015_discovery_domains
Revises: 0014_reactivity_scan
Create Date: 2026-12-06 13:30:00.000000

Discovery with a domain filter reads the nearest published missions of those domains in a
box around the person: with the domain before the coordinates, that read walks only the
missions of those domains, in the index alone, instead of visiting every mission of the box
to look at its domain (thousands of table rows for a wide ring). Both SQLite and PostgreSQL
build it; existing rows are indexed as they stand.
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0015_discovery_domains"
down_revision: str | None = "0014_reactivity_scan"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index(
        "ix_missions_status_domain_coords",
        "missions",
        ["status", "domain", "latitude", "longitude"],
    )


def downgrade() -> None:
    op.drop_index("ix_missions_status_domain_coords", table_name="missions")

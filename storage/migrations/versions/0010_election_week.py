"""election week: which organisation may see a volunteer's phone number, a refusal's
reason in the coordinator's words, when a mission was sent for review, the evening list
of pending applications

Revision ID: 0010
Revises: 0009
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # No backfill: until now a shared number was meant for SMS only, and the volunteer was
    # told no organisation would see it, so no organisation has been allowed yet.
    op.create_table(
        "phone_consents",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("person_id", sa.Integer(), nullable=False),
        sa.Column("organisation_id", sa.Integer(), nullable=False),
        sa.Column("allowed", sa.Boolean(), nullable=False),
        sa.Column("decided_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["organisation_id"],
            ["organisations.id"],
            name=op.f("fk_phone_consents_organisation_id_organisations"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["person_id"],
            ["people.id"],
            name=op.f("fk_phone_consents_person_id_people"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_phone_consents")),
        sa.UniqueConstraint(
            "person_id", "organisation_id", name="uq_phone_consents_person_organisation"
        ),
    )

    # Existing refusals carry their reason's key only: no note, as before.
    with op.batch_alter_table("applications") as batch:
        batch.add_column(sa.Column("reason_note", sa.Text(), nullable=True))
        # Not listed yet: a pending application for tomorrow is listed at the next evening.
        batch.add_column(sa.Column("evening_listed_at", sa.DateTime(), nullable=True))
        # Applications made before conditions existed confirmed none.
        batch.add_column(sa.Column("conditions", sa.JSON(), nullable=True))
    with op.batch_alter_table("missions") as batch:
        batch.add_column(sa.Column("submitted_at", sa.DateTime(), nullable=True))
        batch.add_column(sa.Column("review_reminded_at", sa.DateTime(), nullable=True))
        batch.add_column(sa.Column("conditions", sa.JSON(), nullable=True))
    # A mission already waiting was sent for review at the latest "mission.submitted" of the
    # audit log, or when it was created (missions go to review as they are created).
    op.execute(
        "UPDATE missions SET submitted_at = COALESCE("
        " (SELECT MAX(audit_log.at) FROM audit_log"
        "  WHERE audit_log.action = 'mission.submitted'"
        "  AND audit_log.subject_type = 'mission' AND audit_log.subject_id = missions.id),"
        " missions.created_at)"
        " WHERE status = 'in_review'"
    )
    _backfill_conditions()


# The built-in templates' prerequisites as missions made from them carry them in their
# description: the English text, or its French translation of this version.
BUILTIN_CONDITIONS = {
    "Be on the electoral roll of the département.": (
        "Être inscrit sur les listes électorales du département."
    ),
    "Be a voter who can read and write French.": (
        "Être électeur et savoir lire et écrire le français."
    ),
    "Experience with children; a criminal record check may be asked.": (
        "Expérience avec les enfants ; un extrait de casier judiciaire peut être demandé."
    ),
}


def _backfill_conditions() -> None:
    """Missions made from a template with prerequisites get them as conditions, in the
    language their description shows; an organisation's own template's text as typed."""
    bind = op.get_bind()
    rows = bind.execute(
        sa.text(
            "SELECT missions.id, missions.description, templates.prerequisites,"
            " templates.organisation_id FROM missions JOIN templates"
            " ON templates.id = missions.template_id WHERE templates.prerequisites <> ''"
        )
    ).all()
    missions = sa.table("missions", sa.column("id", sa.Integer), sa.column("conditions", sa.JSON))
    for mission_id, description, prerequisite, organisation_id in rows:
        condition = prerequisite
        french = BUILTIN_CONDITIONS.get(prerequisite)
        if organisation_id is None and french is not None and french in (description or ""):
            condition = french
        bind.execute(
            missions.update().where(missions.c.id == mission_id).values(conditions=[condition])
        )


def downgrade() -> None:
    with op.batch_alter_table("applications") as batch:
        batch.drop_column("evening_listed_at")
        batch.drop_column("reason_note")
    with op.batch_alter_table("missions") as batch:
        batch.drop_column("review_reminded_at")
        batch.drop_column("submitted_at")
    op.drop_table("phone_consents")

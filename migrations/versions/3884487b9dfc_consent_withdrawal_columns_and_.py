"""Consent: withdrawal columns, immutable consent versions, append-only consent events.

`withdrawn_at` on encounters and tickets marks a tombstone (a ticket can be withdrawn before
its upload arrives). On SQLite, triggers make the database itself refuse what the services
refuse: any UPDATE of a consent version, the DELETE of one an encounter records, and any
UPDATE or DELETE of a consent event.

Revision ID: 3884487b9dfc
Revises: f046ff5fe6ca
Create Date: 2026-11-21 02:15:30.988902

"""

import sqlalchemy as sa
from alembic import op

import fieldapp.database

# revision identifiers, used by Alembic.
revision = "3884487b9dfc"
down_revision = "f046ff5fe6ca"
branch_labels = None
depends_on = None

TRIGGERS = {
    "consent_versions_no_update": """
        CREATE TRIGGER consent_versions_no_update BEFORE UPDATE ON consent_versions
        BEGIN
            SELECT RAISE(ABORT, 'consent versions are immutable: publish a new version');
        END""",
    "consent_versions_no_delete_used": """
        CREATE TRIGGER consent_versions_no_delete_used BEFORE DELETE ON consent_versions
        WHEN EXISTS (SELECT 1 FROM encounters WHERE consent_version_id = OLD.id)
        BEGIN
            SELECT RAISE(ABORT, 'this consent version is recorded by an encounter');
        END""",
    "consent_events_no_update": """
        CREATE TRIGGER consent_events_no_update BEFORE UPDATE ON consent_events
        BEGIN
            SELECT RAISE(ABORT, 'consent events are append-only');
        END""",
    "consent_events_no_delete": """
        CREATE TRIGGER consent_events_no_delete BEFORE DELETE ON consent_events
        BEGIN
            SELECT RAISE(ABORT, 'consent events are append-only');
        END""",
}


def upgrade():
    with op.batch_alter_table("encounters", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("withdrawn_at", fieldapp.database.UTCDateTime(), nullable=True)
        )

    with op.batch_alter_table("tickets", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("withdrawn_at", fieldapp.database.UTCDateTime(), nullable=True)
        )

    if op.get_bind().dialect.name == "sqlite":
        for statement in TRIGGERS.values():
            op.execute(statement)


def downgrade():
    if op.get_bind().dialect.name == "sqlite":
        for name in TRIGGERS:
            op.execute(f"DROP TRIGGER IF EXISTS {name}")

    with op.batch_alter_table("tickets", schema=None) as batch_op:
        batch_op.drop_column("withdrawn_at")

    with op.batch_alter_table("encounters", schema=None) as batch_op:
        batch_op.drop_column("withdrawn_at")

"""Consent: withdrawal columns, immutable consent versions, append-only consent events.

`withdrawn_at` on encounters and tickets marks a tombstone (a ticket can be withdrawn before
its upload arrives). Triggers make the database itself refuse what the services refuse: any
UPDATE of a consent version, the DELETE of one an encounter records, and any UPDATE or DELETE
of a consent event (SQLite triggers, or plpgsql ones on PostgreSQL, which also refuse TRUNCATE).

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

# PostgreSQL: the same rules as plpgsql trigger functions. TRUNCATE skips row triggers, so it
# is refused by a statement trigger of its own.
POSTGRESQL_FUNCTIONS = {
    "fieldapp_refuse": """
        CREATE FUNCTION fieldapp_refuse() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            RAISE EXCEPTION '%', TG_ARGV[0] USING ERRCODE = 'restrict_violation';
        END $$""",
    "fieldapp_refuse_delete_used_version": """
        CREATE FUNCTION fieldapp_refuse_delete_used_version() RETURNS trigger
        LANGUAGE plpgsql AS $$
        BEGIN
            IF EXISTS (SELECT 1 FROM encounters WHERE consent_version_id = OLD.id) THEN
                RAISE EXCEPTION 'this consent version is recorded by an encounter'
                    USING ERRCODE = 'restrict_violation';
            END IF;
            RETURN OLD;
        END $$""",
}
IMMUTABLE = "'consent versions are immutable: publish a new version'"
APPEND_ONLY = "'consent events are append-only'"
POSTGRESQL_TRIGGERS = {
    ("consent_versions", "consent_versions_no_update"): (
        f"BEFORE UPDATE ON consent_versions FOR EACH ROW EXECUTE FUNCTION fieldapp_refuse({IMMUTABLE})"
    ),
    ("consent_versions", "consent_versions_no_delete_used"): (
        "BEFORE DELETE ON consent_versions FOR EACH ROW "
        "EXECUTE FUNCTION fieldapp_refuse_delete_used_version()"
    ),
    ("consent_versions", "consent_versions_no_truncate"): (
        f"BEFORE TRUNCATE ON consent_versions FOR EACH STATEMENT EXECUTE FUNCTION fieldapp_refuse({IMMUTABLE})"
    ),
    ("consent_events", "consent_events_no_update"): (
        f"BEFORE UPDATE ON consent_events FOR EACH ROW EXECUTE FUNCTION fieldapp_refuse({APPEND_ONLY})"
    ),
    ("consent_events", "consent_events_no_delete"): (
        f"BEFORE DELETE ON consent_events FOR EACH ROW EXECUTE FUNCTION fieldapp_refuse({APPEND_ONLY})"
    ),
    ("consent_events", "consent_events_no_truncate"): (
        f"BEFORE TRUNCATE ON consent_events FOR EACH STATEMENT EXECUTE FUNCTION fieldapp_refuse({APPEND_ONLY})"
    ),
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

    dialect = op.get_bind().dialect.name
    if dialect == "sqlite":
        for statement in TRIGGERS.values():
            op.execute(statement)
    elif dialect == "postgresql":
        for statement in POSTGRESQL_FUNCTIONS.values():
            op.execute(statement)
        for (table, name), definition in POSTGRESQL_TRIGGERS.items():
            op.execute(f"CREATE TRIGGER {name} {definition}")


def downgrade():
    dialect = op.get_bind().dialect.name
    if dialect == "sqlite":
        for name in TRIGGERS:
            op.execute(f"DROP TRIGGER IF EXISTS {name}")
    elif dialect == "postgresql":
        for table, name in POSTGRESQL_TRIGGERS:
            op.execute(f"DROP TRIGGER IF EXISTS {name} ON {table}")
        for name in POSTGRESQL_FUNCTIONS:
            op.execute(f"DROP FUNCTION IF EXISTS {name}()")

    with op.batch_alter_table("tickets", schema=None) as batch_op:
        batch_op.drop_column("withdrawn_at")

    with op.batch_alter_table("encounters", schema=None) as batch_op:
        batch_op.drop_column("withdrawn_at")

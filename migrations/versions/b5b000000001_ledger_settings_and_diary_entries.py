"""Ledger settings, running ledger tallies kept by triggers, and diary entries.

`ledger_tallies` holds, per dimension (total, venue, time limit, hour, weekday, week, day in
the room's clock) and kind (drawing, withdrawn, declined), how many encounters and how long
they took. Triggers on `encounters` keep it current for every writer: an insert adds the row
to its buckets, a delete takes it out, an update of a column the ledger reads moves it. The
existing encounters are tallied here once.

If a later migration recreates `encounters` (Alembic batch mode on SQLite copies the table and
drops the old one, triggers included), it must call `create_tally_triggers()` again; the ledger
tests fail if the triggers are missing.

Revision ID: b5b000000001
Revises: b6a000000001
Create Date: 2026-11-21 03:02:32.949409

"""

import sqlalchemy as sa
from alembic import op

import fieldapp.database  # noqa: F401  (UTCDateTime in column types)

# revision identifiers, used by Alembic.
revision = "b5b000000001"
down_revision = "b6a000000001"
branch_labels = None
depends_on = None

COLUMNS = (
    "dimension, bucket, kind, encounters, drawer_seconds, drawer_timed, collector_seconds, "
    "collector_timed"
)
WATCHED = (
    "status, withdrawn_at, venue_type, time_limit_seconds, started_at, utc_offset_minutes, "
    "drawing_started_at, drawing_finished_at"
)
UPSERT = (
    "ON CONFLICT (dimension, bucket, kind) DO UPDATE SET "
    "encounters = ledger_tallies.encounters + excluded.encounters, "
    "drawer_seconds = ledger_tallies.drawer_seconds + excluded.drawer_seconds, "
    "drawer_timed = ledger_tallies.drawer_timed + excluded.drawer_timed, "
    "collector_seconds = ledger_tallies.collector_seconds + excluded.collector_seconds, "
    "collector_timed = ledger_tallies.collector_timed + excluded.collector_timed"
)


def _kind(r: str) -> str:
    return (
        f"CASE WHEN {r}.status = 'declined' THEN 'declined' "
        f"WHEN {r}.withdrawn_at IS NOT NULL THEN 'withdrawn' ELSE 'drawing' END"
    )


def _sqlite(r: str) -> dict:
    """Bucket and duration expressions of row `r` (NEW, OLD or a table alias) for SQLite."""
    shifted = f"{r}.started_at, {r}.utc_offset_minutes || ' minutes'"
    return {
        "buckets": [
            ("total", "''"),
            ("venue", f"{r}.venue_type"),
            ("limit", f"COALESCE(CAST({r}.time_limit_seconds AS TEXT), 'none')"),
            ("hour", f"CAST(CAST(strftime('%H', {shifted}) AS INTEGER) AS TEXT)"),
            ("weekday", f"strftime('%w', {shifted})"),
            ("week", f"date({shifted}, 'weekday 0', '-6 days')"),
            ("day", f"date({shifted})"),
        ],
        "drawer": f"((julianday({r}.drawing_finished_at) - julianday({r}.drawing_started_at)) * 86400.0)",
        "collector": f"((julianday({r}.drawing_finished_at) - julianday({r}.started_at)) * 86400.0)",
        "timed": "({} IS NOT NULL)",
    }


def _postgresql(r: str) -> dict:
    shifted = f"({r}.started_at + make_interval(mins => {r}.utc_offset_minutes))"
    return {
        "buckets": [
            ("total", "''"),
            ("venue", f"{r}.venue_type"),
            ("limit", f"COALESCE(CAST({r}.time_limit_seconds AS TEXT), 'none')"),
            ("hour", f"CAST(CAST(EXTRACT(HOUR FROM {shifted}) AS INTEGER) AS TEXT)"),
            ("weekday", f"CAST(CAST(EXTRACT(DOW FROM {shifted}) AS INTEGER) AS TEXT)"),
            ("week", f"to_char(date_trunc('week', {shifted}), 'YYYY-MM-DD')"),
            ("day", f"to_char({shifted}, 'YYYY-MM-DD')"),
        ],
        "drawer": f"EXTRACT(EPOCH FROM ({r}.drawing_finished_at - {r}.drawing_started_at))",
        "collector": f"EXTRACT(EPOCH FROM ({r}.drawing_finished_at - {r}.started_at))",
        "timed": "CAST({} IS NOT NULL AS INTEGER)",
    }


def _row_values(x: dict, r: str, sign: int | str, dimension: str, bucket: str) -> str:
    drawer, collector, timed = x["drawer"], x["collector"], x["timed"]
    return (
        f"'{dimension}', {bucket}, {_kind(r)}, {sign}, "
        f"{sign} * COALESCE({drawer}, 0), {sign} * {timed.format(drawer)}, "
        f"{sign} * COALESCE({collector}, 0), {sign} * {timed.format(collector)}"
    )


def _sqlite_tally(r: str, sign: int) -> str:
    x = _sqlite(r)
    # "WHERE true": SQLite's documented way to let ON CONFLICT follow an INSERT ... SELECT.
    selects = " UNION ALL ".join(
        f"SELECT {_row_values(x, r, sign, d, b)} WHERE true" for d, b in x["buckets"]
    )
    return f"INSERT INTO ledger_tallies ({COLUMNS}) {selects} {UPSERT}"


def _backfill(x_of) -> list[str]:
    x = x_of("e")
    statements = []
    for dimension, bucket in x["buckets"]:
        statements.append(
            f"INSERT INTO ledger_tallies ({COLUMNS}) "
            f"SELECT '{dimension}', {bucket}, {_kind('e')}, COUNT(*), "
            f"COALESCE(SUM({x['drawer']}), 0), COUNT({x['drawer']}), "
            f"COALESCE(SUM({x['collector']}), 0), COUNT({x['collector']}) "
            f"FROM encounters e GROUP BY 2, 3"
        )
    return statements


def create_tally_triggers() -> None:
    """The triggers that keep ledger_tallies in step with encounters (per dialect)."""
    dialect = op.get_bind().dialect.name
    if dialect == "sqlite":
        op.execute(
            "CREATE TRIGGER ledger_tally_insert AFTER INSERT ON encounters "
            f"BEGIN {_sqlite_tally('NEW', 1)}; END"
        )
        op.execute(
            "CREATE TRIGGER ledger_tally_delete AFTER DELETE ON encounters "
            f"BEGIN {_sqlite_tally('OLD', -1)}; END"
        )
        op.execute(
            f"CREATE TRIGGER ledger_tally_update AFTER UPDATE OF {WATCHED} ON encounters "
            f"BEGIN {_sqlite_tally('OLD', -1)}; {_sqlite_tally('NEW', 1)}; END"
        )
    elif dialect == "postgresql":
        x = _postgresql("r")
        # ledger_tally(row, 1) adds the row to its buckets, ledger_tally(row, -1) takes it out.
        values = ", ".join(f"({_row_values(x, 'r', 'sign', d, b)})" for d, b in x["buckets"])
        op.execute(
            "CREATE FUNCTION ledger_tally(r encounters, sign integer) RETURNS void "
            f"LANGUAGE sql AS $$ INSERT INTO ledger_tallies ({COLUMNS}) VALUES {values} {UPSERT} $$"
        )
        op.execute(
            "CREATE FUNCTION ledger_tally_trigger() RETURNS trigger LANGUAGE plpgsql AS $$ "
            "BEGIN "
            "IF TG_OP IN ('UPDATE', 'DELETE') THEN PERFORM ledger_tally(OLD, -1); END IF; "
            "IF TG_OP IN ('UPDATE', 'INSERT') THEN PERFORM ledger_tally(NEW, 1); END IF; "
            "RETURN NULL; "
            "END $$"
        )
        op.execute(
            f"CREATE TRIGGER ledger_tally AFTER INSERT OR DELETE OR UPDATE OF {WATCHED} "
            "ON encounters FOR EACH ROW EXECUTE FUNCTION ledger_tally_trigger()"
        )
    else:
        raise NotImplementedError(f"ledger tally triggers for {dialect}")


def drop_tally_triggers() -> None:
    dialect = op.get_bind().dialect.name
    if dialect == "sqlite":
        for name in ("insert", "delete", "update"):
            op.execute(f"DROP TRIGGER IF EXISTS ledger_tally_{name}")
    elif dialect == "postgresql":
        op.execute("DROP TRIGGER IF EXISTS ledger_tally ON encounters")
        op.execute("DROP FUNCTION IF EXISTS ledger_tally_trigger()")
        op.execute("DROP FUNCTION IF EXISTS ledger_tally(encounters, integer)")


def upgrade():
    op.create_table(
        "diary_entries",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("entry_date", sa.Date(), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("public", sa.Boolean(), nullable=False),
        sa.Column("created_at", fieldapp.database.UTCDateTime(), nullable=False),
        sa.Column("updated_at", fieldapp.database.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_diary_entries")),
    )
    with op.batch_alter_table("diary_entries", schema=None) as batch_op:
        batch_op.create_index(
            "ix_diary_entries_public_date", ["public", "entry_date", "id"], unique=False
        )

    op.create_table(
        "ledger_settings",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("goal", sa.Integer(), nullable=False),
        sa.Column("updated_at", fieldapp.database.UTCDateTime(), nullable=False),
        sa.CheckConstraint("goal > 0", name=op.f("ck_ledger_settings_goal_positive")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ledger_settings")),
    )

    op.create_table(
        "ledger_tallies",
        sa.Column("dimension", sa.String(length=16), nullable=False),
        sa.Column("bucket", sa.String(length=32), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("encounters", sa.Integer(), nullable=False),
        sa.Column("drawer_seconds", sa.Float(), nullable=False),
        sa.Column("drawer_timed", sa.Integer(), nullable=False),
        sa.Column("collector_seconds", sa.Float(), nullable=False),
        sa.Column("collector_timed", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("dimension", "bucket", "kind", name=op.f("pk_ledger_tallies")),
    )
    dialect = op.get_bind().dialect.name
    for statement in _backfill(_sqlite if dialect == "sqlite" else _postgresql):
        op.execute(statement)
    create_tally_triggers()


def downgrade():
    drop_tally_triggers()
    op.drop_table("ledger_tallies")
    op.drop_table("ledger_settings")
    with op.batch_alter_table("diary_entries", schema=None) as batch_op:
        batch_op.drop_index("ix_diary_entries_public_date")
    op.drop_table("diary_entries")

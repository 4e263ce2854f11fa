"""Ledger tallies per person, and an index on encounters by who recorded them.

The ledger's running tallies (b5b000000001) get one more dimension, `person`: its bucket is
the `recorded_by_id` of the encounter as text, "" for one recorded without an account. The
ledger's "who did the work" and a helper's own counts then read a few tally rows instead of
grouping the whole `encounters` table. The triggers are recreated with the extra bucket, the
update trigger also watches `recorded_by_id`, and the existing encounters are tallied per
person here once.

`ix_encounters_recorded_by_id_started_at_id` serves what a helper reads of its own encounters
(the newest first: its list, its last venue). It is a plain CREATE INDEX: a batch copy of
`encounters` would drop the tally triggers.

From here on, a migration that recreates `encounters` must call this module's
`create_tally_triggers()` (a copy of it: migrations cannot import each other), not
b5b000000001's, which lacks the person bucket.

Revision ID: b8b000000001
Revises: b8a000000001
Create Date: 2026-12-06 16:10:00

"""

from alembic import op

# revision identifiers, used by Alembic.
revision = "b8b000000001"
down_revision = "b8a000000001"
branch_labels = None
depends_on = None

INDEX = "ix_encounters_recorded_by_id_started_at_id"
COLUMNS = (
    "dimension, bucket, kind, encounters, drawer_seconds, drawer_timed, collector_seconds, "
    "collector_timed"
)
# b5b000000001's watched columns; the person dimension adds recorded_by_id.
WATCHED_WITHOUT_PERSON = (
    "status, withdrawn_at, venue_type, time_limit_seconds, started_at, utc_offset_minutes, "
    "drawing_started_at, drawing_finished_at"
)
WATCHED = f"{WATCHED_WITHOUT_PERSON}, recorded_by_id"
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


def _person(r: str) -> tuple[str, str]:
    """The person bucket, the same on both dialects: the account's id as text, "" for none."""
    return ("person", f"COALESCE(CAST({r}.recorded_by_id AS TEXT), '')")


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
            _person(r),
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
            _person(r),
        ],
        "drawer": f"EXTRACT(EPOCH FROM ({r}.drawing_finished_at - {r}.drawing_started_at))",
        "collector": f"EXTRACT(EPOCH FROM ({r}.drawing_finished_at - {r}.started_at))",
        "timed": "CAST({} IS NOT NULL AS INTEGER)",
    }


def _expressions(r: str, *, person: bool) -> dict:
    """The current dialect's expressions of row `r`; `person=False`: b5b000000001's buckets."""
    x = (_sqlite if op.get_bind().dialect.name == "sqlite" else _postgresql)(r)
    if not person:
        x["buckets"] = [(d, b) for d, b in x["buckets"] if d != "person"]
    return x


def _row_values(x: dict, r: str, sign: int | str, dimension: str, bucket: str) -> str:
    drawer, collector, timed = x["drawer"], x["collector"], x["timed"]
    return (
        f"'{dimension}', {bucket}, {_kind(r)}, {sign}, "
        f"{sign} * COALESCE({drawer}, 0), {sign} * {timed.format(drawer)}, "
        f"{sign} * COALESCE({collector}, 0), {sign} * {timed.format(collector)}"
    )


def _sqlite_tally(r: str, sign: int, *, person: bool) -> str:
    x = _expressions(r, person=person)
    # "WHERE true": SQLite's documented way to let ON CONFLICT follow an INSERT ... SELECT.
    selects = " UNION ALL ".join(
        f"SELECT {_row_values(x, r, sign, d, b)} WHERE true" for d, b in x["buckets"]
    )
    return f"INSERT INTO ledger_tallies ({COLUMNS}) {selects} {UPSERT}"


def _backfill(*dimensions: str) -> list[str]:
    """INSERTs tallying the existing encounters in these dimensions (their rows must be absent)."""
    x = _expressions("e", person=True)
    statements = []
    for dimension, bucket in x["buckets"]:
        if dimension not in dimensions:
            continue
        statements.append(
            f"INSERT INTO ledger_tallies ({COLUMNS}) "
            f"SELECT '{dimension}', {bucket}, {_kind('e')}, COUNT(*), "
            f"COALESCE(SUM({x['drawer']}), 0), COUNT({x['drawer']}), "
            f"COALESCE(SUM({x['collector']}), 0), COUNT({x['collector']}) "
            f"FROM encounters e GROUP BY 2, 3"
        )
    return statements


def create_tally_triggers(*, person: bool = True) -> None:
    """The triggers that keep ledger_tallies in step with encounters (per dialect).
    `person=False`: b5b000000001's triggers, without the person dimension."""
    dialect = op.get_bind().dialect.name
    watched = WATCHED if person else WATCHED_WITHOUT_PERSON
    if dialect == "sqlite":
        op.execute(
            "CREATE TRIGGER ledger_tally_insert AFTER INSERT ON encounters "
            f"BEGIN {_sqlite_tally('NEW', 1, person=person)}; END"
        )
        op.execute(
            "CREATE TRIGGER ledger_tally_delete AFTER DELETE ON encounters "
            f"BEGIN {_sqlite_tally('OLD', -1, person=person)}; END"
        )
        op.execute(
            f"CREATE TRIGGER ledger_tally_update AFTER UPDATE OF {watched} ON encounters "
            f"BEGIN {_sqlite_tally('OLD', -1, person=person)}; "
            f"{_sqlite_tally('NEW', 1, person=person)}; END"
        )
    elif dialect == "postgresql":
        x = _expressions("r", person=person)
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
            f"CREATE TRIGGER ledger_tally AFTER INSERT OR DELETE OR UPDATE OF {watched} "
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
    drop_tally_triggers()
    op.execute("DELETE FROM ledger_tallies WHERE dimension = 'person'")
    for statement in _backfill("person"):
        op.execute(statement)
    create_tally_triggers()
    op.create_index(INDEX, "encounters", ["recorded_by_id", "started_at", "id"], unique=False)


def downgrade():
    op.drop_index(INDEX, table_name="encounters")
    drop_tally_triggers()
    op.execute("DELETE FROM ledger_tallies WHERE dimension = 'person'")
    create_tally_triggers(person=False)

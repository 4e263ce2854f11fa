"""The running tallies the database keeps (triggers) agree with the encounters after any mix
of writes: recording, withdrawal, corrections, deletion, raw SQL. On SQLite and on PostgreSQL
(`on_both_databases`), whose trigger functions the migration writes separately."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta, timezone

from sqlalchemy import delete, select, text, update

from fieldapp.auth.models import Role
from fieldapp.auth.people import create_account
from fieldapp.encounters.models import VENUE_TYPES, Encounter
from fieldapp.encounters.services import encounter_by_uuid
from fieldapp.extensions import db
from fieldapp.ledger.tallies import LedgerTally, check_tallies, rebuild_tallies
from fieldapp.media.services import media_store
from fieldapp.withdrawal.services import withdraw
from tests.conftest import PASSWORD
from tests.factories import make_encounter
from tests.helpers import person_tallies, record_by, recounted_by_person
from tests.postgres import on_both_databases


def test_triggers_are_in_place(app):
    with app.app_context():
        names = set(
            db.session.scalars(text("SELECT name FROM sqlite_master WHERE type = 'trigger'"))
        )
    assert {"ledger_tally_insert", "ledger_tally_update", "ledger_tally_delete"} <= names


@on_both_databases
def test_tallies_follow_every_kind_of_write(app):
    rng = random.Random(7)
    uuids = []
    for _ in range(30):
        offset = timezone(timedelta(minutes=rng.choice((-300, 0, 60, 330))))
        started = (datetime.now(UTC) - timedelta(days=rng.uniform(0, 200))).astimezone(offset)
        if rng.random() < 0.3:
            uuids.append(make_encounter(app, declined=True, started_at=started,
                                        venue_type=rng.choice(VENUE_TYPES)))  # fmt: skip
            continue
        limit = rng.choice((None, 60, 120, 300))
        uuids.append(
            make_encounter(
                app,
                started_at=started,
                venue_type=rng.choice(VENUE_TYPES),
                time_limit_seconds=limit,
                withdrawn=rng.random() < 0.2,
                drawing_started_at=(started + timedelta(seconds=70)).isoformat(),
                drawing_finished_at=(
                    started + timedelta(seconds=70 + rng.uniform(10, 400))
                ).isoformat(),
            )
        )
    with app.app_context():
        session = db.session
        assert check_tallies(session) == []
        # A correction through the ORM: venue, time, time limit, drawing times.
        for uuid in rng.sample(uuids, 8):
            encounter = encounter_by_uuid(session, uuid)
            encounter.venue_type = rng.choice(VENUE_TYPES)
            encounter.started_at -= timedelta(hours=rng.uniform(1, 30))
            encounter.utc_offset_minutes = rng.choice((-120, 0, 120))
            if encounter.is_completed:
                encounter.time_limit_seconds = rng.choice((None, 30, 600))
                encounter.drawing_finished_at = None
        session.commit()
        assert check_tallies(session) == []
        # Raw SQL, as a bulk import or an administrator would write it.
        session.execute(update(Encounter).values(venue_type="other").where(Encounter.id % 3 == 0))
        session.execute(
            delete(Encounter).where(Encounter.status == "declined", Encounter.id % 2 == 0)
        )
        session.commit()
        assert check_tallies(session) == []


@on_both_databases
def test_person_tallies_follow_recording_withdrawal_reassignment_and_deletion(app):
    with app.app_context():
        ids = [
            create_account(db.session, name, PASSWORD, role).id
            for name, role in (("tally-max", Role.COLLECTOR), ("tally-friend", Role.HELPER))
        ]
        db.session.commit()
    collector, helper = ids
    mine = [record_by(app, helper) for _ in range(3)] + [record_by(app, helper, declined=True)]
    theirs = [record_by(app, collector) for _ in range(2)]
    anonymous = [make_encounter(app), make_encounter(app, declined=True)]
    with app.app_context():
        session = db.session
        assert person_tallies(session) == recounted_by_person(session) == {
            (str(helper), "drawing"): 3, (str(helper), "declined"): 1,
            (str(collector), "drawing"): 2, ("", "drawing"): 1, ("", "declined"): 1,
        }  # fmt: skip
        assert check_tallies(session) == []

        withdraw(session, media_store(), encounter_by_uuid(session, mine[0]).ticket)
        assert person_tallies(session)[(str(helper), "withdrawn")] == 1
        assert person_tallies(session) == recounted_by_person(session)

        # Who recorded it, corrected through the ORM and by raw SQL.
        encounter_by_uuid(session, mine[1]).recorded_by_id = collector
        session.commit()
        session.execute(
            update(Encounter).where(Encounter.uuid == anonymous[0]).values(recorded_by_id=helper)
        )
        session.execute(
            update(Encounter).where(Encounter.uuid == theirs[0]).values(recorded_by_id=None)
        )
        session.commit()
        assert person_tallies(session) == recounted_by_person(session)
        assert check_tallies(session) == []

        # Declined approaches have no consent history (append-only) to keep them.
        session.execute(delete(Encounter).where(Encounter.uuid.in_((mine[3], anonymous[1]))))
        session.commit()
        assert person_tallies(session) == recounted_by_person(session) == {
            (str(helper), "withdrawn"): 1, (str(helper), "drawing"): 2,
            (str(collector), "drawing"): 2, ("", "drawing"): 1,
        }  # fmt: skip
        assert check_tallies(session) == []


@on_both_databases
def test_rebuild_writes_the_same_tallies(app):
    make_encounter(app)
    make_encounter(app, declined=True)
    make_encounter(app, withdrawn=True)
    with app.app_context():
        session = db.session
        before = {(t.dimension, t.bucket, t.kind): t.encounters for t in session.scalars(
            select(LedgerTally).where(LedgerTally.encounters != 0))}  # fmt: skip
        session.execute(update(LedgerTally).values(encounters=99))
        assert check_tallies(session) != []
        rebuild_tallies(session)
        after = {(t.dimension, t.bucket, t.kind): t.encounters for t in session.scalars(
            select(LedgerTally))}  # fmt: skip
        assert after == before and check_tallies(session) == []


def test_cli_check(app):
    make_encounter(app)
    runner = app.test_cli_runner()
    result = runner.invoke(args=["ledger", "check"])
    assert result.exit_code == 0 and "agree" in result.output

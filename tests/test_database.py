"""The schema on both databases: migrations build it from nothing, and agree with the models;
the queries run straight on the driver read what SQLAlchemy reads."""

from __future__ import annotations

import threading
import uuid as uuidlib
from datetime import UTC, datetime, timedelta

import flask_migrate
import psycopg
import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect, select, text

from fieldapp import create_app
from fieldapp.auth.models import Role
from fieldapp.auth.people import create_account
from fieldapp.config import database_url
from fieldapp.consent.models import ConsentVersion
from fieldapp.extensions import db
from fieldapp.ledger.tallies import check_tallies
from fieldapp.web.direct_select import plain_connection
from tests.conftest import PASSWORD, app_config
from tests.factories import make_encounter, number_of, small_jpeg, token_of
from tests.helpers import person_tallies, record_by, recounted_by_person


@pytest.fixture(params=["sqlite", "postgresql"])
def empty_app(request, tmp_path):
    """An app on an empty database (no tables at all) of each kind."""
    if request.param == "postgresql":
        server = request.getfixturevalue("postgres_server")
        url = server.create_database(f"empty_{uuidlib.uuid4().hex}")
    else:
        url = f"sqlite:///{tmp_path / 'empty.sqlite3'}"
    app = create_app(app_config(tmp_path, SQLALCHEMY_DATABASE_URI=url))
    yield app
    with app.app_context():
        db.engine.dispose()


def schema_differences(app) -> list:
    """What autogenerate would write: every difference between the models and the database."""
    with app.app_context(), db.engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        return compare_metadata(context, db.metadata)


def test_migrations_build_an_empty_database_that_matches_the_models(empty_app):
    with empty_app.app_context():
        assert inspect(db.engine).get_table_names() == []
        flask_migrate.upgrade()
        assert db.session.get(ConsentVersion, 1) is not None  # the first consent text
        db.session.remove()
    assert schema_differences(empty_app) == []


def test_migrations_go_down_to_nothing_and_up_again(empty_app):
    with empty_app.app_context():
        flask_migrate.upgrade()
        flask_migrate.downgrade(revision="base")
        assert set(inspect(db.engine).get_table_names()) <= {"alembic_version"}
        flask_migrate.upgrade()
        db.session.remove()
    assert schema_differences(empty_app) == []


def test_the_person_tallies_are_backfilled_from_the_encounters(empty_app):
    """Up from b8a000000001 (tallies without a person dimension, triggers that do not watch
    who recorded an encounter), the migration tallies every encounter under its person."""
    with empty_app.app_context():
        flask_migrate.upgrade()
        helper = create_account(db.session, "friend", PASSWORD, Role.HELPER).id
        db.session.commit()
    made = [record_by(empty_app, helper), record_by(empty_app, helper, declined=True)]
    made += [make_encounter(empty_app), make_encounter(empty_app, withdrawn=True)]
    with empty_app.app_context():
        db.session.remove()
        flask_migrate.downgrade(revision="b8a000000001")
        assert person_tallies(db.session) == {}
        # Written under the old triggers, which did not watch recorded_by_id.
        db.session.execute(
            text("UPDATE encounters SET recorded_by_id = :helper WHERE uuid = :uuid"),
            {"helper": helper, "uuid": made[3]},
        )
        db.session.commit()
        db.session.remove()
        flask_migrate.upgrade()
        assert person_tallies(db.session) == recounted_by_person(db.session) == {
            (str(helper), "drawing"): 1, (str(helper), "declined"): 1,
            (str(helper), "withdrawn"): 1, ("", "drawing"): 1,
        }  # fmt: skip
        assert check_tallies(db.session) == []
        db.session.remove()
    record_by(empty_app, helper)  # and the new triggers count it
    with empty_app.app_context():
        assert person_tallies(db.session)[(str(helper), "drawing")] == 2
        assert check_tallies(db.session) == []
        db.session.remove()
    assert schema_differences(empty_app) == []


@pytest.mark.parametrize(
    ("given", "used"),
    [
        ("postgres://u:p@db/fieldapp", "postgresql+psycopg://u:p@db/fieldapp"),
        ("postgresql://u:p@db/fieldapp", "postgresql+psycopg://u:p@db/fieldapp"),
        ("postgresql+psycopg://u@db/x", "postgresql+psycopg://u@db/x"),
        ("sqlite:////data/fieldapp.sqlite3", "sqlite:////data/fieldapp.sqlite3"),
        ("", None),
    ],
)
def test_database_urls_use_the_psycopg_driver(given, used):
    assert database_url(given) == used


def test_sqlite_runs_in_wal_mode_with_a_busy_timeout(live_app):
    with live_app.app_context(), db.engine.connect() as connection:
        assert connection.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert connection.exec_driver_sql("PRAGMA busy_timeout").scalar() >= 5000


@pytest.mark.parametrize("live_app", ["postgresql"], indirect=True)
def test_postgresql_write_transactions_queue_behind_each_other(live_app):
    """Two write transactions that both read "highest number, plus one" never collide."""
    from fieldapp.database import write_transaction
    from fieldapp.tickets.models import Ticket
    from fieldapp.tickets.services import reserve_tickets

    barrier = threading.Barrier(8)
    errors: list[BaseException] = []

    def reserve():
        with live_app.app_context():
            barrier.wait()
            try:
                with write_transaction(db.session):
                    reserve_tickets(db.session, 5, None)
            except BaseException as error:  # noqa: BLE001 - collected and asserted below
                errors.append(error)

    threads = [threading.Thread(target=reserve) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    with live_app.app_context():
        numbers = db.session.scalars(select(Ticket.number).order_by(Ticket.number)).all()
        assert numbers == list(range(1, 41))


def _in_transaction(driver_connection) -> bool:
    status = getattr(getattr(driver_connection, "info", None), "transaction_status", None)
    if status is not None:  # psycopg
        return status != psycopg.pq.TransactionStatus.IDLE
    return driver_connection.in_transaction  # sqlite3


@pytest.mark.parametrize("live_app", ["sqlite", "postgresql"], indirect=True)
def test_direct_selects_read_what_sqlalchemy_reads_and_leave_no_transaction_open(live_app):
    """The participant page's and the gallery's queries, run on the driver: the same values
    (aware UTC times, booleans, None for a missing photo) under the same labels, parameters
    bound through their columns' types, and the pooled connection handed back idle."""
    from fieldapp.gallery.services import _anchor_query, _page_query
    from fieldapp.participants.services import _page_query as _participant_query

    start = datetime(2026, 5, 1, 20, 0, tzinfo=UTC)
    # Two drawings at the same minute: the older page after the second must find the first.
    made = [
        make_encounter(
            live_app, photo=small_jpeg((0, 40 * n, 0)), started_at=start + hours((n + 1) // 2)
        )
        for n in range(3)
    ]
    made.append(make_encounter(live_app, credit_name="Ana Lima", time_limit_seconds=90))
    tokens = [token_of(live_app, uuid) for uuid in made]
    with live_app.app_context():
        with plain_connection() as connection:
            anchor = _anchor_query().first(connection, number=number_of(live_app, made[2]))
        assert anchor.started_at == start + hours(1)
        cases = [(_participant_query(), {"token": token}) for token in tokens]
        cases += [
            (_participant_query(), {"token": "no-such-token"}),
            (_page_query(False, 25), {}),
            (_page_query(True, 25), {"started_at": anchor.started_at, "number": anchor.number}),
        ]
        for direct, parameters in cases:
            with plain_connection() as connection:
                rows = direct.all(connection, **parameters)
                driver = connection.connection.dbapi_connection
            assert not _in_transaction(driver)
            with db.engine.connect() as connection:
                expected = connection.execute(direct.statement, parameters).all()
            assert [(row._fields, tuple(row)) for row in rows] == [
                (tuple(row._fields), tuple(row)) for row in expected
            ]

        with plain_connection() as connection:
            first = _participant_query().first(connection, token=tokens[0])
            unphotographed = _participant_query().first(connection, token=tokens[3])
            older = _page_query(True, 25).all(
                connection, started_at=anchor.started_at, number=anchor.number
            )
    assert first.started_at == start and first.started_at.tzinfo is not None
    assert first.keep is True and first.training is False and first.display_width > 0
    assert unphotographed.display_name is None and unphotographed.credit_name == "Ana Lima"
    assert unphotographed.time_limit_seconds == 90
    assert [row.number for row in older] == [number_of(live_app, made[n]) for n in (1, 0)]


def hours(n: int) -> timedelta:
    return timedelta(hours=n)

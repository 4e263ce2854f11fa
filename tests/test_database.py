"""The schema on both databases: migrations build it from nothing, and agree with the models."""

from __future__ import annotations

import threading
import uuid as uuidlib

import flask_migrate
import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect, select

from fieldapp import create_app
from fieldapp.config import database_url
from fieldapp.consent.models import ConsentVersion
from fieldapp.extensions import db
from tests.conftest import app_config


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

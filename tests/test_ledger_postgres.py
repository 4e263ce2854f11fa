"""The ledger on PostgreSQL: the migration's trigger function and the per-dialect SQL.

Runs only when FIELDAPP_TEST_POSTGRES_URL names an empty database it may wipe, e.g.
postgresql+psycopg://postgres@127.0.0.1:5432/fieldapp_test (and psycopg is installed).
"""

from __future__ import annotations

import os

import flask_migrate
import pytest
from sqlalchemy import text

import tests.test_ledger as ledger_tests
import tests.test_ledger_tallies as tally_tests
from fieldapp import create_app
from fieldapp.extensions import db
from tests.conftest import app_config

URL = os.environ.get("FIELDAPP_TEST_POSTGRES_URL")
pytestmark = pytest.mark.skipif(not URL, reason="FIELDAPP_TEST_POSTGRES_URL is not set")

TABLES = (
    "consent_events, photos, encounters, tickets, ledger_tallies, ledger_settings, diary_entries"
)


@pytest.fixture(scope="module")
def pg_app(tmp_path_factory):
    pytest.importorskip("psycopg")
    app = create_app(
        app_config(
            tmp_path_factory.mktemp("pg"), SQLALCHEMY_DATABASE_URI=URL, SERVER_NAME="localhost"
        )
    )
    with app.app_context():
        db.session.execute(text("DROP SCHEMA public CASCADE; CREATE SCHEMA public"))
        db.session.commit()
        flask_migrate.upgrade()
    yield app
    with app.app_context():
        db.engine.dispose()


@pytest.fixture
def empty(pg_app):
    with pg_app.app_context():
        db.session.execute(text(f"TRUNCATE {TABLES} RESTART IDENTITY CASCADE"))
        db.session.commit()
    return pg_app


@pytest.mark.parametrize(
    "check",
    [
        ledger_tests.test_counts_rate_and_hours,
        ledger_tests.test_pace_and_projected_date,
        ledger_tests.test_weeks_in_the_rooms_clock,
        ledger_tests.test_distributions,
        ledger_tests.test_headline_for_other_pages,
    ],
    ids=lambda check: check.__name__,
)
def test_ledger_figures(empty, check):
    ledger_tests.record_fixture(empty)
    check(empty, None)


@pytest.mark.parametrize(
    "check",
    [
        tally_tests.test_tallies_follow_every_kind_of_write,
        tally_tests.test_rebuild_writes_the_same_tallies,
    ],
    ids=lambda check: check.__name__,
)
def test_tallies(empty, check):
    check(empty)


def test_pages(empty):
    ledger_tests.record_fixture(empty)
    client = empty.test_client()
    for url in ("/ledger/public", "/diary", "/live", "/live.json", "/zine?paper=letter"):
        assert client.get(url).status_code == 200, url

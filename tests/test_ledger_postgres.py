"""The ledger on PostgreSQL: the migration's trigger function and the per-dialect SQL.

Each test gets its own database, copied from the migrated template on the server the test run
starts (tests/postgres.py); the ledger tests' own checks then run against it.
"""

from __future__ import annotations

import uuid

import pytest

import tests.test_ledger as ledger_tests
import tests.test_ledger_tallies as tally_tests
from fieldapp import create_app
from fieldapp.extensions import db
from tests.conftest import app_config


@pytest.fixture
def empty(postgres_server, migrated_postgres, tmp_path):
    """A fresh, migrated PostgreSQL database with no rows, and the app on it."""
    url = postgres_server.create_database(f"ledger_{uuid.uuid4().hex}", template=migrated_postgres)
    app = create_app(app_config(tmp_path, SQLALCHEMY_DATABASE_URI=url, SERVER_NAME="localhost"))
    yield app
    with app.app_context():
        db.engine.dispose()


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
        tally_tests.test_person_tallies_follow_recording_withdrawal_reassignment_and_deletion,
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

"""The labor ledger: every figure checked against a small fixture worked out by hand.

The figures and the public pages are checked on SQLite and on PostgreSQL (`on_both_databases`):
the migration's trigger functions and the per-dialect SQL differ between the two."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from fieldapp.extensions import db
from fieldapp.ledger.services import headline, ledger, set_goal
from tests.conftest import csrf_token_from
from tests.factories import make_encounter
from tests.helpers import anonymous_csrf_token, assert_sent_to_login
from tests.postgres import on_both_databases

NOW = datetime(2026, 3, 16, 12, 0, tzinfo=UTC)  # a Monday


def _completed(app, started: str, *, draw_from: int = 1, draw_to: int = 3, **fields):
    """A completed encounter starting at `started` (ISO, with the room's offset); the drawing
    runs from `draw_from` to `draw_to` minutes after the start (None: not timed)."""
    start = datetime.fromisoformat(started)
    if draw_from is not None:
        fields["drawing_started_at"] = (start + timedelta(minutes=draw_from)).isoformat()
        fields["drawing_finished_at"] = (start + timedelta(minutes=draw_to)).isoformat()
    else:
        fields["drawing_started_at"] = fields["drawing_finished_at"] = None
    return make_encounter(app, started_at=start, **fields)


@pytest.fixture
def fixture(app):
    record_fixture(app)


def record_fixture(app):
    """Seven approaches. Times are in the room's clock (the ISO offset).

    | | status | venue | room time | limit | drawing | collector |
    | A | drawn | bar | Sat 14 Mar 2026 21:00 (+01:00) | 2 min | 120 s | 180 s |
    | B | drawn | fair | Tue 10 Mar 2026 14:30 (-05:00) | 5 min | 300 s | 360 s |
    | C | drawn, withdrawn | bar | Thu 12 Mar 2026 23:30 (UTC) | 2 min | 120 s | 180 s |
    | D | declined | bar | Sun 15 Mar 2026 20:00 (+01:00) | | | |
    | E | declined | street | Mon 5 Jan 2026 10:00 (UTC) | | | |
    | F | drawn | party | Mon 1 Dec 2025 00:30 (+02:00; Sunday in UTC) | none | 600 s | 660 s |
    | G | drawn | conference | Fri 20 Feb 2026 11:00 (UTC) | 1 min | not timed | not timed |
    """
    _completed(app, "2026-03-14T21:00:00+01:00", venue_type="bar", time_limit_seconds=120,
               credit_name="Ana Secretname")  # fmt: skip
    _completed(app, "2026-03-10T14:30:00-05:00", draw_to=6, venue_type="fair",
               time_limit_seconds=300)  # fmt: skip
    _completed(app, "2026-03-12T23:30:00+00:00", venue_type="bar", time_limit_seconds=120,
               withdrawn=True)  # fmt: skip
    make_encounter(app, declined=True, started_at=datetime.fromisoformat("2026-03-15T20:00+01:00"))
    make_encounter(app, declined=True, venue_type="street",
                   started_at=datetime.fromisoformat("2026-01-05T10:00+00:00"))  # fmt: skip
    _completed(app, "2025-12-01T00:30:00+02:00", draw_to=11, venue_type="party",
               time_limit_seconds=None)  # fmt: skip
    _completed(app, "2026-02-20T11:00:00+00:00", draw_from=None, venue_type="conference",
               time_limit_seconds=60)  # fmt: skip


@on_both_databases
def test_counts_rate_and_hours(app, fixture):
    with app.app_context():
        figures = ledger(db.session, now=NOW)
    assert figures.drawings == 4  # A, B, F, G: C was withdrawn
    assert figures.withdrawn == 1
    assert figures.declined == 2
    assert figures.completed == 5
    assert figures.approaches == 7
    assert figures.acceptance_rate == pytest.approx(5 / 7)
    # Withdrawn C still counts as labor: 120 + 300 + 120 + 600 s of drawing.
    assert figures.drawer_seconds == pytest.approx(1140, abs=0.01)
    assert figures.drawer_timed == 4
    assert figures.drawer_hours == pytest.approx(1140 / 3600, abs=1e-5)
    # Start to end of drawing: 180 + 360 + 180 + 660 s; G was not timed.
    assert figures.collector_seconds == pytest.approx(1380, abs=0.01)
    assert figures.collector_timed == 4
    assert figures.untimed == 1


@on_both_databases
def test_pace_and_projected_date(app, fixture):
    with app.app_context():
        figures = ledger(db.session, now=NOW)
        assert figures.goal == 10_000  # FIELDAPP_GOAL's default until the collector sets one
        set_goal(db.session, 10)
        figures = ledger(db.session, now=NOW)
    # Last 30 days (from 14 Feb 12:00 UTC): A, B, G (C is withdrawn, F is older).
    assert figures.recent == 3
    assert figures.pace_per_day == pytest.approx(0.1)
    assert figures.pace_per_week == pytest.approx(0.7)
    assert figures.goal == 10
    assert figures.remaining == 6
    assert figures.goal_date == date(2026, 5, 15)  # 6 drawings at 0.1 a day: 60 days
    with app.app_context():
        assert ledger(db.session, now=NOW + timedelta(days=400)).goal_date is None  # no pace


@on_both_databases
def test_weeks_in_the_rooms_clock(app, fixture):
    with app.app_context():
        weeks = dict(ledger(db.session, now=NOW).weeks)
    assert len(weeks) == 26
    assert min(weeks) == date(2025, 9, 22) and max(weeks) == date(2026, 3, 16)
    assert weeks[date(2026, 3, 9)] == 2  # A (Saturday) and B (Tuesday)
    assert weeks[date(2026, 2, 16)] == 1  # G
    # F was on Sunday 30 November in UTC but on Monday 1 December in the room.
    assert weeks[date(2025, 12, 1)] == 1 and weeks[date(2025, 11, 24)] == 0
    assert sum(weeks.values()) == 4


@on_both_databases
def test_distributions(app, fixture):
    with app.app_context():
        figures = ledger(db.session, now=NOW)
    venues = {venue: (drawn, declined) for venue, drawn, declined in figures.by_venue}
    assert venues["bar"] == (1, 1)  # A drawn (C withdrawn is not shown), D declined
    assert venues["fair"] == (1, 0) and venues["party"] == (1, 0)
    assert venues["conference"] == (1, 0) and venues["street"] == (0, 1)
    assert venues["home"] == (0, 0)
    assert figures.by_time_limit == [(60, 1), (120, 1), (300, 1), (None, 1)]
    hours = dict(figures.by_hour)
    assert {h: n for h, n in hours.items() if n} == {0: 1, 11: 1, 14: 1, 21: 1}
    weekdays = dict(figures.by_weekday)
    assert weekdays == {"Monday": 1, "Tuesday": 1, "Wednesday": 0, "Thursday": 0,
                        "Friday": 1, "Saturday": 1, "Sunday": 0}  # fmt: skip


@on_both_databases
def test_headline_for_other_pages(app, fixture):
    with app.app_context():
        figures = headline(db.session)
    assert (figures.drawings, figures.approaches, figures.withdrawn) == (4, 7, 1)
    assert figures.goal == 10_000


def test_empty_ledger(app, logged_in, client):
    with app.app_context():
        figures = ledger(db.session, now=NOW)
    assert figures.approaches == 0 and figures.acceptance_rate is None
    assert figures.goal_date is None
    assert client.get("/ledger").status_code == 200
    assert client.get("/ledger/public").status_code == 200


def test_collectors_ledger_page(fixture, logged_in, client):
    page = client.get("/ledger")
    assert page.status_code == 200
    html = page.text
    for figure in ("drawings", "approaches", "acceptance", "collector-hours", "drawer-hours"):
        assert f'data-figure="{figure}"' in html
    assert 'data-figure="acceptance">71%' in html
    assert "Drawings by hour of the day" in html and "Drawings by weekday" in html
    # Every chart is an image with a title and has its table.
    assert html.count('role="img"') == 5 == html.count("<details>")
    assert html.count("<title id=") == 5
    assert "A withdrawn drawing was still drawn" in html
    assert "Ana Secretname" not in html and "pool night" not in html


def test_public_ledger_shows_no_collector_only_data(fixture, client):
    page = client.get("/ledger/public")
    assert page.status_code == 200
    html = page.text
    assert 'data-figure="drawings">4<' in html
    assert 'data-figure="approaches">7<' in html
    # No routine (hours of the day, weekdays), no setting, no names, no places, no notes.
    assert "hour of the day" not in html and "weekday" not in html.lower()
    assert "csrf_token" not in html and "Save goal" not in html
    for private in ("Ana Secretname", "pool night", "New York"):
        assert private not in html
    assert html.count('role="img"') == 3


@on_both_databases
def test_public_pages_answer_over_the_fixture(fixture, client):
    for url in ("/ledger/public", "/diary", "/live", "/live.json", "/zine?paper=letter"):
        assert client.get(url).status_code == 200, url


def test_ledger_needs_a_login(app, client, auth):
    """Anonymous, with a valid CSRF token: the ledger and its goal form send to the login page,
    and the goal stays as it was."""
    auth.create_collector()
    assert_sent_to_login(client.get("/ledger"))
    token = anonymous_csrf_token(client)
    response = client.post(
        "/ledger/goal", data={"goal": 5, "csrf_token": token}, headers={"X-CSRFToken": token}
    )
    assert_sent_to_login(response)
    with app.app_context():
        assert ledger(db.session, now=NOW).goal == 10_000


def test_goal_form(app, logged_in, client):
    token = csrf_token_from(client.get("/ledger").text)
    refused = client.post("/ledger/goal", data={"goal": "0", "csrf_token": token})
    assert refused.status_code == 400 and "A whole number from 1" in refused.text
    refused = client.post("/ledger/goal", data={"goal": "lots", "csrf_token": token})
    assert refused.status_code == 400
    forged = client.post("/ledger/goal", data={"goal": "50"})
    assert forged.status_code == 400
    saved = client.post("/ledger/goal", data={"goal": "2500", "csrf_token": token})
    assert saved.status_code == 302
    assert "of 2,500 drawings" in client.get("/ledger").text
    assert "of 2,500 drawings" in client.get("/ledger/public").text

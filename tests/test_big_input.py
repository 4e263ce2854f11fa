"""Numbers and dates at and beyond the ends of what the database and the calendar hold, in paths
and query arguments: a 404 or an ordinary page, never a 500 and never an error in the log.

Also what the error handlers keep (the exception's own headers: Allow on a 405) and what they
leave out of the error log (participant tokens).
"""

from __future__ import annotations

import errno
import logging
import re
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from werkzeug.datastructures import WWWAuthenticate
from werkzeug.exceptions import NotFound, TooManyRequests, Unauthorized

from fieldapp.encounters.models import EncounterRevision
from fieldapp.media.storage import StorageUnavailable
from fieldapp.review.log import SORTS
from tests.conftest import csrf_token_from
from tests.factories import count_rows, make_encounter, number_of, small_jpeg, token_of
from tests.helpers import edit_fields, form_post
from tests.postgres import on_both_databases

ROOT = Path(__file__).resolve().parent.parent
BIG = 10**30
#: Integers a visitor may type: beyond 64 bits, at the ends of 64 and 32 bits (an INTEGER column
#: on SQLite and on PostgreSQL), the small ones, and more digits than int() reads.
NUMBERS = (str(BIG), str(2**63), str(2**63 - 1), str(2**31), str(2**31 - 1), "-1", "0", "9" * 5000)
#: The calendar's ends (no UTC time at an offset beyond them) and dates Python cannot read.
DATES = ("0001-01-01", "9999-12-31", "0000-01-01", "10000-01-01", "2026-02-30")
#: The log's `after`: portrait numbers (the number sorts) and (time, id) cursors (the others).
CURSORS = (
    *NUMBERS,
    "²",  # a digit to str.isdigit(), not to int()
    "0001-01-01T00:00:00+14:00_1",
    "9999-12-31T23:59:59-14:00_1",
    f"2026-01-01T00:00:00+00:00_{BIG}",
    f"2026-01-01T00:00:00+00:00_{2**31}",
    f"2026-01-01T00:00:00+00:00_{-(2**63) - 1}",
)
#: Every query argument a GET route reads as a number or a date, and the values to send.
#: test_every_typed_query_argument_is_swept keeps this list complete.
QUERY_ARGUMENTS = [
    ("/gallery", "before", NUMBERS),
    ("/gallery/{number}/display.jpg", "w", NUMBERS),
    ("/gallery/{number}/thumb.jpg", "w", NUMBERS),
    ("/p/{token}/drawing.jpg", "w", NUMBERS),
    ("/p/{token}/thumb.jpg", "w", NUMBERS),
    ("/diary", "page", NUMBERS),
    *(
        (path, name, DATES)
        for path in ("/encounters", "/encounters.csv")
        for name in ("from", "to")
    ),
    *(
        (f"{path}?sort={sort}", "after", CURSORS)
        for path in ("/encounters", "/encounters.csv")
        for sort in SORTS
    ),
]
#: Query arguments read as text, never as a number or a date (`lang`: one of i18n.LANGUAGES).
TEXT_ARGUMENTS = {"v", "next", "paper", "lang"}
INT_IN_RULE = re.compile(r"<int(?:\([^)]*\))?:(\w+)>")
OTHER_IN_RULE = re.compile(r"<(?:\w+(?:\([^)]*\))?:)?(\w+)>")


def errors_logged(caplog) -> list[str]:
    return [record.getMessage() for record in caplog.records if record.levelno >= logging.ERROR]


def answered(response) -> int:
    """The status, after reading the whole body (a streamed CSV fails while it is read)."""
    response.get_data()
    return response.status_code


# The cases first seen as 500s ---------------------------------------------------------------


@pytest.mark.parametrize(
    "path",
    [
        f"/gallery/{BIG}",
        f"/gallery/{BIG}/display.jpg",
        f"/gallery/{BIG}/thumb.jpg",
        f"/gallery/{2**63}",
        f"/gallery/{2**31}",
        f"/diary/{BIG}/edit",
        f"/diary/{BIG}/delete",
    ],
)
def test_a_number_beyond_the_database_in_a_path_is_a_404(logged_in, client, caplog, path):
    response = client.get(path)
    assert response.status_code == 404
    assert "Nothing here" in response.text
    assert errors_logged(caplog) == []


def test_the_int_converter_stops_at_the_last_integer_of_an_integer_column(app):
    urls = app.url_map.bind("localhost")
    assert urls.match(f"/gallery/{2**31 - 1}") == ("gallery.item", {"number": 2**31 - 1})
    for beyond in (2**31, 2**63, BIG, "9" * 5000):
        with pytest.raises(NotFound):
            urls.match(f"/gallery/{beyond}")


def test_gallery_before_a_number_beyond_the_database_starts_from_the_newest(app, client, caplog):
    number = number_of(app, make_encounter(app, photo=small_jpeg()))
    for before in (BIG, 2**63, 2**31, -(2**31) - 1):
        response = client.get(f"/gallery?before={before}")
        assert response.status_code == 200
        assert f"/gallery/{number}" in response.text
    assert errors_logged(caplog) == []


@pytest.mark.parametrize(
    ("query", "listed"),
    [
        ({"from": "0001-01-01"}, True),
        ({"to": "9999-12-31"}, True),
        ({"from": "0001-01-01", "to": "9999-12-31"}, True),
        ({"from": "9999-12-31"}, False),
        ({"to": "0001-01-01"}, False),
    ],
)
def test_the_log_filters_on_the_calendars_first_and_last_days(
    app, logged_in, client, caplog, query, listed
):
    number = number_of(app, make_encounter(app))
    page = client.get("/encounters", query_string=query)
    assert page.status_code == 200
    assert (f'data-number="{number}"' in page.text) is listed
    csv = client.get("/encounters.csv", query_string=query)
    rows = csv.get_data(as_text=True).splitlines()[1:]
    assert csv.status_code == 200
    assert any(row.startswith(f"{number},") for row in rows) is listed
    assert errors_logged(caplog) == []


@pytest.mark.parametrize(
    ("sort", "after", "listed"),
    [
        ("number_desc", str(BIG), True),  # every number is below it
        ("number_desc", str(2**63), True),
        ("number_asc", str(2**31), False),
        ("number_asc", str(BIG), False),  # none is above it
        ("number_asc", "9" * 5000, False),
        ("number_desc", "²", True),  # unreadable: the first page
        ("newest", "0001-01-01T00:00:00+14:00_1", True),  # no UTC time: unreadable
        ("oldest", "9999-12-31T23:59:59-14:00_1", True),
        ("newest", f"2026-01-01T00:00:00+00:00_{BIG}", True),
    ],
)
def test_the_logs_cursor_beyond_the_database_or_the_calendar(
    app, logged_in, client, caplog, sort, after, listed
):
    number = number_of(app, make_encounter(app))
    page = client.get("/encounters", query_string={"sort": sort, "after": after})
    assert page.status_code == 200
    assert (f'data-number="{number}"' in page.text) is listed
    assert errors_logged(caplog) == []


@pytest.mark.parametrize(("hours", "moment"), [(14, "0001-01-01T00:00"), (-12, "9999-12-31T23:59")])
@pytest.mark.parametrize("field", ["started_at", "drawing_started_at", "drawing_finished_at"])
def test_an_edit_to_a_time_with_no_utc_time_is_refused_with_a_message(
    app, logged_in, client, caplog, hours, moment, field
):
    """In the room's clock at +14:00, the calendar's first minute has no UTC time (nor, at
    -12:00, its last): it could not be stored."""
    room = timezone(timedelta(hours=hours))
    uuid = make_encounter(app, started_at=datetime.now(room) - timedelta(minutes=10))
    fields = edit_fields(**{f"edit-{field}": moment})
    if field != "started_at":  # the drawing's times come as a pair
        fields |= {"edit-drawing_started_at": moment, "edit-drawing_finished_at": moment}
    response = form_post(client, uuid, "edit", fields)
    assert response.status_code == 422
    assert ": check the year." in response.text
    assert errors_logged(caplog) == []
    assert count_rows(app, EncounterRevision) == 0


# The sweep ----------------------------------------------------------------------------------


def _path_with(rule: str, value: str) -> str:
    """`rule` with every int argument set to `value` (and any other to a word)."""
    path = INT_IN_RULE.sub(value, rule)
    return OTHER_IN_RULE.sub("x", path)


@on_both_databases
def test_every_number_and_date_argument_is_a_page_or_a_404_never_a_500(
    app, logged_in, client, caplog
):
    """Every route with an int in its path, and every GET route reading a number or a date from
    its query, with values beyond the database's integers and the calendar, as the collector
    and as a visitor: some answer below 500, and nothing logged as an error."""
    drawing = make_encounter(app, photo=small_jpeg())
    number, token = number_of(app, drawing), token_of(app, drawing)
    visitor = app.test_client()
    requests: list[tuple[str, str]] = []
    int_rules = [rule for rule in app.url_map.iter_rules() if INT_IN_RULE.search(rule.rule)]
    assert {rule.endpoint for rule in int_rules} >= {"gallery.item", "diary.edit"}
    for rule in int_rules:
        for method in {"GET", "POST"} & rule.methods:
            requests += [(method, _path_with(rule.rule, value)) for value in NUMBERS]
    for path, name, values in QUERY_ARGUMENTS:
        path = path.format(number=number, token=token)
        joiner = "&" if "?" in path else "?"
        requests += [("GET", f"{path}{joiner}{name}={value}") for value in values]

    failures = []
    visitor_csrf = csrf_token_from(visitor.get("/login").text)
    for who, browser, csrf in (
        ("collector", client, logged_in.csrf_token()),
        ("visitor", visitor, visitor_csrf),
    ):
        for method, url in requests:
            caplog.clear()
            data = {"csrf_token": csrf} if method == "POST" else None
            status = answered(browser.open(url, method=method, data=data))
            if status >= 500 or errors_logged(caplog):
                failures.append((who, method, url[:120], status, errors_logged(caplog)[:1]))
    assert failures == []


def test_every_typed_query_argument_is_swept():
    """A view that starts reading a number or a date from its query joins the sweep above."""
    swept = {name for _, name, _ in QUERY_ARGUMENTS}
    read = set()
    for source in (ROOT / "fieldapp").rglob("*.py"):
        read |= set(re.findall(r"""request\.args\.get\(\s*["'](\w+)["']""", source.read_text()))
    assert read - swept - TEXT_ARGUMENTS == set()


# What the error handlers keep and leave out -------------------------------------------------


def allowed(response) -> set[str]:
    return {method.strip() for method in response.headers.get("Allow", "").split(",")}


def test_a_405_page_keeps_its_allow_header(client):
    response = client.put("/gallery")
    assert response.status_code == 405
    assert response.mimetype == "text/html"
    assert {"GET", "HEAD", "OPTIONS"} <= allowed(response)
    assert "PUT" not in allowed(response)


def test_an_api_405_keeps_its_allow_header(client):
    response = client.put("/api/v1/session")
    assert response.status_code == 405
    assert response.mimetype == "application/json"
    assert "not allowed" in response.get_json()["error"]
    assert {"GET", "HEAD", "OPTIONS"} <= allowed(response)


@pytest.mark.parametrize("path", ["/ledger", "/api/v1/progress"])
def test_the_error_handler_keeps_every_header_of_the_exception(app, path):
    """Retry-After on a 429, WWW-Authenticate on a 401: whatever the exception carries."""
    raised = [
        (TooManyRequests(retry_after=60), "Retry-After", "60"),
        (Unauthorized(www_authenticate=WWWAuthenticate("bearer")), "WWW-Authenticate", "Bearer"),
    ]
    for error, header, value in raised:
        with app.test_request_context(path):
            response = app.make_response(app.handle_user_exception(error))
        assert response.status_code == error.code
        assert response.headers[header] == value
        json = path.startswith("/api/")
        assert response.mimetype == ("application/json" if json else "text/html")


def test_a_storage_error_on_a_participant_page_logs_no_token(app, client, caplog, monkeypatch):
    token = token_of(app, make_encounter(app, photo=small_jpeg()))

    def full_disk(*args, **kwargs):
        raise StorageUnavailable(OSError(errno.ENOSPC, "No space left on device"))

    # The first request for a reduced copy writes it: the disk is full.
    monkeypatch.setattr("fieldapp.signals.responses.sized_display", full_disk)
    with caplog.at_level(logging.INFO):
        response = client.get(f"/p/{token}/drawing.jpg?w=720")
    assert response.status_code == 507
    assert response.headers["Retry-After"] == "300"
    assert "Media storage unavailable on GET /p/…/drawing.jpg" in caplog.text
    assert token not in caplog.text


def test_an_unhandled_error_on_a_participant_page_logs_no_token(app, client, caplog, monkeypatch):
    token = token_of(app, make_encounter(app, photo=small_jpeg()))

    def failing_query(connection, token):
        # As a database error does: its message quotes the statement's parameters.
        raise RuntimeError(f"database is locked [parameters: ('{token}',)]")

    monkeypatch.setattr("fieldapp.participants.views.participant_page", failing_query)
    response = client.get(f"/p/{token}")
    assert response.status_code == 500
    assert "Unhandled error on GET /p/…" in caplog.text
    assert "RuntimeError: database is locked [parameters: ('…',)]" in caplog.text
    assert token not in caplog.text


def test_a_database_error_never_quotes_the_values_of_its_statement(app):
    """A name or a token given to a failing statement does not reach the error's message, so
    it never reaches the error log (SQLAlchemy's hide_parameters)."""
    from sqlalchemy import text
    from sqlalchemy.exc import OperationalError

    from fieldapp.extensions import db

    with app.app_context():
        with pytest.raises(OperationalError) as failure:
            db.session.execute(
                text("INSERT INTO no_such_table (name) VALUES (:name)"), {"name": "Julia R."}
            )
        db.session.rollback()
    assert "no_such_table" in str(failure.value)
    assert "Julia R." not in str(failure.value)

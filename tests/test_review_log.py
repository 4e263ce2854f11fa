"""The encounter log's filters, search, sorts and pages; the CSV export; the home counter."""

from __future__ import annotations

import csv
import io
import re
from datetime import UTC, datetime, timedelta, timezone
from html import unescape
from urllib.parse import urlencode

import pytest

from tests.factories import home_count, make_encounter, number_of, small_jpeg
from tests.helpers import assert_sent_to_login

UUID_LINK = re.compile(r'href="/encounters/([0-9a-f-]{36})"')
NEXT = re.compile(r'id="next-page" href="([^"]+)"')
START = datetime(2026, 4, 10, 19, 0, tzinfo=UTC)


def shown(client, per_page_check: bool = True, **args) -> list[str]:
    """Every encounter the log lists under these arguments, following every page."""
    url = "/encounters?" + urlencode(args)
    seen: list[str] = []
    while url:
        response = client.get(url)
        assert response.status_code == 200
        page = list(dict.fromkeys(UUID_LINK.findall(response.text)))
        seen += page
        following = NEXT.search(response.text)
        url = unescape(following.group(1)) if following else None
    assert len(seen) == len(set(seen)), "an encounter was listed twice"
    return seen


def consent(keep=True, gallery=False, training=False, social=False) -> dict:
    return {"version": 1, "keep": keep, "gallery": gallery, "training": training, "social": social}


@pytest.fixture
def log(app):
    """A small log with one of each kind, named for the tests."""
    at = lambda hours: START + timedelta(hours=hours)  # noqa: E731
    return {
        "bar": make_encounter(app, started_at=at(0), venue_type="bar", venue="pool night",
                              city="Brooklyn", consent=consent(gallery=True)),
        "party": make_encounter(app, started_at=at(24), venue_type="party",
                                venue="Julia's birthday", city="Queens", photo=small_jpeg(),
                                consent=consent(gallery=True, training=True)),
        "fair": make_encounter(app, started_at=at(48), venue_type="fair", venue="zine fair",
                               city="Berlin", notes="loved the red ink", credit_name="Ana Lima",
                               consent=consent(social=True)),
        "declined": make_encounter(app, declined=True, started_at=at(26), venue_type="bar",
                                   venue="pool night", city="Brooklyn"),
        "withdrawn": make_encounter(app, started_at=at(50), venue_type="party", venue="secret",
                                    city="Paris", withdrawn=True),
        "not_kept": make_encounter(app, started_at=at(52), venue_type="street", city="Berlin",
                                   consent=consent(keep=False)),
    }  # fmt: skip


def names(log, uuids) -> set[str]:
    back = {uuid: name for name, uuid in log.items()}
    return {back[u] for u in uuids}


def test_each_filter_narrows_the_log(client, logged_in, log):
    assert names(log, shown(client)) == set(log)
    assert names(log, shown(client, venue_type="bar")) == {"bar", "declined"}
    assert names(log, shown(client, status="completed")) == {"bar", "party", "fair", "not_kept"}
    assert names(log, shown(client, status="declined")) == {"declined"}
    assert names(log, shown(client, status="withdrawn")) == {"withdrawn"}
    assert names(log, shown(client, gallery="yes")) == {"bar", "party"}
    assert names(log, shown(client, training="yes")) == {"party"}
    assert names(log, shown(client, social="yes")) == {"fair"}
    assert names(log, shown(client, keep="no")) == {"declined", "withdrawn", "not_kept"}
    assert names(log, shown(client, photo="with")) == {"party"}
    assert "party" not in names(log, shown(client, photo="without"))
    assert names(log, shown(client, **{"from": "2026-04-11", "to": "2026-04-11"})) == {
        "party",
        "declined",
    }
    assert names(log, shown(client, **{"from": "2026-04-12"})) == {"fair", "withdrawn", "not_kept"}


def test_dates_are_the_days_of_the_room_not_utc(app, client, logged_in):
    # 23:30 in New York on 1 May is 03:30 UTC on 2 May: the log files it under 1 May.
    new_york = timezone(timedelta(hours=-4))
    late = make_encounter(app, started_at=datetime(2026, 5, 1, 23, 30, tzinfo=new_york))
    assert shown(client, **{"from": "2026-05-01", "to": "2026-05-01"}) == [late]
    assert shown(client, **{"from": "2026-05-02"}) == []


def test_search_finds_occasion_city_notes_and_credit_not_withdrawn_data(client, logged_in, log):
    assert names(log, shown(client, q="birthday")) == {"party"}
    assert names(log, shown(client, q="BROOKLYN")) == {"bar", "declined"}
    assert names(log, shown(client, q="red ink")) == {"fair"}
    assert names(log, shown(client, q="ana lima")) == {"fair"}
    assert shown(client, q="secret") == []  # withdrawal erased the occasion
    assert shown(client, q="100%") == [] and shown(client, q="_") == []  # wildcards are literal


def test_filters_combine(client, logged_in, log):
    assert names(log, shown(client, venue_type="bar", status="completed")) == {"bar"}
    assert names(log, shown(client, gallery="yes", photo="with", q="julia")) == {"party"}
    assert shown(client, venue_type="fair", gallery="yes") == []


def test_the_filters_stay_in_the_url_and_the_form_shows_them(client, logged_in, log):
    html = client.get("/encounters?venue_type=bar&gallery=yes&view=grid").text
    assert re.search(r"<details class=\"filters\" open>", html)
    assert '<option value="bar" selected>' in html
    assert '<option value="yes" selected>Yes</option>' in html
    assert 'name="view" value="grid"' in html  # the form keeps the view
    export = re.search(r'href="(/encounters.csv[^"]*)"', html).group(1)
    assert "venue_type=bar" in export and "gallery=yes" in export


def test_nonsense_arguments_are_ignored_not_errors(client, logged_in, log):
    assert names(log, shown(client, venue_type="castle", status="x", sort="y", after="z_q")) == (
        set(log)
    )
    assert client.get("/encounters?from=2026-13-45&after=notacursor").status_code == 200


@pytest.mark.parametrize("sort", ["newest", "oldest", "number_desc", "number_asc"])
def test_pages_have_no_duplicates_or_gaps_under_a_filter_and_a_sort(app, client, logged_in, sort):
    # Same start times on purpose: the keyset must break ties.
    expected = set()
    for i in range(110):
        kind = "bar" if i % 3 else "party"
        started = START + timedelta(minutes=i // 4)
        uuid = make_encounter(app, started_at=started, venue_type=kind)
        if kind == "bar":
            expected.add(uuid)
    make_encounter(app, declined=True, started_at=START, venue_type="bar")  # has no number
    seen = shown(client, venue_type="bar", status="completed", sort=sort)
    assert set(seen) == expected and len(seen) == len(expected) > 48  # more than one page
    if sort.startswith("number"):
        numbers = [number_of(app, u) for u in seen]
        assert numbers == sorted(numbers, reverse=sort == "number_desc")


def test_grid_and_table_views(client, logged_in, log):
    table = client.get("/encounters").text
    grid = client.get("/encounters?view=grid").text
    assert '<table class="log-table">' in table and 'class="log-grid"' not in table
    assert 'class="log-grid"' in grid and "<table" not in grid
    assert 'id="view-grid" aria-current="page"' in grid


def read_csv(client, query: str = "") -> list[dict]:
    response = client.get("/encounters.csv" + query)
    assert response.status_code == 200
    assert response.mimetype == "text/csv" and response.is_streamed
    return list(csv.DictReader(io.StringIO(response.get_data(as_text=True))))


def test_csv_honours_filters_and_withdrawals(app, client, logged_in, log):
    rows = read_csv(client)
    assert len(rows) == len(log)
    withdrawn = next(r for r in rows if r["status"] == "withdrawn")
    assert withdrawn["number"] == str(number_of(app, log["withdrawn"]))
    assert withdrawn["date"] == "2026-04-12"
    kept = {k: v for k, v in withdrawn.items() if v}
    assert set(kept) == {"number", "date", "status"}  # the tombstone, nothing else
    fair = next(r for r in rows if r["occasion"] == "zine fair")
    assert fair["credit"] == "Ana Lima" and fair["notes"] == "loved the red ink"
    assert fair["social"] == "yes" and fair["consent_version"] == "1"
    assert [r["occasion"] for r in read_csv(client, "?venue_type=fair")] == ["zine fair"]


def test_csv_neutralises_formulas(app, client, logged_in):
    make_encounter(app, venue="=HYPERLINK(\"http://x\")", city="+1 city", notes="@SUM(A1)",
                   credit_name="-Ana")  # fmt: skip
    (row,) = read_csv(client)
    assert row["occasion"] == '\'=HYPERLINK("http://x")'
    assert row["city"] == "'+1 city" and row["notes"] == "'@SUM(A1)" and row["credit"] == "'-Ana"


def test_the_log_and_export_are_the_collectors_only(auth, client, log):
    auth.create_collector()
    for path in ("/encounters", "/encounters.csv", "/encounters/import"):
        assert_sent_to_login(client.get(path), path)


def test_home_counter_leaves_withdrawn_drawings_out(app, client, logged_in):
    make_encounter(app)
    make_encounter(app, withdrawn=True)
    make_encounter(app, declined=True)
    html = client.get("/").text
    assert home_count(html) == ("1", "10,000")
    assert "3 approaches logged" in html  # asking was labor, withdrawn or not


def test_tombstones_page_without_duplicates_or_gaps(app, client, logged_in):
    withdrawn = {
        make_encounter(app, started_at=START + timedelta(minutes=i // 2), withdrawn=True)
        for i in range(52)
    }
    make_encounter(app)
    for sort in ("newest", "oldest"):
        seen = shown(client, status="withdrawn", sort=sort)
        assert set(seen) == withdrawn and len(seen) == 52

"""The collector's pages: home, the capture form, handoff, declined, the log."""

from __future__ import annotations

import html
import io
import json
import re
from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from fieldapp.encounters.models import Encounter
from fieldapp.extensions import db
from tests.factories import count_rows, home_count, make_encounter, small_jpeg
from tests.helpers import capture_form


def test_capture_form_records_and_lands_on_the_handoff_screen(app, client, logged_in):
    form = capture_form(client)
    response = client.post("/encounters/new", data=form, content_type="multipart/form-data")
    assert response.status_code == 302
    assert response.headers["Location"] == f"/encounters/{form['uuid']}/handoff"
    handoff = client.get(response.headers["Location"]).text
    assert "Write <strong>#1</strong> on the back" in handoff
    assert re.search(r'<img class="qr" src="/p/[\w-]+/qr.svg"', handoff)
    with app.app_context():
        encounter = db.session.scalar(select(Encounter))
        assert (encounter.venue, encounter.credit_name, encounter.gallery, encounter.training) == (
            "Julia's birthday",
            "Julia",
            True,
            False,
        )
        assert encounter.time_limit_seconds == 60
        assert encounter.photo is not None


def test_submitting_the_same_form_twice_records_once(app, client, logged_in):
    form = capture_form(client)
    first = client.post("/encounters/new", data=form, content_type="multipart/form-data")
    form["photo"] = (io.BytesIO(small_jpeg()), "photo.jpg", "image/jpeg")
    second = client.post("/encounters/new", data=form, content_type="multipart/form-data")
    assert first.headers["Location"] == second.headers["Location"]
    assert count_rows(app, Encounter) == 1


def test_anonymous_choice_stores_no_name_even_if_one_was_typed(app, client, logged_in):
    client.post(
        "/encounters/new",
        data=capture_form(client, credit="anonymous", credit_name="Typed Then Changed"),
        content_type="multipart/form-data",
    )
    with app.app_context():
        assert db.session.scalar(select(Encounter.credit_name)) is None


def test_a_kept_drawing_needs_its_photo(app, client, logged_in):
    response = client.post(
        "/encounters/new", data=capture_form(client, photo=None), content_type="multipart/form-data"
    )
    assert response.status_code == 422
    assert "Take a photo" in response.text
    assert count_rows(app, Encounter) == 0


def test_a_broken_photo_is_explained_and_nothing_is_recorded(app, client, logged_in):
    form = capture_form(client, photo=(io.BytesIO(b"not a photo" * 100), "photo.jpg", "image/jpeg"))
    response = client.post("/encounters/new", data=form, content_type="multipart/form-data")
    assert response.status_code == 422
    assert "not a photo we can read" in response.text
    assert count_rows(app, Encounter) == 0


def test_forged_capture_form_without_csrf_changes_nothing(app, client, logged_in):
    response = client.post(
        "/encounters/new",
        data=capture_form(client, csrf_token="forged"),
        content_type="multipart/form-data",
    )
    assert response.status_code == 400
    assert count_rows(app, Encounter) == 0


def test_venue_is_prefilled_from_the_previous_encounter(app, client, logged_in):
    make_encounter(app, venue_type="fair", venue="STEM fair", city="Queens")
    html = client.get("/encounters/new").text
    assert '<option selected value="fair">' in html or 'value="fair" selected' in html
    assert 'value="STEM fair"' in html and 'value="Queens"' in html


def test_declined_is_one_tap_from_home_and_keeps_only_the_venue(app, client, logged_in):
    make_encounter(app, venue_type="bar", venue="Bootleg", city="New York")
    home = client.get("/").text
    form = re.search(
        r'<form method="post" action="/encounters/declined".*?</form>', home, re.S
    ).group(0)
    fields = dict(re.findall(r'name="(\w+)"[^>]*value="([^"]*)"', form))
    response = client.post("/encounters/declined", data=fields)
    assert response.status_code == 302
    assert "Declined approach logged" in client.get("/").text
    with app.app_context():
        declined = db.session.scalar(select(Encounter).where(Encounter.status == "declined"))
        assert (declined.venue_type, declined.venue, declined.city) == (
            "bar",
            "Bootleg",
            "New York",
        )
        assert declined.ticket is None and declined.credit_name is None and declined.keep is None


def test_home_counts_drawings_and_approaches(app, client, logged_in):
    make_encounter(app)
    make_encounter(app, declined=True)
    html = client.get("/").text
    assert home_count(html) == ("1", "10,000")
    assert "2 approaches logged" in html


def test_home_counts_towards_the_goal_set_on_the_ledger(app, client, logged_in):
    from fieldapp.ledger.services import set_goal

    make_encounter(app)
    with app.app_context():
        set_goal(db.session, 2500)
    html = client.get("/").text
    assert home_count(html) == ("1", "2,500")
    assert 'max="2500"' in html
    progress = client.get("/api/v1/progress").json
    assert (progress["drawings"], progress["approaches"], progress["goal"]) == (1, 1, 2500)


def test_log_is_newest_first_with_thumbnails_and_pages(app, client, logged_in):
    start = datetime(2026, 3, 1, 20, 0, tzinfo=UTC)
    for minutes in range(50):
        make_encounter(app, started_at=start + timedelta(minutes=minutes))
    make_encounter(app, photo=small_jpeg(), started_at=start + timedelta(hours=5))
    first = client.get("/encounters").text
    numbers = [int(n) for n in re.findall(r"<strong>#(\d+)</strong>", first)]
    assert numbers[0] == 51  # newest first: the one with the photo
    assert len(numbers) == 48
    assert 'loading="lazy"' in first and "/photo/thumb" in first
    cursor = re.search(r'href="/encounters\?after=([^"]+)"', first).group(1)
    second = client.get(f"/encounters?after={cursor.replace('&#43;', '+')}").text
    rest = [int(n) for n in re.findall(r"<strong>#(\d+)</strong>", second)]
    assert sorted(numbers + rest) == list(range(1, 52))


def test_detail_page_shows_the_encounter(app, client, logged_in):
    client_uuid = make_encounter(
        app, photo=small_jpeg(), credit={"name": "Ana"}, notes="asked about the red ink"
    )
    html = client.get(f"/encounters/{client_uuid}").text
    assert "Drawing #1" in html and "Ana" in html and "asked about the red ink" in html
    assert client.get(f"/encounters/{client_uuid}/photo/display").status_code == 200
    assert client.get("/encounters/00000000-0000-4000-8000-000000000000").status_code == 404


def test_without_javascript_each_question_is_asked_and_none_is_answered(client, logged_in):
    """The same step as a plain form: every language's question on the page, nothing checked,
    and a form posted with an answer missing refused with what is missing."""
    page = client.get("/encounters/new").text
    for name in ("age_group", "keep", "gallery", "training", "social"):
        assert re.findall(rf'<input type="radio" name="{name}" value="\w+" checked', page) == []
    form = capture_form(client, training=None, age_group=None)
    response = client.post("/encounters/new", data=form, content_type="multipart/form-data")
    assert response.status_code == 422
    assert "The drawer&#39;s age was not answered" in response.text
    assert "Machine-learning training: the drawer did not answer yes or no." in response.text
    with client.application.app_context():
        from fieldapp.encounters.models import Encounter
        from fieldapp.extensions import db

        assert db.session.query(Encounter).count() == 0
    form = capture_form(client, consent_language="zh-Hans", age_group="minor", credit=None,
                        credit_name=None, training="no", social="no")  # fmt: skip
    response = client.post("/encounters/new", data=form, content_type="multipart/form-data")
    assert response.status_code == 302
    with client.application.app_context():
        from fieldapp.encounters.services import encounter_by_uuid
        from fieldapp.extensions import db

        recorded = encounter_by_uuid(db.session, form["uuid"])
        assert (recorded.age_group, recorded.consent_language) == ("minor", "zh-Hans")


def test_the_age_asked_is_the_configured_one_in_every_language(app, client, logged_in):
    app.config["ADULT_AGE"] = 16
    try:
        page = client.get("/encounters/new").text
    finally:
        app.config["ADULT_AGE"] = 18
    assert "Are you 16 or older?" in page
    # Every language of the step, carried in the page for the switch (and offline use).
    carried = json.loads(html.unescape(re.search(r'data-texts="([^"]*)"', page).group(1)))
    questions = {language: texts["words"]["age_question"] for language, texts in carried.items()}
    assert questions == {
        "en": "Are you 16 or older?", "es": "¿Tienes 16 años o más?", "zh-Hans": "你年满 16 岁了吗？",
    }  # fmt: skip

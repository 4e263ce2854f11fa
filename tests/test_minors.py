"""A minor's drawing: never credited, trained on or posted; in the public gallery (and so on
the live screen and in the diary) only once the collector records a guardian's agreement."""

from __future__ import annotations

import csv
import io
import re

from fieldapp.consent.services import consent_history
from fieldapp.encounters.services import encounter_by_uuid
from fieldapp.extensions import db
from tests.conftest import csrf_token_from
from tests.factories import make_encounter, number_of, small_jpeg

GALLERY_ONLY = {"version": 1, "keep": True, "gallery": True, "training": False, "social": False}


def in_gallery(client, number: int) -> bool:
    listed = number in [
        int(n) for n in re.findall(r'href="/gallery/(\d+)"', client.get("/gallery").text)
    ]
    live = number in [d["number"] for d in client.get("/live.json").get_json()["latest"]]
    pages = [
        client.get(f"/gallery/{number}{p}").status_code for p in ("", "/thumb.jpg", "/display.jpg")
    ]
    assert len({listed, live, pages == [200] * 3}) == 1, (listed, live, pages)
    assert set(pages) <= {200, 404}
    return listed


def guardian_post(client, client_uuid: str, **fields):
    page = client.get(f"/encounters/{client_uuid}")
    form = {"csrf_token": csrf_token_from(page.text)} | {
        f"guardian-{k}": v for k, v in fields.items()
    }
    return client.post(f"/encounters/{client_uuid}/guardian", data=form)


def test_a_minors_drawing_is_public_only_with_a_guardians_agreement(app, client, logged_in):
    minor = make_encounter(app, photo=small_jpeg(), age_group="minor", consent=GALLERY_ONLY)
    adult = make_encounter(app, photo=small_jpeg((0, 0, 200)), consent=GALLERY_ONLY)
    number = number_of(app, minor)
    assert in_gallery(client, number_of(app, adult))
    assert not in_gallery(client, number)

    page = client.get(f"/encounters/{minor}").text
    assert "<strong>minor</strong>" in page
    assert "shown there only once a parent or guardian agrees" in page
    assert "A parent or guardian agreed?" in page

    done = guardian_post(client, minor, agreed="yes", reason="her mother, in person at the fair")
    assert done.status_code == 302
    assert in_gallery(client, number)
    page = client.get(f"/encounters/{minor}").text
    assert "a parent or guardian agreed to the gallery" in page
    assert "Reason: her mother, in person at the fair" in page
    assert "guardian consent" in page  # the event's method, in the history

    back = guardian_post(client, minor, agreed="no", reason="her father wrote on 3 June")
    assert back.status_code == 302
    assert not in_gallery(client, number)
    with app.app_context():
        encounter = encounter_by_uuid(db.session, minor)
        history = consent_history(db.session, encounter)
        assert [(e.method, e.guardian_agreed) for e in history] == [
            ("field_capture", False),
            ("guardian_consent", True),
            ("guardian_consent", False),
        ]
        assert history[1].reason == "her mother, in person at the fair"


def test_a_guardians_agreement_needs_who_and_how(app, client, logged_in):
    minor = make_encounter(app, photo=small_jpeg(), age_group="minor", consent=GALLERY_ONLY)
    refused = guardian_post(client, minor, agreed="yes", reason="  ")
    assert refused.status_code == 422
    assert "Say who agreed and how" in refused.text
    forged = guardian_post(client, minor, agreed="maybe", reason="her aunt")
    assert forged.status_code == 422 and "Not a valid choice" in forged.text
    no_csrf = client.post(
        f"/encounters/{minor}/guardian", data={"guardian-agreed": "yes", "guardian-reason": "x"}
    )
    assert no_csrf.status_code == 400
    assert not in_gallery(client, number_of(app, minor))


def test_an_adult_or_a_minor_without_the_gallery_needs_no_guardian(app, client, logged_in):
    adult = make_encounter(app, photo=small_jpeg(), consent=GALLERY_ONLY)
    assert "A parent or guardian agreed" not in client.get(f"/encounters/{adult}").text
    refused = guardian_post(client, adult, agreed="yes", reason="someone")
    assert refused.status_code == 422
    assert "Only a minor&#39;s drawing needs" in refused.text
    private = make_encounter(
        app,
        photo=small_jpeg((0, 0, 200)),
        age_group="minor",
        consent={**GALLERY_ONLY, "gallery": False},
    )
    assert "A parent or guardian agreed" not in client.get(f"/encounters/{private}").text
    refused = guardian_post(client, private, agreed="yes", reason="her mother")
    assert refused.status_code == 422 and "did not wish the gallery" in refused.text


def test_the_collectors_correction_cannot_train_post_or_credit_a_minor(app, client, logged_in):
    minor = make_encounter(app, photo=small_jpeg(), age_group="minor", consent=GALLERY_ONLY)
    page = client.get(f"/encounters/{minor}")
    form = {
        "csrf_token": csrf_token_from(page.text),
        "gallery": "y",
        "training": "y",
        "social": "y",
        "credit": "name",
        "credit_name": "Lucía",
        "reason": "she asked",
    }
    refused = client.post(f"/encounters/{minor}/consent", data=form)
    assert refused.status_code == 422
    text = refused.text.replace("&#39;", "'")
    assert "a minor's drawing is never used to train machine-learning models" in text
    assert "a minor's drawing is never posted on social media" in text
    assert "a minor is never credited by name" in text
    with app.app_context():
        encounter = encounter_by_uuid(db.session, minor)
        assert (encounter.training, encounter.social, encounter.credit_name) == (False, False, None)
        assert len(consent_history(db.session, encounter)) == 1


def test_the_log_filters_minors_and_the_csv_names_them(app, client, logged_in):
    minor = make_encounter(app, photo=small_jpeg(), age_group="minor", consent=GALLERY_ONLY)
    adult = make_encounter(app, photo=small_jpeg((0, 0, 200)))
    page = client.get("/encounters?age=minor").text
    numbers = re.findall(r'data-number="(\d+)"', page)
    assert numbers == [str(number_of(app, minor))]
    assert "awaiting a guardian" in page
    assert '<option value="minor" selected>Minors</option>' in page
    assert str(number_of(app, adult)) in re.findall(
        r'data-number="(\d+)"', client.get("/encounters?age=adult").text
    )
    rows = list(csv.DictReader(io.StringIO(client.get("/encounters.csv?age=minor").text)))
    assert [(r["number"], r["age_group"], r["guardian_agreed"]) for r in rows] == [
        (str(number_of(app, minor)), "minor", "no")
    ]


def test_a_minors_pages_reserve_training_even_if_a_row_says_otherwise(app, client):
    """The participant page and its images declare the reservation for a minor's drawing, even
    when the row was forced to training=true (a record from before the rule)."""
    from sqlalchemy import text

    from tests.factories import token_of

    minor = make_encounter(app, photo=small_jpeg(), age_group="minor", consent=GALLERY_ONLY)
    with app.app_context():
        db.session.execute(
            text("UPDATE encounters SET training = true WHERE uuid = :uuid"), {"uuid": minor}
        )
        db.session.commit()
    token = token_of(app, minor)
    for path in (f"/p/{token}", f"/p/{token}/drawing.jpg"):
        response = client.get(path)
        assert response.status_code == 200, path
        assert response.headers["tdm-reservation"] == "1", path
        assert "noai" in response.headers["X-Robots-Tag"], path

"""Consent versions that never change once used, and consent as an append-only history."""

from __future__ import annotations

import json
import random

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.exc import DatabaseError

from fieldapp.consent.models import ConsentEvent, ConsentVersion
from fieldapp.consent.services import (
    ConsentError,
    ConsentVersionImmutable,
    change_consent,
    consent_history,
    derive_state,
    publish_version,
    text_sha256,
)
from fieldapp.consent.texts import consent_sha256
from fieldapp.encounters.services import encounter_by_uuid
from fieldapp.extensions import db
from tests.conftest import csrf_token_from
from tests.consent_texts import ENGLISH
from tests.factories import make_encounter, small_jpeg, token_of
from tests.postgres import on_both_databases

NEW_TEXT = "Thank you for drawing me.\n\nVersion three of what happens to your drawing."


def version_form(page_text: str, **changes) -> dict:
    """The settings form as the collector sends it: a whole layered text, in English."""
    form = {
        "csrf_token": csrf_token_from(page_text),
        "language": "en",
        "summary": ENGLISH["summary"],
        "text": NEW_TEXT,
    }
    for key, parts in ENGLISH["choices"].items():
        form[f"{key}_label"], form[f"{key}_line"] = parts["label"], parts["line"]
    return form | changes


def count_versions(app) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(ConsentVersion))


# Versions --------------------------------------------------------------------------------


def test_settings_page_publishes_a_new_version_with_its_hash(app, client, logged_in):
    page = client.get("/settings/consent")
    assert page.status_code == 200
    assert "Version 2" in page.text and "Version 1" in page.text
    response = client.post(
        "/settings/consent",
        data=version_form(page.text, text=NEW_TEXT.replace("\n", "\r\n") + "\n"),
    )
    assert response.status_code == 302
    with app.app_context():
        newest = db.session.scalar(select(ConsentVersion).order_by(ConsentVersion.id.desc()))
        assert newest.id == 3
        assert newest.text == NEW_TEXT
        assert (newest.language, newest.summary) == ("en", ENGLISH["summary"])
        assert json.loads(newest.choice_texts) == ENGLISH["choices"]
        assert newest.sha256 == consent_sha256(
            "en", ENGLISH["summary"], ENGLISH["choices"], NEW_TEXT
        )
        assert newest.created_at is not None
    assert client.get("/api/v1/consent/current").get_json()["version"] == 3
    page = client.get("/settings/consent").text
    assert "Saved as consent version 3" in page
    assert newest.sha256 in page


def test_saving_the_same_text_again_creates_no_version(app, client, logged_in):
    for _ in range(2):
        page = client.get("/settings/consent")
        client.post("/settings/consent", data=version_form(page.text))
    assert count_versions(app) == 3
    assert "Unchanged: version 3" in client.get("/settings/consent").text


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"text": "  \n "}, "The full text is empty."),
        ({"summary": ""}, "The summary is empty"),
        ({"training_label": ""}, "The choice “training” needs a label."),
        ({"credit_line": " "}, "The choice “credit” needs a one-line explanation."),
        ({"social_line": "x" * 161}, "Field cannot be longer than 160 characters."),
        ({"language": "fr"}, "Not a valid choice."),
    ],
    ids=["empty-text", "no-summary", "no-label", "no-line", "long-line", "forged-language"],
)
def test_an_incomplete_or_forged_version_is_refused(app, client, logged_in, changes, message):
    page = client.get("/settings/consent")
    response = client.post("/settings/consent", data=version_form(page.text, **changes))
    assert response.status_code == 422
    assert message in response.text
    assert count_versions(app) == 2


def test_a_version_form_missing_its_parts_is_refused(app, client, logged_in):
    page = client.get("/settings/consent")
    response = client.post(
        "/settings/consent", data={"csrf_token": csrf_token_from(page.text), "text": NEW_TEXT}
    )
    assert response.status_code == 422
    assert "The summary is empty" in response.text
    assert count_versions(app) == 2


def test_settings_without_csrf_changes_nothing(app, client, logged_in):
    page = client.get("/settings/consent")
    form = version_form(page.text)
    del form["csrf_token"]
    assert client.post("/settings/consent", data=form).status_code == 400
    assert count_versions(app) == 2


def test_participant_page_shows_the_version_its_drawer_saw_not_todays(app, client):
    token = token_of(app, make_encounter(app, photo=small_jpeg()))
    with app.app_context():
        publish_version(
            db.session, NEW_TEXT, summary=ENGLISH["summary"], choices=ENGLISH["choices"]
        )
        first = db.session.get(ConsentVersion, 1)
    page = client.get(f"/p/{token}").text
    assert "version 1" in page
    assert first.text.split("\n\n")[1][:60] in page
    assert "Version two of what happens" not in page


@on_both_databases
def test_changing_a_used_version_is_refused_by_the_service(app):
    make_encounter(app)
    with app.app_context():
        version = db.session.get(ConsentVersion, 1)
        version.text = "Something else entirely."
        with pytest.raises(ConsentVersionImmutable):
            db.session.flush()
        db.session.rollback()
        with pytest.raises(ConsentVersionImmutable):
            db.session.delete(db.session.get(ConsentVersion, 1))
            db.session.flush()
        db.session.rollback()
        assert db.session.get(ConsentVersion, 1).sha256 == text_sha256(
            db.session.get(ConsentVersion, 1).text
        )


@on_both_databases
@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE consent_versions SET text = 'forged' WHERE id = 1",
        "UPDATE consent_versions SET sha256 = 'forged' WHERE id = 1",
        "UPDATE consent_versions SET created_at = '2000-01-01 00:00:00' WHERE id = 1",
        "DELETE FROM consent_versions WHERE id = 1",
    ],
)
def test_changing_a_used_version_is_refused_by_the_database(app, statement):
    make_encounter(app)
    with app.app_context():
        with pytest.raises(DatabaseError, match="consent version"):
            db.session.execute(text(statement))
        db.session.rollback()
        assert db.session.scalar(text("SELECT text FROM consent_versions WHERE id = 1")) != "forged"


@on_both_databases
def test_consent_events_are_append_only_in_the_database(app):
    make_encounter(app)
    with app.app_context():
        for statement in (
            "UPDATE consent_events SET gallery = false",
            "DELETE FROM consent_events",
        ):
            with pytest.raises(DatabaseError, match="append-only"):
                db.session.execute(text(statement))
            db.session.rollback()
        assert db.session.scalar(select(func.count()).select_from(ConsentEvent)) == 1


# Events ----------------------------------------------------------------------------------


def columns_state(encounter) -> tuple:
    return (
        encounter.keep,
        encounter.gallery,
        encounter.training,
        encounter.social,
        encounter.credit_name is not None,
        encounter.is_withdrawn,
    )


def derived_state(session, encounter) -> tuple:
    state = derive_state(consent_history(session, encounter))
    return (
        state.keep,
        state.gallery,
        state.training,
        state.social,
        state.credited,
        state.withdrawn,
    )


def test_field_capture_is_the_first_event(app):
    client_uuid = make_encounter(app, credit_name="Ana Lima")
    with app.app_context():
        encounter = encounter_by_uuid(db.session, client_uuid)
        (grant,) = consent_history(db.session, encounter)
        assert (grant.kind, grant.actor, grant.method) == ("grant", "collector", "field_capture")
        assert grant.credited is True
        assert derived_state(db.session, encounter) == columns_state(encounter)


def test_the_state_derived_from_events_equals_the_columns_after_every_change(app):
    client_uuid = make_encounter(app, photo=small_jpeg())
    rng = random.Random(4)
    with app.app_context():
        encounter = encounter_by_uuid(db.session, client_uuid)
        for step in range(40):
            actor, method, reason = rng.choice(
                [
                    ("participant", "participant_page", ""),
                    ("collector", "collector_correction", f"drawer asked by email, #{step}"),
                ]
            )
            change_consent(
                db.session,
                encounter,
                actor=actor,
                method=method,
                reason=reason,
                gallery=rng.choice([True, False, None]),
                training=rng.choice([True, False, None]),
                social=rng.choice([True, False, None]),
                **rng.choice([{}, {"credit_name": None}, {"credit_name": f"Name {step}"}]),
            )
            db.session.commit()
            assert derived_state(db.session, encounter) == columns_state(encounter)
        history = consent_history(db.session, encounter)
        assert len(history) == 41
        assert [e.kind for e in history] == ["grant"] + ["change"] * 40


def test_a_collector_correction_needs_a_reason(app):
    client_uuid = make_encounter(app)
    with app.app_context():
        encounter = encounter_by_uuid(db.session, client_uuid)
        with pytest.raises(ConsentError, match="reason"):
            change_consent(
                db.session, encounter, actor="collector", method="collector_correction", social=True
            )


def test_keep_ends_only_by_withdrawal_and_a_withdrawn_drawing_never_changes(app):
    client_uuid = make_encounter(app, photo=small_jpeg())
    with app.app_context():
        encounter = encounter_by_uuid(db.session, client_uuid)
        with pytest.raises(ConsentError, match="withdrawing"):
            change_consent(
                db.session, encounter, actor="participant", method="participant_page", keep=False
            )
    withdrawn = make_encounter(app, photo=small_jpeg((0, 0, 200)), withdrawn=True)
    with app.app_context():
        encounter = encounter_by_uuid(db.session, withdrawn)
        assert derived_state(db.session, encounter) == columns_state(encounter)
        assert [e.kind for e in consent_history(db.session, encounter)] == ["grant", "withdraw"]
        with pytest.raises(ConsentError, match="withdrawn"):
            change_consent(
                db.session, encounter, actor="participant", method="participant_page", gallery=True
            )


def test_collector_sees_the_history_on_the_encounter_page(app, client, logged_in):
    client_uuid = make_encounter(app, photo=small_jpeg())
    with app.app_context():
        encounter = encounter_by_uuid(db.session, client_uuid)
        change_consent(
            db.session,
            encounter,
            actor="collector",
            method="collector_correction",
            reason="ticked social by mistake",
            social=False,
            training=True,
        )
        db.session.commit()
    page = client.get(f"/encounters/{client_uuid}").text
    assert "Consent history" in page
    assert "Grant</strong> by the collector, field capture" in page
    assert "Change</strong> by the collector, collector correction" in page
    assert "ticked social by mistake" in page


def test_collector_corrects_a_consent_with_a_reason_through_the_form(app, client, logged_in):
    client_uuid = make_encounter(app, photo=small_jpeg(), credit_name="Ana Lima")
    page = client.get(f"/encounters/{client_uuid}")
    assert "Correct the consent" in page.text
    form = {"gallery": "y", "training": "y", "credit": "anonymous"}
    token = csrf_token_from(page.text)
    refused = client.post(f"/encounters/{client_uuid}/consent", data=form | {"csrf_token": token})
    assert refused.status_code == 422 and "Say why" in refused.text
    assert client.post(f"/encounters/{client_uuid}/consent", data=form).status_code == 400
    done = client.post(
        f"/encounters/{client_uuid}/consent",
        data=form | {"csrf_token": token, "reason": "drawer asked by email"},
    )
    assert done.status_code == 302
    with app.app_context():
        encounter = encounter_by_uuid(db.session, client_uuid)
        assert (encounter.training, encounter.credit_name) == (True, None)
        last = consent_history(db.session, encounter)[-1]
        assert (last.actor, last.method, last.reason) == (
            "collector",
            "collector_correction",
            "drawer asked by email",
        )
        assert derived_state(db.session, encounter) == columns_state(encounter)

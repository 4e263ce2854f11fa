"""The consent's languages and the drawer's age group through the phone's API."""

from __future__ import annotations

import hashlib
import json
import uuid as uuidlib

import pytest

from fieldapp.consent.services import current_version, text_seen
from fieldapp.encounters.models import Encounter
from fieldapp.encounters.services import encounter_by_uuid
from fieldapp.extensions import db
from tests.consent_texts import english_only_version, translate_current
from tests.factories import count_rows, encounter_data, put_encounter


def current_number(app) -> int:
    with app.app_context():
        return current_version(db.session).id


def consent(app, **fields) -> dict:
    return {
        "version": current_number(app),
        "keep": True,
        "gallery": True,
        "training": False,
        "social": False,
        **fields,
    }


def test_the_current_consent_lists_every_published_language(app, client, api_token):
    spanish = translate_current(app, "es")
    body = client.get(
        "/api/v1/consent/current", headers={"Authorization": f"Bearer {api_token}"}
    ).get_json()
    languages = [t["language"] for t in body["translations"]]
    assert languages[0] == body["language"] == "en"
    assert "es" in languages
    (es,) = [t for t in body["translations"] if t["language"] == "es"]
    assert es["sha256"] == spanish.sha256
    assert es["text"] == spanish.text and es["summary"] == spanish.summary
    # Anyone can recompute each hash from what the API gives.
    for text in body["translations"]:
        document = {k: text[k] for k in ("language", "summary", "choices", "text")}
        canonical = json.dumps(document, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
        assert hashlib.sha256(canonical.encode()).hexdigest() == text["sha256"]


@pytest.mark.parametrize(
    ("language", "stored"),
    [(None, None), ("en", None), ("es", "es")],
    ids=["absent", "the-versions-own", "a-translation"],
)
def test_the_language_shown_is_recorded(app, client, api_token, language, stored):
    spanish = translate_current(app, "es")
    extra = {} if language is None else {"language": language}
    client_uuid = str(uuidlib.uuid4())
    data = encounter_data(consent=consent(app, **extra))
    assert put_encounter(client, api_token, client_uuid, data).status_code == 201
    with app.app_context():
        encounter = encounter_by_uuid(db.session, client_uuid)
        assert encounter.consent_language == stored
        seen = text_seen(db.session, encounter)
        assert seen.language == (language or "en")
        if language == "es":
            assert seen.sha256 == spanish.sha256
        else:
            assert seen.sha256 == current_version(db.session).sha256


@pytest.mark.parametrize("language", ["zh-Hans", "fr", "ES", 3, ["es"]])
def test_a_language_without_a_published_text_is_refused(app, client, api_token, language):
    english_only_version(app)
    translate_current(app, "es")
    data = encounter_data(consent=consent(app, language=language))
    response = put_encounter(client, api_token, str(uuidlib.uuid4()), data)
    assert response.status_code == 422
    assert [e["field"] for e in response.get_json()["errors"]] == ["consent.language"]
    assert count_rows(app, Encounter) == 0


def test_an_old_version_in_a_language_it_never_had_is_refused(app, client, api_token):
    translate_current(app, "es")  # on the current version only
    data = encounter_data(consent=consent(app, version=1, language="es"))
    response = put_encounter(client, api_token, str(uuidlib.uuid4()), data)
    assert response.status_code == 422
    (error,) = response.get_json()["errors"]
    assert error["field"] == "consent.language" and "no es text" in error["message"]


def test_an_encounter_without_an_age_group_is_an_adults(app, client, api_token):
    client_uuid = str(uuidlib.uuid4())
    assert put_encounter(client, api_token, client_uuid, encounter_data()).status_code == 201
    with app.app_context():
        encounter = encounter_by_uuid(db.session, client_uuid)
        assert (encounter.age_group, encounter.is_minor) == ("adult", False)


def test_a_minor_is_recorded_without_a_guardians_agreement(app, client, api_token):
    client_uuid = str(uuidlib.uuid4())
    data = encounter_data(age_group="minor", consent=consent(app))
    assert put_encounter(client, api_token, client_uuid, data).status_code == 201
    with app.app_context():
        encounter = encounter_by_uuid(db.session, client_uuid)
        assert encounter.is_minor and encounter.gallery and not encounter.guardian_agreed


@pytest.mark.parametrize("age_group", ["child", "", "Minor", True, 17])
def test_an_unknown_age_group_is_refused(app, client, api_token, age_group):
    data = encounter_data(age_group=age_group)
    response = put_encounter(client, api_token, str(uuidlib.uuid4()), data)
    assert response.status_code == 422
    assert [e["field"] for e in response.get_json()["errors"]] == ["age_group"]


def test_a_minor_cannot_be_trained_on_posted_or_credited(app, client, api_token):
    data = encounter_data(
        age_group="minor",
        consent=consent(app, training=True, social=True),
        credit={"name": "Ana"},
    )
    response = put_encounter(client, api_token, str(uuidlib.uuid4()), data)
    assert response.status_code == 422
    errors = {e["field"]: e["message"] for e in response.get_json()["errors"]}
    assert errors == {
        "consent.training": "a minor's drawing is never used to train machine-learning models",
        "consent.social": "a minor's drawing is never posted on social media",
        "credit.name": "a minor is never credited by name",
    }
    assert count_rows(app, Encounter) == 0


def test_a_declined_approach_keeps_no_age_group(app, client, api_token):
    data = encounter_data(declined=True, age_group="minor")
    response = put_encounter(client, api_token, str(uuidlib.uuid4()), data)
    assert response.status_code == 422
    assert [e["field"] for e in response.get_json()["errors"]] == ["age_group"]


@pytest.mark.parametrize(
    "retry",
    [
        lambda first: {**first, "age_group": "minor"},
        lambda first: {**first, "consent": {**first["consent"], "language": "es"}},
    ],
    ids=["age-group", "language"],
)
def test_a_retry_with_another_age_group_or_language_is_a_conflict(app, client, api_token, retry):
    translate_current(app, "es")
    client_uuid = str(uuidlib.uuid4())
    first = encounter_data(consent=consent(app), age_group="adult")
    assert put_encounter(client, api_token, client_uuid, first).status_code == 201
    assert put_encounter(client, api_token, client_uuid, retry(first)).status_code == 409
    assert put_encounter(client, api_token, client_uuid, first).status_code == 200


def test_an_old_format_retry_still_matches_what_was_stored(app, client, api_token):
    """A phone that queued an encounter before age groups and languages existed retries it
    unchanged: the fingerprint is the same hash of the same JSON as before, so it is the
    same encounter (200), not a conflict."""
    client_uuid = str(uuidlib.uuid4())
    old = encounter_data()
    assert "age_group" not in old and "language" not in old["consent"]
    assert put_encounter(client, api_token, client_uuid, old).status_code == 201
    with app.app_context():
        stored = encounter_by_uuid(db.session, client_uuid).data_sha256
    # The fingerprint as it was computed before this change: the canonical JSON of the data.
    canonical = json.dumps(old, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    assert stored == hashlib.sha256(canonical.encode()).hexdigest()
    again = put_encounter(client, api_token, client_uuid, old)
    assert again.status_code == 200
    assert count_rows(app, Encounter) == 1

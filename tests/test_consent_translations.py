"""The consent in other languages: published from the settings page, once, with its own hash;
never changed, and never deleted while an encounter records it."""

from __future__ import annotations

import csv
import io

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.exc import DatabaseError

from fieldapp.consent.models import ConsentTranslation
from fieldapp.consent.services import (
    ConsentVersionImmutable,
    current_version,
    publish_translation,
    publish_version,
)
from fieldapp.consent.texts import consent_sha256
from fieldapp.extensions import db
from tests.conftest import csrf_token_from
from tests.consent_texts import CHINESE, ENGLISH, SPANISH
from tests.factories import make_encounter
from tests.postgres import on_both_databases

IMMUTABLE_NOTE = "Immutable: publish a new version to change it."


def publish_english(app, text: str = "Version three, in full.") -> int:
    """A new current version (no translation yet, whatever the migration brought)."""
    with app.app_context():
        version, created = publish_version(
            db.session, text, summary=ENGLISH["summary"], choices=ENGLISH["choices"]
        )
        db.session.commit()
        assert created
        return version.id


def translate(app, version_id: int, language: str, parts: dict) -> ConsentTranslation:
    with app.app_context():
        version = current_version(db.session)
        assert version.id == version_id
        translation = publish_translation(db.session, version, language, **parts)
        db.session.commit()
        db.session.refresh(translation)
        db.session.expunge(translation)
        return translation


def translation_form(page_text: str, language: str, version_id: int, parts: dict, **changes):
    form = {
        "csrf_token": csrf_token_from(page_text),
        f"{language}-version": str(version_id),
        f"{language}-summary": parts["summary"],
        f"{language}-text": parts["text"],
    }
    for key, choice in parts["choices"].items():
        form[f"{language}-{key}_label"] = choice["label"]
        form[f"{language}-{key}_line"] = choice["line"]
    return form | changes


def count_translations(app) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(ConsentTranslation))


def test_the_collector_publishes_a_translation_with_its_own_hash(app, client, logged_in):
    version_id = publish_english(app)
    page = client.get("/settings/consent")
    assert f"Version {version_id} in other languages" in page.text
    assert f"Publish the Español text of version {version_id}" in page.text
    assert f"Publish the 简体中文 text of version {version_id}" in page.text
    before = count_translations(app)
    response = client.post(
        "/settings/consent/translations/es",
        data=translation_form(page.text, "es", version_id, SPANISH),
    )
    assert response.status_code == 302
    assert count_translations(app) == before + 1
    expected = consent_sha256("es", SPANISH["summary"], SPANISH["choices"], SPANISH["text"])
    with app.app_context():
        stored = db.session.scalar(
            select(ConsentTranslation).where(
                ConsentTranslation.version_id == version_id, ConsentTranslation.language == "es"
            )
        )
        assert stored.sha256 == expected and stored.text == SPANISH["text"]
    page = client.get("/settings/consent").text
    assert f"Published the Español text of version {version_id}" in page
    assert expected in page and IMMUTABLE_NOTE in page
    assert f"Publish the Español text of version {version_id}" not in page
    assert f"Publish the 简体中文 text of version {version_id}" in page


def test_a_new_version_drafts_its_translation_from_the_last_one(app, client, logged_in):
    first = publish_english(app)
    translate(app, first, "zh-Hans", CHINESE)
    second = publish_english(app, "Version four, in full.")
    page = client.get("/settings/consent").text
    assert f"Draft from the 简体中文 text of version {first}" in page
    assert CHINESE["summary"] in page  # prefilled, to be checked and published
    assert CHINESE["choices"]["gallery"]["line"] in page
    with app.app_context():
        assert (
            db.session.scalar(select(func.count()).where(ConsentTranslation.version_id == second))
            == 0
        )  # a draft is not published


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"es-summary": ""}, "The summary is empty"),
        ({"es-keep_label": ""}, "The choice “keep” needs a label."),
        ({"es-text": " "}, "The full text is empty."),
        ({"es-version": "1"}, "was published since this page was opened"),
        ({"csrf_token": "forged"}, None),
    ],
    ids=["no-summary", "no-label", "no-text", "an-older-version", "forged-csrf"],
)
def test_an_incomplete_or_forged_translation_is_refused(app, client, logged_in, changes, message):
    version_id = publish_english(app)
    page = client.get("/settings/consent")
    before = count_translations(app)
    response = client.post(
        "/settings/consent/translations/es",
        data=translation_form(page.text, "es", version_id, SPANISH, **changes),
    )
    if message is None:
        assert response.status_code == 400
    else:
        assert response.status_code == 422
        assert message in response.text
    assert count_translations(app) == before


def test_a_text_is_published_once_per_language(app, client, logged_in):
    version_id = publish_english(app)
    translate(app, version_id, "es", SPANISH)
    page = client.get("/settings/consent")
    other = {**SPANISH, "summary": "Otra cosa."}
    response = client.post(
        "/settings/consent/translations/es",
        data=translation_form(page.text, "es", version_id, other),
    )
    assert response.status_code == 422
    assert "already has its es text" in response.text
    # The version's own language is not a translation of it.
    response = client.post(
        "/settings/consent/translations/en",
        data=translation_form(page.text, "en", version_id, ENGLISH),
    )
    assert response.status_code == 422 and "is itself in en" in response.text
    assert client.post("/settings/consent/translations/fr", data={}).status_code in (400, 404)


def test_the_versions_list_counts_the_drawers_of_each_language(app, client, logged_in):
    version_id = publish_english(app)
    spanish = translate(app, version_id, "es", SPANISH)
    choices = {"keep": True, "gallery": False, "training": False, "social": False}
    make_encounter(app, consent={"version": version_id, "language": "es", **choices})
    make_encounter(app, consent={"version": version_id, "language": "es", **choices})
    make_encounter(app, consent={"version": version_id, **choices})
    page = client.get("/settings/consent").text
    versions = page[page.index("<h2>Versions</h2>") :]
    this_one = versions[: versions.index(f"Version {version_id - 1}</strong>")]
    assert "English (en), its own · seen by 1 drawer<br>" in this_one
    assert "Español (es) · seen by 2 drawers<br>" in this_one
    assert spanish.sha256 in this_one


# Immutability ----------------------------------------------------------------------------


def used_translation(app) -> tuple[int, str]:
    version_id = publish_english(app)
    translate(app, version_id, "es", SPANISH)
    choices = {"keep": True, "gallery": False, "training": False, "social": False}
    make_encounter(app, consent={"version": version_id, "language": "es", **choices})
    return version_id, "es"


@on_both_databases
def test_a_translation_cannot_be_changed_or_deleted_through_the_orm(app):
    version_id, language = used_translation(app)
    with app.app_context():
        query = select(ConsentTranslation).where(
            ConsentTranslation.version_id == version_id, ConsentTranslation.language == language
        )
        translation = db.session.scalar(query)
        translation.text = "Otra cosa."
        with pytest.raises(ConsentVersionImmutable, match="cannot be changed"):
            db.session.flush()
        db.session.rollback()
        with pytest.raises(ConsentVersionImmutable, match="cannot be deleted"):
            db.session.delete(db.session.scalar(query))
            db.session.flush()
        db.session.rollback()
        assert db.session.scalar(query).text == SPANISH["text"]


@on_both_databases
@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE consent_translations SET text = 'forged' WHERE version_id = :v",
        "UPDATE consent_translations SET sha256 = 'forged' WHERE version_id = :v",
        "UPDATE consent_translations SET language = 'zh-Hans' WHERE version_id = :v",
        "DELETE FROM consent_translations WHERE version_id = :v",
    ],
)
def test_a_translation_cannot_be_changed_or_deleted_in_the_database(app, statement):
    version_id, _language = used_translation(app)
    with app.app_context():
        with pytest.raises(DatabaseError, match="consent"):
            db.session.execute(text(statement), {"v": version_id})
        db.session.rollback()
        stored = db.session.execute(
            text("SELECT text, sha256 FROM consent_translations WHERE version_id = :v"),
            {"v": version_id},
        ).one()
        assert stored.text == SPANISH["text"]
        assert stored.sha256 == consent_sha256(
            "es", SPANISH["summary"], SPANISH["choices"], SPANISH["text"]
        )


@on_both_databases
def test_a_translation_no_encounter_records_can_be_deleted(app):
    """Only what a drawer saw is kept whatever happens; an unused text may go."""
    version_id = publish_english(app)
    translate(app, version_id, "es", SPANISH)
    with app.app_context():
        db.session.execute(
            text("DELETE FROM consent_translations WHERE version_id = :v"), {"v": version_id}
        )
        assert (
            db.session.scalar(
                select(func.count()).where(ConsentTranslation.version_id == version_id)
            )
            == 0
        )


def test_the_encounter_page_and_the_csv_name_the_exact_text(app, client, logged_in):
    version_id = publish_english(app)
    spanish = translate(app, version_id, "es", SPANISH)
    choices = {"keep": True, "gallery": False, "training": False, "social": False}
    client_uuid = make_encounter(app, consent={"version": version_id, "language": "es", **choices})
    page = client.get(f"/encounters/{client_uuid}").text
    assert f"version {version_id} in Español (es)" in page
    assert f"Text shown: version {version_id}, es, SHA-256" in page
    assert spanish.sha256 in page
    rows = list(csv.DictReader(io.StringIO(client.get("/encounters.csv").text)))
    (row,) = [r for r in rows if r["uuid"] == client_uuid]
    assert (row["consent_version"], row["consent_language"], row["consent_sha256"]) == (
        str(version_id),
        "es",
        spanish.sha256,
    )

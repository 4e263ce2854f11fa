"""Exports and minors, and the exact consent text of each drawing in its drawer's language:
checked with the real `datasets` and `mlcroissant`, and by recomputing every hash."""

from __future__ import annotations

import os

os.environ["HF_DATASETS_OFFLINE"] = "1"
os.environ["HF_HUB_OFFLINE"] = "1"

import hashlib
import json
import zipfile
from dataclasses import dataclass
from pathlib import Path

import pytest
from sqlalchemy import text

from fieldapp.consent.services import current_version
from fieldapp.extensions import db
from tests.consent_texts import translate_current
from tests.dataset_fixtures import assert_croissant_validates, drawing_photo
from tests.factories import make_encounter, number_of


@dataclass(frozen=True)
class Drawers:
    spanish: int  # an adult who read the Spanish text, allowed training, credited
    english: int  # an adult who read the English text, allowed training
    minor: int  # a minor, gallery only
    minor_marked_training: int  # a minor whose row says training (as no phone may send now)
    spanish_sha256: str
    english_sha256: str
    version: int


def make_drawers(app) -> Drawers:
    spanish_text = translate_current(app, "es")
    with app.app_context():
        version = current_version(db.session)
        version_id, english_sha256 = version.id, version.sha256

    def consent(training: bool, **extra) -> dict:
        return {"version": version_id, "keep": True, "gallery": True, "training": training,
                "social": False, **extra}  # fmt: skip

    spanish = make_encounter(
        app, photo=drawing_photo(seed=11), consent=consent(True, language="es"),
        credit_name="Lucía", city="Ciudad de México",
    )  # fmt: skip
    english = make_encounter(app, photo=drawing_photo(seed=12), consent=consent(True))
    minor = make_encounter(
        app, photo=drawing_photo(seed=13), consent=consent(False), age_group="minor"
    )
    marked = make_encounter(
        app, photo=drawing_photo(seed=14), consent=consent(False, language="es"), age_group="minor"
    )
    with app.app_context():  # a record from before the rule: the export must still refuse it
        db.session.execute(
            text("UPDATE encounters SET training = true WHERE uuid = :uuid"), {"uuid": marked}
        )
        db.session.commit()
    return Drawers(
        spanish=number_of(app, spanish),
        english=number_of(app, english),
        minor=number_of(app, minor),
        minor_marked_training=number_of(app, marked),
        spanish_sha256=spanish_text.sha256,
        english_sha256=english_sha256,
        version=version_id,
    )


def export(app, tmp_path: Path, *args: str) -> Path:
    out = tmp_path / f"export{'-'.join(args)}.zip"
    result = app.test_cli_runner().invoke(args=["export", "dataset", str(out), *args])
    assert result.exit_code == 0, result.output
    folder = tmp_path / out.stem
    with zipfile.ZipFile(out) as archive:
        archive.extractall(folder)
    return folder


@pytest.fixture
def training_export(app, tmp_path):
    drawers = make_drawers(app)
    return drawers, export(app, tmp_path)


def rows_of(folder: Path) -> dict[int, dict]:
    rows = [json.loads(line) for line in (folder / "train" / "metadata.jsonl").open()]
    return {row["portrait_number"]: row for row in rows}


def test_a_training_export_holds_no_minors_drawing_and_loads(training_export, tmp_path):
    import datasets

    drawers, folder = training_export
    loaded = datasets.load_dataset(str(folder), split="train", cache_dir=str(tmp_path / "hf-cache"))
    assert sorted(loaded["portrait_number"]) == sorted([drawers.spanish, drawers.english])
    assert set(loaded["age_group"]) == {"adult"}
    by_number = {row["portrait_number"]: row for row in loaded.remove_columns("image")}
    spanish, english = by_number[drawers.spanish], by_number[drawers.english]
    assert (spanish["consent_language"], spanish["consent_sha256"]) == (
        "es",
        drawers.spanish_sha256,
    )
    assert (english["consent_language"], english["consent_sha256"]) == (
        "en",
        drawers.english_sha256,
    )
    assert spanish["credit"] == "Lucía"
    names = {p.name for p in (folder / "train").iterdir()}
    for minor in (drawers.minor, drawers.minor_marked_training):
        assert not any(str(minor).zfill(5) in name for name in names)


def test_every_row_names_a_text_anyone_can_rehash(training_export):
    drawers, folder = training_export
    index = json.loads((folder / "consent" / "index.json").read_text())
    assert {(e["consent_version"], e["consent_language"]) for e in index} == {
        (drawers.version, "en"),
        (drawers.version, "es"),
    }
    files = {}
    for entry in index:
        hashed = (folder / "consent" / entry["file"]).read_bytes()
        assert hashlib.sha256(hashed).hexdigest() == entry["consent_sha256"]
        document = json.loads(hashed)
        assert set(document) == {"language", "summary", "choices", "text"}
        assert document["language"] == entry["consent_language"]
        # Recomputed from the parts, as the card says.
        canonical = json.dumps(document, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
        assert hashlib.sha256(canonical.encode()).hexdigest() == entry["consent_sha256"]
        files[entry["consent_version"], entry["consent_language"]] = entry["consent_sha256"]
    for row in rows_of(folder).values():
        assert files[row["consent_version"], row["consent_language"]] == row["consent_sha256"]
    sums = (folder / "SHA256SUMS").read_text()
    assert all(f"consent/{entry['file']}" in sums for entry in index)


def test_the_datasheet_and_card_say_how_minors_were_handled(training_export):
    _, folder = training_export
    datasheet = (folder / "DATASHEET.md").read_text()
    assert "Were any of the people concerned minors? How were they handled?" in datasheet
    assert "asked only their age group (adult or minor)" in datasheet
    assert "never credited by name, never used to train" in datasheet
    assert "only once a parent or guardian agreed" in datasheet
    assert "the 2 kept drawings by minors were left out of it" in datasheet
    card = (folder / "README.md").read_text()
    assert "`consent_language`" in card and "`age_group`" in card


def test_croissant_validates_with_the_new_columns(training_export):
    import mlcroissant

    drawers, folder = training_export
    assert_croissant_validates(folder / "croissant.json")
    records = list(mlcroissant.Dataset(jsonld=str(folder / "croissant.json")).records("train"))
    languages = {r["train/portrait_number"]: r["train/consent_language"] for r in records}
    assert languages == {drawers.spanish: b"es", drawers.english: b"en"}


def test_the_archive_holds_the_minors_marked_as_such(app, tmp_path):
    drawers = make_drawers(app)
    folder = export(app, tmp_path, "--archive")
    rows = rows_of(folder)
    assert rows[drawers.minor]["age_group"] == "minor"
    assert rows[drawers.minor_marked_training]["consent_language"] == "es"
    assert rows[drawers.spanish]["age_group"] == "adult"
    datasheet = (folder / "DATASHEET.md").read_text()
    assert "This archive holds 2 drawings by minors" in datasheet
    # The image of the minor whose row says training still says: no training.
    image = folder / "train" / f"portrait-{drawers.minor_marked_training:05d}.jpg"
    assert b"DMI-PROHIBITED-AIMLTRAINING" in image.read_bytes()
    adult = folder / "train" / f"portrait-{drawers.english:05d}.jpg"
    assert b"DMI-PROHIBITED-AIMLTRAINING" not in adult.read_bytes()

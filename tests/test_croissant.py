"""croissant.json as Croissant 1.1 asks: a semantic version that follows the exports' history,
the SHA-256 of every file, the use conditions, and RAI fields true to the export. (That it
validates with mlcroissant and loads with `datasets` is in test_dataset_export.py.)"""

from __future__ import annotations

import hashlib
import json
import re
import zipfile
from collections import Counter
from pathlib import Path

import mlcroissant
import pytest
from mlcroissant._src.core.versions import VERSION_PATTERN_REGEX

from fieldapp.dataset.documents import framing_text
from fieldapp.dataset.versioning import _Release, next_version
from tests.dataset_fixtures import consent, drawing_photo, make_collection, run_export, unzip
from tests.factories import make_encounter


def croissant_of(folder: Path) -> dict:
    return json.loads((folder / "croissant.json").read_text())


def version_of(zip_path: Path) -> str:
    with zipfile.ZipFile(zip_path) as archive:
        return json.loads(archive.read("croissant.json"))["version"]


def framed_counts(text: str) -> int:
    """The drawings the preprocessing text counts, framed one way or another."""
    counted = re.findall(r"([\d,]+) drawings? (?:framed|with no sheet|stored before)", text)
    return sum(int(n.replace(",", "")) for n in counted)


@pytest.fixture
def exported(app, tmp_path):
    collection = make_collection(app)
    run_export(app, tmp_path / "out.zip")
    return collection, unzip(tmp_path / "out.zip", tmp_path / "out")


def test_every_file_is_listed_with_the_sha256_of_its_bytes(exported):
    _, folder = exported
    document = croissant_of(folder)
    assert document["conformsTo"] == "http://mlcommons.org/croissant/1.1"
    objects = [d for d in document["distribution"] if d["@type"] == "cr:FileObject"]
    listed = {d["contentUrl"]: d["sha256"] for d in objects}
    assert len(listed) == len(objects)  # each file once
    on_disk = {p.relative_to(folder).as_posix() for p in folder.rglob("*") if p.is_file()}
    # All but croissant.json itself and SHA256SUMS, which hashes croissant.json.
    assert set(listed) == on_disk - {"croissant.json", "SHA256SUMS"}
    for path, digest in listed.items():
        assert hashlib.sha256((folder / path).read_bytes()).hexdigest() == digest, path
    images = {p for p in listed if p.endswith(".jpg")}
    assert len(images) == 2 and all(p.startswith("train/portrait-") for p in images)
    assert {d["encodingFormat"] for d in objects if d["contentUrl"] in images} == {"image/jpeg"}


def test_usage_info_states_the_license_and_the_consent_and_points_at_its_texts(exported):
    _, folder = exported
    document = croissant_of(folder)
    license_work, consent_work = document["usageInfo"]
    assert (
        license_work["url"]
        == document["license"]
        == ("https://creativecommons.org/licenses/by-nc/4.0/")
    )
    assert "may be used to train" in consent_work["description"]
    assert "withdraws" in consent_work["description"]
    consent_files = {p.relative_to(folder).as_posix() for p in (folder / "consent").iterdir()}
    assert {part["@id"] for part in consent_work["hasPart"]} == consent_files
    ids = {d["@id"] for d in document["distribution"]}
    assert consent_files <= ids  # each a FileObject, with its sha256


def test_the_rai_fields_describe_this_export(exported):
    _, folder = exported
    document = croissant_of(folder)
    for key in (
        "rai:dataCollection",
        "rai:dataCollectionType",
        "rai:dataCollectionTimeframe",
        "rai:dataCollectionRawData",
        "rai:dataPreprocessingProtocol",
        "rai:dataAnnotationProtocol",
        "rai:personalSensitiveInformation",
        "rai:dataUseCases",
        "rai:dataLimitations",
        "rai:dataBiases",
        "rai:dataSocialImpact",
        "rai:dataReleaseMaintenancePlan",
    ):
        assert document[key], key  # fmt: skip
    [preprocessing] = document["rai:dataPreprocessingProtocol"]
    assert "perspective corrected" in preprocessing and "never exported" in preprocessing
    assert "metadata" in preprocessing and "JPEG" in preprocessing
    assert "ink extraction" not in preprocessing
    assert framed_counts(preprocessing) == 2  # every drawing of the export, framed some way
    dates = [json.loads(line)["date"] for line in (folder / "train" / "metadata.jsonl").open()]
    assert document["rai:dataCollectionTimeframe"] == [min(dates), max(dates)]
    assert "**" not in json.dumps(document)  # no Markdown in JSON-LD text
    # The card and the datasheet say the same about the images.
    card, datasheet = (folder / "README.md").read_text(), (folder / "DATASHEET.md").read_text()
    assert "framed drawing" in card and "perspective corrected" in datasheet
    assert f"**Version:** {document['version']}." in card


def test_ink_and_square_options_are_in_the_preprocessing_text(app, tmp_path):
    make_collection(app)
    run_export(app, tmp_path / "ink.zip", "--size", "256", "--ink")
    folder = unzip(tmp_path / "ink.zip", tmp_path / "ink")
    document = croissant_of(folder)
    assert (
        len(list(mlcroissant.Dataset(jsonld=str(folder / "croissant.json")).records("train"))) == 2
    )
    [preprocessing] = document["rai:dataPreprocessingProtocol"]
    assert "ink extraction" in preprocessing and "256×256" in preprocessing
    assert {d["encodingFormat"] for d in document["distribution"]} >= {"image/png"}


def test_the_archive_says_it_is_not_for_training_in_its_use_conditions(app, tmp_path):
    make_collection(app)
    run_export(app, tmp_path / "archive.zip", "--archive")
    folder = unzip(tmp_path / "archive.zip", tmp_path / "archive")
    document = croissant_of(folder)
    assert (
        len(list(mlcroissant.Dataset(jsonld=str(folder / "croissant.json")).records("train"))) == 3
    )
    consent_work = document["usageInfo"][1]
    assert consent_work["description"].startswith("NOT for training")
    assert "not for training" in document["rai:dataUseCases"]


def test_the_version_follows_the_history_of_exports_of_the_same_kind(app, tmp_path):
    from fieldapp.extensions import db
    from fieldapp.media.services import media_store
    from fieldapp.tickets.models import Ticket
    from fieldapp.withdrawal.services import withdraw

    collection = make_collection(app)
    versions = []

    def export(*args: str) -> None:
        path = tmp_path / f"export-{len(versions)}.zip"
        run_export(app, path, *args)
        versions.append(version_of(path))

    export()  # the first: 1.0.0
    export()  # the same drawings and images again
    make_encounter(app, photo=drawing_photo(seed=5), consent=consent(training=True))
    export()  # one more drawing
    with app.app_context():
        ticket = db.session.query(Ticket).filter_by(number=collection.credited).one()
        withdraw(db.session, media_store(), ticket)
    export()  # a drawing gone
    export("--size", "128")  # images made otherwise
    export("--archive")  # another kind, its own history
    assert versions == ["1.0.0", "1.0.1", "1.1.0", "2.0.0", "3.0.0", "1.0.0"]
    assert all(VERSION_PATTERN_REGEX.match(v) for v in versions)


@pytest.mark.parametrize(
    ("before", "now", "expected"),
    [
        (None, _Release(frozenset({1}), (None, False, "CC0-1.0")), (1, 0, 0)),
        (_Release(frozenset({1}), (None, False, "x")), _Release(frozenset({1}), (None, False, "x")), (2, 3, 5)),
        (_Release(frozenset({1}), (None, False, "x")), _Release(frozenset({1, 2}), (None, False, "x")), (2, 4, 0)),
        (_Release(frozenset({1, 2}), (None, False, "x")), _Release(frozenset({2, 3}), (None, False, "x")), (3, 0, 0)),
        (_Release(frozenset({1}), (None, False, "x")), _Release(frozenset({1}), (None, False, "y")), (3, 0, 0)),
        (_Release(frozenset({1}), (None, False, "x")), _Release(frozenset({1}), (256, True, "x")), (3, 0, 0)),
    ],
)  # fmt: skip
def test_version_rules(before, now, expected):
    assert next_version(None if before is None else (2, 3, 4), before, now) == expected


def test_the_framing_counts_read_as_a_sentence():
    text = framing_text(Counter({"auto": 1203, "manual": 1, "none": 7}))
    assert text == (
        "1,203 drawings framed automatically; 1 drawing framed by the artist, who set the "
        "sheet's four corners on the photo; 7 drawings with no sheet found: the image is the "
        "whole photo"
    )
    assert framed_counts(text) == 1211
    assert framing_text(Counter()) == "no drawings"

"""The dataset export: a zip that `datasets`, `mlcroissant` and `sha256sum` accept, holding only
what the drawers allowed, documented by its card, datasheet and manifest."""

from __future__ import annotations

import os

# No Hub, no network: the export must load from its own files.
os.environ["HF_DATASETS_OFFLINE"] = "1"
os.environ["HF_HUB_OFFLINE"] = "1"

import hashlib
import io
import json
import subprocess
import zipfile

import pytest
import yaml
from PIL import Image

from fieldapp.dataset.documents import size_category
from tests.dataset_fixtures import (
    assert_croissant_validates,
    drawing_photo,
    make_collection,
    run_export,
    unzip,
)


@pytest.fixture
def exported(app, tmp_path):
    """The fixture collection and its default (training) export, unzipped."""
    collection = make_collection(app)
    run_export(app, tmp_path / "out.zip")
    return collection, unzip(tmp_path / "out.zip", tmp_path / "out")


def test_the_export_loads_with_datasets(exported, tmp_path):
    import datasets

    collection, folder = exported
    # A cache of its own: `datasets` keys its cache on the files' names and sizes, which an
    # earlier run's (since deleted) export may share.
    cache = str(tmp_path / "hf-cache")
    loaded = datasets.load_dataset(str(folder), split="train", cache_dir=cache)
    assert loaded.num_rows == 2
    numbers = set(loaded["portrait_number"])
    assert numbers == {collection.credited, collection.anonymous}
    assert collection.withdrawn not in numbers and collection.not_for_training not in numbers
    credits = dict(zip(loaded["portrait_number"], loaded["credit"], strict=True))
    assert credits == {collection.credited: "Ana Lima", collection.anonymous: None}
    image = loaded[0]["image"]
    assert isinstance(image, Image.Image) and image.size[0] > 0
    assert set(loaded["consent_training"]) == {True}
    # The packaged image-folder builder reads the same folder.
    plain = datasets.load_dataset(
        "imagefolder", data_dir=str(folder / "train"), split="train", cache_dir=cache
    )
    assert plain.num_rows == 2


def test_croissant_validates_and_its_records_match(exported):
    import mlcroissant

    collection, folder = exported
    assert_croissant_validates(folder / "croissant.json")
    dataset = mlcroissant.Dataset(jsonld=str(folder / "croissant.json"))
    records = list(dataset.records("train"))
    assert len(records) == 2
    by_number = {r["train/portrait_number"]: r for r in records}
    assert set(by_number) == {collection.credited, collection.anonymous}
    credited = by_number[collection.credited]
    assert credited["train/credit"] == b"Ana Lima"
    assert isinstance(credited["train/image"], Image.Image)
    assert by_number[collection.anonymous]["train/credit"] is None
    document = json.loads((folder / "croissant.json").read_text())
    assert document["conformsTo"] == "http://mlcommons.org/croissant/1.1"
    for key in (
        "rai:dataCollection",
        "rai:dataCollectionType",
        "rai:dataCollectionTimeframe",
        "rai:personalSensitiveInformation",
        "rai:dataAnnotationProtocol",
        "rai:dataUseCases",
        "rai:dataLimitations",
        "rai:dataReleaseMaintenancePlan",
    ):
        assert document[key], key  # fmt: skip


def test_sha256sums_cover_every_file_and_verify(exported):
    _, folder = exported
    listed = {}
    for line in (folder / "SHA256SUMS").read_text().splitlines():
        digest, name = line.split("  ", 1)
        listed[name] = digest
    files = {p.relative_to(folder).as_posix() for p in folder.rglob("*") if p.is_file()} - {
        "SHA256SUMS"
    }
    assert set(listed) == files
    for name, digest in listed.items():
        assert hashlib.sha256((folder / name).read_bytes()).hexdigest() == digest, name
    check = subprocess.run(["/usr/bin/sha256sum", "--quiet", "-c", "SHA256SUMS"], cwd=folder)
    assert check.returncode == 0


def test_the_card_front_matter_is_valid_yaml_for_the_hub(exported):
    _, folder = exported
    card = (folder / "README.md").read_text()
    assert card.startswith("---\n")
    front = yaml.safe_load(card.split("---\n")[1])
    assert front["license"] == "cc-by-nc-4.0"
    assert front["size_categories"] == ["n<1K"]
    assert front["task_categories"] and front["annotations_creators"]
    assert front["pretty_name"]
    assert front["configs"] == [
        {"config_name": "default", "data_files": [{"split": "train", "path": "train/**"}]}
    ]
    for section in (
        "## Uses",
        "## Dataset Structure",
        "## Dataset Creation",
        "### Personal and Sensitive Information",
        "## Bias, Risks, and Limitations",
        "## Maintenance and withdrawals",
    ):
        assert section in card  # fmt: skip
    assert "must be removed" in card or "remove every withdrawn drawing" in card
    assert "NOT FOR TRAINING" not in card
    datasheet = (folder / "DATASHEET.md").read_text()
    for section in (
        "Motivation",
        "Composition",
        "Collection process",
        "Preprocessing",
        "Uses",
        "Distribution",
        "Maintenance",
    ):
        assert f"## {section}" in datasheet  # fmt: skip
    # Version 1 came before layering: its file is its text, whose SHA-256 every row gives.
    first = (folder / "consent" / "version-1.en.txt").read_bytes()
    rows = [json.loads(line) for line in (folder / "train" / "metadata.jsonl").open()]
    assert {(r["consent_version"], r["consent_language"]) for r in rows} == {(1, "en")}
    assert {r["consent_sha256"] for r in rows} == {hashlib.sha256(first).hexdigest()}
    index = json.loads((folder / "consent" / "index.json").read_text())
    assert index == [
        {
            "consent_version": 1,
            "consent_language": "en",
            "consent_sha256": hashlib.sha256(first).hexdigest(),
            "file": "version-1.en.txt",
            "drawings": len(rows),
        }
    ]


@pytest.mark.parametrize(
    ("count", "label"),
    [(0, "n<1K"), (999, "n<1K"), (1000, "1K<n<10K"), (9999, "1K<n<10K"), (10_000, "10K<n<100K")],
)
def test_size_categories(count, label):
    assert size_category(count) == label


def test_images_carry_only_pixels_and_the_rights_xmp(exported):
    collection, folder = exported
    credited = (folder / "train" / f"portrait-{collection.credited:05d}.jpg").read_bytes()
    anonymous = (folder / "train" / f"portrait-{collection.anonymous:05d}.jpg").read_bytes()
    for data in (credited, anonymous):
        image = Image.open(io.BytesIO(data))
        assert not image.getexif()
        assert b"DMI-ALLOWED" in data and b"Exif\x00\x00" not in data
    assert b"<rdf:li>Ana Lima</rdf:li>" in credited
    assert b"dc:creator" not in anonymous


def test_the_archive_holds_every_kept_drawing_and_says_it_is_not_for_training(app, tmp_path):
    collection = make_collection(app)
    run_export(app, tmp_path / "archive.zip", "--archive")
    folder = unzip(tmp_path / "archive.zip", tmp_path / "archive")
    rows = [json.loads(line) for line in (folder / "train" / "metadata.jsonl").open()]
    numbers = {row["portrait_number"] for row in rows}
    assert numbers == {collection.credited, collection.anonymous, collection.not_for_training}
    card = (folder / "README.md").read_text()
    assert "NOT FOR TRAINING" in card and "not-for-training" in card
    not_for_training = folder / "train" / f"portrait-{collection.not_for_training:05d}.jpg"
    assert b"DMI-PROHIBITED-AIMLTRAINING" in not_for_training.read_bytes()


def test_square_and_ink_options(app, tmp_path):
    make_collection(app)
    run_export(app, tmp_path / "ink.zip", "--size", "256", "--ink")
    folder = unzip(tmp_path / "ink.zip", tmp_path / "ink")
    images = sorted((folder / "train").glob("*.png"))
    assert len(images) == 2
    for path in images:
        image = Image.open(path).convert("RGB")
        assert image.size == (256, 256)
        colours = image.getcolors(256 * 256)
        white = sum(n for n, c in colours if c == (255, 255, 255))
        assert white > 0.8 * 256 * 256
    card = (folder / "README.md").read_text()
    assert "256×256" in card and "ink extraction" in card


def test_each_export_records_its_manifest_and_later_withdrawals(app, tmp_path):
    from fieldapp.dataset.services import past_exports
    from fieldapp.encounters.models import Encounter
    from fieldapp.extensions import db
    from fieldapp.media.services import media_store
    from fieldapp.tickets.models import Ticket
    from fieldapp.withdrawal.services import withdraw

    collection = make_collection(app)
    run_export(app, tmp_path / "out.zip")
    with app.app_context():
        [past] = past_exports(db.session)
        assert past.manifest.item_count == 2 and past.withdrawn_numbers == []
        assert past.manifest.consent_versions == [1]
        assert (
            past.manifest.zip_sha256
            == hashlib.sha256((tmp_path / "out.zip").read_bytes()).hexdigest()
        )
        ticket = db.session.query(Ticket).filter_by(number=collection.credited).one()
        withdraw(db.session, media_store(), ticket)
        [past] = past_exports(db.session)
        assert past.withdrawn_numbers == [collection.credited]
        assert db.session.query(Encounter).filter(Encounter.withdrawn_at.is_not(None)).count() == 2
    run_export(app, tmp_path / "after.zip")
    with zipfile.ZipFile(tmp_path / "after.zip") as archive:
        names = archive.namelist()
    assert f"train/portrait-{collection.credited:05d}.jpg" not in names
    assert f"train/portrait-{collection.anonymous:05d}.jpg" in names


def test_an_unknown_option_is_refused_without_writing(app, tmp_path):
    result = app.test_cli_runner().invoke(
        args=["export", "dataset", str(tmp_path / "x.zip"), "--size", "big"]
    )
    assert result.exit_code != 0 and "number of pixels" in result.output
    assert not (tmp_path / "x.zip").exists()


# Withdrawals while an export is handed on ------------------------------------------------


def ticket_numbered(number: int):
    from fieldapp.extensions import db
    from fieldapp.tickets.models import Ticket

    return db.session.query(Ticket).filter_by(number=number).one()


def test_a_drawing_withdrawn_before_its_turn_is_left_out_of_the_download(app):
    from fieldapp.dataset.services import ExportOptions, past_exports, stream_export
    from fieldapp.extensions import db
    from fieldapp.media.services import media_store
    from fieldapp.withdrawal.services import withdraw

    collection = make_collection(app)
    with app.app_context():
        chunks = stream_export(db.session, media_store(), ExportOptions())
        first = next(chunks)  # the credited drawing, #1, is out
        withdraw(db.session, media_store(), ticket_numbered(collection.anonymous))
        body = first + b"".join(chunks)
        [past] = past_exports(db.session)
        assert past.manifest.item_count == 1 and past.withdrawn_numbers == []
        assert past.manifest.zip_bytes == len(body)
    with zipfile.ZipFile(io.BytesIO(body)) as archive:
        names = archive.namelist()
        rows = archive.read("train/metadata.jsonl").decode().splitlines()
        sums = archive.read("SHA256SUMS").decode()
    assert f"train/portrait-{collection.credited:05d}.jpg" in names
    assert not [name for name in names if f"{collection.anonymous:05d}" in name]
    assert [json.loads(row)["portrait_number"] for row in rows] == [collection.credited]
    assert f"{collection.anonymous:05d}" not in sums


def test_a_drawing_withdrawn_after_its_bytes_went_out_breaks_the_download_and_records_nothing(
    app,
):
    from fieldapp.dataset.models import DatasetExport
    from fieldapp.dataset.services import ExportOptions, ExportOvertaken, stream_export
    from fieldapp.extensions import db
    from fieldapp.media.services import media_store
    from fieldapp.withdrawal.services import withdraw

    collection = make_collection(app)
    with app.app_context():
        chunks = stream_export(db.session, media_store(), ExportOptions())
        body = next(chunks)
        assert f"portrait-{collection.credited:05d}.jpg".encode() in body  # it went out
        withdraw(db.session, media_store(), ticket_numbered(collection.credited))
        with pytest.raises(ExportOvertaken, match=f"#{collection.credited} withdrawn"):
            for chunk in chunks:
                body += chunk
        assert db.session.query(DatasetExport).count() == 0
    with pytest.raises(zipfile.BadZipFile):  # no central directory: no reader opens it
        zipfile.ZipFile(io.BytesIO(body))
    assert b"README.md" in body  # it stopped at the very end, before the central directory


def test_the_command_line_starts_again_when_a_written_drawing_is_withdrawn(app, tmp_path):
    from fieldapp.dataset.services import ExportOptions, export_to_file, past_exports
    from fieldapp.extensions import db
    from fieldapp.media.services import media_store
    from fieldapp.withdrawal.services import withdraw

    collection = make_collection(app)
    started = []

    def progress(_):  # called as each drawing starts: the second one means the first is out
        started.append(1)
        if len(started) == 2:
            withdraw(db.session, media_store(), ticket_numbered(collection.credited))

    out = tmp_path / "exports"
    out.mkdir()
    with app.app_context():
        manifest = export_to_file(
            db.session, media_store(), out / "out.zip", ExportOptions(), made_by="test",
            progress=progress,
        )  # fmt: skip
        assert manifest.item_count == 1 and len(started) == 3  # two drawings, then one
        [past] = past_exports(db.session)
        assert past.withdrawn_numbers == []
    with zipfile.ZipFile(out / "out.zip") as archive:
        assert not [n for n in archive.namelist() if f"{collection.credited:05d}" in n]
    assert [p.name for p in out.iterdir()] == ["out.zip"]  # no temporary file left


def test_a_streamed_zip64_archive_opens_everywhere(app, tmp_path, monkeypatch):
    """The records of archives over 4 GB or 65,535 files, made here with tiny limits."""
    from fieldapp.dataset.services import ExportOptions, stream_export
    from fieldapp.extensions import db
    from fieldapp.media.services import media_store

    make_collection(app)
    monkeypatch.setattr(zipfile, "ZIP64_LIMIT", 1000)
    monkeypatch.setattr(zipfile, "ZIP_FILECOUNT_LIMIT", 3)
    with app.app_context():
        body = b"".join(stream_export(db.session, media_store(), ExportOptions(kind="archive")))
    monkeypatch.undo()
    assert b"PK\x06\x06" in body and b"PK\x06\x07" in body  # ZIP64 end record and locator
    (tmp_path / "big.zip").write_bytes(body)
    with zipfile.ZipFile(tmp_path / "big.zip") as archive:
        assert archive.testzip() is None
        assert all(not info.flag_bits & 0x08 for info in archive.infolist())  # no descriptors
        assert len(archive.read("train/metadata.jsonl").splitlines()) == 3
    check = subprocess.run(
        ["/usr/bin/unzip", "-tq", str(tmp_path / "big.zip")], capture_output=True
    )
    assert check.returncode == 0, check.stdout + check.stderr


def test_the_streamed_zip_is_byte_for_byte_what_zipfile_writes_into_a_file(tmp_path):
    """Handed on an entry at a time, with complete local headers (no data descriptors)."""
    from fieldapp.dataset.streaming_zip import ZIP_TIME, StreamingZip

    files = {"train/a.jpg": drawing_photo(seed=1), "README.md": b"# card\n" * 1000}
    streamed = StreamingZip()
    chunks = []
    for name, data in files.items():
        streamed.add_bytes(name, data, compress=name.endswith(".md"))
        chunks.append(streamed.take())
    with (tmp_path / "rows.jsonl").open("w+b") as rows:
        rows.write(b'{"row": 1}\n' * 5000)
        streamed.add_file("train/metadata.jsonl", rows)
    chunks.append(streamed.take())
    chunks.append(streamed.close())
    assert all(chunks) and chunks[0].startswith(b"PK\x03\x04")

    with zipfile.ZipFile(tmp_path / "direct.zip", "w", allowZip64=True) as direct:
        for name, data in files.items():
            info = zipfile.ZipInfo(name, date_time=ZIP_TIME)
            info.compress_type = zipfile.ZIP_DEFLATED if name.endswith(".md") else 0
            info.external_attr = 0o644 << 16
            direct.writestr(info, data)
        info = zipfile.ZipInfo("train/metadata.jsonl", date_time=ZIP_TIME)
        info.compress_type, info.external_attr = zipfile.ZIP_DEFLATED, 0o644 << 16
        with direct.open(info, "w", force_zip64=True) as target:
            target.write(b'{"row": 1}\n' * 5000)
    assert b"".join(chunks) == (tmp_path / "direct.zip").read_bytes()
    assert streamed.sums[0] == ("train/a.jpg", hashlib.sha256(files["train/a.jpg"]).hexdigest())


def test_choices_changed_during_the_download_are_the_ones_written(app):
    """Read a batch at a time, each drawing is read again just before its bytes go out."""
    from fieldapp.consent.services import update_choices
    from fieldapp.dataset.services import ExportOptions, past_exports, stream_export
    from fieldapp.encounters.services import encounter_by_uuid
    from fieldapp.extensions import db
    from fieldapp.media.services import media_store
    from tests.dataset_fixtures import consent
    from tests.factories import make_encounter, number_of

    collection = make_collection(app)
    later = {
        name: make_encounter(
            app, photo=drawing_photo(seed=seed), consent=consent(training=True), credit_name=name
        )
        for seed, name in ((7, "Cy"), (8, "Di"))
    }
    with app.app_context():
        chunks = stream_export(db.session, media_store(), ExportOptions())
        body = next(chunks)  # #1 is out; the batch holding Cy and Di was read before
        choices = {"actor": "participant", "method": "participant_page", "gallery": True,
                   "social": False}  # fmt: skip
        cy, di = (encounter_by_uuid(db.session, later[name]) for name in ("Cy", "Di"))
        update_choices(db.session, cy, training=True, credit_name=None, **choices)
        update_choices(db.session, di, training=False, credit_name="Di", **choices)
        body += b"".join(chunks)
        [past] = past_exports(db.session)
        assert past.manifest.item_count == 3  # Ana Lima, the anonymous drawer, Cy
    cy_number, di_number = number_of(app, later["Cy"]), number_of(app, later["Di"])
    with zipfile.ZipFile(io.BytesIO(body)) as archive:
        rows = {
            row["portrait_number"]: row
            for row in map(json.loads, archive.read("train/metadata.jsonl").splitlines())
        }
        cy_image = archive.read(f"train/portrait-{cy_number:05d}.jpg")
        names = archive.namelist()
    assert set(rows) == {collection.credited, collection.anonymous, cy_number}
    assert rows[cy_number]["credit"] is None and b"dc:creator" not in cy_image
    assert not [name for name in names if f"{di_number:05d}" in name]

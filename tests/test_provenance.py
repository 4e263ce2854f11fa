"""C2PA provenance in exported images: every image of an export carries a manifest signed with
the instance's own key, read back here with c2pa-python's Reader as any verifier would."""

from __future__ import annotations

import io
import multiprocessing
import stat
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives.serialization import Encoding
from PIL import Image
from sqlalchemy import select, text

from fieldapp.dataset import provenance
from fieldapp.encounters.models import Encounter
from fieldapp.extensions import db
from tests.dataset_fixtures import (
    actions_of,
    drawing_photo,
    export,
    make_collection,
    read,
    rows_of,
    training_uses,
)
from tests.factories import make_encounter, number_of, token_of
from tests.helpers import jpeg_xmp, post_choices, rights_in

UNTRUSTED = "signingCredential.untrusted"


def framing_of(app, number: int) -> str:
    with app.app_context():
        encounter = db.session.scalar(select(Encounter).where(Encounter.ticket.has(number=number)))
        return encounter.photo.framing


def test_every_image_of_an_archive_states_its_drawers_choices_and_validates(app, client, tmp_path):
    """The archive holds refusing drawers too: each image's training assertion is its row's,
    each drawer credited as they chose, and no anonymous drawer's former name anywhere."""
    collection = make_collection(app)
    turned_anonymous = make_encounter(
        app, photo=drawing_photo(seed=5), consent={"version": 1, "keep": True, "gallery": True,
        "training": True, "social": False}, credit_name="Cleo Marsh",
    )  # fmt: skip
    post_choices(client, token_of(app, turned_anonymous), training="y", credit="anonymous")
    minor = make_encounter(
        app, photo=drawing_photo(seed=6), consent={"version": 1, "keep": True, "gallery": True,
        "training": False, "social": False}, age_group="minor",
    )  # fmt: skip
    with app.app_context():  # a row from before the rule: a minor is never trained on anyway
        db.session.execute(
            text("UPDATE encounters SET training = true WHERE uuid = :u"), {"u": minor}
        )
        db.session.commit()

    images = export(app, tmp_path / "archive", "--archive")
    rows = rows_of(images)
    numbers = {row["portrait_number"] for row in rows}
    assert numbers == {
        collection.credited, collection.anonymous, collection.not_for_training,
        number_of(app, turned_anonymous), number_of(app, minor),
    }  # fmt: skip
    uses_seen = set()
    for row in rows:
        data = (images / row["file_name"]).read_bytes()
        manifest, store, state, failures = read(data, "image/jpeg")
        # The signature and the hash of the bytes check out; only our CA is unknown to the reader.
        assert state == "Valid" and failures == [UNTRUSTED], (state, failures)
        allowed = row["consent_training"] and row["age_group"] == "adult"
        uses = set(training_uses(manifest).values())
        assert uses == {"allowed" if allowed else "notAllowed"}
        assert len(training_uses(manifest)) == 4
        uses_seen |= uses
        created = actions_of(manifest)["c2pa.created"]
        assert created["softwareAgent"]["name"] == "fieldapp"
        assert created["digitalSourceType"].endswith("/digitalsourcetype/digitalCapture")
        assert created["parameters"]["drawer"] == (row["credit"] or "an anonymous drawer")
        if row["credit"] is None:
            for name in ("Cleo Marsh", "Ana Lima", "Bo"):
                assert name not in store
        framing = framing_of(app, row["portrait_number"])
        edited = actions_of(manifest).get("c2pa.edited")
        if framing == "none":
            assert edited is None  # the whole photo: nothing cut or straightened
        else:
            assert edited["parameters"]["framing"] == framing
        # Still a plain image, its rights XMP still in it.
        Image.open(io.BytesIO(data)).load()
        mining, creators = rights_in(jpeg_xmp(data))
        assert mining.endswith("DMI-ALLOWED" if allowed else "DMI-PROHIBITED-AIMLTRAINING")
        assert creators == ([row["credit"]] if row["credit"] else [])
    assert uses_seen == {"allowed", "notAllowed"}
    credited = next(r for r in rows if r["portrait_number"] == collection.credited)
    assert credited["credit"] == "Ana Lima"


def test_a_training_export_is_trusted_by_a_reader_given_the_instance_ca(app, tmp_path):
    collection = make_collection(app)
    images = export(app, tmp_path / "training")
    ca = (Path(app.config["C2PA_DIR"]) / provenance.CA_FILE).read_bytes()
    rows = rows_of(images)
    assert {r["portrait_number"] for r in rows} == {collection.credited, collection.anonymous}
    for row in rows:
        data = (images / row["file_name"]).read_bytes()
        manifest, _, state, failures = read(data, "image/jpeg", trusting=ca)
        assert (state, failures) == ("Trusted", [])
        assert set(training_uses(manifest).values()) == {"allowed"}
        assert manifest["title"] == row["file_name"]
        assert manifest["signature_info"]["common_name"] == "fieldapp dataset export"


def test_a_changed_byte_breaks_the_manifest(app, tmp_path):
    """The hard binding covers the image's final bytes: a verifier sees any change."""
    make_collection(app)
    data = bytearray(next((export(app, tmp_path / "training")).glob("*.jpg")).read_bytes())
    data[-200] ^= 0xFF  # in the image data, after every header
    _, _, state, failures = read(bytes(data), "image/jpeg")
    assert state == "Invalid" and "assertion.dataHash.mismatch" in failures


def test_ink_pngs_are_signed_too(app, tmp_path):
    make_collection(app)
    images = export(app, tmp_path / "ink", "--size", "256", "--ink")
    pngs = sorted(images.glob("*.png"))
    assert len(pngs) == 2
    for path in pngs:
        data = path.read_bytes()
        manifest, _, state, failures = read(data, "image/png")
        assert state == "Valid" and failures == [UNTRUSTED]
        actions = actions_of(manifest)
        assert "256 px square" in actions["c2pa.resized"]["description"]
        assert "red ink" in actions["c2pa.filtered"]["description"]
        with Image.open(io.BytesIO(data)) as image:
            image.load()
            assert image.size == (256, 256)
            assert b"DMI-ALLOWED" in image.info["XML:com.adobe.xmp"].encode()


def test_the_key_is_made_once_kept_private_and_signs_every_export(app, tmp_path, monkeypatch):
    make_collection(app)
    folder = tmp_path / "c2pa"
    monkeypatch.setitem(app.config, "C2PA_DIR", str(folder))  # a new instance's: no key yet
    first = next(export(app, tmp_path / "one").glob("*.jpg")).read_bytes()
    key = (folder / provenance.KEY_FILE).read_bytes()
    second = next(export(app, tmp_path / "two").glob("*.jpg")).read_bytes()
    assert (folder / provenance.KEY_FILE).read_bytes() == key
    assert stat.S_IMODE((folder / provenance.KEY_FILE).stat().st_mode) == 0o600
    assert stat.S_IMODE(folder.stat().st_mode) == 0o700
    serials = {
        read(d, "image/jpeg")[0]["signature_info"]["cert_serial_number"] for d in (first, second)
    }
    chain = x509.load_pem_x509_certificates((folder / provenance.CHAIN_FILE).read_bytes())
    assert serials == {str(chain[0].serial_number)}
    # Issued by the CA kept beside it, not self-signed (c2pa refuses those).
    signer, ca = chain
    assert signer.issuer == ca.subject != signer.subject
    assert (folder / provenance.CA_FILE).read_bytes() == ca.public_bytes(Encoding.PEM)
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.startswith(".c2pa")) == []


def _generate(folder: str, start, results) -> None:
    start.wait()
    results.put(provenance.signing_key(Path(folder)).private_key_pem)


def test_processes_making_the_key_at_once_all_get_the_same_one(tmp_path):
    folder = tmp_path / "c2pa"
    context = multiprocessing.get_context("fork")
    start, results = context.Barrier(4), context.Queue()
    workers = [
        context.Process(target=_generate, args=(str(folder), start, results)) for _ in range(4)
    ]
    for worker in workers:
        worker.start()
    keys = {results.get(timeout=60) for _ in workers}
    for worker in workers:
        worker.join(timeout=60)
        assert worker.exitcode == 0
    assert keys == {(folder / provenance.KEY_FILE).read_bytes()}
    assert [p.name for p in tmp_path.iterdir()] == ["c2pa"]  # no staging folder left behind


@pytest.mark.parametrize(
    ("framing", "expected"),
    [("auto", "found automatically"), ("manual", "set by the artist"), ("none", None)],
)
def test_the_edited_action_says_how_the_drawing_was_framed(tmp_path, framing, expected):
    image = provenance.ImageProvenance(
        title="portrait-00001.jpg", credit=None, framing=framing, training_allowed=False
    )
    with provenance.export_signer(tmp_path / "c2pa") as signer:
        signed = signer.sign(drawing_photo(seed=1), "image/jpeg", image)
    manifest, _, state, _ = read(signed, "image/jpeg")
    assert state == "Valid"
    edited = actions_of(manifest).get("c2pa.edited")
    if expected is None:
        assert edited is None and list(actions_of(manifest)) == ["c2pa.created"]
    else:
        assert edited["parameters"]["framing"] == framing and expected in edited["description"]
    assert set(training_uses(manifest).values()) == {"notAllowed"}


def test_the_command_prints_the_ca_the_exports_chain_to(app, tmp_path, monkeypatch):
    monkeypatch.setitem(app.config, "C2PA_DIR", str(tmp_path / "c2pa"))
    result = app.test_cli_runner().invoke(args=["export", "signing-ca"])
    assert result.exit_code == 0, result.output
    (printed,) = x509.load_pem_x509_certificates(result.stdout.encode())
    chain = x509.load_pem_x509_certificates(
        (tmp_path / "c2pa" / provenance.CHAIN_FILE).read_bytes()
    )
    assert printed == chain[1] and printed.subject == chain[0].issuer

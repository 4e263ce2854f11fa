"""Photos in an S3-compatible bucket (FIELDAPP_MEDIA_URL=s3://BUCKET/PREFIX) keep every promise
of the local folder: named by content hash, private, written before the commit and removed if
it fails, deleted by a withdrawal within its request, swept when orphaned, and a store that
does not answer is a 503 the phone retries, never a 500 or a lost drawing.

Against a real S3 server (SeaweedFS, one per module), a fresh bucket per test.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import re
import subprocess
import sys
import tempfile
import uuid as uuidlib
from contextlib import contextmanager
from pathlib import Path

import pytest
from PIL import Image
from sqlalchemy import select

from fieldapp.encounters.models import Encounter
from fieldapp.encounters.services import encounter_by_uuid, record_encounter
from fieldapp.encounters.validation import parse_encounter_data
from fieldapp.extensions import db
from fieldapp.media.images import SIZED_WIDTHS, process_photo
from fieldapp.media.models import PendingRemoval, Photo
from fieldapp.media.s3 import s3_store
from fieldapp.media.services import media_store, sized_name
from fieldapp.media.storage import (
    RETRY_AFTER_SECONDS,
    FolderStore,
    StorageUnavailable,
    content_name,
)
from fieldapp.media.xmp import DMI_PROHIBITED_AIMLTRAINING, jpeg_with_xmp, rights_xmp
from tests import s3_app
from tests.conftest import csrf_token_from
from tests.dataset_fixtures import consent, drawing_photo, export, rows_of
from tests.factories import (
    count_rows,
    encounter_data,
    make_encounter,
    number_of,
    put_encounter,
    small_jpeg,
    token_of,
)
from tests.framing_photos import TILTED, no_sheet_photo
from tests.helpers import (
    ROOT,
    capture_form,
    fail_the_write_commit,
    free_port,
    jpeg_xmp,
    rights_in,
    withdraw_through_the_page,
)
from tests.photo_corpus import camera_jpeg
from tests.s3_app import (
    MEDIA_PREFIX,
    S3Media,
    anonymous_get,
    media_in_bucket,
    s3_app_env,
)
from tests.seaweed import SeaweedServer

# The S3 fixtures (tests/s3_app.py): one SeaweedFS for this module, a fresh bucket per test.
seaweed = s3_app.seaweed
s3_media = s3_app.s3_media

#: A phone photo stored sideways, 2400×1800: its display image (1800×2400) is wider than every
#: reduced width, and the upload (about 900 kB) is large enough for the request body to be
#: spooled to a temp file.
PHOTO = camera_jpeg(orientation=6, gps=True, size=(2400, 1800))
CONTENT_NAME = re.compile(r"(archive|display|thumb)/([0-9a-f]{2})/(\2[0-9a-f]{62})\.(jpg|png)")


def media_dir(app) -> Path:
    return Path(app.config["MEDIA_DIR"])


def photo_row(app, client_uuid: str) -> Photo:
    with app.app_context():
        photo = encounter_by_uuid(db.session, client_uuid).photo
        db.session.expunge(photo)
        return photo


def names_of(photo: Photo) -> set[str]:
    return {photo.archive_name, photo.display_name, photo.thumb_name}


def pending_removals(app) -> list[str]:
    with app.app_context():
        return list(db.session.scalars(select(PendingRemoval.name).order_by(PendingRemoval.name)))


@contextmanager
def store_down(server: SeaweedServer):
    """The S3 server is killed for the block (as when its machine dies) and started again
    after it, on the same port with its objects: the app is not told of either."""
    server.kill()
    try:
        yield
    finally:
        server.start()


# The store's contract, for both stores --------------------------------------------------------


@pytest.fixture(params=["folder", "s3"])
def store(request, tmp_path):
    """Each kind of store, empty: a folder, and a fresh bucket under a prefix."""
    if request.param == "folder":
        yield FolderStore(tmp_path / "media")
        return
    server = request.getfixturevalue("seaweed")
    bucket = server.new_bucket()
    with media_in_bucket(request.getfixturevalue("app"), server, bucket):
        yield s3_store(bucket, MEDIA_PREFIX, server.endpoint)


def test_a_store_keeps_each_file_under_its_content_name_whole_and_once(store):
    assert store.is_empty()
    store.check()
    data = small_jpeg()
    stored = store.write("display", data, "jpg")
    assert stored.name == content_name("display", data, "jpg")
    assert CONTENT_NAME.fullmatch(stored.name)
    assert stored.created
    assert store.read(stored.name) == data
    assert store.exists(stored.name)
    assert store.sha256(stored.name) == hashlib.sha256(data).hexdigest()
    assert not store.is_empty()

    again = store.write("display", data, "jpg")
    assert (again.name, again.created) == (stored.name, False)
    # A name, once written, keeps its bytes: write_as() of other bytes changes nothing.
    assert not store.write_as(stored.name, b"other bytes").created
    assert store.read(stored.name) == data


def test_a_store_lists_removes_and_replaces(store):
    first, second = small_jpeg((10, 20, 30)), small_jpeg((200, 210, 220))
    names = sorted(store.write("display", d, "jpg").name for d in (first, second))
    thumb = store.write("thumb", first, "jpg").name
    assert list(store.names("display")) == names
    assert list(store.names("thumb")) == [thumb]
    assert list(store.names("archive")) == []

    # replace(): the name holds the new bytes at once, and says so in its hash.
    store.replace(thumb, second)
    assert store.read(thumb) == second
    assert store.sha256(thumb) == hashlib.sha256(second).hexdigest()

    store.remove(names[0])
    assert not store.exists(names[0])
    with pytest.raises(FileNotFoundError):
        store.read(names[0])
    store.remove(names[0])  # a missing name is no error
    store.remove("display/00/" + "0" * 64 + ".jpg")
    for name in [names[1], thumb]:
        store.remove(name)
    assert store.is_empty()


def test_a_bucket_store_sees_only_its_prefix_and_says_when_it_cannot_answer(seaweed, app):
    bucket = seaweed.new_bucket()
    with media_in_bucket(app, seaweed, bucket):
        ours = s3_store(bucket, "media", seaweed.endpoint)
        neighbour = s3_store(bucket, "other/media", seaweed.endpoint)
        name = ours.write("archive", b"ours", "jpg").name
        assert seaweed.keys(bucket) == [f"media/{name}"]
        assert neighbour.is_empty() and not neighbour.exists(name)
        assert list(neighbour.names("archive")) == []

        missing = s3_store(f"no-such-{uuidlib.uuid4().hex[:8]}", "media", seaweed.endpoint)
        with pytest.raises(StorageUnavailable) as refused:
            missing.check()
        assert refused.value.status == 503 and refused.value.retry_after
        nobody_listens = s3_store(bucket, "media", "http://127.0.0.1:9")  # the discard port
        for action in (nobody_listens.check, lambda: nobody_listens.read(name)):
            with pytest.raises(StorageUnavailable):
                action()


# An upload --------------------------------------------------------------------------------------


def test_an_upload_stores_three_private_objects_named_by_hash_and_nothing_on_disk(
    app, client, api_token, s3_media: S3Media, tmp_path, monkeypatch
):
    # Every temp file this process makes during the request lands here (the request body
    # spooled by Werkzeug included): what is left after it is ours.
    temp = tmp_path / "system-temp"
    temp.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(temp))
    assert tempfile.gettempdir() == str(temp)

    client_uuid = str(uuidlib.uuid4())
    response = put_encounter(client, api_token, client_uuid, encounter_data(), PHOTO)

    assert response.status_code == 201, response.get_json()
    assert list(temp.iterdir()) == []
    assert not media_dir(app).exists()
    photo = photo_row(app, client_uuid)
    assert s3_media.keys() == sorted(f"{MEDIA_PREFIX}/{n}" for n in names_of(photo))
    for name in names_of(photo):
        kind, _xx, digest, _ext = CONTENT_NAME.fullmatch(name).groups()
        assert hashlib.sha256(s3_media.object_bytes(name)).hexdigest() == digest
    assert photo.archive_name.startswith("archive/")
    assert photo.display_name.startswith("display/") and photo.thumb_name.startswith("thumb/")


def test_objects_are_private_and_the_app_serves_them_signed_never_redirected(
    app, client, s3_media: S3Media
):
    client_uuid = make_encounter(app, photo=PHOTO, consent=consent(training=False))
    photo = photo_row(app, client_uuid)
    for name in names_of(photo):
        assert anonymous_get(s3_media.object_url(name)) == 403
    assert anonymous_get(f"{s3_media.server.endpoint}/{s3_media.bucket}") == 403  # no listing

    display = s3_media.object_bytes(photo.display_name)
    rights = rights_xmp(training_allowed=False, creator=None)
    urls = [
        f"/p/{token_of(app, client_uuid)}/drawing.jpg",
        f"/gallery/{number_of(app, client_uuid)}/display.jpg",
    ]
    for url in urls:
        served = client.get(url)
        assert served.status_code == 200, url
        assert "Location" not in served.headers
        assert served.mimetype == "image/jpeg"
        assert served.data == jpeg_with_xmp(display, rights)
        assert rights_in(jpeg_xmp(served.data)) == (DMI_PROHIBITED_AIMLTRAINING, [])
        assert served.headers["tdm-reservation"] == "1"
        assert "private" in served.headers["Cache-Control"]
        assert s3_media.bucket.encode() not in served.data  # no word of where it is kept
    assert not media_dir(app).exists()


# Reduced copies and a withdrawal --------------------------------------------------------------


def test_reduced_copies_are_objects_and_a_withdrawal_deletes_every_object_at_once(
    app, client, s3_media: S3Media
):
    client_uuid = make_encounter(app, photo=PHOTO)
    token, number = token_of(app, client_uuid), number_of(app, client_uuid)
    photo = photo_row(app, client_uuid)
    for width in SIZED_WIDTHS:
        reduced = client.get(f"/p/{token}/drawing.jpg?w={width}")
        assert reduced.status_code == 200
        assert Image.open(io.BytesIO(reduced.data)).width == width
    sized = {sized_name(photo.display_name, width) for width in SIZED_WIDTHS}
    assert set(s3_media.names()) == names_of(photo) | sized
    assert not media_dir(app).exists()

    assert withdraw_through_the_page(client, token).status_code == 302
    assert s3_media.keys() == []  # within the withdrawal's own request
    assert client.get(f"/gallery/{number}/display.jpg").status_code == 404
    assert client.get(f"/gallery/{number}/thumb.jpg?w=720").status_code == 404
    for url in ("drawing.jpg", "thumb.jpg", "drawing.jpg?w=720"):
        assert client.get(f"/p/{token}/{url}").status_code == 410
    assert pending_removals(app) == []


# A failed commit, and orphans ------------------------------------------------------------------


def test_a_failed_commit_removes_the_objects_it_wrote(app, s3_media: S3Media, monkeypatch):
    processed = process_photo(PHOTO, max_pixels=52_000_000)
    written: list[list[str]] = []
    with app.app_context():
        data = parse_encounter_data(encounter_data())
        fail_the_write_commit(
            db.session(),
            monkeypatch,
            OSError("the database's disk failed during the commit"),
            on_failing=lambda: written.append(s3_media.keys()),  # what the store held then
        )
        with pytest.raises(OSError, match="during the commit"):
            record_encounter(
                db.session, media_store(), uuid=str(uuidlib.uuid4()), data=data,
                photo=processed, collector_id=None,
            )  # fmt: skip
        monkeypatch.undo()
        db.session.remove()
    assert len(written[0]) == 3  # the objects were there before the commit...
    assert s3_media.keys() == []  # ...and went with it
    assert count_rows(app, Encounter) == 0


def test_flask_media_sweep_removes_orphan_objects_and_keeps_those_in_use(
    live_app, seaweed: SeaweedServer, tmp_path
):
    """The operator's command, in its own process, told of the bucket by the environment only."""
    media = S3Media(seaweed, seaweed.new_bucket())
    with media_in_bucket(live_app, seaweed, media.bucket):
        kept = names_of(photo_row(live_app, make_encounter(live_app, photo=PHOTO)))
        with live_app.app_context():
            store = media_store()
            orphan = store.write("display", small_jpeg(), "jpg").name  # written, never committed
            stray = store.write_as(sized_name(orphan, 720), b"a reduced copy of nothing").name
    assert set(media.names()) == kept | {orphan, stray}

    env = {
        **os.environ,
        "FIELDAPP_SECRET_KEY": "sweep test secret",
        "FIELDAPP_DATABASE_URL": live_app.config["SQLALCHEMY_DATABASE_URI"],
        "FIELDAPP_MEDIA_DIR": str(tmp_path / "media"),
        "FIELDAPP_C2PA_DIR": str(tmp_path / "c2pa"),
        **s3_app_env(seaweed, media.bucket),
    }
    result = subprocess.run(
        [sys.executable, "-m", "flask", "--app", "fieldapp", "media", "sweep"],
        env=env, cwd=ROOT, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert "Removed 2 unused photo file(s)." in result.stderr
    assert set(media.names()) == kept
    assert not (tmp_path / "media").exists()

    # The store does not answer (the container's entrypoint sweeps at every start): one line
    # that says so, exit status 1, no traceback; the entrypoint goes on and the app starts.
    env["FIELDAPP_S3_ENDPOINT_URL"] = f"http://127.0.0.1:{free_port()}"
    result = subprocess.run(
        [sys.executable, "-m", "flask", "--app", "fieldapp", "media", "sweep"],
        env=env, cwd=ROOT, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert result.returncode == 1
    assert "The media store does not answer" in result.stderr
    assert "Traceback" not in result.stderr


# The store goes away, and comes back -----------------------------------------------------------


def test_a_store_that_does_not_answer_is_a_503_and_everything_recovers_by_itself(
    app, client, api_token, logged_in, s3_media: S3Media
):
    earlier = make_encounter(app, photo=small_jpeg((30, 90, 200)))
    client_uuid, data = str(uuidlib.uuid4()), encounter_data()
    with store_down(s3_media.server):
        refused = put_encounter(client, api_token, client_uuid, data, PHOTO)
        assert refused.status_code == 503
        # The store's own wait (half a minute), not a full disk's five minutes.
        assert refused.headers["Retry-After"] == str(RETRY_AFTER_SECONDS)
        message = refused.get_json()["error"]
        assert "photo storage cannot be reached" in message and "Nothing was lost" in message
        with app.app_context():
            assert encounter_by_uuid(db.session, client_uuid) is None
        # The capture form (no JavaScript) says the same on a page.
        form = client.post(
            "/encounters/new", data=capture_form(client), content_type="multipart/form-data"
        )
        assert form.status_code == 503
        assert form.headers["Retry-After"] == str(RETRY_AFTER_SECONDS)
        assert "photo storage cannot be reached" in form.text
        assert (count_rows(app, Encounter), count_rows(app, Photo)) == (1, 1)  # the earlier one

        token = token_of(app, earlier)
        images = [f"/p/{token}/drawing.jpg", f"/p/{token}/thumb.jpg"]
        images += [f"/encounters/{earlier}/photo/archive", f"/encounters/{earlier}/photo/whole"]
        for url in images:
            image = client.get(url)
            assert image.status_code == 503, url
            assert image.headers["Retry-After"] == str(RETRY_AFTER_SECONDS)
        # The pages themselves need no file: they open, their images wait for the store.
        assert client.get(f"/p/{token}").status_code == 200
        assert client.get(f"/encounters/{earlier}").status_code == 200
        health = client.get("/healthz")
        assert health.status_code == 200
        assert health.get_json() == {"status": "ok", "database": "ok", "store": "unavailable"}

    retried = put_encounter(client, api_token, client_uuid, data, PHOTO)
    assert retried.status_code == 201, retried.get_json()
    assert client.get("/healthz").get_json()["store"] == "ok"
    for url in images:
        assert client.get(url).status_code == 200, url
    photos = names_of(photo_row(app, earlier)) | names_of(photo_row(app, client_uuid))
    assert set(s3_media.names()) == photos
    assert not media_dir(app).exists()


def test_a_withdrawal_while_the_store_is_down_is_done_and_its_objects_go_once_it_is_back(
    app, client, api_token, s3_media: S3Media
):
    client_uuid = make_encounter(app, photo=PHOTO)
    token, number = token_of(app, client_uuid), number_of(app, client_uuid)
    assert client.get(f"/p/{token}/drawing.jpg?w=720").status_code == 200
    doomed = set(s3_media.names())
    assert len(doomed) == 4  # archive, display, thumbnail, one reduced copy

    with store_down(s3_media.server):
        answer = withdraw_through_the_page(client, token)
        assert answer.status_code == 302
        page = client.get(answer.location)
        assert "Your drawing is withdrawn" in page.text
        assert client.get(f"/p/{token}/drawing.jpg").status_code == 410
        assert client.get(f"/gallery/{number}/display.jpg").status_code == 404
        assert doomed <= set(pending_removals(app))
    assert set(s3_media.names()) == doomed  # nothing serves them; they wait

    later = str(uuidlib.uuid4())
    assert (
        put_encounter(client, api_token, later, encounter_data(), small_jpeg()).status_code == 201
    )
    assert pending_removals(app) == []
    assert set(s3_media.names()) == names_of(photo_row(app, later))


def test_a_bucket_that_is_not_there_is_a_store_that_cannot_be_read_not_a_missing_photo(
    app, client, api_token, s3_media: S3Media
):
    """A typo in FIELDAPP_MEDIA_URL at a redeploy, or the bucket deleted: every object seems
    missing. Images must say the store is unavailable (503), not that the drawing is gone
    (404); a withdrawal must queue its deletions, not take "not found" for "deleted"."""
    client_uuid = make_encounter(app, photo=PHOTO)
    token, number = token_of(app, client_uuid), number_of(app, client_uuid)
    doomed = set(s3_media.names())
    assert len(doomed) == 3

    with media_in_bucket(app, s3_media.server, f"typo-{uuidlib.uuid4().hex[:8]}"):
        for url in (f"/p/{token}/drawing.jpg", f"/p/{token}/drawing.jpg?w=720"):
            image = client.get(url)
            assert image.status_code == 503, url
            assert image.headers["Retry-After"] == str(RETRY_AFTER_SECONDS)
        assert client.get(f"/gallery/{number}/thumb.jpg").status_code == 503
        assert client.get("/healthz").get_json()["store"] == "unavailable"
        assert withdraw_through_the_page(client, token).status_code == 302
        assert doomed <= set(pending_removals(app))

    # The operator puts the right bucket back: the next upload deletes what was waiting.
    later = str(uuidlib.uuid4())
    assert (
        put_encounter(client, api_token, later, encounter_data(), small_jpeg()).status_code == 201
    )
    assert pending_removals(app) == []
    assert set(s3_media.names()) == names_of(photo_row(app, later))


# Framing and the dataset export read and write through the store ---------------------------


def test_reframing_writes_the_new_files_to_the_bucket_and_removes_the_old(
    app, client, logged_in, s3_media: S3Media
):
    client_uuid = make_encounter(app, photo=no_sheet_photo())
    before = photo_row(app, client_uuid)
    assert before.framing == "none"
    page = client.get(f"/encounters/{client_uuid}").text
    response = client.post(
        f"/encounters/{client_uuid}/framing",
        data={
            "framing-csrf_token": csrf_token_from(page),
            "framing-how": "corners",
            "framing-corners": json.dumps(TILTED),
        },
    )
    assert response.status_code == 302
    after = photo_row(app, client_uuid)
    assert after.framing == "manual" and after.archive_name == before.archive_name
    assert set(s3_media.names()) == names_of(after)
    served = client.get(f"/encounters/{client_uuid}/photo/display")
    assert served.status_code == 200
    assert Image.open(io.BytesIO(served.data)).size == (after.display_width, after.display_height)
    whole = client.get(f"/encounters/{client_uuid}/photo/whole")
    assert whole.status_code == 200 and whole.mimetype == "image/jpeg"
    assert not media_dir(app).exists()


def test_a_dataset_export_reads_its_images_from_the_bucket(app, s3_media: S3Media, tmp_path):
    drawings = [
        make_encounter(app, photo=drawing_photo(seed=seed), consent=consent(training=True))
        for seed in (1, 2)
    ]
    make_encounter(app, photo=drawing_photo(seed=3), consent=consent(training=False))
    images = export(app, tmp_path / "export")  # consented drawings only
    rows = rows_of(images)
    assert sorted(row["portrait_number"] for row in rows) == sorted(
        number_of(app, d) for d in drawings
    )
    for row in rows:
        exported = Image.open(images / row["file_name"])
        assert exported.format == "JPEG" and exported.width > 0
    assert not media_dir(app).exists()

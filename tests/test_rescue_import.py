"""Rescue zips: the phone's unsent outbox, saved as one zip, imported on the backlog page.

Each record is recorded exactly once by its UUID, through the API's own code: with its own
number (ticket), venue and consent, never the batch's; again, or after the phone uploaded it
meanwhile, it is a duplicate; a conflict, a withdrawal or bad input is refused with the reason
and stores nothing for that record."""

from __future__ import annotations

import io
import json
import os
import uuid as uuidlib
import zipfile

import pytest
from PIL import Image
from sqlalchemy import select

from fieldapp.auth.models import Collector
from fieldapp.backlog import rescue
from fieldapp.backlog.services import ZIP_MAX_FILES
from fieldapp.encounters.models import Encounter, EncounterRevision
from fieldapp.encounters.services import encounter_by_uuid, gone_message
from fieldapp.extensions import db
from fieldapp.media.models import Photo
from fieldapp.tickets.models import Ticket
from tests.factories import (
    batch_fields,
    count_rows,
    make_encounter,
    put_encounter,
    small_jpeg,
    stored_files,
)
from tests.photo_corpus import camera_jpeg, png_bytes
from tests.rescue_zip import outbox_record, outbox_zip

ZIP_NAME = "fieldapp-outbox-2026-12-06-2310.zip"


def rescue_batch_fields(client, **overrides) -> dict:
    """The import form, with batch settings a rescue zip must not take."""
    fields = {"start_number": "500", "training": "y", "social": "y", **overrides}
    return batch_fields(client, **fields)


def send_file(client, content: bytes, name: str = ZIP_NAME, **overrides):
    """The page's JavaScript path: one file per request, JSON outcomes."""
    fields = rescue_batch_fields(client, **overrides)
    token = fields.pop("csrf_token")
    return client.post(
        "/encounters/import/file",
        data={**fields, "files": [(io.BytesIO(content), name)]},
        headers={"X-CSRFToken": token},
        content_type="multipart/form-data",
    )


def send_form(client, content: bytes, name: str = ZIP_NAME, **overrides):
    """The no-JavaScript path: every file in one POST, a page of outcomes."""
    return client.post(
        "/encounters/import",
        data={**rescue_batch_fields(client, **overrides), "files": [(io.BytesIO(content), name)]},
        content_type="multipart/form-data",
    )


def outcomes_of(response) -> list[dict]:
    assert response.status_code == 200, response.text
    return response.json["outcomes"]


def reserve(client, api_token: str, count: int) -> list[dict]:
    """Tickets for the phone's stock, through the API."""
    response = client.post(
        "/api/v1/tickets", json={"count": count}, headers={"Authorization": f"Bearer {api_token}"}
    )
    assert response.status_code == 201
    return response.json["tickets"]


def collector_id(app, username: str) -> int:
    with app.app_context():
        return db.session.scalar(select(Collector.id).where(Collector.username == username))


def assert_no_exif(app) -> None:
    for path in stored_files(app):
        with Image.open(path) as image:
            assert not image.getexif() and "exif" not in image.info


# Recorded once ---------------------------------------------------------------------------


def test_a_rescue_zip_records_each_encounter_once_with_its_own_number_and_consent(
    app, client, logged_in, api_token
):
    first, second = reserve(client, api_token, 2)
    gps_photo = camera_jpeg(orientation=6, gps=True, size=(640, 480))
    assert Image.open(io.BytesIO(gps_photo)).getexif().get_ifd(0x8825), "the fixture has GPS"
    ana = outbox_record(
        ticket=first,
        photo=gps_photo,
        credit={"name": "Ana"},
        consent={"version": 1, "keep": True, "gallery": True, "training": False, "social": True},
    )
    anonymous = outbox_record(
        ticket=second,
        photo=png_bytes(size=(300, 400)),
        consent={"version": 1, "keep": True, "gallery": False, "training": True, "social": False},
    )
    anonymous.photo_type = "image/png"
    declined = outbox_record(declined=True)
    rescue_zip = outbox_zip([ana, anonymous, declined])

    outcomes = outcomes_of(send_file(client, rescue_zip))
    assert [(o["status"], o["number"], o["uuid"]) for o in outcomes] == [
        ("imported", first["number"], ana.uuid),
        ("imported", second["number"], anonymous.uuid),
        ("imported", None, declined.uuid),
    ]
    assert outcomes[0]["message"] == f"Recorded #{first['number']} (from the phone's outbox)."
    assert outcomes[2]["message"] == "Recorded a declined approach (from the phone's outbox)."
    assert all(o["from_outbox"] for o in outcomes)
    importer = collector_id(app, "max")
    with app.app_context():
        stored = {u: encounter_by_uuid(db.session, u) for u in (ana.uuid, anonymous.uuid)}
        assert [(e.gallery, e.training, e.social, e.credit_name) for e in stored.values()] == [
            (True, False, True, "Ana"),
            (False, True, False, None),
        ]
        assert {e.token for e in stored.values()} == {first["token"], second["token"]}
        rows = list(db.session.scalars(select(Encounter)))
        assert {(e.venue, e.city) for e in rows} == {("pool night", "New York")}  # not the batch's
        assert {e.recorded_by_id for e in rows} == {importer}
        assert encounter_by_uuid(db.session, declined.uuid).status == "declined"
        revisions = list(db.session.scalars(select(EncounterRevision)))
        assert {(r.kind, r.reason, r.collector_id) for r in revisions} == {
            ("import", "Rescued from the phone's outbox (zip)", importer)
        }
        assert len(revisions) == 3
    assert count_rows(app, Photo) == 2 and len(stored_files(app)) == 6
    assert_no_exif(app)

    again = send_form(client, rescue_zip)  # the no-JavaScript path, the same zip
    assert again.status_code == 200
    assert "0 imported" in again.text and "3 already there" in again.text
    assert f"Already on the server as #{first['number']}; skipped." in again.text
    assert "Already on the server as a declined approach; skipped." in again.text
    assert count_rows(app, Encounter) == 3 and count_rows(app, Photo) == 2
    assert count_rows(app, EncounterRevision) == 3 and len(stored_files(app)) == 6


def test_a_record_the_phone_uploaded_meanwhile_is_a_duplicate(app, client, logged_in, api_token):
    (ticket,) = reserve(client, api_token, 1)
    record = outbox_record(ticket=ticket, photo=small_jpeg())
    uploaded = put_encounter(client, api_token, record.uuid, record.data, record.photo)
    assert uploaded.status_code == 201

    (outcome,) = outcomes_of(send_file(client, outbox_zip([record])))
    assert outcome["status"] == "duplicate" and outcome["uuid"] == record.uuid
    assert outcome["message"] == f"Already on the server as #{ticket['number']}; skipped."
    assert count_rows(app, Encounter) == 1 and count_rows(app, Photo) == 1
    assert count_rows(app, EncounterRevision) == 0  # the upload was not an import


def test_conflicts_are_refused_with_the_reason_and_the_others_go_through(
    app, client, logged_in, api_token
):
    held, free = reserve(client, api_token, 2)
    uploaded = outbox_record(ticket=held)
    assert put_encounter(client, api_token, uploaded.uuid, uploaded.data).status_code == 201
    same_ticket = outbox_record(ticket=held)  # another encounter claiming the uploaded one's
    changed = outbox_record(ticket=held, venue="another bar")
    changed.uuid = uploaded.uuid  # the same UUID with other data
    good = outbox_record(ticket=free)

    outcomes = outcomes_of(send_file(client, outbox_zip([same_ticket, changed, good])))
    assert [o["status"] for o in outcomes] == ["refused", "refused", "imported"]
    assert (
        outcomes[0]["message"] == f"Ticket #{held['number']} already belongs to another encounter."
    )
    assert outcomes[1]["message"] == (
        f"Encounter {uploaded.uuid} was already recorded with different data; it was not changed."
    )
    assert outcomes[2]["number"] == free["number"]
    assert count_rows(app, Encounter) == 2
    with app.app_context():
        assert encounter_by_uuid(db.session, same_ticket.uuid) is None
        assert encounter_by_uuid(db.session, uploaded.uuid).venue == "pool night"


def test_a_withdrawn_drawing_is_refused_with_the_gone_message(app, client, logged_in, api_token):
    from fieldapp.media.services import media_store
    from fieldapp.withdrawal.services import withdraw

    withdrawn_uuid = make_encounter(app, photo=small_jpeg(), withdrawn=True)
    arrived = outbox_record(photo=small_jpeg((0, 90, 0)))
    arrived.uuid = withdrawn_uuid
    (ticket,) = reserve(client, api_token, 1)
    with app.app_context():  # withdrawn from its QR before the phone could upload it
        withdraw(
            db.session,
            media_store(),
            db.session.scalar(select(Ticket).where(Ticket.token == ticket["token"])),
        )
        withdrawn_number = encounter_by_uuid(db.session, withdrawn_uuid).number
    not_arrived = outbox_record(ticket=ticket, photo=small_jpeg((0, 0, 90)))

    outcomes = outcomes_of(send_file(client, outbox_zip([arrived, not_arrived])))
    assert [(o["status"], o["message"]) for o in outcomes] == [
        ("refused", gone_message(withdrawn_number)),
        ("refused", gone_message(ticket["number"])),
    ]
    assert count_rows(app, Encounter) == 1 and count_rows(app, Photo) == 0
    assert stored_files(app) == []


# Bad input -------------------------------------------------------------------------------


def _manifest(**fields) -> dict:
    return {"format": "fieldapp-outbox", "version": 1, "records": [], **fields}


def _corrupt_manifest() -> bytes:
    content = bytearray(outbox_zip(manifest=b"{}" * 5000, compression=zipfile.ZIP_DEFLATED))
    content[60:70] = b"\x00" * 10  # inside the manifest's compressed stream
    return bytes(content)


WHOLE_ZIP_REFUSED = {
    "not JSON": (lambda: outbox_zip(manifest=b"{this is not json"), "is not valid JSON"),
    "not UTF-8": (lambda: outbox_zip(manifest=b'{"format": "\xff"}'), "is not valid JSON"),
    "nested deep": (lambda: outbox_zip(manifest=b"[" * 100_000), "is not valid JSON"),
    "a list": (lambda: outbox_zip(manifest=[]), "is not a JSON object"),
    "wrong format": (
        lambda: outbox_zip(manifest=_manifest(format="something-else")),
        "is not a phone outbox this server can read",
    ),
    "version 2": (
        lambda: outbox_zip(manifest=_manifest(version=2)),
        "is not a phone outbox this server can read",
    ),
    "version true": (
        lambda: outbox_zip(manifest=_manifest(version=True)),
        "is not a phone outbox this server can read",
    ),
    "records not a list": (
        lambda: outbox_zip(manifest=_manifest(records={"a": 1})),
        "has no list of records",
    ),
    "too many records": (
        lambda: outbox_zip(manifest=_manifest(records=[{}] * (ZIP_MAX_FILES + 1))),
        f"at most {ZIP_MAX_FILES}",
    ),
    "manifest too large": (
        lambda: outbox_zip(
            manifest=_manifest(padding=" " * rescue.MANIFEST_MAX_BYTES),
            compression=zipfile.ZIP_DEFLATED,
        ),
        "is larger than 8 MB",
    ),
    "damaged": (_corrupt_manifest, "This zip file is damaged"),
}


@pytest.mark.parametrize("case", WHOLE_ZIP_REFUSED, ids=str)
def test_a_zip_that_is_not_a_readable_outbox_is_refused_whole(app, client, logged_in, case):
    build, reason = WHOLE_ZIP_REFUSED[case]
    (outcome,) = outcomes_of(send_file(client, build()))
    assert outcome["status"] == "refused" and outcome["filename"] == ZIP_NAME
    assert reason in outcome["message"]
    assert count_rows(app, Encounter) == 0 and stored_files(app) == []


def _record_with(**entry) -> dict:
    """A manifest whose one record is a valid one changed by `entry` (None: left out)."""
    record = outbox_record().manifest_entry()
    record.update(entry)
    return _manifest(records=[{k: v for k, v in record.items() if v is not None}])


def _photo_named(name: str) -> bytes:
    """A record naming `name` as its photo, and the zip holding a photo by that name."""
    entry = {**outbox_record().manifest_entry(), "photo": name, "photo_type": "image/jpeg"}
    return outbox_zip(manifest=_manifest(records=[entry]), extra={name: small_jpeg()})


OTHER = str(uuidlib.uuid4())
PHOTO_NAME_REFUSED = "Its photo must be photos/<its uuid>.jpg"
RECORD_REFUSED = {
    "a string": (lambda: outbox_zip(manifest=_manifest(records=["x"])), "is not a JSON object"),
    "a number": (lambda: outbox_zip(manifest=_manifest(records=[5])), "is not a JSON object"),
    "uuid not a UUID": (
        lambda: outbox_zip(manifest=_record_with(uuid="not-a-uuid")),
        "uuid is not a UUID",
    ),
    "uuid a number": (lambda: outbox_zip(manifest=_record_with(uuid=12)), "uuid is not a UUID"),
    "uuid missing": (
        lambda: outbox_zip(manifest=_manifest(records=[{"data": {}}])),
        "uuid is not a UUID",
    ),
    "data missing": (lambda: outbox_zip(manifest=_record_with(data=[])), "data must be a JSON"),
    "data invalid": (
        lambda: outbox_zip(
            manifest=_record_with(data={**outbox_record().data, "consent": {"version": 1}})
        ),
        "Not recorded: consent.keep must be true or false; consent.gallery must be",
    ),
    "traversal up": (lambda: _photo_named("../evil.jpg"), PHOTO_NAME_REFUSED),
    "traversal inside": (
        lambda: _photo_named("photos/../fieldapp-outbox.json"),
        PHOTO_NAME_REFUSED,
    ),
    "absolute": (lambda: _photo_named("/etc/passwd"), PHOTO_NAME_REFUSED),
    "another record's photo": (lambda: _photo_named(f"photos/{OTHER}.jpg"), PHOTO_NAME_REFUSED),
    "not in photos/": (lambda: _photo_named("drawing.jpg"), PHOTO_NAME_REFUSED),
    "not a text": (lambda: outbox_zip(manifest=_record_with(photo=["a"])), PHOTO_NAME_REFUSED),
}


@pytest.mark.parametrize("case", RECORD_REFUSED, ids=str)
def test_a_bad_record_is_refused_and_stores_nothing(app, client, logged_in, case):
    build, reason = RECORD_REFUSED[case]
    (outcome,) = outcomes_of(send_file(client, build()))
    assert outcome["status"] == "refused" and reason in outcome["message"], outcome
    assert count_rows(app, Encounter) == 0 and stored_files(app) == []


def test_bad_photos_are_refused_by_the_photo_pipeline_and_the_others_go_through(
    app, client, logged_in, monkeypatch
):
    monkeypatch.setitem(app.config, "MAX_PHOTO_BYTES", 1024 * 1024)
    good = outbox_record(photo=small_jpeg())
    huge = outbox_record(photo=os.urandom(1024 * 1024 + 1))
    broken = outbox_record(photo=b"\xff\xd8 this is not a photo")
    missing = outbox_record(photo=small_jpeg((1, 2, 3)))
    declined_with_photo = outbox_record(declined=True, photo=small_jpeg((3, 2, 1)))
    records = [good, huge, broken, missing, declined_with_photo]
    content = outbox_zip(records)
    with zipfile.ZipFile(io.BytesIO(content)) as archive, io.BytesIO() as out:
        with zipfile.ZipFile(out, "w") as without:  # the same zip, less one photo
            for member in archive.infolist():
                if member.filename != missing.photo_name:
                    without.writestr(member, archive.read(member))
        content = out.getvalue()

    outcomes = outcomes_of(send_file(client, content))
    assert [o["status"] for o in outcomes] == ["imported", *["refused"] * 4]
    messages = [o["message"] for o in outcomes[1:]]
    assert messages[0] == "The photo is larger than 1 MB."
    assert messages[1].startswith("This file is not a photo we can read")
    assert messages[2] == (
        f"The zip has no {missing.photo_name}, the photo this record names; "
        "nothing was stored for it."
    )
    assert messages[3] == "Not recorded: photo a declined approach has no drawing."
    assert count_rows(app, Encounter) == 1 and count_rows(app, Photo) == 1
    assert len(stored_files(app)) == 3


# The two paths of the page ---------------------------------------------------------------


def test_the_no_javascript_form_takes_a_deflated_rescue_zip_without_the_batch_settings(
    app, client, logged_in, api_token
):
    page = client.get("/encounters/import").text
    assert "the details below do not apply to it" in page
    (ticket,) = reserve(client, api_token, 1)
    record = outbox_record(ticket=ticket, photo=small_jpeg())
    content = outbox_zip([record], compression=zipfile.ZIP_DEFLATED)
    response = send_form(client, content, on="", start_number="0")  # settings left broken
    assert response.status_code == 200
    assert "1 imported" in response.text
    assert f"Recorded #{ticket['number']} (from the phone&#39;s outbox)." in response.text
    assert f'href="/encounters/{record.uuid}"' in response.text
    assert count_rows(app, Encounter) == 1


def test_a_rescue_zip_and_photos_together_each_go_their_way(app, client, logged_in, api_token):
    (ticket,) = reserve(client, api_token, 1)
    record = outbox_record(ticket=ticket)
    response = client.post(
        "/encounters/import",
        data={
            **rescue_batch_fields(client, start_number="40"),
            "files": [
                (io.BytesIO(outbox_zip([record])), "outbox.ZIP"),
                (io.BytesIO(small_jpeg()), "old.jpg"),
            ],
        },
        content_type="multipart/form-data",
    )
    assert response.status_code == 200 and "2 imported" in response.text
    with app.app_context():
        assert encounter_by_uuid(db.session, record.uuid).number == ticket["number"]
        batch = db.session.scalar(select(Encounter).where(Encounter.venue == "zine fair"))
        assert batch.number == 40 and batch.gallery


def test_a_zip_with_the_manifest_not_at_its_root_is_an_ordinary_zip(app, client, logged_in):
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        archive.writestr("sub/fieldapp-outbox.json", json.dumps(_manifest()))
        archive.writestr("photo.jpg", small_jpeg())
    content = out.getvalue()
    outcomes = outcomes_of(send_file(client, content, name="photos.zip"))
    assert sorted((o["status"], o["from_outbox"]) for o in outcomes) == [
        ("imported", False),
        ("refused", False),
    ]
    assert count_rows(app, Encounter) == 1

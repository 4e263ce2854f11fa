"""The backlog import: a mixed batch (good photos, a duplicate, a broken file, a zip), numbered
in capture order from a starting number, skipping taken numbers; the same file twice creates
nothing new; EXIF never reaches a stored file."""

from __future__ import annotations

import io
import zipfile

from PIL import Image
from sqlalchemy import select

from fieldapp.encounters.models import Encounter
from fieldapp.extensions import db
from fieldapp.media.models import Photo
from fieldapp.tickets.models import Ticket
from tests.factories import batch_fields, count_rows, make_encounter, small_jpeg, stored_files
from tests.helpers import taken_jpeg


def zip_of(members: dict[str, bytes]) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return out.getvalue()


def test_a_mixed_batch_is_numbered_by_capture_time_and_bad_files_are_listed(app, client, logged_in):
    make_encounter(app)  # already #1
    with app.app_context():
        db.session.add(Ticket(number=4, token="printed-sheet-ticket-4"))  # #4: a printed label
        db.session.commit()
    a = taken_jpeg("2024:05:17 14:00:00", (200, 0, 0))
    b = taken_jpeg("2024:05:17 13:00:00", (0, 200, 0))
    zipped = taken_jpeg("2024:05:17 13:30:00", (0, 0, 200))
    files = [
        (io.BytesIO(a), "a.jpg", "image/jpeg"),
        (io.BytesIO(b), "b.jpg", "image/jpeg"),
        (io.BytesIO(small_jpeg((120, 120, 0))), "c.jpg", "image/jpeg"),
        (io.BytesIO(a), "dup.jpg", "image/jpeg"),
        (io.BytesIO(b"\xff\xd8 this is not a photo"), "broken.jpg", "image/jpeg"),
        (
            io.BytesIO(zip_of({"z1.jpg": zipped, "../evil.jpg": small_jpeg((1, 2, 3)),
                               "notes.txt": b"hello"})),
            "batch.zip",
            "application/zip",
        ),
    ]  # fmt: skip
    response = client.post(
        "/encounters/import",
        data={**batch_fields(client), "files": files},
        content_type="multipart/form-data",
    )
    assert response.status_code == 200
    html = response.text
    assert "4 imported" in html and "1 already there" in html and "3 refused" in html
    assert "#1 taken, skipped" in html
    assert "broken.jpg</span>: This file is not a photo we can read" in html
    assert "batch.zip/../evil.jpg</span>: An unsafe path inside the zip" in html
    assert "batch.zip/notes.txt</span>: This file is not a photo" in html
    assert "dup.jpg</span>: Already imported as #" in html
    with app.app_context():
        rows = db.session.execute(
            select(Encounter.notes, Encounter.venue, Encounter.gallery, Encounter.started_at)
            .where(Encounter.venue == "zine fair")
            .order_by(Encounter.id)
        ).all()
        numbered = {
            e.notes.removeprefix("Backlog import: "): e.number
            for e in db.session.scalars(select(Encounter).where(Encounter.venue == "zine fair"))
        }
    # Capture order: b (13:00), the zip's photo (13:30), a (14:00); then c, which has none.
    # #1 is a drawing and #4 a reserved ticket: both skipped.
    assert numbered == {"b.jpg": 2, "batch.zip/z1.jpg": 3, "a.jpg": 5, "c.jpg": 6}
    assert all(r.gallery for r in rows)
    assert {r.started_at.isoformat() for r in rows} == {"2025-06-14T10:00:00+00:00"}  # noon, +2h
    for path in stored_files(app):
        with Image.open(path) as image:
            assert not image.getexif()


def test_importing_the_same_files_twice_creates_nothing_new(app, client, logged_in):
    photo = taken_jpeg("2024:05:17 14:00:00", (200, 0, 0))

    def send():
        return client.post(
            "/encounters/import",
            data={**batch_fields(client), "files": [(io.BytesIO(photo), "a.jpg", "image/jpeg")]},
            content_type="multipart/form-data",
        )

    assert "1 imported" in send().text
    again = send().text
    assert "0 imported" in again and "Already imported as #1" in again
    assert count_rows(app, Encounter) == 1 and count_rows(app, Photo) == 1


def test_one_file_per_request_answers_json_and_the_probe_reads_capture_time(app, client, logged_in):
    photo = taken_jpeg("2023:01:02 03:04:05", (9, 9, 9))
    fields = batch_fields(client)
    probe = client.post(
        "/encounters/import/probe",
        data={"head": (io.BytesIO(photo[:4096]), "a.jpg"), "csrf_token": fields["csrf_token"]},
        content_type="multipart/form-data",
    )
    assert probe.json == {"taken": "2023-01-02T03:04:05"}
    token = fields.pop("csrf_token")
    answer = client.post(
        "/encounters/import/file",
        data={**fields, "start_number": "7", "files": [(io.BytesIO(photo), "a.jpg")]},
        headers={"X-CSRFToken": token},
        content_type="multipart/form-data",
    )
    assert answer.status_code == 200
    (outcome,) = answer.json["outcomes"]
    assert outcome["status"] == "imported" and outcome["number"] == 7
    forged = client.post(
        "/encounters/import/file",
        data={**fields, "files": [(io.BytesIO(small_jpeg()), "b.jpg")]},
        content_type="multipart/form-data",
    )
    assert forged.status_code == 400 and count_rows(app, Encounter) == 1


def test_a_batch_with_missing_settings_or_no_files_is_explained(app, client, logged_in):
    response = client.post(
        "/encounters/import",
        data=batch_fields(client, on="", start_number="0"),
        content_type="multipart/form-data",
    )
    assert response.status_code == 422 and "Give the date." in response.text
    response = client.post(
        "/encounters/import", data=batch_fields(client), content_type="multipart/form-data"
    )
    assert response.status_code == 422 and "Choose the photos" in response.text


def test_a_damaged_zip_is_refused_whole(app, client, logged_in):
    response = client.post(
        "/encounters/import",
        data={**batch_fields(client), "files": [(io.BytesIO(b"PK\x03\x04broken"), "x.zip")]},
        content_type="multipart/form-data",
    )
    assert response.status_code == 200 and "This zip file is damaged" in response.text
    assert count_rows(app, Encounter) == 0


def test_a_withdrawn_drawing_does_not_come_back_by_importing_it_again(app, client, logged_in):
    from fieldapp.encounters.models import FieldChange
    from fieldapp.media.services import media_store
    from fieldapp.withdrawal.services import withdraw

    photo = taken_jpeg("2024:05:17 14:00:00", (200, 0, 0))

    def send():
        return client.post(
            "/encounters/import",
            data={
                **batch_fields(client),
                "files": [(io.BytesIO(photo), "julia.jpg", "image/jpeg")],
            },
            content_type="multipart/form-data",
        )

    assert "1 imported" in send().text
    with app.app_context():
        encounter = db.session.scalar(select(Encounter))
        withdraw(db.session, media_store(), encounter.ticket)
        values = {c.old_value + c.new_value for c in db.session.scalars(select(FieldChange))}
    assert values == {"(erased)(erased)"}  # the file name is gone from the history too
    again = send().text
    assert "0 imported" in again and "was withdrawn by its drawer" in again
    assert count_rows(app, Encounter) == 1 and count_rows(app, Photo) == 0
    assert stored_files(app) == []

"""The server dies, the disk fills up, two workers write at once: no drawing lost or doubled.

These run the real app under gunicorn with the shipped config, on a real SQLite file (and a real
PostgreSQL database) and media folder, and kill it with SIGKILL at the worst moments.
"""

from __future__ import annotations

import http.client
import socket
import threading
import time
import uuid as uuidlib

import pytest

from fieldapp.extensions import db
from fieldapp.media.images import process_photo
from tests.factories import encounter_data, small_jpeg
from tests.helpers import Gunicorn, multipart
from tests.photo_corpus import camera_jpeg
from tests.small_disk import small_disk


@pytest.fixture(params=["sqlite", "postgresql"])
def server_database(request) -> str | None:
    """None (a SQLite file of the server's own) or the URL of an empty PostgreSQL database."""
    if request.param == "postgresql":
        server = request.getfixturevalue("postgres_server")
        return server.create_database(f"faults_{uuidlib.uuid4().hex}")
    return None


@pytest.fixture
def gunicorn(tmp_path, server_database):
    server = Gunicorn(tmp_path, database_url=server_database)
    yield server
    server.stop()


@pytest.fixture(scope="module")
def big_photo() -> bytes:
    return camera_jpeg(orientation=6, gps=True)  # 12 MP, several MB


def test_sigkill_in_the_middle_of_an_upload_loses_nothing_and_the_retry_stores_one(
    gunicorn, big_photo
):
    gunicorn.start()
    client_uuid = str(uuidlib.uuid4())
    body = multipart(encounter_data(), big_photo)
    assert len(body) > 2_000_000
    with socket.create_connection(("127.0.0.1", gunicorn.port)) as upload:
        head = f"PUT /api/v1/encounters/{client_uuid} HTTP/1.1\r\nHost: 127.0.0.1\r\n"
        head += "".join(f"{name}: {value}\r\n" for name, value in gunicorn.headers(body).items())
        upload.sendall(head.encode() + b"\r\n" + body[: len(body) // 2])
        gunicorn.kill()  # half the photo is on its way

    gunicorn.start()
    assert gunicorn.integrity() == "ok"
    assert (gunicorn.count("encounters"), gunicorn.count("photos")) == (0, 0)
    assert gunicorn.media_files() == []  # not a byte of the half-sent photo, no temp file
    assert gunicorn.get(f"/api/v1/encounters/{client_uuid}") == 401  # needs the token...
    status, answer = gunicorn.put(client_uuid, body)  # ...the phone retries
    assert status == 201
    status_again, again = gunicorn.put(client_uuid, body)
    assert (status_again, again["number"]) == (200, answer["number"])
    assert (gunicorn.count("encounters"), gunicorn.count("photos")) == (1, 1)
    assert len(gunicorn.media_files()) == 3


def test_sigkill_after_the_files_are_written_leaves_an_unserved_orphan_that_is_swept(
    gunicorn, big_photo
):
    gunicorn.start(app="tests.pausing_app:app")
    client_uuid = str(uuidlib.uuid4())
    body = multipart(encounter_data(), big_photo)
    failed: list[BaseException] = []

    def upload():
        try:
            gunicorn.put(client_uuid, body)
        except (OSError, http.client.HTTPException) as error:
            failed.append(error)  # the server died under it, as expected

    sender = threading.Thread(target=upload)
    sender.start()
    marker = gunicorn.root / "paused"
    for _ in range(600):
        if marker.exists():
            break
        time.sleep(0.1)
    assert marker.exists(), (gunicorn.root / "gunicorn.log").read_text()
    orphans = gunicorn.media_files()
    assert len(orphans) == 3  # archive, display and thumbnail are on disk, uncommitted
    gunicorn.kill()
    sender.join()
    assert failed

    gunicorn.start()  # the real app this time
    assert gunicorn.integrity() == "ok"
    assert (gunicorn.count("encounters"), gunicorn.count("photos"), gunicorn.count("tickets")) == (
        0,
        0,
        0,
    )
    # No URL serves a file without its row: images are found through their Photo row only.
    for orphan in orphans:
        name = orphan.relative_to(gunicorn.media_dir).as_posix()
        for prefix in ("/", "/media/", "/static/", "/static/../media/"):
            assert gunicorn.get(prefix + name) == 404
    assert gunicorn.get("/gallery/1/display.jpg") == 404
    assert "Removed 3 unused photo file(s)." in gunicorn.sweep()
    assert gunicorn.media_files() == []

    status, answer = gunicorn.put(client_uuid, body)  # the phone's retry
    assert (status, answer["number"]) == (201, 1)
    assert (gunicorn.count("encounters"), gunicorn.count("photos")) == (1, 1)
    assert len(gunicorn.media_files()) == 3
    assert "Removed 0 unused photo file(s)." in gunicorn.sweep()  # a used file is never swept
    assert len(gunicorn.media_files()) == 3


def test_two_workers_writing_at_once_all_succeed(tmp_path, server_database):
    server = Gunicorn(tmp_path, workers=2, database_url=server_database)
    server.start()
    try:
        bodies = {
            str(uuidlib.uuid4()): multipart(
                encounter_data(), small_jpeg(color=(10 * i, 40, 240 - 10 * i))
            )
            for i in range(24)
        }
        barrier = threading.Barrier(len(bodies))
        statuses: dict[str, int] = {}

        def send(client_uuid: str, body: bytes):
            barrier.wait()
            statuses[client_uuid] = server.put(client_uuid, body)[0]

        threads = [threading.Thread(target=send, args=item) for item in bodies.items()]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    finally:
        server.stop()
    assert sorted(statuses.values()) == [201] * len(bodies)
    numbers = [number for (number,) in server.query("SELECT number FROM tickets")]
    if server_database is None:  # SQLite
        assert server.query("PRAGMA journal_mode") == [("wal",)]
    assert server.count("encounters") == len(bodies)
    assert sorted(numbers) == list(range(1, len(bodies) + 1))


def test_ten_identical_puts_across_two_workers_store_one_encounter(tmp_path, server_database):
    server = Gunicorn(tmp_path, workers=2, database_url=server_database)
    server.start()
    client_uuid, body = str(uuidlib.uuid4()), multipart(encounter_data(), small_jpeg())
    barrier = threading.Barrier(10)
    statuses: list[int] = []

    def send():
        barrier.wait()
        statuses.append(server.put(client_uuid, body)[0])

    threads = [threading.Thread(target=send) for _ in range(10)]
    try:
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    finally:
        server.stop()
    assert sorted(statuses) == [200] * 9 + [201]
    assert (server.count("encounters"), server.count("photos")) == (1, 1)
    assert len(server.media_files()) == 3


# The disk fills up ----------------------------------------------------------------------


@pytest.fixture
def tiny_disk(tmp_path):
    """A real 1 MB filesystem (tmpfs) as the media folder; needs root with CAP_SYS_ADMIN."""
    with small_disk(tmp_path / "media", "1m") as disk:
        yield disk


def test_a_full_disk_gives_a_clear_507_no_row_and_no_file(live_app, tiny_disk):
    from fieldapp.auth.services import create_api_token, create_collector
    from fieldapp.encounters.models import Encounter
    from fieldapp.media.models import Photo
    from tests.factories import count_rows, put_encounter

    with live_app.app_context():
        token = create_api_token(db.session, create_collector(db.session, "max", "a long password"))
        db.session.commit()
    live_app.config["MEDIA_DIR"] = str(tiny_disk.root)
    photo = camera_jpeg(orientation=1, gps=False, size=(1600, 1200))
    processed = process_photo(photo, max_pixels=52_000_000)
    # Room for the archive but not the display copy: the first file is written, then removed.
    filler = tiny_disk.fill(leave=len(processed.archive.data) + 8192)
    client_uuid = str(uuidlib.uuid4())
    response = put_encounter(live_app.test_client(), token, client_uuid, encounter_data(), photo)
    assert response.status_code == 507
    assert response.headers["Retry-After"]
    assert "photo storage is full" in response.get_json()["error"]
    assert "Nothing was lost from your phone" in response.get_json()["error"]
    assert (count_rows(live_app, Encounter), count_rows(live_app, Photo)) == (0, 0)
    assert sorted(p.name for p in tiny_disk.root.rglob("*") if p.is_file()) == ["filler"]

    filler.unlink()  # the administrator makes room; the phone's retry goes through
    response = put_encounter(live_app.test_client(), token, client_uuid, encounter_data(), photo)
    assert response.status_code == 201
    assert count_rows(live_app, Encounter) == 1

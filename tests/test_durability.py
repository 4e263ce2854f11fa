"""Never lose a drawing, never store one twice, never leave a file without its row."""

from __future__ import annotations

import threading
import uuid as uuidlib

import pytest

from fieldapp.encounters.models import Encounter
from fieldapp.encounters.services import record_encounter
from fieldapp.encounters.validation import parse_encounter_data
from fieldapp.extensions import db
from fieldapp.media.images import process_photo
from fieldapp.media.models import Photo
from fieldapp.media.services import media_store
from tests.factories import count_rows, encounter_data, put_encounter, small_jpeg, stored_files
from tests.helpers import fail_the_write_commit
from tests.postgres import live_on_both_databases


@pytest.fixture
def committing_token(live_app) -> str:
    """An API token of a collector stored (for real) in the committing app's database."""
    from fieldapp.auth.services import create_api_token, create_collector

    with live_app.app_context():
        token = create_api_token(db.session, create_collector(db.session, "max", "a long password"))
        db.session.commit()
    return token


@live_on_both_databases
def test_ten_identical_concurrent_puts_store_one_encounter(live_app, committing_token):
    client_uuid, data, photo = str(uuidlib.uuid4()), encounter_data(), small_jpeg()
    barrier = threading.Barrier(10)
    statuses: list[int] = []

    def send():
        client = live_app.test_client()
        barrier.wait()
        response = put_encounter(client, committing_token, client_uuid, data, photo)
        statuses.append(response.status_code)

    threads = [threading.Thread(target=send) for _ in range(10)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(statuses) == [200] * 9 + [201]
    assert count_rows(live_app, Encounter) == 1
    assert count_rows(live_app, Photo) == 1
    assert len(stored_files(live_app)) == 3


@live_on_both_databases
def test_a_failed_commit_leaves_no_file_behind(live_app, monkeypatch):
    processed = process_photo(small_jpeg(), max_pixels=52_000_000)
    with live_app.app_context():
        data = parse_encounter_data(encounter_data())
        fail_the_write_commit(db.session(), monkeypatch, OSError("disk full during commit"))
        with pytest.raises(OSError, match="disk full"):
            record_encounter(
                db.session,
                media_store(),
                uuid=str(uuidlib.uuid4()),
                data=data,
                photo=processed,
                collector_id=None,
            )
        monkeypatch.undo()
        db.session.remove()
    assert count_rows(live_app, Encounter) == 0
    assert stored_files(live_app) == []


def test_an_unwritable_media_directory_gives_a_clear_error_and_no_row(
    live_app, committing_token, tmp_path
):
    blocker = tmp_path / "not-a-directory"
    blocker.write_text("a file where the media directory should be")
    live_app.config["MEDIA_DIR"] = str(blocker)
    client = live_app.test_client()
    response = put_encounter(
        client, committing_token, str(uuidlib.uuid4()), encounter_data(), small_jpeg()
    )
    assert response.status_code == 503 and response.is_json
    assert "Nothing was lost" in response.get_json()["error"]
    assert count_rows(live_app, Encounter) == 0

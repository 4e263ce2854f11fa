"""The bad-input corpus of tests/photo_corpus.py, through the API and the capture form: every
file and payload gets a 4xx with a clear message, never a 500, and leaves nothing behind (no
row, no file in the media folder, no temporary file)."""

from __future__ import annotations

import io
import json
import tempfile
import uuid as uuidlib
from pathlib import Path

import pytest
from PIL import Image

from tests import photo_corpus as corpus
from tests.conftest import csrf_token_from
from tests.factories import stored_files
from tests.helpers import database_snapshot

GENERIC_500 = "Something went wrong on our side"


def test_the_corpus_holds_at_least_40_bad_files_and_payloads():
    assert len(corpus.BAD_FILES) + len(corpus.DATA_PAYLOADS) >= 40


@pytest.fixture
def own_tempdir(tmp_path, monkeypatch) -> Path:
    """Temporary files of this test (werkzeug spools big uploads there) land in a folder of
    its own, so that we can see they are all gone afterwards."""
    folder = tmp_path / "tmp"
    folder.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(folder))
    return folder


@pytest.fixture
def nothing_left(app, own_tempdir):
    """Asserts, after the test, that the database, media folder and temp folder are unchanged."""
    before = database_snapshot(app)
    yield
    assert database_snapshot(app) == before
    assert stored_files(app) == []
    assert list(own_tempdir.iterdir()) == []


def api_put(client, token: str, data: str, photo: tuple[bytes, str, str] | None = None):
    parts: dict = {"data": data}
    if photo is not None:
        content, filename, content_type = photo
        parts["photo"] = (io.BytesIO(content), filename, content_type)
    return client.put(
        f"/api/v1/encounters/{uuidlib.uuid4()}",
        data=parts,
        headers={"Authorization": f"Bearer {token}"},
        content_type="multipart/form-data",
    )


def documented_statuses(method: str, path: str) -> set[int]:
    """The status codes /api/v1/openapi.json gives for an operation."""
    from fieldapp.api.openapi import openapi_document

    operation = openapi_document()["paths"][path][method.lower()]
    return {int(status) for status in operation["responses"]}


def assert_clear_api_refusal(response, name: str) -> None:
    assert 400 <= response.status_code < 500, (name, response.status_code, response.data[:300])
    method = response.request.method
    path = "/api/v1/tickets" if method == "POST" else "/api/v1/encounters/{uuid}"
    assert response.status_code in documented_statuses(method, path), (name, response.status_code)
    body = response.get_json()
    assert body and isinstance(body["error"], str) and len(body["error"]) > 10, (name, body)
    assert GENERIC_500 not in body["error"]


# Through the API -----------------------------------------------------------------------------


@pytest.mark.parametrize("name", sorted(set(corpus.BAD_FILES) - {"polyglot_jpeg_zip"}))
def test_bad_files_through_the_api(client, api_token, nothing_left, name):
    photo = corpus.BAD_FILES[name]()
    response = api_put(client, api_token, json.dumps(corpus._valid_data()), photo)
    assert_clear_api_refusal(response, name)


@pytest.mark.parametrize("name", sorted(corpus.DATA_PAYLOADS))
def test_bad_payloads_through_the_api(client, api_token, nothing_left, name):
    data = corpus.DATA_PAYLOADS[name]()
    response = api_put(client, api_token, data.encode("utf-8", "surrogatepass"))
    assert_clear_api_refusal(response, name)


def test_a_bad_payload_as_a_file_part_is_refused_too(client, api_token, nothing_left):
    """The phone appends `data` as a Blob, which arrives as a file part."""
    response = client.put(
        f"/api/v1/encounters/{uuidlib.uuid4()}",
        data={"data": (io.BytesIO(b"[" * 100_000), "blob", "application/json")},
        headers={"Authorization": f"Bearer {api_token}"},
        content_type="multipart/form-data",
    )
    assert_clear_api_refusal(response, "deep JSON blob")


@pytest.mark.parametrize(
    ("content_type", "body"),
    [
        ("application/json", json.dumps({"data": {}})),
        ("text/plain", "data=hello"),
        ("application/x-www-form-urlencoded", "data=%7B%7D"),
        ("multipart/form-data; boundary=nope", "--x\r\n\r\n"),
        ("multipart/form-data", "no boundary at all"),
        (  # a part with no name beside a named stranger (Schemathesis found this one)
            "multipart/form-data; boundary=b",
            '--b\r\nContent-Disposition: form-data; name="data"\r\n\r\n{}\r\n'
            '--b\r\nContent-Disposition: form-data; name="extra"\r\n\r\ny\r\n'
            "--b\r\nContent-Disposition: form-data\r\n\r\nx\r\n--b--\r\n",
        ),
    ],
)
def test_wrong_request_content_types_are_refused(
    client, api_token, nothing_left, content_type, body
):
    response = client.put(
        f"/api/v1/encounters/{uuidlib.uuid4()}",
        data=body,
        headers={"Authorization": f"Bearer {api_token}", "Content-Type": content_type},
    )
    assert_clear_api_refusal(response, content_type)


@pytest.mark.parametrize(
    "body",
    ["", "[]", "null", '{"count": "5"}', '{"count": 1e309}', '{"count": 10000000000000000000000}',
     "[" * 100_000, '{"count": -1}'],
)  # fmt: skip
def test_bad_ticket_requests_are_refused(client, api_token, nothing_left, body):
    response = client.post(
        "/api/v1/tickets",
        data=body,
        headers={"Authorization": f"Bearer {api_token}", "Content-Type": "application/json"},
    )
    assert_clear_api_refusal(response, body[:20])


@pytest.mark.parametrize("name", sorted(corpus.ODD_FILES))
def test_odd_but_real_photos_are_accepted_upright_without_metadata(app, client, api_token, name):
    content, filename, content_type = corpus.ODD_FILES[name]()
    response = api_put(
        client, api_token, json.dumps(corpus._valid_data()), corpus.ODD_FILES[name]()
    )
    assert response.status_code == 201, response.get_json()
    files = stored_files(app)
    assert len(files) == 3
    media = Path(app.config["MEDIA_DIR"]).resolve()
    for path in files:
        assert path.resolve().is_relative_to(media)
        assert path.stem != Path(filename).stem  # named by content hash, never by the upload
        image = Image.open(path)
        assert image.mode == "RGB" and len(image.getexif()) == 0
    assert not Path("/tmp/fieldapp-evil.jpg").exists()  # noqa: S108  (where the name points)


# Through the capture form --------------------------------------------------------------------


def capture_form(client, **changes) -> dict:
    form = {
        "csrf_token": csrf_token_from(client.get("/encounters/new").text),
        "uuid": str(uuidlib.uuid4()), "started_at": corpus._valid_data()["started_at"],
        "venue_type": "bar", "venue": "pool night", "city": "Lyon", "time_limit": "120",
        "consent_version": "1", "age_group": "adult", "keep": "yes", "gallery": "yes",
        "training": "no", "social": "no", "credit": "anonymous",
        "credit_name": "", "notes": "",
    }  # fmt: skip
    return {**form, **changes}


def assert_clear_form_refusal(response, name: str) -> None:
    assert 400 <= response.status_code < 500, (name, response.status_code)
    assert GENERIC_500 not in response.text
    assert 'class="problems"' in response.text or "error" in response.text, name


@pytest.mark.parametrize("name", sorted(set(corpus.BAD_FILES) - {"polyglot_jpeg_zip"}))
def test_bad_files_through_the_capture_form(logged_in, client, nothing_left, name):
    content, filename, content_type = corpus.BAD_FILES[name]()
    form = capture_form(client, photo=(io.BytesIO(content), filename, content_type))
    response = client.post("/encounters/new", data=form, content_type="multipart/form-data")
    assert_clear_form_refusal(response, name)


# The form's fields are text: every one of them gets garbage of its kind.
FORM_PAYLOADS = {
    "uuid_traversal": {"uuid": "../../etc/passwd"},
    "uuid_empty": {"uuid": ""},
    "started_at_far_future": {"started_at": "9999-12-31T23:59:59+00:00"},
    "started_at_overflow": {"started_at": "9999-12-31T23:59:59-14:00"},
    "started_at_underflow": {"started_at": "0001-01-01T00:00:00+14:00"},
    "started_at_garbage": {"started_at": "last Tuesday"},
    "drawing_started_at_garbage": {"drawing_started_at": "soon"},
    "time_limit_negative": {"time_limit": "-60"},
    "time_limit_huge": {"time_limit": "9" * 40},
    "time_limit_word": {"time_limit": "forever"},
    "venue_type_unknown": {"venue_type": "spaceship"},
    "venue_too_long": {"venue": "v" * 5000},
    "city_nul": {"city": "Ly\x00on"},
    "consent_version_huge": {"consent_version": "9" * 40},
    "consent_version_unknown": {"consent_version": "999999"},
    "consent_version_word": {"consent_version": "latest"},
    "credit_name_too_long": {"credit": "name", "credit_name": "x" * 500},
    "credit_name_blank": {"credit": "name", "credit_name": "   "},
    "credit_unknown": {"credit": "both"},
    "notes_huge": {"notes": "n" * 100_000},
}


@pytest.mark.parametrize("name", sorted(FORM_PAYLOADS))
def test_bad_fields_through_the_capture_form(logged_in, client, nothing_left, name):
    photo = (io.BytesIO(corpus._save(corpus.drawing((300, 400)), "JPEG")), "d.jpg", "image/jpeg")
    form = capture_form(client, **FORM_PAYLOADS[name], photo=photo)
    response = client.post("/encounters/new", data=form, content_type="multipart/form-data")
    assert_clear_form_refusal(response, name)


@pytest.mark.parametrize("name", ["venue_type_unknown", "started_at_overflow", "city_nul"])
def test_bad_fields_through_the_declined_form(logged_in, client, nothing_left, name):
    form = capture_form(client, **FORM_PAYLOADS[name])
    response = client.post("/encounters/declined", data=form, follow_redirects=True)
    assert response.status_code == 200
    assert "Not logged:" in response.text

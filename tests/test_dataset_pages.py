"""The collector's dataset pages: settings, the streamed download, past exports."""

from __future__ import annotations

import os

# No Hub, no network: the export must load from its own files.
os.environ["HF_DATASETS_OFFLINE"] = "1"
os.environ["HF_HUB_OFFLINE"] = "1"

import contextlib
import hashlib
import http.client
import io
import json
import logging
import socket
import struct
import threading
import zipfile
from pathlib import Path
from urllib.parse import urlencode

import pytest
import requests

from fieldapp.auth.services import create_collector
from fieldapp.dataset.services import dataset_settings, past_exports
from fieldapp.extensions import db
from tests.conftest import PASSWORD, csrf_token_from
from tests.dataset_fixtures import consent, drawing_photo, make_collection
from tests.factories import make_encounter
from tests.helpers import assert_sent_to_login

SETTINGS = {
    "license": "CC-BY-4.0",
    "pretty_name": "Let Me Collect Myself",
    "creator": "Max Field",
    "contact": "max@example.org",
    "size": "",
    "answer_purpose": "To show that a dataset can be made with consent and credit.",
    "answer_uses": "Research on drawing styles; art.",
}


def test_dataset_pages_are_the_collectors_only(auth, client):
    auth.create_collector()
    for path in ("/settings/dataset", "/dataset/export", "/dataset/exports"):
        assert_sent_to_login(client.get(path), path)


def test_settings_are_written_once_and_used_by_the_card(app, client, logged_in):
    make_collection(app)
    response = client.post(
        "/settings/dataset", data=SETTINGS | {"csrf_token": logged_in.csrf_token()}
    )
    assert response.status_code == 302
    with app.app_context():
        saved = dataset_settings(db.session)
        assert saved.license == "CC-BY-4.0" and saved.default_size is None
        assert saved.answers["uses"] == "Research on drawing styles; art."
    response = client.post(
        "/dataset/export",
        data={"kind": "training", "size": "", "csrf_token": logged_in.csrf_token()},
    )
    assert response.status_code == 200
    assert response.mimetype == "application/zip"
    assert "attachment" in response.headers["Content-Disposition"]
    assert response.headers["Cache-Control"] == "no-store"
    assert "Content-Length" not in response.headers  # sent while it is made
    body = response.get_data()
    with app.app_context():
        [past] = past_exports(db.session)
        assert past.manifest.zip_bytes == len(body) and past.manifest.made_by == "web"
        assert past.manifest.zip_sha256 == hashlib.sha256(body).hexdigest()
    with zipfile.ZipFile(io.BytesIO(body)) as archive:
        card = archive.read("README.md").decode()
        croissant = json.loads(archive.read("croissant.json"))
        rows = archive.read("train/metadata.jsonl").decode().splitlines()
    assert "license: cc-by-4.0" in card and "Let Me Collect Myself" in card
    assert "Research on drawing styles; art." in card
    assert croissant["url"] == "mailto:max@example.org"
    assert len(rows) == 2


def test_bad_settings_and_options_get_a_message_and_change_nothing(app, client, logged_in):
    for bad in ({"license": "WTFPL"}, {"size": "12"}, {"size": "huge"}):
        response = client.post(
            "/settings/dataset", data=SETTINGS | bad | {"csrf_token": logged_in.csrf_token()}
        )
        assert response.status_code == 422, bad
    with app.app_context():
        assert dataset_settings(db.session).id is None  # never saved
    response = client.post(
        "/dataset/export", data={"kind": "everything", "csrf_token": logged_in.csrf_token()}
    )
    assert response.status_code == 422
    response = client.post("/dataset/export", data={"kind": "training"})  # no CSRF token
    assert response.status_code == 400


def test_past_exports_list_the_numbers_withdrawn_since(app, client, logged_in, tmp_path):
    from fieldapp.media.services import media_store
    from fieldapp.tickets.models import Ticket
    from fieldapp.withdrawal.services import withdraw

    collection = make_collection(app)
    result = app.test_cli_runner().invoke(args=["export", "dataset", str(tmp_path / "o.zip")])
    assert result.exit_code == 0
    page = client.get("/dataset/exports").text
    assert "None withdrawn since" in page and "2 drawings" in page
    with app.app_context():
        ticket = db.session.query(Ticket).filter_by(number=collection.anonymous).one()
        withdraw(db.session, media_store(), ticket)
    page = client.get("/dataset/exports").text
    assert "1 withdrawn since:" in page and f"#{collection.anonymous}" in page
    export_page = client.get("/dataset/export").text
    assert 'id="count-training">1<' in export_page and 'id="count-archive">2<' in export_page


# The download from a real server ---------------------------------------------------------
#
# Flow control makes the order certain, without timing: the test's socket receives into a small
# buffer and the server's into a small send buffer, so a server can only have handed on (and
# so recorded) an export whose bytes the test has nearly all read. The export here is many
# times larger than both buffers together.

SMALL_BUFFER = 16 * 1024  # Linux doubles it


class _SmallSendBuffer:
    """WSGI middleware: the server's socket for this response gets a small send buffer."""

    def __init__(self, app):
        self.app = app
        self.send_buffer = 0

    def __call__(self, environ, start_response):
        connection = environ["werkzeug.socket"]
        connection.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, SMALL_BUFFER)
        self.send_buffer = connection.getsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF)
        return self.app(environ, start_response)


class _ExportLog(logging.Handler):
    """The export service's log lines, as they come, from whichever thread."""

    def __init__(self):
        super().__init__(logging.INFO)
        self.lines: list[str] = []
        self.changed = threading.Condition()

    def emit(self, record):
        with self.changed:
            self.lines.append(record.getMessage())
            self.changed.notify_all()

    def wait_for(self, text: str) -> str:
        with self.changed:
            found = self.changed.wait_for(
                lambda: next((line for line in self.lines if text in line), None), timeout=60
            )
        assert found, f"no {text!r} in the export log: {self.lines}"
        return found


@pytest.fixture
def export_log():
    logger = logging.getLogger("fieldapp.dataset.services")
    handler, level, disabled = _ExportLog(), logger.level, logger.disabled
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    logger.disabled = False  # alembic's fileConfig() (the migrations) disables existing loggers
    yield handler
    logger.removeHandler(handler)
    logger.setLevel(level)
    logger.disabled = disabled


@pytest.fixture
def big_collection(live_app):
    """The fixture collection and 12 more drawings allowed for training (at 1024 px: ~1.4 MB)."""
    collection = make_collection(live_app)
    for seed in range(10, 22):
        make_encounter(live_app, photo=drawing_photo(seed=seed), consent=consent(training=True))
    with live_app.app_context():
        create_collector(db.session, "max", PASSWORD)
        db.session.commit()
    return collection


def _start_download(live_app, server) -> tuple[http.client.HTTPResponse, socket.socket]:
    """Log in over HTTP, then POST the export form from a socket with a small receive buffer;
    returns the response with its headers read, and its socket."""
    browser = requests.Session()
    page = browser.get(f"{server.url}/login")
    browser.post(
        f"{server.url}/login",
        data={"username": "max", "password": PASSWORD, "csrf_token": csrf_token_from(page.text)},
    ).raise_for_status()
    form = browser.get(f"{server.url}/dataset/export")
    assert form.status_code == 200
    body = urlencode({"kind": "training", "size": "1024", "csrf_token": csrf_token_from(form.text)})
    client = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    client.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, SMALL_BUFFER)  # before connecting
    client.connect(("127.0.0.1", server.port))
    connection = http.client.HTTPConnection("127.0.0.1", server.port)
    connection.sock = client
    cookies = "; ".join(f"{c.name}={c.value}" for c in browser.cookies)
    connection.request(
        "POST",
        "/dataset/export",
        body=body,
        headers={"Content-Type": "application/x-www-form-urlencoded", "Cookie": cookies},
    )
    response = connection.getresponse()
    assert response.status == 200, response.read()[:500]
    assert response.getheader("Content-Type") == "application/zip"
    assert response.getheader("Transfer-Encoding") == "chunked"
    return response, client


def test_the_first_bytes_arrive_while_the_export_is_made_and_it_is_recorded_once_whole(
    live_app, server, big_collection, export_log, tmp_path
):
    import datasets
    import mlcroissant

    middleware = live_app.wsgi_app = _SmallSendBuffer(live_app.wsgi_app)
    response, client = _start_download(live_app, server)
    receive_buffer = client.getsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF)
    first = response.read(4)
    assert first == b"PK\x03\x04"  # the first drawing's local header...
    # ...while the rest cannot have been handed on: nothing recorded, nothing logged as sent.
    assert server.scalar("SELECT count(*) FROM dataset_exports") == 0
    assert not [line for line in export_log.lines if "delivered" in line]
    body = first + response.read()  # to the end of the chunked response, sent after the record
    assert len(body) > 8 * (middleware.send_buffer + receive_buffer)  # the order's premise

    assert server.scalar("SELECT count(*) FROM dataset_exports") == 1
    assert server.scalar("SELECT count(*) FROM dataset_export_items") == 14
    assert server.scalar("SELECT zip_bytes FROM dataset_exports") == len(body)
    sha256 = hashlib.sha256(body).hexdigest()
    assert server.scalar("SELECT zip_sha256 FROM dataset_exports") == sha256
    assert f"delivered (training): 14 drawings, {len(body)} bytes" in export_log.wait_for(
        "delivered"
    )

    folder = tmp_path / "download"
    with zipfile.ZipFile(io.BytesIO(body)) as archive:
        assert archive.testzip() is None
        archive.extractall(folder)
    cache = str(tmp_path / "hf-cache")
    loaded = datasets.load_dataset(str(folder), split="train", cache_dir=cache)
    assert loaded.num_rows == 14
    assert big_collection.credited in set(loaded["portrait_number"])
    assert loaded[0]["image"].size == (1024, 1024)
    records = list(mlcroissant.Dataset(jsonld=str(folder / "croissant.json")).records("train"))
    assert len(records) == 14


def _open_files() -> list[str]:
    """What this process's file descriptors point at ("/path (deleted)" for unlinked files)."""
    names = []
    for fd in os.listdir("/proc/self/fd"):
        with contextlib.suppress(FileNotFoundError):  # the descriptor listdir() itself used
            names.append(os.readlink(f"/proc/self/fd/{fd}"))
    return names


def test_a_download_cut_short_records_nothing_and_leaves_nothing_on_disk(
    live_app, server, big_collection, export_log
):
    live_app.wsgi_app = _SmallSendBuffer(live_app.wsgi_app)
    scratch = Path(live_app.instance_path) / "tmp"
    response, client = _start_download(live_app, server)
    assert response.read(4) == b"PK\x03\x04"
    # The client goes away at once, as a killed browser does (a reset, not a polite close).
    client.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    response.close()
    client.close()

    assert "abandoned" in export_log.wait_for("abandoned")  # the server noticed, and stopped
    assert server.scalar("SELECT count(*) FROM dataset_exports") == 0
    assert server.scalar("SELECT count(*) FROM dataset_export_items") == 0
    # Its scratch file is closed (it never had a name): no descriptor of this process, which
    # served the download, points into the scratch folder any more.
    assert not [name for name in _open_files() if name.startswith(str(scratch))]
    assert not [p for p in scratch.glob("*") if "export" in p.name]

"""Helpers that more than one test module uses, kept here so that no test module imports another
(tests/test_suite_rules.py checks it). Fixtures stay in conftest.py; encounters, photos and
counts made through the real services stay in factories.py.

Requests and forms (through the real pages, CSRF token included):
    PUBLIC_ENDPOINTS  the endpoints anyone may open; every other route is behind a login
    anonymous_csrf_token(client)  a real CSRF token for a client nobody logged in
    assert_sent_to_login(response)  a redirect to the login page, and nothing else
    attempt(client, password)  one login through the form, from a given address
    capture_form(client)  the no-JavaScript capture form, filled in
    form_post(client, uuid, action, fields), edit_fields()  the encounter page's fixes
    post_choices(client, token), withdraw_through_the_page(client, token)  a drawer's forms
Images and metadata:
    EXIFTOOL, exiftool(paths)  ExifTool's every tag of each file
    consent(training=)  a consent with or without AI training
    jpeg_xmp(data), rights_in(packet)  the rights XMP of a JPEG and what it says
    assert_no_camera_metadata(data)  no EXIF, no GPS
    decode_qr(image)  the one QR code in an image (zbar)
    taken_jpeg(when, color)  a photo whose EXIF says when it was taken
    red_ink_portrait(seed)  a photo of a drawing: red strokes on paper
Browser screenshots and layout:
    SCREENS, shoot(page, name)  a full-page screenshot under test-artifacts/screens
    no_sideways_scroll(page)  nothing wider than the screen
Processes and servers:
    ROOT, BOUNDARY, free_port(), Gunicorn  the app under gunicorn on a free port
Database snapshots:
    database_snapshot(app)  every row and media file: what a refused request must not change
    person_tallies(session), recounted_by_person(session)  the ledger's tallies by person
    record_by(app, account_id)  an encounter recorded by an account through the real service
"""

from __future__ import annotations

import http.client
import io
import json
import os
import random
import re
import shutil
import signal
import socket
import struct
import subprocess
import sys
import time
import urllib.error
import urllib.request
import uuid as uuidlib
import xml.etree.ElementTree as ET
from collections import Counter
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from PIL import Image, ImageDraw
from sqlalchemy import create_engine, select, text

from fieldapp import create_app
from fieldapp.encounters.models import Encounter, EncounterRevision, FieldChange
from fieldapp.encounters.services import encounter_by_uuid, record_encounter
from fieldapp.encounters.validation import parse_encounter_data
from fieldapp.extensions import db
from fieldapp.ledger.tallies import LedgerTally
from fieldapp.media.services import media_store
from tests.conftest import app_config, csrf_token_from
from tests.factories import encounter_data, small_jpeg
from tests.photo_corpus import camera_exif

ROOT = Path(__file__).resolve().parent.parent

# Requests and forms ----------------------------------------------------------------------------

# Routes anyone may open. Everything else in app.url_map is the collector's.
PUBLIC_ENDPOINTS = {
    "static", "health.healthz", "auth.setup", "auth.login", "pamphlet.pamphlet",
    "participants.page", "participants.qr_code_svg", "participants.qr_code_png",
    "participants.drawing", "participants.thumb", "participants.choices",
    "withdrawal.participant", "receipts.receipt", "api.openapi",
    "gallery.index", "gallery.item", "gallery.display", "gallery.thumb",
    # The installable app's shell: nothing in them belongs to anyone.
    "pwa.service_worker", "pwa.web_manifest", "pwa.icon", "pwa.offline",
    "signals.tdmrep", "signals.ai_txt",
    # Aggregate figures, public diary entries and gallery drawings only.
    "ledger.public", "diary.index", "live.screen", "live.feed", "live.zine",
}  # fmt: skip


def anonymous_csrf_token(client) -> str:
    """A valid CSRF token for a client nobody logged in: the login page's, whose session cookie
    stays in the client. Sent with a refused request, it makes sure that the login check, not
    the CSRF check, is what refuses it. (An account must exist, or /login sends to /setup.)"""
    page = client.get("/login")
    assert page.status_code == 200, "no login page: create the collector's account first"
    return csrf_token_from(page.text)


def assert_sent_to_login(response, what: str = "") -> None:
    """A redirect (302 or 303) whose Location is the login page; nothing else."""
    assert response.status_code in (302, 303), (what, response.status_code)
    assert urlsplit(response.headers["Location"]).path == "/login", (
        what,
        response.headers["Location"],
    )


def attempt(client, password: str, address: str = "198.51.100.7"):
    """One login as "max" through the form, from `address`."""
    page = client.get("/login", environ_base={"REMOTE_ADDR": address})
    return client.post(
        "/login",
        environ_base={"REMOTE_ADDR": address},
        data={"username": "max", "password": password, "csrf_token": csrf_token_from(page.text)},
    )


def _hidden(html: str, name: str) -> str:
    match = re.search(
        rf'name="{name}" type="hidden" value="([^"]*)"|id="{name}" name="{name}" type="hidden" value="([^"]*)"',
        html,
    )
    assert match, f"no hidden {name}"
    return match.group(1) if match.group(1) is not None else match.group(2)


def capture_form(client, **overrides):
    """The fields of the no-JavaScript capture form (/encounters/new) filled in, photo included;
    an override of None leaves a field out."""
    page = client.get("/encounters/new")
    assert page.status_code == 200
    html = page.text
    fields = {
        "csrf_token": csrf_token_from(html),
        "uuid": _hidden(html, "uuid"),
        "started_at": _hidden(html, "started_at"),
        "consent_version": _hidden(html, "consent_version"),
        "venue_type": "party",
        "venue": "Julia's birthday",
        "city": "Brooklyn",
        "time_limit": "60",
        "consent_language": _hidden(html, "consent_language"),
        "age_group": "adult",  # the drawer's own answers: none is given for them
        "keep": "yes",
        "gallery": "yes",
        "training": "no",
        "social": "no",
        "credit": "name",
        "credit_name": "Julia",
        "photo": (io.BytesIO(small_jpeg()), "photo.jpg", "image/jpeg"),
    }
    fields.update(overrides)
    return {k: v for k, v in fields.items() if v is not None}


def form_post(client, uuid: str, action: str, fields: dict, **kwargs):
    """Post one of the encounter page's fix forms (`action`: edit, renumber...) with its token."""
    page = client.get(f"/encounters/{uuid}").text
    return client.post(
        f"/encounters/{uuid}/{action}",
        data={**fields, "csrf_token": csrf_token_from(page)},
        **kwargs,
    )


def edit_fields(**overrides) -> dict:
    """The edit form of an encounter, filled in with a bar in New York and a reason."""
    fields = {
        "edit-venue_type": "bar",
        "edit-venue": "pool night",
        "edit-city": "New York",
        "edit-started_at": "2026-04-10T21:00",
        "edit-time_limit": "120",
        "edit-drawing_started_at": "",
        "edit-drawing_finished_at": "",
        "edit-notes": "",
        "edit-reason": "typo",
    }
    fields.update(overrides)
    return fields


def post_choices(client, token: str, **choices):
    """Fill in the real form of the choices page and send it, CSRF token included."""
    page = client.get(f"/p/{token}/choices")
    data = {"csrf_token": csrf_token_from(page.text), **choices}
    return client.post(f"/p/{token}/choices", data=data)


def withdraw_through_the_page(client, token: str):
    """Open the drawer's withdrawal page (it warns first) and confirm."""
    confirm = client.get(f"/p/{token}/withdraw")
    assert confirm.status_code == 200
    assert "cannot be undone" in confirm.text
    return client.post(f"/p/{token}/withdraw", data={"csrf_token": csrf_token_from(confirm.text)})


# Images and metadata ---------------------------------------------------------------------------

EXIFTOOL = shutil.which("exiftool")


def exiftool(paths: list[Path]) -> dict[str, dict]:
    """ExifTool's every tag (-a: duplicates too, -G1: by group) of each file, by path."""
    result = subprocess.run(
        [EXIFTOOL, "-j", "-a", "-G1", *map(str, paths)], capture_output=True, text=True, timeout=120
    )
    found = {entry["SourceFile"]: entry for entry in json.loads(result.stdout or "[]")}
    assert sorted(found) == sorted(map(str, paths)), result.stderr
    return found


#: What ExifTool (-G1) may report of a clean file the app stored: ExifTool's own lines, the
#: file's facts, the JFIF header, the PNG header (every ICC group is allowed by not_clean()).
CLEAN_FILE_TAGS = frozenset({
    "SourceFile", "ExifTool:ExifToolVersion",
    "File:FileType", "File:FileTypeExtension", "File:MIMEType", "File:ImageWidth",
    "File:ImageHeight", "File:EncodingProcess", "File:BitsPerSample", "File:ColorComponents",
    "File:YCbCrSubSampling",
    "JFIF:JFIFVersion", "JFIF:ResolutionUnit", "JFIF:XResolution", "JFIF:YResolution",
    "PNG:ImageWidth", "PNG:ImageHeight", "PNG:BitDepth", "PNG:ColorType", "PNG:Compression",
    "PNG:Filter", "PNG:Interlace", "PNG:ProfileName",
    "Composite:ImageSize", "Composite:Megapixels",
})  # fmt: skip


def not_clean(tags: dict, allowed: frozenset[str] = CLEAN_FILE_TAGS) -> dict:
    """The tags ExifTool found beyond `allowed`, the system's file facts and the ICC profile."""
    return {
        key: value
        for key, value in tags.items()
        if key not in allowed and not key.startswith(("System:", "ICC"))
    }


def consent(*, training: bool, keep: bool = True) -> dict:
    """A consent for the gallery, with or without AI training."""
    return {"version": 1, "keep": keep, "gallery": True, "training": training, "social": False}


_RDF = "{http://www.w3.org/1999/02/22-rdf-syntax-ns#}"
_PLUS = "{http://ns.useplus.org/ldf/xmp/1.0/}"
_DC = "{http://purl.org/dc/elements/1.1/}"


def jpeg_xmp(data: bytes) -> bytes | None:
    """The XMP packet of a JPEG's APP1 segment, found by walking its segments."""
    assert data[:2] == b"\xff\xd8"
    position = 2
    while data[position + 1] != 0xDA:
        marker = data[position + 1]
        (length,) = struct.unpack(">H", data[position + 2 : position + 4])
        payload = data[position + 4 : position + 2 + length]
        if marker == 0xE1 and payload.startswith(b"http://ns.adobe.com/xap/1.0/\x00"):
            return payload[len(b"http://ns.adobe.com/xap/1.0/\x00") :]
        position += 2 + length
    return None


def rights_in(packet: bytes) -> tuple[str, list[str]]:
    """(plus:DataMining, the dc:creator names) read from an XMP packet."""
    root = ET.fromstring(packet.split(b"?>", 1)[1].rsplit(b"<?xpacket", 1)[0])
    description = root.find(f"{_RDF}RDF/{_RDF}Description")
    creators = [li.text for li in description.findall(f"{_DC}creator/{_RDF}Seq/{_RDF}li")]
    return description.findtext(f"{_PLUS}DataMining"), creators


def assert_no_camera_metadata(data: bytes) -> None:
    """No EXIF (GPS included) in an image's bytes."""
    image = Image.open(io.BytesIO(data))
    assert len(image.getexif()) == 0
    assert not image.getexif().get_ifd(0x8825)
    assert "exif" not in image.info
    assert b"Exif\x00\x00" not in data and b"GPS" not in data


def decode_qr(image: Image.Image) -> str:
    """The text of the one QR code in `image`, read by zbar (skips the test without libzbar0)."""
    pyzbar = pytest.importorskip("pyzbar.pyzbar", reason="libzbar0 is needed to decode QR codes")
    results = pyzbar.decode(image)
    assert len(results) == 1, "exactly one QR code expected"
    return results[0].data.decode()


def taken_jpeg(when: str | None, color) -> bytes:
    """A small photo whose EXIF (GPS included) says it was taken `when` ("2024:05:17 13:00:00")."""
    out = io.BytesIO()
    exif = camera_exif(orientation=1, gps=True)
    if when:
        exif.get_ifd(0x8769)[0x9003] = when
    Image.new("RGB", (300, 400), color).save(out, "JPEG", exif=exif if when else None)
    return out.getvalue()


def red_ink_portrait(seed: int) -> bytes:
    """A portrait-shaped 'photo of a drawing': red strokes on paper."""
    rng = random.Random(seed)
    image = Image.new("RGB", (900, 1200), (246, 242, 232))
    pen = ImageDraw.Draw(image)
    red = (200, 30, 40)
    cx, cy = 450 + rng.randint(-40, 40), 480 + rng.randint(-40, 40)
    pen.ellipse([cx - 230, cy - 300, cx + 230, cy + 280], outline=red, width=9)
    for dx in (-95, 95):
        pen.ellipse([cx + dx - 40, cy - 70, cx + dx + 40, cy - 30], outline=red, width=7)
    pen.line([cx, cy - 20, cx - 25, cy + 80, cx + 15, cy + 85], fill=red, width=7)
    pen.arc([cx - 100, cy + 110, cx + 100, cy + 190], 10, 170, fill=red, width=8)
    pen.line([cx - 200, cy + 300, cx - 420, 1200], fill=red, width=9)
    pen.line([cx + 200, cy + 300, cx + 420, 1200], fill=red, width=9)
    for _ in range(25):  # hair
        x = rng.randint(cx - 220, cx + 220)
        pen.line([x, cy - 290, x + rng.randint(-60, 60), cy - 380], fill=red, width=5)
    out = io.BytesIO()
    image.save(out, "JPEG", quality=90)
    return out.getvalue()


# Browser screenshots and layout ----------------------------------------------------------------

SCREENS = ROOT / "test-artifacts" / "screens"


def shoot(page, name: str) -> None:
    """A full-page screenshot, test-artifacts/screens/<name>.png."""
    SCREENS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENS / f"{name}.png"), full_page=True)


def fail_the_write_commit(session, monkeypatch, error: Exception, on_failing=None) -> None:
    """Make the session's commit of a write transaction raise `error` (its first commit, which
    write_transaction makes to end any read transaction, goes through): the files are written
    by then. `on_failing()` runs just before, to see what the store holds at that moment."""
    real_commit = session.commit
    commits = []

    def commit_fails_after_the_files_are_written():
        commits.append(1)
        if len(commits) == 1:
            return real_commit()
        if on_failing is not None:
            on_failing()
        raise error

    monkeypatch.setattr(session, "commit", commit_fails_after_the_files_are_written)


def no_sideways_scroll(page) -> bool:
    """True when the page is no wider than the screen. Asked once the page has loaded: before
    its stylesheets arrive (a slow, loaded machine), an image is laid out at its own size."""
    page.wait_for_load_state("load")
    return page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")


# Processes and servers -------------------------------------------------------------------------

BOUNDARY = "fieldapp-test-boundary"


def multipart(data: dict, photo: bytes) -> bytes:
    """The body the phone sends: a `data` JSON part and a `photo` part."""
    return b"".join(
        [
            f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="data"\r\n\r\n'.encode(),
            json.dumps(data).encode(),
            f'\r\n--{BOUNDARY}\r\nContent-Disposition: form-data; name="photo"; '
            'filename="drawing.jpg"\r\nContent-Type: image/jpeg\r\n\r\n'.encode(),
            photo,
            f"\r\n--{BOUNDARY}--\r\n".encode(),
        ]
    )


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class Gunicorn:
    """The app served by gunicorn with gunicorn.conf.py, on a free port of 127.0.0.1."""

    def __init__(
        self,
        root: Path,
        *,
        workers: int = 1,
        app: str = "fieldapp:create_app()",
        database_url: str | None = None,
        env: dict[str, str] | None = None,
        token: str | None = None,
    ):
        """`env`: more environment for the server (a bucket's FIELDAPP_MEDIA_URL...). `token`:
        the collector's API token in a `database_url` that is ready already (the first server's,
        for a second app server sharing it, or a copy of a prepared database): it is then
        taken as it is, neither migrated nor given a second collector."""
        self.root = root
        self.db_path = root / "fieldapp.sqlite3"
        self.database_url = database_url or f"sqlite:///{self.db_path}"
        self.media_dir = root / "media"
        self.workers = workers
        self.app = app
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.env = {
            **os.environ,
            "PATH": f"{Path(sys.executable).parent}:{os.environ['PATH']}",
            "FIELDAPP_SECRET_KEY": "faults test secret",
            "FIELDAPP_DATABASE_URL": self.database_url,
            "FIELDAPP_MEDIA_DIR": str(self.media_dir),
            "FIELDAPP_BIND": f"127.0.0.1:{self.port}",
            "FIELDAPP_WORKERS": str(workers),
            "FIELDAPP_ACCESS_LOG": "off",
            "FIELDAPP_TEST_PAUSED_MARKER": str(root / "paused"),
            **(env or {}),
        }
        self.process: subprocess.Popen | None = None
        self.token = token or self._prepare()

    def _migrate(self) -> None:
        subprocess.run(
            [sys.executable, "-m", "flask", "--app", "fieldapp", "db", "upgrade"],
            env=self.env, cwd=ROOT, check=True, capture_output=True,
        )  # fmt: skip

    def _prepare(self) -> str:
        """Migrate the database and make a collector's API token, as an administrator would."""
        self._migrate()
        app = create_app(app_config(self.root, SQLALCHEMY_DATABASE_URI=self.database_url))
        from fieldapp.auth.services import create_api_token, create_collector

        with app.app_context():
            token = create_api_token(
                db.session, create_collector(db.session, "max", "a long password")
            )
            db.session.commit()
            db.engine.dispose()
        return token

    def start(self, app: str | None = None) -> None:
        log = (self.root / "gunicorn.log").open("ab")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "gunicorn", "-c", str(ROOT / "gunicorn.conf.py"), app or self.app],
            env=self.env, cwd=ROOT, stdout=log, stderr=log, start_new_session=True,
        )  # fmt: skip
        log.close()
        for _ in range(300):
            if self.process.poll() is not None:
                pytest.fail((self.root / "gunicorn.log").read_text())
            try:
                with urllib.request.urlopen(f"{self.url}/healthz", timeout=5):  # noqa: S310
                    return
            except (urllib.error.URLError, ConnectionError, TimeoutError):
                # TimeoutError: a worker's first request (its database and store clients) can
                # take over 5 s on a loaded machine; ask again.
                time.sleep(0.1)
        pytest.fail("gunicorn never answered /healthz")

    def kill(self) -> None:
        """SIGKILL the arbiter and its workers at once: no cleanup code runs anywhere."""
        os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait()

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            self.process.wait(timeout=40)

    def put(self, client_uuid: str, body: bytes) -> tuple[int, dict]:
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=60)
        connection.request(
            "PUT", f"/api/v1/encounters/{client_uuid}", body=body, headers=self.headers(body)
        )
        response = connection.getresponse()
        answer = response.status, json.loads(response.read())
        connection.close()
        return answer

    def headers(self, body: bytes) -> dict:
        return {
            "Authorization": f"Bearer {self.token}",
            "Content-Type": f"multipart/form-data; boundary={BOUNDARY}",
            "Content-Length": str(len(body)),
        }

    def get(self, path: str) -> int:
        try:
            with urllib.request.urlopen(f"{self.url}{path}", timeout=10) as response:  # noqa: S310
                return response.status
        except urllib.error.HTTPError as error:
            return error.code

    def query(self, sql: str) -> list[tuple]:
        """Ask the server's database directly, as an administrator would."""
        engine = create_engine(self.database_url)
        try:
            with engine.connect() as connection:
                return [tuple(row) for row in connection.execute(text(sql))]
        finally:
            engine.dispose()

    def count(self, table: str) -> int:
        return self.query(f"SELECT count(*) FROM {table}")[0][0]  # noqa: S608

    def integrity(self) -> str:
        """SQLite checks its file; PostgreSQL recovers by itself and must simply answer."""
        if self.database_url.startswith("sqlite"):
            return self.query("PRAGMA integrity_check")[0][0]
        return "ok" if self.query("SELECT 1") == [(1,)] else "no answer"

    def media_files(self) -> list[Path]:
        if not self.media_dir.exists():
            return []
        return sorted(p for p in self.media_dir.rglob("*") if p.is_file())

    def sweep(self) -> str:
        result = subprocess.run(
            [sys.executable, "-m", "flask", "--app", "fieldapp", "media", "sweep"],
            env=self.env, cwd=ROOT, check=True, capture_output=True, text=True,
        )  # fmt: skip
        return result.stderr


# Database snapshots ----------------------------------------------------------------------------


def database_snapshot(app) -> dict:
    """Every row of every table, and every media file: what a refused request must not change.
    When a token or device was last used is a note of the request itself, not a change."""
    use_notes = {"last_used_at", "last_seen_at"}
    with app.app_context():
        rows = {
            table.name: sorted(
                map(
                    repr,
                    db.session.execute(
                        table.select().with_only_columns(
                            *(c for c in table.columns if c.name not in use_notes)
                        )
                    ),
                )
            )
            for table in db.metadata.sorted_tables
        }
    media = Path(app.config["MEDIA_DIR"])
    rows["media files"] = sorted(map(str, media.rglob("*"))) if media.exists() else []
    return rows


_KIND_OF = {  # (status, withdrawn) -> the ledger's kind
    ("completed", False): "drawing",
    ("completed", True): "withdrawn",
    ("declined", False): "declined",
}


def person_tallies(session) -> dict[tuple[str, str], int]:
    """The stored person tallies: (bucket, kind) -> encounters."""
    rows = session.execute(
        select(LedgerTally.bucket, LedgerTally.kind, LedgerTally.encounters).where(
            LedgerTally.dimension == "person", LedgerTally.encounters != 0
        )
    )
    return {(bucket, kind): n for bucket, kind, n in rows}


def recounted_by_person(session) -> dict[tuple[str, str], int]:
    """The same, counted one encounter at a time in Python."""
    counts: Counter = Counter()
    for encounter in session.scalars(select(Encounter)):
        person = "" if encounter.recorded_by_id is None else str(encounter.recorded_by_id)
        counts[(person, _KIND_OF[(encounter.status, encounter.withdrawn_at is not None)])] += 1
    return dict(counts)


def record_by(app, account_id: int | None, **fields) -> str:
    """An encounter recorded by `account_id` through the real service; returns its UUID."""
    client_uuid = str(uuidlib.uuid4())
    with app.app_context():
        data = parse_encounter_data(encounter_data(**fields))
        record_encounter(
            db.session, media_store(), uuid=client_uuid, data=data, photo=None,
            collector_id=account_id,
        )  # fmt: skip
    return client_uuid


def answer_consent(page, *, keep: bool = True, gallery: bool = True, name: str | None = None):
    """The drawer's own answers on the capture flow's consent step (a Playwright page): an
    adult, then Yes or No to each choice (none is answered for them), then the credit."""
    page.locator("label:has(#age-adult)").click()

    def tap(choice: str, yes: bool) -> None:
        value = "yes" if yes else "no"
        page.locator(f"[data-choice={choice}] label:has(input[value={value}])").click()

    tap("keep", keep)
    if keep:
        tap("gallery", gallery)
        tap("training", False)
        tap("social", False)
    if name is not None:
        page.locator("[data-choice=credit] label:has(input[value=name])").click()
        page.get_by_label("Your name, as you want it shown").fill(name)


#: The collector's password in the browser tests that log in through the page.
BROWSER_PASSWORD = "a long field password"


def log_in(page, live_server: str, username: str = "max") -> None:
    """Log in through the login page in Playwright, as the collector does; lands at home."""
    page.goto(f"{live_server}/login")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(BROWSER_PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(re.compile(r"/$"))


def changes_of(app, uuid: str) -> list[tuple]:
    """The edit history of an encounter, a row per changed field: (kind, reason, collector id,
    field, old value, new value), oldest first."""
    with app.app_context():
        encounter = encounter_by_uuid(db.session, uuid)
        rows = db.session.execute(
            select(
                EncounterRevision.kind,
                EncounterRevision.reason,
                EncounterRevision.collector_id,
                FieldChange.field,
                FieldChange.old_value,
                FieldChange.new_value,
            )
            .join(FieldChange, FieldChange.revision_id == EncounterRevision.id)
            .where(EncounterRevision.encounter_id == encounter.id)
            .order_by(FieldChange.id)
        )
        return [tuple(r) for r in rows]

"""The field app offline: installable, cached, and an outbox that never loses a drawing.

Real Chromium (Pixel 7 emulation) against the app on 127.0.0.1; the server's database is read
directly to count what arrived.
"""

from __future__ import annotations

import io
import json
import re
import shutil
import sqlite3
import time
from pathlib import Path

import pytest
from PIL import Image
from playwright.sync_api import expect

from tests import photo_corpus as corpus
from tests.field_phone import until
from tests.helpers import answer_consent

pytestmark = pytest.mark.browser
pyzbar = pytest.importorskip("pyzbar.pyzbar", reason="libzbar0 is needed to decode QR codes")
SCREENS = Path(__file__).resolve().parent.parent / "test-artifacts" / "screens"
PASSWORD = "a long field password"
TICKET_STOCK = 10


def shoot(page, name: str) -> None:
    SCREENS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENS / f"{name}.png"), full_page=True)


class Phone:
    """The collector's phone: one browser page, and a count of the collector's taps."""

    def __init__(self, page, server):
        self.page = page
        self.server = server
        self.taps = 0

    def tap(self, locator) -> None:
        self.taps += 1
        locator.click()

    def button(self, name: str):
        return self.page.get_by_role("button", name=name, exact=True)

    def go(self, path: str):
        return self.page.goto(self.server.url + path)

    def create_account(self) -> None:
        self.go("/")
        self.page.get_by_label("Username").fill("max")
        self.page.get_by_label("Password", exact=True).fill(PASSWORD)
        self.page.get_by_label("Password again").fill(PASSWORD)
        self.button("Create account").click()
        self.page.wait_for_url(self.server.url + "/")

    def wait_until_ready(self) -> None:
        """The service worker controls the page and the ticket stock is full."""
        self.page.wait_for_function("() => navigator.serviceWorker.controller !== null")
        until(
            self.page,
            f"""async () => (await FieldStore.listTickets())
                  .filter((t) => t.qr_svg).length === {TICKET_STOCK}""",
        )

    def offline(self, offline: bool = True) -> None:
        self.page.context.set_offline(offline)

    def outbox(self) -> list[dict]:
        return self.page.evaluate(
            """async () => (await FieldStore.listRecords()).map((r) => ({
                 uuid: r.uuid, state: r.state, status: r.data.status, error: r.error,
                 number: r.ticket && r.ticket.number, token: r.ticket && r.ticket.token,
                 photo_bytes: r.photo ? r.photo.size : 0 }))"""
        )

    def tickets(self) -> list[dict]:
        return self.page.evaluate(
            "async () => (await FieldStore.listTickets()).map(({number, token}) => ({number, token}))"
        )

    def sync(self) -> None:
        self.page.evaluate("() => FieldApp.sync(true)")

    def wait_for_empty_outbox(self) -> None:
        until(
            self.page,
            "async () => { await FieldApp.sync(true); return (await FieldStore.listRecords()).length === 0; }",
            timeout=30,
            every=0.5,
        )

    def make_encounter(self, photo: Path | None, *, first: bool = False, shots: str = "") -> None:
        """New encounter → venue → consent → timer → photo → handoff, counting taps."""
        page = self.page
        self.tap(page.get_by_role("link", name="New encounter"))
        page.wait_for_selector(".step.current")  # the capture script has taken the page over
        if first:  # the first one on this phone has no venue to remember
            page.get_by_label("Venue type").select_option("party")
            page.get_by_label("Occasion").fill("Julia's birthday")
            page.get_by_label("City").fill("Brooklyn")
        shots and shoot(page, f"{shots}-venue")
        self.tap(self.button("Confirm venue"))
        # The participant's own choices: not the collector's taps.
        if photo is None:
            answer_consent(page, keep=False)
        else:
            answer_consent(page, name="Julia R.")
        shots and shoot(page, f"{shots}-consent")
        self.tap(self.button("Done: back to the artist"))
        if photo is None:
            self.tap(self.button("Skip the timer"))
        else:
            self.tap(page.get_by_text("1 min", exact=True))
            page.wait_for_timeout(1100)
            shots and shoot(page, f"{shots}-timer")
            self.tap(self.button("Done drawing"))
            with page.expect_file_chooser() as chooser:
                self.tap(page.locator("#camera"))
            chooser.value.set_files(str(photo))  # the shutter: not a tap of the app's
            page.locator("#preview").wait_for(state="visible")
            shots and shoot(page, f"{shots}-photo")
        self.tap(self.button("Show the QR code"))
        page.locator("#handoff").wait_for(state="visible")

    def handoff_qr(self) -> str:
        qr = self.page.locator("#handoff-qr")
        self.page.wait_for_function("() => document.getElementById('handoff-qr').naturalWidth > 0")
        decoded = pyzbar.decode(Image.open(io.BytesIO(qr.screenshot())))
        assert len(decoded) == 1
        return decoded[0].data.decode()


@pytest.fixture
def phone(page, server) -> Phone:
    phone = Phone(page, server)
    phone.create_account()
    phone.wait_until_ready()
    return phone


@pytest.fixture
def camera_photos(tmp_path):
    """12-megapixel phone JPEGs stored sideways (EXIF Orientation 6) with GPS tags, each a
    different picture (the same photo twice is refused as a conflict, rightly)."""

    def photo(i: int = 0) -> Path:
        path = tmp_path / f"PXL_20261121_22301234{i}.jpg"
        size = (4032 - 16 * i, 3024 - 12 * i)
        path.write_bytes(corpus.camera_jpeg(orientation=6, gps=True, size=size))
        return path

    return photo


@pytest.fixture
def camera_photo(camera_photos) -> Path:
    return camera_photos(0)


def test_installable_with_a_worker_that_controls_the_whole_site(phone):
    page = phone.page
    cdp = page.context.new_cdp_session(page)
    errors = cdp.send("Page.getInstallabilityErrors")["installabilityErrors"]
    assert [e["errorId"] for e in errors if e["errorId"] != "in-incognito"] == []
    manifest = cdp.send("Page.getAppManifest")
    assert manifest["errors"] == []
    scope = page.evaluate("navigator.serviceWorker.ready.then((r) => r.scope)")
    assert scope == phone.server.url + "/"
    # The precache is one versioned cache, holding the capture flow and the offline page.
    cached = page.evaluate(
        """async () => { const names = await caches.keys();
             const cache = await caches.open(names[0]);
             return {names, urls: (await cache.keys()).map((r) => new URL(r.url).pathname)}; }"""
    )
    assert len(cached["names"]) == 1 and cached["names"][0].startswith("fieldapp-")
    for path in (
        "/encounters/new",
        "/",
        "/offline",
        "/static/js/capture.js",
        "/icons/icon-512.png",
    ):
        assert path in cached["urls"]


def test_capture_flow_loads_from_the_cache_with_no_network(phone):
    page = phone.page
    phone.offline()
    response = phone.go("/encounters/new")
    assert response.from_service_worker
    expect(page.get_by_role("heading", name="Where are you?")).to_be_visible()
    page.reload()
    expect(page.get_by_role("heading", name="Where are you?")).to_be_visible()
    # A page the phone never saved: the offline page says so instead of the browser's error.
    phone.go("/encounters")
    expect(page.get_by_role("heading", name="No network")).to_be_visible()
    shoot(page, "pwa-offline-page")


def test_a_whole_encounter_offline_in_few_taps_reaches_the_server_once(phone, camera_photos):
    page, server = phone.page, phone.server
    tickets = phone.tickets()
    phone.offline()
    phone.go("/")
    phone.make_encounter(camera_photos(1), first=True)
    first_url = phone.handoff_qr()
    assert first_url == f"{server.url}/p/{tickets[0]['token']}"
    expect(page.get_by_text(f"Write #{tickets[0]['number']} on the back")).to_be_visible()

    # The second encounter at the same venue: count the collector's taps.
    phone.go("/")
    shoot(page, "pwa-home-offline")
    phone.taps = 0
    phone.make_encounter(camera_photos(0), shots="pwa")
    assert phone.taps <= 8, f"{phone.taps} taps from New encounter to the QR code"
    shoot(page, "pwa-handoff")
    qr_box = page.locator("#handoff-qr").bounding_box()
    assert qr_box["width"] >= 0.8 * page.viewport_size["width"]
    assert phone.handoff_qr() == f"{server.url}/p/{tickets[1]['token']}"
    expect(page.get_by_text(f"Write #{tickets[1]['number']} on the back")).to_be_visible()

    # Saved before the QR was shown; it survives a reload and a new page of the app.
    queued = phone.outbox()
    assert [r["number"] for r in queued] == [tickets[0]["number"], tickets[1]["number"]]
    assert all(r["photo_bytes"] > 10_000 for r in queued)
    page.reload()
    assert len(phone.outbox()) == 2
    other = Phone(page.context.new_page(), server)
    other.go("/outbox")
    assert len(other.outbox()) == 2
    expect(other.page.get_by_text("2 encounters waiting to send")).to_be_visible()
    shoot(other.page, "pwa-outbox-waiting")
    other.page.close()

    # Meanwhile the participant's link already works, and says the drawing is on its way.
    waiting = page.request.get(first_url)
    assert waiting.status == 200 and "is on its way" in waiting.text()
    assert f"#{tickets[0]['number']}" in waiting.text()
    assert server.scalar("SELECT count(*) FROM encounters") == 0

    phone.offline(False)
    phone.wait_for_empty_outbox()
    assert server.scalar("SELECT count(*) FROM encounters") == 2
    assert server.scalar("SELECT count(*) FROM photos") == 2
    numbers = server.scalar(
        "SELECT group_concat(t.number) FROM encounters e JOIN tickets t ON t.id = e.ticket_id"
    )
    assert sorted(int(n) for n in str(numbers).split(",")) == [t["number"] for t in tickets[:2]]
    # Downsized on the phone (long edge 2016), turned upright, no GPS on the way.
    width, height = page.evaluate(
        f"fetch('/p/{tickets[1]['token']}/drawing.jpg').then((r) => r.blob())"
        ".then(createImageBitmap).then((b) => [b.width, b.height])"
    )
    assert (width, height) == (1512, 2016)
    drawing = page.request.get(f"{first_url}/drawing.jpg").body()
    image = Image.open(io.BytesIO(drawing))
    assert corpus.marker_corner(image) == "top-left"
    assert not image.getexif()
    page.goto(first_url)
    expect(page.get_by_role("heading", name=f"Drawing #{tickets[0]['number']}")).to_be_visible()


def test_full_resolution_setting_sends_the_original(phone, camera_photo):
    page = phone.page
    phone.go("/outbox")
    page.get_by_label("Send full-resolution originals", exact=False).check()
    until(page, "FieldStore.settings().then((s) => s.full_resolution)")
    phone.go("/")
    phone.make_encounter(camera_photo, first=True)
    phone.wait_for_empty_outbox()
    assert phone.server.scalar("SELECT width || 'x' || height FROM photos") == "3024x4032"


def test_declined_in_two_taps_offline(phone):
    page = phone.page
    phone.offline()
    phone.go("/")
    phone.taps = 0
    phone.tap(phone.button("Declined"))
    shoot(page, "pwa-declined-confirm")
    phone.tap(phone.button("Yes, log it"))
    assert phone.taps == 2
    expect(page.get_by_text("Declined approach logged")).to_be_visible()
    assert [r["status"] for r in phone.outbox()] == ["declined"]
    phone.offline(False)
    phone.wait_for_empty_outbox()
    assert phone.server.scalar("SELECT count(*) FROM encounters WHERE status = 'declined'") == 1


def test_server_gone_mid_sync_then_ten_offline_encounters_all_arrive_once(phone):
    page, server = phone.page, phone.server
    tickets = phone.tickets()
    phone.offline()
    phone.go("/")
    for i in range(TICKET_STOCK):
        phone.make_encounter(None, first=i == 0)
        phone.go("/")
    # Out of tickets: the encounter is still saved, and the screen says plainly there is no QR.
    phone.make_encounter(None)
    expect(page.get_by_text("No QR code on this phone right now")).to_be_visible()
    shoot(page, "pwa-handoff-no-ticket")
    queued = phone.outbox()
    assert len(queued) == TICKET_STOCK + 1
    assert [r["number"] for r in queued[:-1]] == [t["number"] for t in tickets]
    assert queued[-1]["number"] is None

    # The network comes back but the server is down: nothing is lost, it waits.
    server.stop()
    phone.offline(False)
    phone.go("/outbox")
    phone.sync()
    assert len(phone.outbox()) == TICKET_STOCK + 1
    # The server returns, and dies once more right after committing an upload.
    server.start()
    server.cut_after_commit = 1
    phone.sync()  # (or the page's own run every 5 s, whichever holds the sender's lock)
    deadline = time.monotonic() + 20
    while server.scalar("SELECT count(*) FROM encounters") == 0 and time.monotonic() < deadline:
        page.wait_for_timeout(200)
    assert server.scalar("SELECT count(*) FROM encounters") >= 1
    phone.wait_for_empty_outbox()
    assert server.scalar("SELECT count(*) FROM encounters") == TICKET_STOCK + 1
    assert server.scalar("SELECT count(DISTINCT uuid) FROM encounters") == TICKET_STOCK + 1
    by_uuid = dict((row["uuid"], row["number"]) for row in queued if row["number"] is not None)
    with sqlite3.connect(server.db_path) as db:
        stored = dict(
            db.execute(
                "SELECT e.uuid, t.number FROM encounters e JOIN tickets t ON t.id = e.ticket_id"
            ).fetchall()
        )
    for uuid, number in by_uuid.items():
        assert stored[uuid] == number
    # Online again, the stock is refilled with fresh numbers.
    until(
        page,
        f"async () => (await FieldStore.listTickets()).filter((t) => t.qr_svg).length === {TICKET_STOCK}",
    )
    assert min(t["number"] for t in phone.tickets()) > max(t["number"] for t in tickets)


def test_conflict_and_invalid_answers_keep_the_record_flagged(phone, camera_photo):
    page, server = phone.page, phone.server
    phone.offline()
    phone.go("/")
    phone.make_encounter(camera_photo, first=True)
    conflicting = phone.outbox()[0]
    # Another client already stored this UUID with other data: the server will answer 409.
    csrf = page.request.get(server.url + "/api/v1/session").json()["csrf_token"]
    answer = page.request.put(
        f"{server.url}/api/v1/encounters/{conflicting['uuid']}",
        headers={"X-CSRFToken": csrf},
        multipart={
            "data": json.dumps(
                {
                    "status": "declined",
                    "venue_type": "bar",
                    "started_at": "2026-11-20T21:00:00+01:00",
                }
            )
        },
    )
    assert answer.status == 201
    # A record the server cannot accept (a name far too long): 422.
    page.evaluate(
        """async () => {
             const data = {status: "declined", venue_type: "no such venue", venue: "", city: "",
                           started_at: FieldStore.localIso()};
             await FieldStore.saveNew(FieldStore.newRecord({data}), {withTicket: false}); }"""
    )
    phone.offline(False)
    phone.go("/outbox")
    phone.sync()
    until(page, "async () => (await FieldStore.listRecords()).every((r) => r.state === 'flagged')")
    records = {r["uuid"]: r for r in phone.outbox()}
    assert len(records) == 2
    assert records[conflicting["uuid"]]["error"]["status"] == 409
    invalid = next(r for r in records.values() if r["uuid"] != conflicting["uuid"])
    assert invalid["error"]["status"] == 422
    assert invalid["error"]["errors"][0]["field"] == "venue_type"
    page.reload()
    # The pill says they are stuck, and why (the first one's server message).
    expect(page.locator("#sync-status")).to_have_text(re.compile(r"^2 stuck · 4(09|22): "))
    expect(page.get_by_text("The server said (409)", exact=False)).to_be_visible()
    expect(page.get_by_text("venue_type:", exact=False)).to_be_visible()
    shoot(page, "pwa-outbox-flagged")

    # The collector fixes the invalid one by editing it before it is sent again...
    page.locator(f"[data-uuid='{invalid['uuid']}'] [data-action=edit]").click()
    page.get_by_label("Venue type").select_option("fair")
    shoot(page, "pwa-outbox-edit")
    page.get_by_role("button", name="Save", exact=True).click()
    until(page, f"async () => !(await FieldStore.getRecord('{invalid['uuid']}'))")
    # ...and discards the conflicting copy, deliberately, after a warning.
    page.locator(f"[data-uuid='{conflicting['uuid']}'] [data-action=discard]").click()
    shoot(page, "pwa-outbox-discard")
    page.get_by_role("button", name="Discard it").click()
    until(page, "async () => (await FieldStore.listRecords()).length === 0")
    assert server.scalar("SELECT count(*) FROM encounters WHERE venue_type = 'fair'") == 1


def test_background_sync_sends_the_outbox_with_no_page_open(phone):
    page, server = phone.page, phone.server
    phone.offline()
    phone.go("/")
    phone.button("Declined").click()
    phone.button("Yes, log it").click()
    until(page, "async () => (await FieldStore.listRecords()).length === 1")
    page.goto("about:blank")  # no page of the app left to send it
    phone.offline(False)
    # Chromium fires the registered sync by itself once the network is back; if it has not yet,
    # fire it through DevTools as the browser would. Either way only the worker can send it.
    deadline = time.monotonic() + 3
    while server.scalar("SELECT count(*) FROM encounters") == 0 and time.monotonic() < deadline:
        page.wait_for_timeout(200)
    if server.scalar("SELECT count(*) FROM encounters") == 0:
        cdp = page.context.new_cdp_session(page)
        registrations = []
        cdp.on(
            "ServiceWorker.workerRegistrationUpdated",
            lambda event: registrations.extend(event["registrations"]),
        )
        cdp.send("ServiceWorker.enable")
        deadline = time.monotonic() + 10
        while not registrations and time.monotonic() < deadline:
            page.wait_for_timeout(100)
        registration = next(r for r in registrations if r["scopeURL"] == server.url + "/")
        cdp.send(
            "ServiceWorker.dispatchSyncEvent",
            {
                "origin": server.url,
                "registrationId": registration["registrationId"],
                "tag": "fieldapp-outbox",
                "lastChance": False,
            },
        )
    deadline = time.monotonic() + 15
    while server.scalar("SELECT count(*) FROM encounters") == 0 and time.monotonic() < deadline:
        page.wait_for_timeout(200)
    assert server.scalar("SELECT count(*) FROM encounters WHERE status = 'declined'") == 1


def test_a_new_version_replaces_the_old_caches(phone, tmp_path):
    page, server = phone.page, phone.server
    page.evaluate(
        "caches.open('fieldapp-0000000000000000').then((c) => c.put('/x', new Response('old')))"
    )
    before = page.evaluate("caches.keys()")
    assert "fieldapp-0000000000000000" in before and len(before) == 2
    # A release changes a precached file: the worker's version changes with it.
    static = tmp_path / "release-static"
    shutil.copytree(server.app.static_folder, static)
    with open(static / "js" / "capture.js", "a") as script:
        script.write("\n// the next release\n")
    server.app.static_folder = str(static)
    page.evaluate("navigator.serviceWorker.getRegistration().then((r) => r.update())")
    old = json.dumps([n for n in before if n != "fieldapp-0000000000000000"][0])
    current = until(
        page,
        f"""async () => {{ const names = await caches.keys();
              return names.length === 1 && !names.includes({old}) ? names : null; }}""",
    )
    assert current[0].startswith("fieldapp-")
    phone.offline()
    phone.go("/encounters/new")
    expect(page.get_by_role("heading", name="Where are you?")).to_be_visible()


def test_timer_counts_down_cues_the_end_and_records_the_real_drawing_time(phone):
    page = phone.page
    # The phone's buzz cannot be felt here: record the calls to the real API instead.
    page.add_init_script(
        "navigator.vibrate = (pattern) => { window.vibrated = pattern; return true; }"
    )
    page.clock.install()
    phone.go("/encounters/new")
    phone.button("Confirm venue").click()
    answer_consent(page, keep=False)
    phone.button("Done: back to the artist").click()
    page.get_by_text("1 min", exact=True).click()
    expect(page.locator("#clock")).to_have_text("1:00")
    page.clock.run_for(20_000)
    expect(page.locator("#clock")).to_have_text("0:40")
    expect(page.get_by_text("Time is up!")).to_be_hidden()
    page.clock.run_for(45_000)
    expect(page.get_by_text("Time is up!")).to_be_visible()
    expect(page.locator("#clock")).to_have_text("0:00")
    assert page.evaluate("window.vibrated.length") >= 3
    shoot(page, "pwa-time-up")
    phone.button("Done drawing").click()
    expect(page.get_by_role("heading", name="Photograph the drawing")).to_be_visible()
    began, ended = page.evaluate(
        "[new Date(drawing_started_at.value), new Date(drawing_finished_at.value)]"
        ".map((d) => d.getTime() / 1000)"
    )
    assert 64 <= ended - began <= 66


@pytest.mark.parametrize("path", ["/", "/encounters/new", "/outbox", "/offline"])
def test_field_screens_fit_a_360_pixel_phone(phone, path):
    page = phone.page
    page.set_viewport_size({"width": 360, "height": 740})
    phone.go(path)
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    small = page.evaluate(
        """[...document.querySelectorAll('button, a.button, .chip span')]
             .filter((el) => el.offsetParent !== null)
             .filter((el) => el.getBoundingClientRect().height < 44)
             .map((el) => el.textContent.trim())"""
    )
    assert small == [], f"touch targets under 44 px: {small}"


def test_a_drawing_withdrawn_before_its_upload_is_discarded_from_the_phone(phone, camera_photo):
    page, server = phone.page, phone.server
    phone.offline()
    phone.go("/")
    phone.make_encounter(camera_photo, first=True)
    participant_url = phone.handoff_qr()
    # The drawer scans the QR at once, on their own phone, and withdraws.
    drawer = page.context.browser.new_context()
    their_page = drawer.new_page()
    their_page.goto(participant_url)
    their_page.get_by_role("link", name="Withdraw").click()
    their_page.get_by_role("button", name="Yes, withdraw and delete it").click()
    expect(their_page.get_by_text("withdrawn", exact=False).first).to_be_visible()
    drawer.close()
    # The artist's phone comes back online: the server answers 410 and the phone lets go.
    phone.offline(False)
    phone.wait_for_empty_outbox()
    assert server.scalar("SELECT count(*) FROM photos") == 0
    assert server.scalar("SELECT count(*) FROM encounters WHERE withdrawn_at IS NULL") == 0
    assert not list(server.media_dir.rglob("*.jpg"))

"""The phone's storage when it fails: full, refusing, closed under the app, or left by an older
version of the app. Real Chromium (Pixel 7) and, where the engine allows, real WebKit."""

from __future__ import annotations

import json

import pytest
from playwright.sync_api import expect

from tests import photo_corpus as corpus
from tests.field_phone import ChromiumPhone, FieldFlow, webkit_phone
from tests.small_disk import small_disk as mount_small_disk

pytestmark = pytest.mark.browser
pytest.importorskip("pyzbar.pyzbar", reason="libzbar0 is needed to decode QR codes")


@pytest.fixture
def photo(tmp_path):
    """A 12-megapixel phone photo: stored, it is larger than what is left on a full phone."""
    path = tmp_path / "PXL_20261206_223012345.jpg"
    path.write_bytes(corpus.camera_jpeg(orientation=6, gps=True, size=(4032, 3024)))
    return path


@pytest.fixture
def small_disk(tmp_path):
    """A 64 MB tmpfs for a browser profile (root only: `mount`)."""
    with mount_small_disk(tmp_path / "small-disk", "64m", mode="0700") as disk:
        yield disk


@pytest.fixture
def field_on_small_disk(playwright, browser_type_launch_args, small_disk, server, net_proxy):
    """The collector's phone (Chromium, Pixel 7) with its storage on `small_disk`: a persistent
    profile, since an incognito one keeps IndexedDB in memory."""
    device = dict(playwright.devices["Pixel 7"])
    device.pop("default_browser_type", None)
    context = playwright.chromium.launch_persistent_context(
        str(small_disk.root / "profile"), **browser_type_launch_args, **device
    )
    page = context.new_page()
    flow = FieldFlow(ChromiumPhone(page, net_proxy.url), server)
    flow.engine = "chromium"
    flow.disk = small_disk
    flow.create_account()
    flow.wait_until_ready()
    yield flow
    context.close()


def to_the_photo_step(field: FieldFlow, photo) -> None:
    field.phone.go("/encounters/new")
    field.venue(first=True)
    field.consent(name="Julia R.")
    field.tap_text("Done: back to the artist")
    field.draw(timed=False)
    field.take_photo(photo)
    field.phone.until("document.getElementById('photo-note').textContent.includes('px')")


def test_a_full_phone_with_network_sends_the_encounter_straight_to_the_server(
    field_on_small_disk, net_proxy, photo
):
    field = field_on_small_disk
    phone = field.phone
    # Already on the phone, and staying there (the server refuses it until it is fixed): a full
    # phone must not lose it.
    phone.evaluate_async(
        """const data = {status: "declined", venue_type: "no such venue", venue: "", city: "",
                         started_at: FieldStore.localIso()};
           await FieldStore.saveNew(FieldStore.newRecord({data}), {withTicket: false});
           await FieldApp.sync(true);"""
    )
    phone.until("async () => (await FieldStore.listRecords())[0].state === 'flagged'")
    to_the_photo_step(field, photo)
    field.disk.fill(leave=20_000)
    field.tap_text("Show the QR code")
    phone.wait_visible("#handoff")
    expect(phone.page.get_by_text("Sent straight to the server")).to_be_visible()
    phone.screenshot("storage-full-sent-directly", full_page=False)
    url = field.handoff_qr()
    number, token = field.server.scalar(
        "SELECT t.number || ' ' || t.token FROM encounters e JOIN tickets t ON t.id = e.ticket_id"
        " WHERE e.status = 'completed'"
    ).split()
    assert url == f"{net_proxy.url}/p/{token}"
    assert phone.text("#handoff-number") == f"#{number}"
    assert field.server.scalar("SELECT count(*) FROM photos") == 1
    # What was stored before the phone filled up is still there once there is room again.
    field.disk.free()
    assert [(r["status"], r["state"]) for r in field.outbox()] == [("declined", "flagged")]


def test_a_full_phone_with_no_network_says_so_and_keeps_everything(
    field_on_small_disk, net_proxy, photo
):
    field = field_on_small_disk
    phone = field.phone
    to_the_photo_step(field, photo)
    field.disk.fill(leave=20_000)
    net_proxy.set_mode("drop")
    field.tap_text("Show the QR code")
    problem = phone.page.locator("#save-problem")
    # Chromium names the cause as it finds it ("full", a failed write, a store it could not
    # open): what the artist needs is that it was not saved, why, and what to do.
    expect(problem).to_contain_text("Not saved yet: this phone's storage refused it")
    expect(problem).to_contain_text("cannot be reached")
    expect(problem).to_contain_text("free some space on the phone")
    assert not phone.visible("#handoff")
    assert phone.visible("#preview")
    phone.screenshot("storage-full-no-network", full_page=False)
    assert field.server_count() == 0
    # Space comes back: the same tap saves it; nothing typed was lost.
    field.disk.free()
    field.tap_text("Show the QR code")
    phone.wait_visible("#handoff")
    [record] = field.outbox()
    assert record["name"] == "Julia R." and record["photo_bytes"] > 10_000


def test_records_an_older_version_queued_as_blobs_are_moved_and_sent(
    page, server, net_proxy, photo
):
    """Version 1 of the phone's database kept photos as Blobs inside the outbox records (which
    WebKit cannot store). A phone updated with such records waiting sends each with its photo."""
    phone = ChromiumPhone(page, net_proxy.url)
    flow = FieldFlow(phone, server)
    phone.go("/healthz")  # before any page of the app: the old version's database, made by hand
    data = {
        "status": "completed", "venue_type": "bar", "venue": "", "city": "Brooklyn",
        "started_at": "2026-12-05T22:10:00+01:00", "time_limit_seconds": 120,
        "drawing_started_at": None, "drawing_finished_at": None, "notes": "",
        "consent": {"version": 1, "keep": True, "gallery": True, "training": False, "social": False},
        "credit": {"anonymous": True},
    }  # fmt: skip
    jpeg = list(photo.read_bytes())
    phone.evaluate_async(
        """const [data, bytes] = arguments;
           const db = await new Promise((resolve, reject) => {
             const request = indexedDB.open("fieldapp", 1);
             request.onupgradeneeded = () => {
               const db = request.result;
               db.createObjectStore("outbox", { keyPath: "uuid" }).createIndex("created_at", "created_at");
               db.createObjectStore("tickets", { keyPath: "number" });
               db.createObjectStore("meta");
             };
             request.onsuccess = () => resolve(request.result);
             request.onerror = () => reject(request.error);
           });
           const tx = db.transaction(["outbox"], "readwrite");
           tx.objectStore("outbox").put({
             uuid: "6f0c2c52-7b8e-4d5e-9a53-3f1f6d7c0b11", created_at: Date.now(), revision: 1, data,
             photo: new Blob([new Uint8Array(bytes)], { type: "image/jpeg" }), photo_name: "old.jpg",
             ticket: null, state: "queued", attempts: 0, next_try_at: 0, error: null });
           await new Promise((resolve) => { tx.oncomplete = resolve; });
           db.close();""",
        data,
        jpeg,
    )
    flow.create_account()  # the new version opens the database: version 2, the photo moved out
    flow.wait_until_ready()
    flow.wait_for_empty_outbox()
    assert server.scalar("SELECT uuid FROM encounters") == "6f0c2c52-7b8e-4d5e-9a53-3f1f6d7c0b11"
    assert server.scalar("SELECT count(*) FROM photos") == 1
    assert json.loads(json.dumps(data))["consent"]["gallery"] is True


@pytest.mark.parametrize("engine", ["chromium", pytest.param("webkit", marks=pytest.mark.webkit)])
def test_a_connection_the_engine_closes_is_opened_again(request, server, net_proxy, engine):
    if engine == "chromium":
        phone = ChromiumPhone(request.getfixturevalue("page"), net_proxy.url)
    else:
        phone = webkit_phone(request.getfixturevalue("webkit_driver"), net_proxy.url)
    flow = FieldFlow(phone, server)
    flow.create_account()
    flow.wait_until_ready()
    before = phone.evaluate_async("return (await FieldStore.listTickets()).length;")
    # What WebKit does to a backgrounded app's connection, done here by hand.
    phone.evaluate_async("(await FieldStore.connection()).close();")
    assert phone.evaluate_async("return (await FieldStore.listTickets()).length;") == before
    phone.evaluate_async(
        """(await FieldStore.connection()).close();
           await FieldStore.setMeta("probe", 1);"""
    )
    assert phone.evaluate_async('return await FieldStore.getMeta("probe");') == 1

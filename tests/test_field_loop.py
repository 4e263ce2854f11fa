"""The field loop in the real field, in real Chromium and in real WebKit (Safari's engine).

Each test runs twice: Chromium through Playwright (Pixel 7) and WebKitGTK through WebKitWebDriver
(an iPhone-sized window). The phone reaches the app through a proxy of our own on 127.0.0.1
(tests/netproxy.py) that passes, drops (no network) or hangs (a bar's wifi that connects but
never answers); the server's database is read directly to count what arrived.
"""

from __future__ import annotations

import base64
import contextlib
import io
import re
import zipfile

import pytest

from tests import photo_corpus as corpus
from tests.field_phone import FieldFlow, answer, check_console, open_field

pytestmark = pytest.mark.browser
pytest.importorskip("pyzbar.pyzbar", reason="libzbar0 is needed to decode QR codes")

ENGINES = ["chromium", pytest.param("webkit", marks=pytest.mark.webkit)]
ON_SCREEN = """
const el = document.querySelector(arguments[0]);
const r = el.getBoundingClientRect();
return r.top >= 0 && r.bottom <= innerHeight && r.left >= 0 && r.right <= innerWidth && r.height > 0;
"""
TAPPABLE = """
return [...document.querySelectorAll('a[href], button, input, select, textarea, summary, label')]
  .filter((e) => e.getClientRects().length && getComputedStyle(e).visibility !== 'hidden')
  .map((e) => `${e.tagName.toLowerCase()}${e.id ? '#' + e.id : ''}`
              + `${e.name ? '[' + e.name + ']' : ''} ${(e.innerText || '').trim().slice(0, 40)}`);
"""


@pytest.fixture(params=ENGINES)
def field(request, server, net_proxy) -> FieldFlow:
    """The collector's phone, new and logged in, its ticket stock full, in the test's engine."""
    flow = open_field(request, request.param, server, net_proxy)
    yield flow
    check_console(flow)


@pytest.fixture
def camera_photos(tmp_path):
    """Phone JPEGs stored sideways (EXIF Orientation 6) with GPS tags, each a different picture."""

    def photo(i: int = 0):
        path = tmp_path / f"PXL_20261206_22301234{i}.jpg"
        path.write_bytes(corpus.camera_jpeg(orientation=6, gps=True, size=(1600 - 16 * i, 1200)))
        return path

    return photo


def shoot(field: FieldFlow, name: str, full_page: bool = False) -> None:
    field.phone.screenshot(f"field-{field.engine}-{name}", full_page=full_page)


def reload(field: FieldFlow) -> list[str]:
    """Reload the page as the phone would after a tap on reload. The page may ask first
    (beforeunload): that prompt is the browser's, accepted here. Returns the prompts seen
    (Chromium; WebKit's driver does not say)."""
    phone = field.phone
    prompts = []
    if field.engine == "chromium":

        def accept(dialog) -> None:
            prompts.append(dialog.type)
            dialog.accept()

        phone.page.once("dialog", accept)
        phone.page.reload()
    else:
        phone.driver.refresh()
        with contextlib.suppress(Exception):  # no prompt: nothing to accept
            phone.driver.switch_to.alert.accept()
    phone.until("document.readyState === 'complete' && window.FieldStore !== undefined")
    return prompts


def test_the_whole_flow_offline_with_a_reload_reaches_the_server_once(
    field, net_proxy, camera_photos
):
    phone = field.phone
    tickets = field.tickets()
    net_proxy.set_mode("drop")  # no network: every connection is refused
    phone.go("/")
    field.make_encounter(camera_photos(1), first=True)
    assert field.handoff_qr() == f"{net_proxy.url}/p/{tickets[0]['token']}"
    assert phone.text("#handoff-number") == f"#{tickets[0]['number']}"
    shoot(field, "handoff-offline")

    # The page is reloaded with no network: it comes from the phone, the record is still there.
    reload(field)
    phone.until("document.getElementById('h-venue') !== null")
    queued = field.outbox()
    assert [r["number"] for r in queued] == [tickets[0]["number"]]
    assert queued[0]["photo_bytes"] > 10_000
    phone.go("/")
    field.make_encounter(None)  # the drawer did not want the drawing kept: no photo
    assert field.handoff_qr() == f"{net_proxy.url}/p/{tickets[1]['token']}"
    assert field.server_count() == 0

    # The network returns; nobody touches the phone: it sends by itself, each record once.
    net_proxy.set_mode("pass")
    phone.until("async () => (await FieldStore.listRecords()).length === 0", timeout=30)
    assert field.server_count() == 2
    assert field.server.scalar("SELECT count(*) FROM photos") == 1
    numbers = field.server.scalar(
        "SELECT group_concat(t.number) FROM encounters e JOIN tickets t ON t.id = e.ticket_id"
    )
    assert sorted(int(n) for n in str(numbers).split(",")) == [t["number"] for t in tickets[:2]]
    phone.until("document.getElementById('sync-status').textContent === 'All sent'")


def test_the_drawer_holding_the_phone_cannot_leave_the_consent_step(field, net_proxy):
    phone = field.phone
    phone.go("/")
    field.make_encounter(None, first=True, name=None)  # someone else's drawing, already made
    phone.go("/encounters/new")
    field.venue()
    field.consent(name="Julia R.")
    shoot(field, "consent-stranger-mode")
    # All the drawer can tap: their language, the choices, their name, the full text, their
    # age group again, and the way back to the artist.
    tappable = phone.evaluate(TAPPABLE)
    assert not [t for t in tappable if t.startswith("a")], tappable
    buttons = sorted(t.split(" ", 1)[1] for t in tappable if t.startswith("button"))
    assert buttons == sorted(
        ["English", "Español", "简体中文", "Done: back to the artist", "Change"]
    ), tappable
    assert not phone.visible("header.site") and not phone.visible("#sync-status")
    # A swipe back (the browser's back) keeps them there, with everything they entered.
    phone.evaluate("history.back();")
    field.wait_step("consent")
    phone.evaluate("history.back();")
    field.wait_step("consent")
    assert field.value("credit_name") == "Julia R."
    assert field.value("gallery") == "yes"
    assert phone.visible("#consent-choices")
    field.tap_text("Done: back to the artist")
    assert phone.visible("header.site")

    # The artist taps Home with an encounter in progress: the app asks first.
    phone.click("header.site a[href='/']")
    phone.wait_visible("#leave-dialog")
    shoot(field, "leave-dialog")
    field.tap_text("Stay here")
    assert field.step() == "timer" and not phone.visible("#leave-dialog")
    phone.click("header.site a[href='/']")
    field.tap_text("Leave, keep the draft")
    phone.until("location.pathname === '/' && document.getElementById('home-drawings') !== null")
    # ...and comes back to it where it was, the drawer's name and choices included.
    field.tap_text("New encounter")
    field.wait_step("timer")
    assert field.value("credit_name") == "Julia R."
    assert field.value("gallery") == "yes"


def test_a_draft_comes_back_after_a_reload_at_its_step(field, camera_photos):
    phone = field.phone
    phone.go("/encounters/new")
    field.venue(first=True)
    field.consent(name="Julia R.")
    field.tap_text("Done: back to the artist")
    field.tap("label.chip:has(input[value='60'])")  # the clock runs
    phone.until("async () => { const d = await FieldStore.getDraft(); return d && d.step === 2; }")
    began = field.value("drawing_started_at")
    prompts = reload(field)
    if field.engine == "chromium":
        assert prompts == ["beforeunload"]  # leaving with something entered asks first
    field.wait_step("timer")
    assert phone.visible("#timer") and phone.visible("#timer-stop")  # still running
    assert field.value("drawing_started_at") == began
    field.tap_text("Done drawing")
    field.take_photo(camera_photos(2))
    phone.until("async () => { const d = await FieldStore.getDraft(); return d && d.photo; }")
    reload(field)
    field.wait_step("photo")
    phone.wait_visible("#preview")
    shoot(field, "draft-restored-photo")
    # The consent step is not shown again to the artist: it was the drawer's, and it is kept.
    assert not phone.visible("[data-step=consent]")
    field.tap_text("Show the QR code")
    phone.wait_visible("#handoff")
    [record] = field.outbox()
    assert record["name"] == "Julia R." and record["photo_bytes"] > 10_000
    assert field.draft() is None  # a completed draft leaves nothing
    data = phone.evaluate_async("return (await FieldStore.listRecords())[0].data;")
    assert data["drawing_started_at"] == began and data["consent"]["gallery"] is True

    # A discarded draft leaves nothing either.
    field.tap_text("Next encounter")
    phone.wait_visible("#last-qr")  # the previous drawer's QR, one tap away
    phone.fill("#venue", "a test")
    phone.until("async () => (await FieldStore.getDraft()) !== null")
    phone.click("#discard")
    field.tap_text("Discard it")
    phone.until("async () => (await FieldStore.getDraft()) === null")
    assert field.value("venue") != "a test"


def test_the_last_qr_codes_can_be_shown_again_offline(field, net_proxy, camera_photos):
    phone = field.phone
    tickets = field.tickets()
    net_proxy.set_mode("drop")
    phone.go("/")
    field.make_encounter(camera_photos(3), first=True)
    phone.go("/")
    field.make_encounter(None)
    # "Next encounter" tapped too early: the last QR is one tap away on the next screen.
    field.tap_text("Next encounter")
    field.tap_text(f"Show #{tickets[1]['number']}'s QR code again")
    assert field.handoff_qr("#qr-dialog-img") == f"{net_proxy.url}/p/{tickets[1]['token']}"
    field.tap_text("Close")
    # The home screen and the outbox list them, with no network.
    for path in ("/", "/outbox"):
        phone.go(path)
        phone.wait_visible(".recent-qr-item[data-uuid]")
        items = phone.evaluate(
            "return [...document.querySelectorAll('.recent-qr-item')].map((b) => b.innerText);"
        )
        assert [i.split()[0] for i in items] == [
            f"#{tickets[1]['number']}",
            f"#{tickets[0]['number']}",
        ]
        assert all("on this phone" in i for i in items)
    phone.go("/")
    shoot(field, "home-last-qr-codes", full_page=True)
    first = next(r["uuid"] for r in field.outbox() if r["number"] == tickets[0]["number"])
    phone.click(f".recent-qr-item[data-uuid='{first}']")
    assert field.handoff_qr("#qr-dialog-img") == f"{net_proxy.url}/p/{tickets[0]['token']}"
    shoot(field, "qr-shown-again")
    field.tap_text("Close")
    # Sent, they stay in the list.
    net_proxy.set_mode("pass")
    phone.until("async () => (await FieldStore.listRecords()).length === 0", timeout=30)
    phone.until(
        "[...document.querySelectorAll('.recent-qr-item')].every((b) => b.innerText.includes('sent'))"
        " && document.querySelectorAll('.recent-qr-item').length === 2"
    )


def test_a_connection_that_hangs_then_recovers_sends_within_20_seconds(
    field, net_proxy, camera_photos
):
    phone = field.phone
    phone.go("/")
    net_proxy.set_mode("hang")  # the bar's wifi: connects, never answers
    phone.go("/encounters/new")  # the service worker gives up on the network after 3 s
    field.venue(first=True)
    field.consent(name=None)
    field.tap_text("Done: back to the artist")
    field.draw(timed=False)
    field.take_photo(camera_photos(4))
    field.tap_text("Show the QR code")
    phone.wait_visible("#handoff")
    field.tap_text("Home")
    phone.until(
        "document.getElementById('sync-status').textContent.startsWith('No network · 1 waiting')",
        timeout=30,
    )
    assert field.server_count() == 0
    shoot(field, "home-no-network")

    net_proxy.set_mode("pass")  # the network answers again; the page is left alone
    phone.until("async () => (await FieldStore.listRecords()).length === 0", timeout=20, every=0.5)
    assert field.server_count() == 1
    phone.until("document.getElementById('sync-status').textContent === 'All sent'")
    net_proxy.release_hung()
    assert field.server_count() == 1


def test_the_outbox_rescue_zip_is_recorded_once_by_the_import(
    field, net_proxy, camera_photos, browser, server
):
    phone = field.phone
    tickets = field.tickets()
    net_proxy.set_mode("drop")
    phone.go("/")
    field.make_encounter(camera_photos(5), first=True)
    phone.go("/")
    field.tap_text("Declined")
    field.tap_text("Yes, log it")
    phone.wait_visible("#declined-done")  # saved on the phone
    phone.go("/outbox")
    phone.wait_visible("#rescue-save")
    shoot(field, "outbox-rescue", full_page=True)
    packed = phone.evaluate_async(
        """const z = await FieldRescue.outboxZip();
           const bytes = new Uint8Array(await z.blob.arrayBuffer());
           let s = ""; for (const b of bytes) s += String.fromCharCode(b);
           return {name: z.name, data: btoa(s)};"""
    )
    assert re.fullmatch(r"fieldapp-outbox-\d{4}-\d\d-\d\d-\d{4}\.zip", packed["name"])
    data = base64.b64decode(packed["data"])
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        assert archive.testzip() is None
        names = archive.namelist()
    assert names[0] == "fieldapp-outbox.json" and len(names) == 2  # the declined one has no photo
    if field.engine == "chromium":  # the button saves the same zip (WebDriver sees no download)
        with phone.page.expect_download() as saved:
            field.tap_text("Save as a zip")
        assert saved.value.suggested_filename.startswith("fieldapp-outbox-")
        with zipfile.ZipFile(saved.value.path()) as archive:
            assert sorted(archive.namelist()) == sorted(names)

    # On a laptop (Chromium), the backlog import takes the zip: each encounter recorded once.
    (zip_path := server.media_dir.parent / packed["name"]).write_bytes(data)
    laptop = browser.new_context()
    page = laptop.new_page()
    page.goto(server.url + "/login")
    page.get_by_label("Username").fill("max")
    page.get_by_label("Password").fill("a long field password")
    page.get_by_role("button", name="Log in").click()
    page.goto(server.url + "/encounters/import")
    page.locator("#files").set_input_files(str(zip_path))
    page.get_by_role("button", name="Import").click()
    page.get_by_text("Import finished").wait_for()
    outcomes = page.locator("#import-outcomes li").all_inner_texts()
    assert len(outcomes) == 2 and all("Recorded" in o for o in outcomes), outcomes
    assert f"#{tickets[0]['number']}" in " ".join(outcomes)
    assert field.server_count() == 2

    # The phone comes back online: what it sends is already there, and nothing is doubled.
    net_proxy.set_mode("pass")
    phone.until("async () => (await FieldStore.listRecords()).length === 0", timeout=30)
    assert field.server_count() == 2
    # The same zip once more: nothing new.
    page.goto(server.url + "/encounters/import")
    page.locator("#files").set_input_files(str(zip_path))
    page.get_by_role("button", name="Import").click()
    page.get_by_text("Import finished").wait_for()
    again = page.locator("#import-outcomes li").all_inner_texts()
    assert len(again) == 2 and all("Already on the server" in o for o in again), again
    assert field.server_count() == 2
    laptop.close()


def test_one_thumb_on_a_small_screen(field, camera_photos):
    """At 360 × 640: "Show the QR code" is on screen once the photo is taken, and no control of a
    step appears where the finger just tapped the previous step's."""
    phone = field.phone
    phone.resize(360, 640)
    phone.go("/encounters/new")
    under_finger = """
      const [x, y] = arguments;
      const el = document.elementFromPoint(x, y);
      const control = el && el.closest('a[href], button, input, select, label, summary, textarea');
      return control ? control.outerHTML.slice(0, 80) : null;
    """
    centre = """
      const el = [...document.querySelectorAll(arguments[0])].find((e) => e.getClientRects().length);
      const r = el.getBoundingClientRect();
      return [r.left + r.width / 2, r.top + r.height / 2];
    """
    phone.fill("#venue", "Pool night")

    def tap_and_check(selector: str, next_step: str, answers=()) -> None:
        x, y = phone.evaluate(centre, selector)
        phone.click(selector)
        field.wait_step(next_step)
        assert phone.evaluate(under_finger, x, y) is None, f"after {selector}"
        for choice, yes in answers:
            answer(phone, choice, yes)

    tap_and_check("#venue-fields [data-next]", "consent")
    # The drawer's age answered, the choices appear: none of them under that finger either.
    tap_and_check(
        "label:has(#age-adult)",
        "consent",
        answers=[("keep", True), ("gallery", False), ("training", False), ("social", False)],
    )
    tap_and_check("#consent-done", "timer")
    tap_and_check("#timer-skip", "photo")
    shoot(field, "360-photo-step")
    x, y = phone.evaluate(centre, "#camera")
    phone.set_file("#photo", camera_photos(6))
    phone.wait_visible("#preview")
    phone.until("!document.getElementById('finish').disabled")
    shoot(field, "360-photo-taken")
    assert phone.evaluate(ON_SCREEN, "#finish"), "Show the QR code is below the fold"
    # Where the camera button was, there is now the photo: a second tap retakes nothing.
    assert phone.evaluate(under_finger, x, y) is None
    x, y = phone.evaluate(centre, "#finish")
    phone.click("#finish")
    phone.wait_visible("#handoff")
    shoot(field, "360-handoff", full_page=True)
    assert phone.evaluate(under_finger, x, y) is None
    # "Next encounter" is not under the QR: past the other buttons, below the fold.
    assert not phone.evaluate(ON_SCREEN, "#next-encounter")

"""The whole field flow in real Chromium, emulating a Pixel 7, against the app on 127.0.0.1."""

from __future__ import annotations

import io
import re
from pathlib import Path

import pytest
from PIL import Image
from playwright.sync_api import expect

from tests import photo_corpus as corpus
from tests.helpers import answer_consent, shoot

pytestmark = pytest.mark.browser
pyzbar = pytest.importorskip("pyzbar.pyzbar", reason="libzbar0 is needed to decode QR codes")
PASSWORD = "a long field password"


@pytest.fixture
def phone_photo(tmp_path) -> Path:
    """A phone JPEG stored sideways (EXIF Orientation 6) with GPS tags."""
    path = tmp_path / "PXL_20260521_223012345.jpg"
    path.write_bytes(corpus.camera_jpeg(orientation=6, gps=True, size=(1600, 1200)))
    return path


def test_collector_runs_the_capture_flow_and_the_participant_sees_the_drawing(
    page, live_server, phone_photo
):
    # First visit: no account yet, so the app asks for one and logs in.
    page.goto(live_server + "/")
    assert page.url.endswith("/setup")
    page.get_by_label("Username").fill("max")
    page.get_by_label("Password", exact=True).fill(PASSWORD)
    page.get_by_label("Password again").fill(PASSWORD)
    shoot(page, "01-setup")
    page.get_by_role("button", name="Create account").click()
    page.get_by_role("button", name="Log out").click()
    # Logging out asks first, saying what stays on the phone.
    dialog = page.get_by_role("dialog", name="Log out?")
    expect(dialog.get_by_text("Nothing is waiting on this phone.")).to_be_visible()
    dialog.get_by_role("button", name="Log out").click()
    page.wait_for_url(re.compile(r"/login$"))  # let the logout finish before the next visit

    # Later visits: the login page.
    page.goto(live_server + "/encounters")
    assert "/login" in page.url
    page.get_by_label("Username").fill("max")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(live_server + "/encounters")
    page.goto(live_server + "/")
    shoot(page, "02-home")

    page.get_by_role("link", name="New encounter").click()
    page.wait_for_selector(".step.current")  # the capture script has taken the page over
    page.get_by_label("Venue type").select_option("party")
    page.get_by_label("Occasion").fill("Julia's birthday")
    page.get_by_label("City").fill("Brooklyn")
    shoot(page, "03-venue")
    page.get_by_role("button", name="Confirm venue").click()

    answer_consent(page, name="Julia R.")
    shoot(page, "04-consent")
    page.get_by_role("button", name="Done: back to the artist").click()

    page.get_by_text("1 min", exact=True).click()  # the clock starts at once
    page.wait_for_timeout(1200)
    shoot(page, "05-timer")
    page.get_by_role("button", name="Done drawing").click()

    page.locator("#photo").set_input_files(str(phone_photo))
    page.locator("#preview").wait_for(state="visible")
    shoot(page, "06-photo")
    page.get_by_role("button", name="Show the QR code").click()

    # Handoff: the number in big type and the QR, which a real decoder reads from the screen.
    expect(page.get_by_text("Write #1 on the back")).to_be_visible()
    qr = page.locator("#handoff-qr")
    page.wait_for_function("() => document.getElementById('handoff-qr').naturalWidth > 0")
    shoot(page, "07-handoff")
    box = qr.bounding_box()
    assert box["width"] >= 0.8 * page.viewport_size["width"], "the QR should fill the phone's width"
    decoded = pyzbar.decode(Image.open(io.BytesIO(qr.screenshot())))
    assert len(decoded) == 1
    participant_url = decoded[0].data.decode()
    assert participant_url.startswith(live_server + "/p/")
    # The phone sends it by itself; the status says so.
    expect(page.locator("#sync-status")).to_have_text(re.compile("All sent"), timeout=15000)

    # The participant opens the decoded link and sees their drawing, upright.
    page.context.clear_cookies()
    response = page.goto(participant_url)
    assert response.status == 200
    assert response.headers["referrer-policy"] == "no-referrer"
    expect(page.get_by_role("heading", name="Drawing #1")).to_be_visible()
    expect(page.get_by_text("Julia R.")).to_be_visible()
    expect(page.get_by_role("link", name="Read the pamphlet")).to_be_visible()
    drawing = page.locator("img.drawing")
    page.wait_for_function("() => document.querySelector('img.drawing').naturalWidth > 0")
    # The phone picked the reduced copy from srcset (Pixel 7: 380 CSS px at 2.625x -> 1080 px).
    chosen = drawing.evaluate("img => img.currentSrc")
    assert "w=1080" in chosen
    loaded = Image.open(io.BytesIO(page.request.get(chosen).body()))
    assert loaded.size == (1080, 1440)  # portrait: the EXIF orientation was applied
    full = Image.open(io.BytesIO(page.request.get(drawing.evaluate("img => img.src")).body()))
    assert full.size == (1200, 1600)
    shoot(page, "08-participant")


def test_unknown_token_page_in_the_browser(page, live_server):
    response = page.goto(live_server + "/p/no-such-token")
    assert response.status == 404
    expect(page.get_by_role("heading", name="Nothing here")).to_be_visible()


def test_pamphlet_reads_on_a_phone(page, live_server):
    page.goto(live_server + "/pamphlet")
    expect(page.get_by_role("heading", level=1)).to_be_visible()
    # No sideways scrolling on a 412 px wide screen.
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    shoot(page, "09-pamphlet")

"""The dataset pages in Chromium at Pixel 7 size: settings, export download, past exports;
and the ink extraction of a realistic red-ink photo, saved to be looked at."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

import pytest
from PIL import Image
from playwright.sync_api import expect

from fieldapp.auth.services import create_collector
from fieldapp.dataset.images import INK_RED, extract_ink
from fieldapp.extensions import db
from tests.dataset_fixtures import drawing_photo, make_collection
from tests.helpers import no_sideways_scroll, shoot

PASSWORD = "a long field password"
SCREENS = Path(__file__).resolve().parent.parent / "test-artifacts" / "screens"


@pytest.mark.browser
def test_collector_sets_up_exports_and_reviews_the_dataset(page, live_app, live_server):
    collection = make_collection(live_app)
    with live_app.app_context():
        create_collector(db.session, "max", PASSWORD)
        db.session.commit()
    page.goto(f"{live_server}/login")
    page.get_by_label("Username").fill("max")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(f"{live_server}/")

    page.goto(f"{live_server}/settings/consent")
    page.get_by_role("link", name="Dataset and exports").click()
    page.wait_for_url(f"{live_server}/settings/dataset")
    page.get_by_label("License (SPDX id)").select_option("CC-BY-4.0")
    page.get_by_label("Dataset name").fill("Let Me Collect Myself")
    page.get_by_label("Curated by").fill("Max Field")
    page.get_by_label("Contact").fill("max@example.org")
    page.get_by_label("Why was the dataset created?").fill(
        "To show that a dataset can be made with consent, credit and a paper trail."
    )
    assert no_sideways_scroll(page)
    shoot(page, "export-01-settings")
    page.get_by_role("button", name="Save dataset settings").click()
    page.wait_for_url(f"{live_server}/settings/dataset")
    expect(page.get_by_text("Dataset settings saved")).to_be_visible()

    page.get_by_role("link", name="Export", exact=True).click()
    page.wait_for_url(f"{live_server}/dataset/export")
    assert page.locator("#count-training").inner_text() == "2"
    assert no_sideways_scroll(page)
    shoot(page, "export-02-export")
    with page.expect_download() as download_info:
        page.get_by_role("button", name="Make and download the zip").click()
    download = download_info.value
    assert download.suggested_filename.startswith("drawings-training-")
    with zipfile.ZipFile(download.path()) as archive:
        names = archive.namelist()
        assert "license: cc-by-4.0" in archive.read("README.md").decode()
    assert f"train/portrait-{collection.credited:05d}.jpg" in names
    assert f"train/portrait-{collection.not_for_training:05d}.jpg" not in names

    page.goto(f"{live_server}/dataset/exports")
    expect(page.get_by_text("None withdrawn since.")).to_be_visible()
    assert no_sideways_scroll(page)
    shoot(page, "export-03-exports")


def test_ink_extraction_of_a_real_looking_photo_is_red_lines_on_white():
    photo = Image.open(io.BytesIO(drawing_photo(seed=5, size=(900, 1200))))
    ink = extract_ink(photo)
    SCREENS.mkdir(parents=True, exist_ok=True)
    side_by_side = Image.new("RGB", (photo.width * 2 + 20, photo.height), (128, 128, 128))
    side_by_side.paste(photo.convert("RGB"), (0, 0))
    side_by_side.paste(ink, (photo.width + 20, 0))
    side_by_side.save(SCREENS / "export-04-ink-extraction.png")
    colours = dict((c, n) for n, c in ink.getcolors(ink.width * ink.height))
    pixels = ink.width * ink.height
    assert colours.get((255, 255, 255), 0) > 0.9 * pixels  # clean white paper
    assert colours.get(INK_RED, 0) > 0.005 * pixels  # the lines survive, in the one red
    # Every other colour is an anti-aliased edge between that red and white: no grey, no blue.
    for colour in colours:
        r, g, b = colour
        assert r >= g and r >= b and abs(g - b) <= 20, colour
    # The grey pencil line across the page (at 70-72 % of the height) is gone; the red
    # shoulders cross that band only near the sides.
    w, h = ink.size
    band = ink.crop((int(w * 0.2), int(h * 0.70) - 6, int(w * 0.8), int(h * 0.72) + 6))
    assert all(c == (255, 255, 255) for _, c in band.getcolors(band.width * band.height))

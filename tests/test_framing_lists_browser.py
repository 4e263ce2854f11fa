"""The drawings that need framing, found from where the artist works, in real Chromium at
360×640: the backlog import lists the photos it could not frame, each one tap from its framing
editor, and the log counts them and filters them."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from fieldapp.auth.services import create_collector
from fieldapp.extensions import db
from tests.factories import make_encounter
from tests.framing_photos import no_sheet_photo, sheet_photo
from tests.helpers import BROWSER_PASSWORD, log_in, no_sideways_scroll, shoot

pytestmark = pytest.mark.browser
PASSWORD = BROWSER_PASSWORD


@pytest.fixture
def collector(live_app):
    with live_app.app_context():
        create_collector(db.session, "max", PASSWORD)
        db.session.commit()


def test_the_import_lists_what_it_could_not_frame_and_the_log_finds_it(
    page, live_server, collector, tmp_path
):
    page.set_viewport_size({"width": 360, "height": 640})
    sheet, table = tmp_path / "on-the-bar.jpg", tmp_path / "table-only.jpg"
    sheet.write_bytes(sheet_photo(seed=31))
    table.write_bytes(no_sheet_photo(seed=32))
    log_in(page, live_server)
    page.goto(f"{live_server}/encounters/import")
    for _ in range(120):  # let the phone's ticket stock fill first (see test_review_browser)
        if page.evaluate("async () => (await FieldStore.listTickets()).length === 10"):
            break
        page.wait_for_timeout(250)
    page.get_by_label("First number").fill("200")
    page.get_by_label("Date drawn").fill("2019-08-01")
    page.get_by_label("Photos, or a zip of photos").set_input_files([sheet, table])
    page.get_by_role("button", name="Import").click()
    expect(page.locator("#import-summary")).to_contain_text("2 imported")
    unframed = page.locator("#import-unframed")
    expect(unframed.get_by_role("heading")).to_have_text("1 could not be framed")
    frame = unframed.get_by_role("link", name=re.compile(r"Frame #20[01]"))
    expect(frame).to_have_count(1)
    expect(unframed).to_contain_text("table-only.jpg")
    assert frame.bounding_box()["height"] >= 44
    assert no_sideways_scroll(page)
    unframed.scroll_into_view_if_needed()
    shoot(page, "framing-lists-01-import-360x640")

    frame.click()  # one tap to the editor, open by itself
    page.wait_for_url(re.compile(r"/encounters/[0-9a-f-]+#framing$"))
    expect(page.locator("#framing")).to_contain_text("No sheet was found")
    expect(page.get_by_role("button", name="Save framing")).to_be_visible()
    shoot(page, "framing-lists-02-editor-360x640")

    page.goto(f"{live_server}/encounters")
    needing = page.locator("#needs-framing")
    expect(needing).to_have_text("1 drawing needs framing")
    needing.click()
    expect(page.locator(".log-table tbody tr")).to_have_count(1)
    expect(page.locator(".log-table tbody")).to_contain_text("needs framing")
    expect(page.locator("#needs-framing")).to_have_count(0)  # already filtered
    assert no_sideways_scroll(page)
    shoot(page, "framing-lists-03-log-360x640")


@pytest.mark.webkit
@pytest.mark.parametrize("webkit_driver", [(360, 640)], indirect=True)
def test_webkit_finds_the_drawings_that_need_framing_from_the_log(
    webkit_phone, live_app, collector
):
    framed = make_encounter(live_app, photo=sheet_photo(seed=33))
    unframed = make_encounter(live_app, photo=no_sheet_photo(seed=34))
    phone = webkit_phone
    phone.log_in(PASSWORD)
    phone.go("/encounters")
    assert phone.text("#needs-framing") == "1 drawing needs framing"
    phone.click("#needs-framing")
    phone.until("location.search.includes('photo=needs_framing')")
    rows = phone.evaluate(
        "return [...document.querySelectorAll('.log-table tbody a')].map(a => a.pathname)"
    )
    assert rows == [f"/encounters/{unframed}"] and f"/encounters/{framed}" not in rows
    assert "needs framing" in phone.text(".log-table tbody")
    assert phone.evaluate("return document.documentElement.scrollWidth <= innerWidth")
    phone.screenshot("framing-lists-04-webkit-log-360x640")
    phone.click(".log-table tbody a")  # its framing editor opens by itself
    phone.until(
        "document.querySelector('#framing-editor') && document.querySelector('#framing-editor').open"
    )
    assert "No sheet was found" in phone.text("#framing")

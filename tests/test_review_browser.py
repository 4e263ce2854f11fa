"""The collector's review in real Chromium at Pixel 7: the log (filters, table and grid), the
encounter page's fixes and history, renumbering, and the backlog import's progress."""

from __future__ import annotations

import io
import re
import zipfile
from datetime import UTC, datetime, timedelta

import pytest
from playwright.sync_api import expect

from fieldapp.auth.services import create_collector
from fieldapp.extensions import db
from fieldapp.tickets.services import reserve_tickets
from tests.factories import make_encounter, number_of
from tests.helpers import (
    BROWSER_PASSWORD,
    log_in,
    no_sideways_scroll,
    red_ink_portrait,
    shoot,
    taken_jpeg,
)

pytestmark = pytest.mark.browser
PASSWORD = BROWSER_PASSWORD


@pytest.fixture
def collection(live_app):
    with live_app.app_context():
        create_collector(db.session, "max", PASSWORD)
        db.session.commit()
    start = datetime.now(UTC) - timedelta(days=5)
    places = [("bar", "pool night", "Brooklyn"), ("party", "Julia's birthday", "Queens"),
              ("fair", "zine fair", "Leipzig")]  # fmt: skip
    made = []
    for i in range(9):
        kind, venue, city = places[i % 3]
        made.append(
            make_encounter(
                live_app,
                photo=red_ink_portrait(i),
                started_at=start + timedelta(hours=i * 5),
                venue_type=kind,
                venue=venue,
                city=city,
                credit_name="Ana Lima" if i == 4 else None,
                consent={
                    "version": 1,
                    "keep": True,
                    "gallery": i % 2 == 0,
                    "training": i % 4 == 0,
                    "social": False,
                },
            )  # fmt: skip
        )
    make_encounter(live_app, declined=True, started_at=start + timedelta(hours=2))
    make_encounter(live_app, withdrawn=True, started_at=start + timedelta(hours=3))
    return made


def test_log_filters_and_the_table_grid_toggle(page, live_server, collection):
    log_in(page, live_server)
    page.goto(f"{live_server}/encounters")
    expect(page.locator("table.log-table")).to_be_visible()
    page.get_by_text("Filter and sort").click()
    expect(page.get_by_label("Search occasion, city, notes, credit")).to_be_visible()
    assert no_sideways_scroll(page)
    shoot(page, "log-01-table-filters")

    page.get_by_label("Venue type").select_option("party")
    page.get_by_label("Gallery").select_option("yes")
    page.get_by_role("button", name="Show").click()
    page.wait_for_url(re.compile(r"venue_type=party"))
    assert "gallery=yes" in page.url
    rows = page.locator("table.log-table tbody tr")
    expect(rows).to_have_count(1)  # the party drawings 1, 4, 7: only #7 (index 6) allows gallery
    expect(page.locator("details.filters")).to_have_attribute("open", "")

    page.get_by_role("link", name="Grid").click()
    page.wait_for_url(re.compile(r"view=grid"))
    assert "venue_type=party" in page.url  # the filters stay
    expect(page.locator("ul.log-grid li")).to_have_count(1)
    page.get_by_role("link", name="Clear").click()
    page.wait_for_url(re.compile(r"/encounters\?view=grid$"))
    expect(page.locator("ul.log-grid li")).to_have_count(11)
    page.wait_for_function("() => [...document.images].every(i => i.complete)")
    page.set_viewport_size({"width": 360, "height": 800})
    assert no_sideways_scroll(page)
    page.set_viewport_size({"width": 412, "height": 915})
    shoot(page, "log-02-grid")
    page.get_by_role("link", name="Table").click()
    page.wait_for_url(re.compile(r"/encounters$"))
    expect(page.locator("table.log-table tbody tr")).to_have_count(11)
    page.set_viewport_size({"width": 360, "height": 800})
    assert no_sideways_scroll(page)


def test_edit_renumber_and_history_on_the_encounter_page(page, live_app, live_server, collection):
    log_in(page, live_server)
    target = collection[4]
    number = number_of(live_app, target)
    page.goto(f"{live_server}/encounters/{target}")
    page.get_by_text("Edit the details").click()
    page.get_by_label("City").fill("Manhattan")
    page.get_by_label("Credit name (as the drawer wrote it)").fill("Ana Lima Souza")
    page.locator("#edit-reason").fill("drawer spelled her full name")
    assert no_sideways_scroll(page)
    shoot(page, "log-03-edit-form")
    page.get_by_role("button", name="Save the changes").click()
    expect(page.get_by_text("Saved: city, credit name.")).to_be_visible()
    expect(page.get_by_role("heading", name="Edit history")).to_be_visible()
    expect(page.locator(".revisions")).to_contain_text("Reason: drawer spelled her full name")

    # A taken number is refused, with the reason on the page and nothing changed.
    page.locator("#fix-renumber summary").click()
    page.get_by_label("New number").fill("1")
    page.locator("#renumber-reason").fill("number on the back is 1")
    page.locator("#fix-renumber").get_by_role("button", name="Renumber").click()
    expect(page.get_by_role("alert")).to_contain_text("#1 is already taken by another drawing")
    expect(page.locator("details#fix-renumber")).to_have_attribute("open", "")
    assert no_sideways_scroll(page)
    shoot(page, "log-03-renumber-refused")
    page.get_by_label("If another drawing has this number, swap the two numbers").check()
    page.locator("#renumber-reason").fill("number on the back is 1")
    page.locator("#fix-renumber").get_by_role("button", name="Renumber").click()
    expect(
        page.get_by_text(f"Swapped: this drawing is now #1, the other #{number}.")
    ).to_be_visible()
    expect(page.get_by_role("heading", name="Drawing #1")).to_be_visible()
    page.wait_for_function("() => document.querySelector('img.drawing').complete")
    assert no_sideways_scroll(page)
    shoot(page, "log-04-edit-history")


def test_attaching_a_ticket_from_a_phones_stock_is_refused_on_the_page(
    page, live_app, live_server, collection
):
    with live_app.app_context():
        (stocked,) = reserve_tickets(db.session, 1, None)  # on a phone, for the next drawer
        number = stocked.number
        db.session.commit()
    log_in(page, live_server)
    page.goto(f"{live_server}/encounters/{collection[2]}")
    page.locator("#fix-ticket summary").click()
    page.get_by_label("Number on the printed ticket").fill(str(number))
    page.locator("#attach-reason").fill("drawer holds this label")
    page.get_by_role("button", name="Attach the printed ticket").click()
    expect(page.get_by_role("alert")).to_contain_text(
        f"Ticket #{number} was not printed on a ticket sheet"
    )
    expect(page.locator("details#fix-ticket")).to_have_attribute("open", "")
    assert no_sideways_scroll(page)
    shoot(page, "log-03-attach-refused")


def photo_zip() -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        archive.writestr("old/IMG_0101.jpg", taken_jpeg("2019:08:01 21:30:00", (180, 40, 40)))
        archive.writestr("old/IMG_0102.jpg", taken_jpeg("2019:08:01 21:45:00", (40, 180, 40)))
    return out.getvalue()


def test_backlog_import_shows_progress_and_the_outcome(page, live_server, collection, tmp_path):
    files = []
    for i, when in enumerate(["2019:08:01 20:10:00", "2019:08:01 19:50:00", None, None]):
        path = tmp_path / f"scan-{i}.jpg"
        path.write_bytes(taken_jpeg(when, (30 * i, 90, 150)) if when else red_ink_portrait(40 + i))
        files.append(path)
    (tmp_path / "scan-dup.jpg").write_bytes(files[0].read_bytes())
    (tmp_path / "broken.jpg").write_bytes(b"\xff\xd8\xff this is not a jpeg")
    (tmp_path / "older.zip").write_bytes(photo_zip())
    files += [tmp_path / "scan-dup.jpg", tmp_path / "broken.jpg", tmp_path / "older.zip"]

    log_in(page, live_server)
    page.goto(f"{live_server}/encounters/import")
    # Every collector page keeps the phone's ticket stock full: let it take its numbers first, or
    # the import skips the ones it reserves meanwhile (as it should).
    for _ in range(120):
        if page.evaluate("async () => (await FieldStore.listTickets()).length === 10"):
            break
        page.wait_for_timeout(250)
    page.get_by_label("First number").fill("100")
    page.get_by_label("Date drawn").fill("2019-08-01")
    page.get_by_label("Venue type").select_option("party")
    page.get_by_label("Occasion").fill("summer party")
    page.get_by_label("City").fill("Lisbon")
    page.get_by_label("Photos, or a zip of photos").set_input_files(files)

    # Hold the third upload so that the page can be seen mid-way.
    held = []

    def hold_third(route):
        held.append(route)
        if len(held) != 3:
            route.continue_()

    page.route("**/encounters/import/file", hold_third)
    page.get_by_role("button", name="Import").click()
    expect(page.locator("#import-count")).to_contain_text("3 of 7")
    expect(page.locator("#import-outcomes li")).to_have_count(2)
    shoot(page, "log-05-import-during")
    held[2].continue_()

    expect(page.locator("#import-summary")).to_have_text("6 imported, 1 already there, 1 refused.")
    texts = page.locator("#import-outcomes li").all_inner_texts()
    # Capture time first (19:50, 20:10, its duplicate), then by name; the zip last.
    assert [t.split(": ")[0] for t in texts] == [
        "scan-1.jpg", "scan-0.jpg", "scan-dup.jpg", "broken.jpg", "scan-2.jpg", "scan-3.jpg",
        "older.zip/old/IMG_0101.jpg", "older.zip/old/IMG_0102.jpg",
    ]  # fmt: skip
    numbers = [int(n) for n in re.findall(r"Imported as #(\d+)", " ".join(texts))]
    assert numbers == [100, 101, 102, 103, 104, 105]
    assert any("broken.jpg: This file is not a photo" in t for t in texts)
    assert any("scan-dup.jpg: Already imported as #" in t for t in texts)
    assert no_sideways_scroll(page)
    shoot(page, "log-06-import-after")
    page.get_by_role("link", name="See them in the log").last.click()
    page.wait_for_url(re.compile(r"/encounters$"))
    expect(page.locator("table.log-table")).to_contain_text("summer party")

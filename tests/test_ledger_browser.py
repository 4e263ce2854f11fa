"""The ledger and the diary in real Chromium on a Pixel 7: they fit the screen, and they are
photographed for review (test-artifacts/screens/ledger-*.png)."""

from __future__ import annotations

import random
import re
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from playwright.sync_api import expect

from fieldapp.auth.services import create_collector
from fieldapp.diary.services import save_entry
from fieldapp.encounters.models import VENUE_TYPES
from fieldapp.extensions import db
from tests.factories import make_encounter, number_of, small_jpeg

pytestmark = pytest.mark.browser
SCREENS = Path(__file__).resolve().parent.parent / "test-artifacts" / "screens"
PASSWORD = "a long field password"


def shoot(page, name: str) -> None:
    SCREENS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENS / f"ledger-{name}.png"), full_page=True)


def fits_the_screen(page) -> bool:
    return page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")


@pytest.fixture
def season(live_app):
    """Four months of evenings out: drawings, declines, one withdrawal, a credited drawer."""
    rng = random.Random(5)
    now = datetime.now(UTC)
    for _ in range(70):
        started = now - timedelta(days=rng.uniform(0, 120), hours=rng.uniform(0, 6))
        started = started.astimezone(
            __import__("datetime").timezone(timedelta(hours=rng.choice((-5, 1, 2))))
        )
        venue = rng.choice(VENUE_TYPES[:5])
        if rng.random() < 0.3:
            make_encounter(live_app, declined=True, started_at=started, venue_type=venue)
            continue
        minutes = rng.choice((1, 2, 3, 5))
        make_encounter(
            live_app,
            started_at=started,
            venue_type=venue,
            time_limit_seconds=minutes * 60,
            drawing_started_at=(started + timedelta(minutes=1.5)).isoformat(),
            drawing_finished_at=(started + timedelta(minutes=1.5 + minutes)).isoformat(),
        )
    credited = make_encounter(live_app, photo=small_jpeg(), credit_name="Ana Credited")
    make_encounter(live_app, photo=small_jpeg((0, 0, 200)), withdrawn=True)
    with live_app.app_context():
        create_collector(db.session, "max", PASSWORD)
        db.session.commit()
    return number_of(live_app, credited)


def log_in(page, live_server, target: str) -> None:
    page.goto(live_server + target)
    page.get_by_label("Username").fill("max")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(live_server + target)


def test_ledger_pages_on_a_phone(page, live_server, season):
    page.goto(live_server + "/ledger/public")
    expect(page.get_by_role("heading", name="The labor ledger")).to_be_visible()
    assert fits_the_screen(page)
    assert page.locator("svg[role=img]").count() == 3
    page.get_by_text("Drawings per week, last 26 weeks as a table").click()
    expect(page.locator("#chart-weeks-caption + svg + details table")).to_be_visible()
    shoot(page, "public")

    log_in(page, live_server, "/ledger")
    assert fits_the_screen(page)
    assert page.locator("svg[role=img]").count() == 5
    page.get_by_label("Goal (drawings)").fill("500")
    page.get_by_role("button", name="Save goal").click()
    page.wait_for_url(live_server + "/ledger")
    expect(page.locator(".flash")).to_have_text("Goal set to 500 drawings.")
    expect(page.locator(".ledger-count .count")).to_contain_text("of 500 drawings")
    shoot(page, "collector")


def test_diary_on_a_phone(page, live_server, live_app, season):
    with live_app.app_context():
        save_entry(db.session, None, entry_date=date.today() - timedelta(days=1),
                   title="Fair, second day", public=True,
                   body=(f"Eleven people drew today. **#{season}** let me show her drawing.\n\n"
                         "A man in a green coat said no, then came back an hour later:\n\n"
                         "> I wanted to see if you were still asking.\n\n"
                         "Read more in the [pamphlet](/pamphlet)."))  # fmt: skip
        save_entry(db.session, None, entry_date=date.today(), title="Private note",
                   body="Tired. Hands cold.", public=False)  # fmt: skip
    page.goto(live_server + "/diary")
    expect(page.locator(".diary-entry")).to_have_count(1)
    expect(page.get_by_role("link", name=f"#{season}")).to_have_attribute(
        "href", f"/gallery/{season}"
    )
    assert "Ana Credited" not in page.content()
    assert fits_the_screen(page)
    shoot(page, "diary")

    log_in(page, live_server, "/diary/manage")
    expect(page.locator(".diary-list li")).to_have_count(2)
    page.get_by_role("link", name="New entry").click()
    page.get_by_label("Title (optional)").fill("Late train")
    page.get_by_label("Entry (Markdown)").fill("Two drawings on the last train. See #1.")
    page.get_by_label("Public: show it on the diary page").check()
    assert fits_the_screen(page)
    shoot(page, "diary-editor")
    page.get_by_role("button", name="Save entry").click()
    page.wait_for_url(re.compile(r"/diary/manage$"))
    expect(page.locator(".diary-list li")).to_have_count(3)

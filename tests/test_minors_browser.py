"""A minor's drawing on the collector's phone (real Chromium at Pixel 7): the encounter page
says minor, and one form records a guardian's agreement, after which the gallery shows it."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from fieldapp.auth.services import create_collector
from fieldapp.extensions import db
from tests.factories import make_encounter, number_of
from tests.helpers import no_sideways_scroll, red_ink_portrait, shoot

pytestmark = pytest.mark.browser
PASSWORD = "a long field password"
GALLERY_ONLY = {"version": 1, "keep": True, "gallery": True, "training": False, "social": False}


def test_the_collector_records_a_guardians_agreement_on_the_phone(page, live_app, live_server):
    with live_app.app_context():
        create_collector(db.session, "max", PASSWORD)
        db.session.commit()
    minor = make_encounter(
        live_app, photo=red_ink_portrait(3), consent=GALLERY_ONLY, age_group="minor"
    )
    number = number_of(live_app, minor)
    page.goto(f"{live_server}/login")
    page.get_by_label("Username").fill("max")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(re.compile(r"/$"))

    page.goto(f"{live_server}/gallery")
    expect(page.locator(f'a[href="/gallery/{number}"]')).to_have_count(0)

    page.goto(f"{live_server}/encounters/{minor}")
    expect(page.locator('[data-field="age-group"]')).to_contain_text("minor")
    button = page.get_by_role("button", name="A parent or guardian agreed")
    button.scroll_into_view_if_needed()
    button.click()  # no reason yet: refused, with the reason why
    expect(page.get_by_text("Say who agreed and how")).to_be_visible()
    shoot(page, "minor-01-guardian-refused")
    page.get_by_label("Who agreed, and how").fill("her mother, in person at the fair")
    page.get_by_role("button", name="A parent or guardian agreed").click()
    expect(page.get_by_text("Recorded: a parent or guardian agreed.")).to_be_visible()
    expect(page.locator('[data-field="age-group"]')).to_contain_text(
        "a parent or guardian agreed to the gallery"
    )
    assert no_sideways_scroll(page)
    shoot(page, "minor-02-guardian-agreed")

    page.goto(f"{live_server}/gallery")
    expect(page.locator(f'a[href="/gallery/{number}"]')).to_have_count(1)

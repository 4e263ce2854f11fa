"""The collector withdrawing a drawing at its drawer's request, in real Chromium at Pixel 7 size
and on a 360×640 screen: the way in from the encounter page, the confirmation, the tombstone."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from fieldapp.auth.services import create_collector
from fieldapp.extensions import db
from tests.factories import make_encounter, number_of, small_jpeg, token_of
from tests.helpers import no_sideways_scroll, shoot

pytestmark = pytest.mark.browser
PASSWORD = "a long field password"


@pytest.mark.parametrize("screen", ["pixel7", "360x640"])
def test_the_collector_withdraws_for_the_drawer_with_a_reason(page, live_app, live_server, screen):
    if screen == "360x640":
        page.set_viewport_size({"width": 360, "height": 640})
    with live_app.app_context():
        create_collector(db.session, "max", PASSWORD)
        db.session.commit()
    drawing = make_encounter(live_app, photo=small_jpeg(), credit_name="Ana Lima")
    number, token = number_of(live_app, drawing), token_of(live_app, drawing)
    page.goto(f"{live_server}/login")
    page.get_by_label("Username").fill("max")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(re.compile(r"/$"))

    page.goto(f"{live_server}/encounters/{drawing}")
    assert no_sideways_scroll(page)
    shoot(page, f"withdraw-00-encounter-page-{screen}")
    page.get_by_role("link", name="Withdraw for the drawer…").click()
    expect(
        page.get_by_role("heading", name=f"Withdraw drawing #{number} for its drawer?")
    ).to_be_visible()
    expect(page.get_by_role("link", name="No, keep it")).to_be_visible()
    assert no_sideways_scroll(page)
    shoot(page, f"withdraw-01-collector-confirm-{screen}")

    # Without a reason: refused, with the reason on screen, and nothing withdrawn.
    page.get_by_role("button", name="Withdraw and delete it").click()
    expect(page.get_by_text("Say how they asked: the history keeps it.")).to_be_visible()
    assert page.request.get(f"{live_server}/p/{token}/drawing.jpg").status == 200
    shoot(page, f"withdraw-02-collector-no-reason-{screen}")

    page.get_by_label("How did the drawer ask?").fill("asked in person at the zine fair")
    page.get_by_role("button", name="Withdraw and delete it").click()
    expect(page).to_have_url(f"{live_server}/encounters/{drawing}")
    expect(page.get_by_text(f"Drawing #{number} is withdrawn")).to_be_visible()
    expect(page.locator(".history li").last).to_contain_text("asked in person at the zine fair")
    assert page.locator("img.drawing").count() == 0
    assert "Ana Lima" not in page.content()
    assert no_sideways_scroll(page)
    shoot(page, f"withdraw-03-collector-tombstone-{screen}")
    assert page.request.get(f"{live_server}/p/{token}/drawing.jpg").status == 410

"""A drawer changes their mind in real Chromium (Pixel 7): a choice, then withdrawal."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from playwright.sync_api import expect

from fieldapp.auth.services import create_collector
from fieldapp.extensions import db
from tests.factories import make_encounter, number_of, stored_files, token_of
from tests.helpers import no_sideways_scroll, red_ink_portrait, shoot

pytestmark = pytest.mark.browser
PASSWORD = "a long field password"


def test_participant_changes_a_choice_and_withdraws(page, live_app, live_server):
    start = datetime.now(UTC) - timedelta(days=3)
    with live_app.app_context():
        create_collector(db.session, "max", PASSWORD)
        db.session.commit()
    for seed, name in enumerate(["Ana Lima", None, "Sam K."]):
        make_encounter(
            live_app,
            photo=red_ink_portrait(seed),
            credit_name=name,
            started_at=start + timedelta(hours=seed),
        )
    drawer = make_encounter(
        live_app, photo=red_ink_portrait(9), credit_name="Julia R.", started_at=start
    )
    token, number = token_of(live_app, drawer), number_of(live_app, drawer)
    assert len(stored_files(live_app)) == 12

    # The drawer opens their link: drawing, facts, choices, and the way out.
    response = page.goto(f"{live_server}/p/{token}")
    assert response.headers["referrer-policy"] == "no-referrer"
    expect(page.get_by_role("heading", name=f"Drawing #{number}")).to_be_visible()
    choices = page.locator(".choice-summary li")
    expect(choices.filter(has_text="Show it in the public gallery")).to_contain_text("Yes")
    expect(choices.filter(has_text="Allow posting it on social media")).to_contain_text("No")
    assert no_sideways_scroll(page)
    shoot(page, "consent-01-participant")

    # A choice changes, one tap away, by a real form post (no JavaScript needed).
    page.get_by_role("link", name="Change my choices").click()
    assert page.get_by_label("Show it in the public gallery").is_checked()
    assert no_sideways_scroll(page)
    shoot(page, "consent-01b-choices")
    page.get_by_label("Allow posting it on social media").check()
    page.get_by_label("Stay anonymous (your name is erased)").check()
    page.get_by_role("button", name="Save my choices").click()
    expect(page.get_by_text("Saved. Your new choices apply from now on.")).to_be_visible()
    expect(page).to_have_url(f"{live_server}/p/{token}")
    expect(choices.filter(has_text="Allow posting it on social media")).to_contain_text("Yes")
    assert "Julia R." not in page.content()

    # Withdrawal asks first, then deletes.
    page.get_by_role("link", name="Withdraw my drawing…").click()
    expect(page.get_by_role("heading", name=f"Withdraw drawing #{number}?")).to_be_visible()
    assert no_sideways_scroll(page)
    shoot(page, "consent-02-withdraw-confirm")
    page.get_by_role("button", name="Yes, withdraw and delete it").click()
    expect(page).to_have_url(f"{live_server}/p/{token}")
    expect(page.get_by_role("heading", name="Withdrawn")).to_be_visible()
    assert page.locator("img").count() == 0
    shoot(page, "consent-03-tombstone")
    assert len(stored_files(live_app)) == 9  # its three files are gone, the others stay

    # The public gallery: the other three, newest first, not the withdrawn one.
    page.goto(f"{live_server}/gallery")
    captions = page.locator(".gallery-grid .caption strong").all_inner_texts()
    assert captions == ["#3", "#2", "#1"] and f"#{number}" not in captions
    page.wait_for_function(
        "() => [...document.querySelectorAll('.gallery-grid img')].every(i => i.complete)"
    )
    assert no_sideways_scroll(page)
    shoot(page, "consent-04-gallery")
    page.get_by_role("link", name="Drawing #1, by Ana Lima").click()
    expect(page.get_by_role("heading", name="Drawing #1")).to_be_visible()
    page.wait_for_function("() => document.querySelector('img.drawing').complete")
    shoot(page, "consent-05-gallery-item")

    # The collector's consent settings.
    page.goto(f"{live_server}/login")
    page.get_by_label("Username").fill("max")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.goto(f"{live_server}/settings/consent")
    expect(page.get_by_role("heading", name="Consent text")).to_be_visible()
    assert no_sideways_scroll(page)
    shoot(page, "consent-06-settings")

    # The collector's log shows the tombstone; its page, the whole history.
    page.goto(f"{live_server}/encounters")
    page.get_by_role("link", name=f"#{number}").click()
    expect(page.get_by_role("heading", name="Consent history")).to_be_visible()
    assert page.locator(".history li").count() == 3  # grant, change, withdraw
    shoot(page, "consent-07-history")

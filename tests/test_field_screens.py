"""What the collector's screens say, in real Chromium and real WebKit: the outbox's state in the
header, the home screen's count, "Send now", logging out, installing, and an old venue."""

from __future__ import annotations

import pytest

from tests.field_phone import FieldFlow, check_console, open_field

pytestmark = pytest.mark.browser
ENGINES = ["chromium", pytest.param("webkit", marks=pytest.mark.webkit)]
PILL = "document.getElementById('sync-status').textContent"


@pytest.fixture(params=ENGINES)
def field(request, server, net_proxy) -> FieldFlow:
    flow = open_field(request, request.param, server, net_proxy)
    yield flow
    check_console(flow)


def shoot(field: FieldFlow, name: str, full_page: bool = False) -> None:
    field.phone.screenshot(f"screens-{field.engine}-{name}", full_page=full_page)


def texts(field: FieldFlow) -> dict:
    return field.phone.evaluate(
        """const t = (id) => document.getElementById(id).textContent.trim();
           return {drawings: t('home-drawings'), approaches: t('home-approaches'),
                   waiting: t('home-waiting'), pill: t('sync-status'),
                   send_now: !document.getElementById('send-now-header').hidden};"""
    )


def test_the_home_screen_and_the_header_say_what_is_on_the_phone(field, net_proxy):
    phone = field.phone
    phone.go("/")
    # In a browser tab (not installed), the app says once why to add it to the home screen.
    phone.wait_visible("#install-hint")
    shoot(field, "home-install-hint", full_page=True)
    field.tap_text("Got it")
    phone.until("async () => Boolean(await FieldStore.getMeta('install_hint_seen'))")
    phone.go("/")
    phone.until(f"{PILL} === 'All sent'")
    assert not phone.visible("#install-hint")
    assert texts(field) == {
        "drawings": "0", "approaches": "0 approaches logged", "waiting": "", "pill": "All sent",
        "send_now": False,
    }  # fmt: skip

    # No network: a declined approach counts at once, and the header says it waits.
    net_proxy.set_mode("drop")
    field.tap_text("Declined")
    field.tap_text("Yes, log it")
    phone.until("document.getElementById('home-approaches').textContent === '1 approach logged'")
    phone.until(f"{PILL}.startsWith('No network · 1 waiting')", timeout=15)
    now = texts(field)
    assert now["waiting"] == ", 1 of them still on this phone" and now["send_now"]
    shoot(field, "home-waiting")

    # Logging out asks first, and says what stays on the phone.
    phone.click("form[data-logout] button")
    phone.wait_visible("#logout-dialog")
    assert "1 encounter is still on this phone" in phone.text("#logout-waiting")
    shoot(field, "logout-asks")
    field.tap_text("Stay logged in")
    assert not phone.visible("#logout-dialog") and phone.path == "/"

    # The network is back: "Send now" sends it, the count moves from the phone to the server.
    net_proxy.set_mode("pass")
    field.tap_text("Send now")
    phone.until(f"{PILL} === 'All sent'")
    phone.until("document.getElementById('home-waiting').textContent === ''")
    assert texts(field)["approaches"] == "1 approach logged"
    assert not texts(field)["send_now"]
    assert field.server_count("status = 'declined'") == 1

    # A drawing saved on the phone counts on the home screen as soon as the artist is back.
    net_proxy.set_mode("drop")
    field.make_encounter(None, first=True, name=None)
    field.tap_text("Home")
    # The page comes from the phone's cache, older than the count the phone last heard: the
    # count settles on the server's last word plus what waits on the phone.
    phone.until(
        "document.getElementById('home-drawings').textContent === '1'"
        " && document.getElementById('home-approaches').textContent === '2 approaches logged'"
    )
    net_proxy.set_mode("pass")
    phone.until(f"{PILL} === 'All sent'", timeout=30)
    phone.until("document.getElementById('home-waiting').textContent === ''")
    assert texts(field)["drawings"] == "1"

    phone.click("form[data-logout] button")
    phone.wait_visible("#logout-dialog")
    assert phone.text("#logout-waiting") == "Nothing is waiting on this phone."
    field.tap("#logout-dialog button[value=logout]")
    phone.until("location.pathname === '/login'")


def test_a_venue_from_yesterday_is_offered_not_assumed(field):
    phone = field.phone
    thirteen_hours_ago = "Date.now() - 13 * 3600 * 1000"  # the phone's clock: the room's
    phone.evaluate_async(
        f"""await FieldStore.setMeta("last_venue", {{venue_type: "bar", venue: "Pool night",
                                                     city: "Brooklyn", at: {thirteen_hours_ago}}});"""
    )
    phone.go("/encounters/new")
    phone.wait_visible("#venue-offer")
    assert "bar, Pool night, Brooklyn" in phone.text("#venue-offer-place")
    assert "13 h ago" in phone.text("#venue-offer-age")
    assert not phone.visible("#venue-fields")
    shoot(field, "venue-offered")
    field.tap_text("Still here")  # one tap keeps it
    phone.wait_visible("#h-consent")
    assert field.value("venue") == "Pool night"

    # Another day, another place: one tap to change it.
    phone.evaluate_async("await FieldStore.clearDraft();")
    phone.evaluate("window.FieldApp.leaving = true;")
    phone.go("/encounters/new")
    phone.wait_visible("#venue-offer")
    field.tap_text("Somewhere else")
    assert phone.visible("#venue-fields")
    assert field.value("venue") == ""
    phone.fill("#venue", "Julia's birthday")
    field.tap_text("Confirm venue")
    phone.wait_visible("#h-consent")

    # The home screen's "Declined" asks the same question.
    phone.evaluate("window.FieldApp.leaving = true;")
    phone.go("/")
    field.tap_text("Declined")
    phone.wait_visible("#declined-age")
    assert "Still there?" in phone.text("#declined-age")
    field.tap_text("Somewhere else?")
    phone.fill("#declined-occasion", "Street fair")
    field.tap_text("Yes, log it here")
    phone.until("document.getElementById('declined-done').textContent.includes('Street fair')")
    assert "Street fair" in phone.evaluate_async(
        "return (await FieldStore.getMeta('last_venue')).venue;"
    )

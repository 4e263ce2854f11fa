"""The collector's withdrawal at the drawer's request on the artist's phone, in Chromium and in
real WebKit (Safari's engine), through the test proxy on 127.0.0.1."""

from __future__ import annotations

import pytest

from tests.factories import make_encounter, number_of, small_jpeg, token_of
from tests.field_phone import FieldFlow, check_console, open_field

pytestmark = pytest.mark.browser
ENGINES = ["chromium", pytest.param("webkit", marks=pytest.mark.webkit)]


@pytest.fixture(params=ENGINES)
def field(request, server, net_proxy) -> FieldFlow:
    flow = open_field(request, request.param, server, net_proxy)
    yield flow
    check_console(flow)


def test_the_collector_withdraws_for_the_drawer_on_the_phone(field, server):
    drawing = make_encounter(server.app, photo=small_jpeg(), credit_name="Ana Lima")
    number, token = number_of(server.app, drawing), token_of(server.app, drawing)
    phone = field.phone
    phone.resize(360, 640)
    phone.go(f"/encounters/{drawing}")
    field.tap_text("Withdraw for the drawer…")
    phone.until(f"location.pathname === '/encounters/{drawing}/withdraw'")
    field.tap_text("Withdraw and delete it")  # no reason yet: refused, nothing withdrawn
    phone.until("document.body.innerText.includes('Say how they asked: the history keeps it.')")
    phone.fill_label("How did the drawer ask?", "asked in person at the fair")
    field.tap_text("Withdraw and delete it")
    phone.until(f"location.pathname === '/encounters/{drawing}'")
    phone.until(f"document.body.innerText.includes('Drawing #{number} is withdrawn')")
    assert phone.evaluate("return document.querySelectorAll('img.drawing').length") == 0
    assert phone.evaluate("return document.body.innerText.includes('Ana Lima')") is False
    phone.screenshot(f"withdraw-{field.engine}-collector-tombstone-360x640")
    status = phone.evaluate_async(
        "return (await fetch(arguments[0])).status", f"/p/{token}/drawing.jpg"
    )
    assert status == 410

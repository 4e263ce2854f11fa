"""The compact QR SVG (one subpath per run of modules) as Chromium draws it still decodes."""

from __future__ import annotations

import io

import pytest
from PIL import Image

from tests.factories import make_encounter, small_jpeg, token_of
from tests.helpers import decode_qr


@pytest.mark.browser
def test_the_qr_svg_drawn_by_chromium_decodes_to_the_link(live_app, live_server, page):
    token = token_of(live_app, make_encounter(live_app, photo=small_jpeg()))
    page.set_viewport_size({"width": 360, "height": 360})
    page.goto(f"{live_server}/p/{token}/qr.svg")
    image = Image.open(io.BytesIO(page.screenshot()))
    page.screenshot(path="test-artifacts/screens/ops-qr.png")
    assert decode_qr(image) == f"{live_server}/p/{token}"

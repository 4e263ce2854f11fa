"""What a participant sees from their QR code, and what the token does not open."""

from __future__ import annotations

import io
import re
from datetime import UTC, datetime

import pytest
from PIL import Image

from tests.factories import make_encounter, small_jpeg
from tests.helpers import decode_qr

pyzbar = pytest.importorskip("pyzbar.pyzbar", reason="libzbar0 is needed to decode QR codes")


def token_of(app, client_uuid: str) -> str:
    from fieldapp.encounters.services import encounter_by_uuid
    from fieldapp.extensions import db

    with app.app_context():
        return encounter_by_uuid(db.session, client_uuid).token


def test_participant_page_shows_drawing_number_date_limit_credit_and_pamphlet(app, client):
    client_uuid = make_encounter(
        app,
        photo=small_jpeg(),
        credit={"name": "Ana Lima"},
        time_limit_seconds=180,
        started_at=datetime(2026, 5, 20, 21, 30, tzinfo=UTC),
    )
    token = token_of(app, client_uuid)
    page = client.get(f"/p/{token}")
    assert page.status_code == 200
    assert page.headers["Referrer-Policy"] == "no-referrer"
    assert "noindex" in page.headers["X-Robots-Tag"]
    html = page.text
    assert "Drawing #1" in html
    assert "20 May 2026" in html
    assert "3 min" in html
    assert "Ana Lima" in html
    assert re.search(f'src="/p/{token}/drawing.jpg\\?v=[0-9a-f]{{16}}"', html)
    assert 'href="/pamphlet"' in html
    assert client.get(f"/p/{token}/drawing.jpg").status_code == 200
    assert client.get(f"/p/{token}/thumb.jpg").status_code == 200


def test_anonymous_drawer_is_shown_as_anonymous(app, client):
    token = token_of(app, make_encounter(app, photo=small_jpeg()))
    assert "anonymous" in client.get(f"/p/{token}").text


def test_unknown_token_gets_a_friendly_404_without_referrer(client):
    page = client.get("/p/this-token-does-not-exist")
    assert page.status_code == 404
    assert "scan it again" in page.text
    assert page.headers["Referrer-Policy"] == "no-referrer"
    for suffix in ("qr.svg", "qr.png", "drawing.jpg", "thumb.jpg"):
        assert client.get(f"/p/this-token-does-not-exist/{suffix}").status_code == 404


def test_reserved_ticket_without_upload_says_the_drawing_is_on_its_way(client, api_token):
    ticket = client.post(
        "/api/v1/tickets", json={"count": 1}, headers={"Authorization": f"Bearer {api_token}"}
    ).get_json()["tickets"][0]
    page = client.get(f"/p/{ticket['token']}")
    assert page.status_code == 200
    assert "on its way" in page.text
    assert f"#{ticket['number']}" in page.text
    assert client.get(f"/p/{ticket['token']}/drawing.jpg").status_code == 404


def test_a_token_opens_its_own_drawing_only(app, client):
    first = token_of(app, make_encounter(app, photo=small_jpeg((255, 0, 0))))
    second = token_of(app, make_encounter(app, photo=small_jpeg((0, 0, 255))))
    red = Image.open(io.BytesIO(client.get(f"/p/{first}/drawing.jpg").data)).getpixel((10, 10))
    blue = Image.open(io.BytesIO(client.get(f"/p/{second}/drawing.jpg").data)).getpixel((10, 10))
    assert red[0] > 200 and blue[2] > 200


def test_drawing_of_a_participant_is_not_reachable_without_login_or_token(app, client):
    client_uuid = make_encounter(app, photo=small_jpeg())
    assert client.get(f"/encounters/{client_uuid}/photo/display").status_code == 302


@pytest.mark.parametrize("suffix", ["qr.svg", "qr.png"])
def test_qr_codes_decode_to_the_participant_link(app, client, suffix):
    token = token_of(app, make_encounter(app, photo=small_jpeg()))
    response = client.get(f"/p/{token}/{suffix}")
    assert response.status_code == 200
    assert response.headers["Referrer-Policy"] == "no-referrer"
    if suffix == "qr.png":
        image = Image.open(io.BytesIO(response.data))
        assert image.getpixel((0, 0)) in (255, (255, 255, 255))  # white, opaque margin
    else:
        assert response.mimetype == "image/svg+xml"
        image = render_svg(response.data)
    assert decode_qr(image) == f"http://localhost/p/{token}"


def test_public_url_setting_is_the_base_of_qr_links(app, client):
    token = token_of(app, make_encounter(app, photo=small_jpeg()))
    app.config["PUBLIC_URL"] = "https://drawings.example.org"
    try:
        image = Image.open(io.BytesIO(client.get(f"/p/{token}/qr.png").data))
    finally:
        app.config["PUBLIC_URL"] = None
    assert decode_qr(image) == f"https://drawings.example.org/p/{token}"


def render_svg(svg: bytes) -> Image.Image:
    """Rasterise qrcode's SVG path (rectangles in an M/h/v/z path) without a browser."""
    import re
    import xml.etree.ElementTree as ET

    root = ET.fromstring(svg)
    ns = "{http://www.w3.org/2000/svg}"
    rects = root.findall(f"{ns}rect")
    assert rects and rects[0].get("fill") == "white", (
        "the QR must sit on an opaque white background"
    )
    _x, _y, width, height = (float(v) for v in root.get("viewBox").split())
    scale = 10
    image = Image.new("L", (int(width * scale), int(height * scale)), 255)
    from PIL import ImageDraw

    draw = ImageDraw.Draw(image)
    path = root.find(f"{ns}path").get("d")
    for x, y, run in re.findall(r"M\s*([\d.]+)[ ,]([\d.]+)(?:h([\d.]+))?", path):
        x, y, run = float(x), float(y), float(run or 1)
        # each subpath is a run of `run` dark modules of size 1 (`M x,y h run v1 h-run z`)
        draw.rectangle([x * scale, y * scale, (x + run) * scale - 1, (y + 1) * scale - 1], fill=0)
    return image

"""The server side of the installable app: worker, manifest, icons, offline page, session API."""

from __future__ import annotations

import io
import re
import shutil

from PIL import Image

from fieldapp import create_app
from fieldapp.pwa.icons import ICONS
from tests.conftest import app_config


def test_worker_is_served_from_the_root_never_cached_with_its_precache(client):
    response = client.get("/sw.js")
    assert response.status_code == 200
    assert response.mimetype == "text/javascript"
    assert response.headers["Cache-Control"] == "no-cache"
    source = response.get_data(as_text=True)
    assert re.search(r'const VERSION = "[0-9a-f]{16}";', source)
    for url in (
        "/static/js/capture.js",
        "/static/css/app.css",
        "/offline",
        "/manifest.webmanifest",
    ):
        assert f'"{url}"' in source
        assert client.get(url).status_code == 200, url
    assert '"/encounters/new"' in source
    assert "caches.delete" in source and "skipWaiting" in source and "clients.claim" in source


def test_worker_version_changes_when_a_precached_file_changes(tmp_path, migrated_db):
    static = tmp_path / "static"
    shutil.copytree(create_app(app_config(tmp_path)).static_folder, static)
    shutil.copy(migrated_db, tmp_path / "fieldapp.sqlite3")
    app = create_app(app_config(tmp_path))
    app.static_folder = str(static)
    client = app.test_client()

    def version() -> str:
        return re.search(r'const VERSION = "(\w+)"', client.get("/sw.js").get_data(as_text=True))[1]

    before = version()
    assert version() == before
    with open(static / "js" / "capture.js", "a") as script:
        script.write("\n// changed\n")
    assert version() != before


def test_manifest_makes_the_app_installable(client):
    response = client.get("/manifest.webmanifest")
    assert response.mimetype == "application/manifest+json"
    manifest = response.get_json()
    assert manifest["name"] and manifest["short_name"] == "fieldapp"
    assert manifest["start_url"] == "/" and manifest["scope"] == "/"
    assert manifest["display"] == "standalone"
    assert re.fullmatch(r"#[0-9a-f]{6}", manifest["theme_color"])
    sizes = {(icon["sizes"], icon["purpose"]) for icon in manifest["icons"]}
    assert {("192x192", "any"), ("512x512", "any"), ("512x512", "maskable")} <= sizes
    for icon in manifest["icons"]:
        image = Image.open(io.BytesIO(client.get(icon["src"]).data))
        assert image.format == "PNG"
        assert f"{image.width}x{image.height}" == icon["sizes"]


def test_maskable_icon_is_full_bleed_and_keeps_the_drawing_in_the_safe_zone(client):
    image = Image.open(io.BytesIO(client.get("/icons/icon-maskable-512.png").data)).convert("RGBA")
    assert image.getpixel((0, 0))[3] == 255  # no transparent corners: the launcher cuts the shape
    ink = [
        (x, y)
        for x in range(0, 512, 4)
        for y in range(0, 512, 4)
        if image.getpixel((x, y))[0] > 200 and image.getpixel((x, y))[1] < 150
    ]
    assert ink, "the red drawing is there"
    assert all((x - 256) ** 2 + (y - 256) ** 2 <= (0.4 * 512) ** 2 for x, y in ink)
    any_icon = Image.open(io.BytesIO(client.get("/icons/icon-192.png").data)).convert("RGBA")
    assert any_icon.getpixel((0, 0))[3] == 0  # the "any" icon brings its own rounded corners


def test_unknown_icon_is_404(client):
    assert client.get("/icons/../sw.js").status_code == 404
    assert client.get("/icons/favicon.ico").status_code == 404
    assert set(ICONS) == {"icon-192.png", "icon-512.png", "icon-maskable-512.png"}


def test_offline_page_is_public_and_outbox_is_the_collectors(client, auth):
    offline = client.get("/offline")
    assert offline.status_code == 200 and b"No network" in offline.data
    assert client.get("/outbox").status_code == 302
    auth.create_collector()
    auth.login()
    outbox = client.get("/outbox")
    assert outbox.status_code == 200
    assert b"Outbox" in outbox.data and b'src="/static/js/outbox.js"' in outbox.data


def test_session_gives_a_browser_its_csrf_token_and_nobody_else_anything(client, auth):
    refused = client.get("/api/v1/session")
    assert refused.status_code == 401
    auth.create_collector()
    auth.login()
    body = client.get("/api/v1/session").get_json()
    assert body["collector_id"] >= 1
    # The token it gives works for a session write.
    tickets = client.post(
        "/api/v1/tickets", json={"count": 2}, headers={"X-CSRFToken": body["csrf_token"]}
    )
    assert tickets.status_code == 201


def test_session_with_a_bearer_token_has_no_csrf_token(client, api_token):
    body = client.get("/api/v1/session", headers={"Authorization": f"Bearer {api_token}"})
    assert body.status_code == 200
    assert "csrf_token" not in body.get_json()


def test_collector_pages_load_the_field_app_and_link_the_manifest(client, auth):
    auth.create_collector()
    auth.login()
    home = client.get("/").get_data(as_text=True)
    for script in ("store.js", "sync.js", "app.js", "home.js"):
        assert f'src="/static/js/{script}"' in home
    assert 'rel="manifest" href="/manifest.webmanifest"' in home
    assert 'id="sync-status"' in home

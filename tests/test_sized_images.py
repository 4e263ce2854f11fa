"""Reduced copies of the display image for phones (srcset): made on first request, signed like
every served image, and deleted with the drawing."""

from __future__ import annotations

import io
import re
from html import unescape

import pytest
from PIL import Image

from fieldapp.extensions import db
from fieldapp.media.images import SIZED_WIDTHS, scale_to_width
from fieldapp.media.models import Photo
from fieldapp.media.services import media_store, sized_name, sweep_orphans
from fieldapp.media.xmp import DMI_ALLOWED, DMI_PROHIBITED_AIMLTRAINING
from tests.factories import make_encounter, number_of, stored_files, token_of
from tests.helpers import (
    assert_no_camera_metadata,
    consent,
    jpeg_xmp,
    rights_in,
    withdraw_through_the_page,
)
from tests.photo_corpus import camera_jpeg
from tests.small_disk import small_disk

# A 12 MP phone photo, sideways with GPS: its display image is 1512×2016.
PHOTO = camera_jpeg(orientation=6, gps=True)


def drawing(app, *, training: bool = False, name: str | None = "Ana Lima") -> str:
    credit = {"name": name} if name else {"anonymous": True}
    return make_encounter(app, photo=PHOTO, consent=consent(training=training), credit=credit)


def srcset_of(html: str) -> dict[int, str]:
    """The URLs of the page's drawing in srcset, by width."""
    img = re.search(r'<img class="drawing"[^>]*>', html, re.S).group(0)
    srcset = unescape(re.search(r'srcset="([^"]+)"', img).group(1))
    candidates = [c.strip().rsplit(" ", 1) for c in srcset.split(",")]
    return {int(width.removesuffix("w")): url for url, width in candidates}


def sized_files(app) -> list:
    return [p for p in stored_files(app) if "/sized/" in p.as_posix()]


def test_the_participant_page_offers_reduced_widths_and_loads_the_drawing_first(app, client):
    token = token_of(app, drawing(app))
    html = client.get(f"/p/{token}").text
    img = re.search(r'<img class="drawing"[^>]*>', html, re.S).group(0)
    assert 'fetchpriority="high"' in img and "loading=" not in img
    assert 'width="1512" height="2016"' in img
    assert 'sizes="' in img
    urls = srcset_of(html)
    assert sorted(urls) == [*SIZED_WIDTHS, 1512]
    for width in SIZED_WIDTHS:
        assert re.fullmatch(
            rf"/p/{token}/drawing.jpg\?(w={width}&v=[0-9a-f]{{16}}|v=[0-9a-f]{{16}}&w={width})",
            urls[width],
        )
    assert re.fullmatch(rf"/p/{token}/drawing.jpg\?v=[0-9a-f]{{16}}", urls[1512])


@pytest.mark.parametrize("width", SIZED_WIDTHS)
def test_a_reduced_copy_is_that_wide_signed_and_without_camera_metadata(app, client, width):
    token = token_of(app, drawing(app, training=True, name="Ana Lima"))
    url = srcset_of(client.get(f"/p/{token}").text)[width]
    response = client.get(url)
    assert response.status_code == 200 and response.mimetype == "image/jpeg"
    image = Image.open(io.BytesIO(response.data))
    assert image.size == (width, round(2016 * width / 1512))
    assert_no_camera_metadata(response.data)
    assert rights_in(jpeg_xmp(response.data)) == (DMI_ALLOWED, ["Ana Lima"])
    assert response.headers["tdm-reservation"] == "0"
    assert "immutable" in response.headers["Cache-Control"]
    assert "private" in response.headers["Cache-Control"]
    # Made once, kept under the display file's name, served again as it is.
    assert len(sized_files(app)) == 1
    again = client.get(url)
    assert again.data == response.data
    assert again.headers["ETag"] == response.headers["ETag"]
    full = client.get(srcset_of(client.get(f"/p/{token}").text)[1512])
    assert full.headers["ETag"] != response.headers["ETag"]
    assert len(sized_files(app)) == 1


def test_an_anonymous_drawers_reduced_copy_names_no_one_and_reserves(app, client):
    token = token_of(app, drawing(app, training=False, name=None))
    data = client.get(f"/p/{token}/drawing.jpg?w=720").data
    assert rights_in(jpeg_xmp(data)) == (DMI_PROHIBITED_AIMLTRAINING, [])


@pytest.mark.parametrize("width", ["100", "1512", "4000", "0", "-720"])
def test_a_width_not_offered_is_a_404_and_writes_nothing(app, client, width):
    token = token_of(app, drawing(app))
    assert client.get(f"/p/{token}/drawing.jpg?w={width}").status_code == 404
    assert client.get(f"/p/{token}/thumb.jpg?w=720").status_code == 404
    assert sized_files(app) == []


def test_withdrawal_deletes_the_reduced_copies_with_the_photo(app, client):
    token = token_of(app, drawing(app))
    for width in SIZED_WIDTHS:
        assert client.get(f"/p/{token}/drawing.jpg?w={width}").status_code == 200
    assert len(sized_files(app)) == len(SIZED_WIDTHS)
    assert withdraw_through_the_page(client, token).status_code == 302
    assert stored_files(app) == []
    for width in SIZED_WIDTHS:
        assert client.get(f"/p/{token}/drawing.jpg?w={width}").status_code == 410
    assert stored_files(app) == []


def test_a_copy_requested_after_the_photo_is_gone_is_not_written(app):
    """The request found the photo, the withdrawal committed before the copy was written."""
    from fieldapp.media.services import sized_display

    client_uuid = drawing(app)
    with app.app_context():
        photo = db.session.query(Photo).one()
        store = media_store()
        display_name = photo.display_name
        stale = Photo(display_name=display_name, display_width=photo.display_width)
        db.session.delete(photo)
        db.session.commit()
        assert sized_display(db.session, store, stale, 720) is None
        assert not store.path(sized_name(display_name, 720)).exists()
    assert number_of(app, client_uuid)


def test_the_gallery_item_page_offers_reduced_widths_too(app, client):
    number = number_of(app, drawing(app))
    html = client.get(f"/gallery/{number}").text
    urls = srcset_of(html)
    assert sorted(urls) == [*SIZED_WIDTHS, 1512]
    response = client.get(urls[1080])
    assert response.status_code == 200
    assert Image.open(io.BytesIO(response.data)).width == 1080


def test_sweep_keeps_the_copies_of_a_kept_photo_and_removes_stray_ones(app, client):
    token = token_of(app, drawing(app))
    assert client.get(f"/p/{token}/drawing.jpg?w=720").status_code == 200
    stray = media_store_path(app, "sized/ab/" + "ab" * 32 + "-720w.jpg")
    stray.parent.mkdir(parents=True, exist_ok=True)
    stray.write_bytes(b"left by a crash")
    with app.app_context():
        removed = sweep_orphans(db.session, media_store())
    assert removed == ["sized/ab/" + "ab" * 32 + "-720w.jpg"]
    assert len(sized_files(app)) == 1


def media_store_path(app, name: str):
    with app.app_context():
        return media_store().path(name)


def test_scale_to_width_refuses_to_enlarge():
    display = io.BytesIO()
    Image.new("RGB", (600, 800), "white").save(display, "JPEG")
    with pytest.raises(ValueError, match="not smaller"):
        scale_to_width(display.getvalue(), 720)
    assert scale_to_width(display.getvalue(), 300).height == 400


# A full disk -------------------------------------------------------------------------------


@pytest.fixture
def media_on_a_small_disk(app, tmp_path):
    """The app's media folder on a 32 MB tmpfs (root only: `mount`)."""
    with small_disk(tmp_path / "media-disk", "32m") as disk:
        app.config["MEDIA_DIR"] = str(disk.root)
        yield disk


def cache_directives(response) -> set[str]:
    return {d.strip() for d in response.headers["Cache-Control"].split(",")}


@pytest.mark.parametrize("page", ["participant", "gallery"])
def test_a_full_disk_serves_the_display_image_in_place_of_a_reduced_copy(
    app, client, media_on_a_small_disk, page
):
    """The reduced copies are made on first request; with the disk full that made a 507 for
    every phone, though the display image was there to serve."""
    client_uuid = drawing(app, training=True, name="Ana Lima")
    path = f"/p/{token_of(app, client_uuid)}" if page == "participant" else (
        f"/gallery/{number_of(app, client_uuid)}"
    )  # fmt: skip
    urls = srcset_of(client.get(path).text)
    display = client.get(urls[1512])
    assert display.status_code == 200
    media_on_a_small_disk.fill()
    media_on_a_small_disk.assert_full()

    for width in SIZED_WIDTHS:
        response = client.get(urls[width])
        assert response.status_code == 200, response.status_code
        assert response.mimetype == "image/jpeg"
        assert response.data == display.data  # the display image, signed the same way
        assert Image.open(io.BytesIO(response.data)).size == (1512, 2016)
        assert rights_in(jpeg_xmp(response.data)) == (DMI_ALLOWED, ["Ana Lima"])
        assert response.headers["tdm-reservation"] == "0"
        # Not kept for a year under the reduced copy's URL: asked again, the copy replaces it.
        assert cache_directives(response) == {"private", "no-cache"}
        assert response.headers["ETag"] == display.headers["ETag"]
        assert "Retry-After" not in response.headers
    assert sized_files(app) == []
    assert not [p for p in stored_files(app) if p.name.startswith(".incoming-")]

    media_on_a_small_disk.free()  # the administrator makes room
    again = client.get(urls[720], headers={"If-None-Match": display.headers["ETag"]})
    assert again.status_code == 200
    assert Image.open(io.BytesIO(again.data)).width == 720
    assert cache_directives(again) == {"private", "max-age=31536000", "immutable"}
    assert again.headers["ETag"] != display.headers["ETag"]
    assert len(sized_files(app)) == 1

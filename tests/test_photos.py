"""Photos come out upright, without camera metadata, in three sizes; bad files change nothing."""

from __future__ import annotations

import io
import uuid as uuidlib

import pytest
from PIL import Image, ImageChops, ImageStat

from fieldapp.encounters.models import Encounter
from fieldapp.media.images import (
    DISPLAY_LONG_EDGE,
    THUMB_LONG_EDGE,
    UnacceptablePhoto,
    process_photo,
)
from fieldapp.media.models import Photo
from fieldapp.media.xmp import jpeg_with_xmp, rights_xmp
from tests import photo_corpus as corpus
from tests.factories import count_rows, encounter_data, put_encounter, stored_files

MAX_PIXELS = 52_000_000


def assert_no_metadata(data: bytes) -> None:
    """No EXIF block at all (so no GPS), no XMP: only pixels and, at most, a colour profile."""
    image = Image.open(io.BytesIO(data))
    assert len(image.getexif()) == 0
    assert "exif" not in image.info
    assert b"Exif\x00\x00" not in data
    assert b"GPS" not in data
    assert b"http://ns.adobe.com/xap/1.0/" not in data


def upload(client, token, content: bytes, filename: str, content_type: str):
    """A completed encounter whose photo is `content`, sent as `filename` of `content_type`."""
    return put_encounter(
        client,
        token,
        str(uuidlib.uuid4()),
        encounter_data(),
        content,
        filename=filename,
        content_type=content_type,
    )


@pytest.fixture(scope="module")
def camera_photo() -> bytes:
    """A 12 MP phone JPEG, stored sideways with EXIF Orientation 6 and GPS tags."""
    return corpus.camera_jpeg(orientation=6, gps=True)


def test_fixture_really_carries_gps_and_orientation(camera_photo):
    exif = Image.open(io.BytesIO(camera_photo)).getexif()
    assert exif[0x0112] == 6
    assert exif.get_ifd(0x8825), "the fixture must have GPS for the next test to mean anything"


def test_camera_jpeg_comes_out_upright_with_no_exif(camera_photo):
    processed = process_photo(camera_photo, max_pixels=MAX_PIXELS)
    assert (processed.archive.width, processed.archive.height) == (3024, 4032)  # portrait
    assert (processed.display.width, processed.display.height) == (1512, 2016)
    assert max(processed.thumb.width, processed.thumb.height) == THUMB_LONG_EDGE
    for rendition in (processed.archive, processed.display, processed.thumb):
        assert_no_metadata(rendition.data)
        image = Image.open(io.BytesIO(rendition.data))
        assert image.height > image.width
        assert corpus.marker_corner(image.convert("RGB")) == "top-left"


@pytest.mark.parametrize("orientation", range(1, 9))
def test_every_exif_orientation_is_made_upright(orientation):
    processed = process_photo(
        corpus.camera_jpeg(orientation=orientation, size=(400, 300)), max_pixels=MAX_PIXELS
    )
    for rendition in (processed.archive, processed.display, processed.thumb):
        image = Image.open(io.BytesIO(rendition.data)).convert("RGB")
        assert corpus.marker_corner(image) == "top-left"
        assert_no_metadata(rendition.data)


@pytest.mark.parametrize("name", ["png", "png_alpha", "webp", "webp_lossless", "heic"])
def test_other_formats_are_accepted_upright_without_metadata(name):
    content, _filename, _type = corpus.GOOD_FILES[name]()
    processed = process_photo(content, max_pixels=MAX_PIXELS)
    for rendition in (processed.archive, processed.display, processed.thumb):
        image = Image.open(io.BytesIO(rendition.data))
        assert image.mode == "RGB"
        assert corpus.marker_corner(image) == "top-left"
        assert_no_metadata(rendition.data)
    assert max(processed.display.width, processed.display.height) <= DISPLAY_LONG_EDGE


def test_heic_gps_is_stripped():
    content = corpus.heic_bytes(gps=True)
    assert Image.open(io.BytesIO(content)).getexif().get_ifd(0x8825), "fixture has GPS"
    processed = process_photo(content, max_pixels=MAX_PIXELS)
    assert processed.original_format == "HEIF"
    assert (processed.archive.width, processed.archive.height) == (600, 800)
    assert_no_metadata(processed.archive.data)


def test_transparency_becomes_white_paper():
    processed = process_photo(corpus.png_bytes(alpha=True), max_pixels=MAX_PIXELS)
    image = Image.open(io.BytesIO(processed.archive.data))
    assert image.getpixel((0, 0)) == (255, 255, 255)


def test_lossless_sources_keep_a_lossless_archive():
    assert process_photo(corpus.png_bytes(), max_pixels=MAX_PIXELS).archive.extension == "png"
    assert (
        process_photo(corpus.webp_bytes(lossless=True), max_pixels=MAX_PIXELS).archive.extension
        == "png"
    )
    assert process_photo(corpus.webp_bytes(), max_pixels=MAX_PIXELS).archive.extension == "jpg"


def test_every_stored_and_served_file_of_an_upload_is_clean_and_upright(
    app, client, api_token, camera_photo
):
    response = upload(client, api_token, camera_photo, "PXL_20240517_143209123.jpg", "image/jpeg")
    assert response.status_code == 201
    assert response.get_json()["photo"]["width"] == 3024
    files = stored_files(app)
    assert len(files) == 3
    for path in files:
        assert_no_metadata(path.read_bytes())
        assert not path.name.startswith(".incoming-")
    served = client.get(f"/p/{response.get_json()['token']}/drawing.jpg")
    assert served.status_code == 200
    assert served.mimetype == "image/jpeg"
    # Served: the stored file plus the drawer's rights XMP (tests/test_signals.py), nothing else.
    display = next(path for path in files if path.parts[-3] == "display")
    rights = rights_xmp(training_allowed=False, creator=None)
    assert served.data == jpeg_with_xmp(display.read_bytes(), rights)
    assert len(Image.open(io.BytesIO(served.data)).getexif()) == 0
    assert corpus.marker_corner(Image.open(io.BytesIO(served.data)).convert("RGB")) == "top-left"


@pytest.mark.parametrize("name", sorted(set(corpus.BAD_FILES) - {"polyglot_jpeg_zip"}))
def test_bad_files_are_refused_and_leave_nothing(app, client, api_token, name):
    content, filename, content_type = corpus.BAD_FILES[name]()
    response = upload(client, api_token, content, filename, content_type)
    assert 400 <= response.status_code < 500, (name, response.status_code)
    assert response.status_code in (400, 413, 415, 422)
    assert response.get_json()["error"]
    assert stored_files(app) == []
    assert count_rows(app, Encounter) == 0
    assert count_rows(app, Photo) == 0


@pytest.mark.parametrize(
    ("name", "status", "words"),
    [
        ("empty", 400, "empty"),
        ("truncated_jpeg", 415, "damaged or incomplete"),
        ("corrupt_jpeg", 415, "damaged or incomplete"),
        ("svg_with_script", 415, "not a photo"),
        ("tiff", 415, "not a photo"),
        ("animated_gif", 415, "not a photo"),
        ("animated_webp", 415, "Animated"),
        ("animated_png", 415, "Animated"),
        ("decompression_bomb_png", 413, "megapixels"),
        ("huge_dimensions_jpeg", 413, "megapixels"),
        ("one_by_one", 422, "too small"),
    ],
)
def test_bad_files_get_a_clear_message(name, status, words):
    content, _filename, _type = corpus.BAD_FILES[name]()
    with pytest.raises(UnacceptablePhoto) as refused:
        process_photo(content, max_pixels=MAX_PIXELS)
    assert refused.value.status == status
    assert words in refused.value.message


def test_a_jpeg_with_a_zip_appended_is_kept_as_pixels_only(app, client, api_token):
    content, filename, content_type = corpus.BAD_FILES["polyglot_jpeg_zip"]()
    assert b"PK\x03\x04" in content
    response = upload(client, api_token, content, filename, content_type)
    assert response.status_code == 201
    for path in stored_files(app):
        assert b"PK\x03\x04" not in path.read_bytes()


def test_files_are_named_by_their_content_hash(app, client, api_token):
    import hashlib

    upload(client, api_token, corpus.png_bytes(size=(300, 400)), "d.png", "image/png")
    for path in stored_files(app):
        assert path.stem == hashlib.sha256(path.read_bytes()).hexdigest()


# Multi-picture JPEGs (MPO) -----------------------------------------------------------------


def test_a_multi_picture_jpeg_is_its_primary_picture_alone():
    """Many phones save a photo with a depth or gain map as an MPO: the first picture is the
    photo; the second (plain blue here) must not be decoded, kept or mixed in."""
    content = corpus.mpo_jpeg((800, 600), metadata=False)
    source = Image.open(io.BytesIO(content))
    assert (source.format, source.n_frames) == ("MPO", 2), "the fixture must be a real MPO"
    primary = source.convert("RGB")  # frame 0
    processed = process_photo(content, max_pixels=MAX_PIXELS)
    assert processed.original_format == "MPO"
    for rendition in (processed.archive, processed.display, processed.thumb):
        assert b"MPF\x00" not in rendition.data  # no multi-picture index
        assert rendition.data.count(b"\xff\xd8") == 1  # one picture, not two
        image = Image.open(io.BytesIO(rendition.data))
        assert image.format == "JPEG" and getattr(image, "n_frames", 1) == 1
        assert corpus.marker_corner(image) == "top-left"
    archive = Image.open(io.BytesIO(processed.archive.data)).convert("RGB")
    assert archive.size == primary.size == (800, 600)
    difference = ImageStat.Stat(ImageChops.difference(archive, primary)).mean
    assert max(difference) < 2, difference  # the primary picture, re-encoded
    red, green, blue = ImageStat.Stat(archive).mean
    assert blue < red, "the blue second picture got in"


def test_an_mpo_upload_is_accepted_and_stored_as_its_primary_picture(app, client, api_token):
    content, filename, content_type = corpus.METADATA_FILES["mpo_exif_com"]()
    response = upload(client, api_token, content, filename, content_type)
    assert response.status_code == 201, response.get_json()
    assert response.get_json()["photo"]["width"] == 1600
    files = stored_files(app)
    assert len(files) == 3
    for path in files:
        image = Image.open(path)
        assert image.format == "JPEG" and getattr(image, "n_frames", 1) == 1
        assert corpus.marker_corner(image.convert("RGB")) == "top-left"
        assert_no_metadata(path.read_bytes())


@pytest.mark.parametrize("name", ["animated_gif", "animated_png", "animated_webp"])
def test_real_animations_are_still_refused(app, client, api_token, name):
    content, filename, content_type = corpus.BAD_FILES[name]()
    assert Image.open(io.BytesIO(content)).n_frames == 3
    response = upload(client, api_token, content, filename, content_type)
    assert response.status_code == 415
    assert stored_files(app) == []

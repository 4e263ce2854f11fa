"""The sheet detector frames a drawing's photo, or honestly says it found no sheet.

Photos from bench/sheet_photos.py at 800x600 with fixed seeds (the bench measures the rates on
hundreds of them), plus one photo composed by hand with Pillow, built unlike the generator.
"""

from __future__ import annotations

import io
import math
import random

import pytest
from PIL import Image, ImageDraw, ImageFilter

from bench.framing import corner_error
from bench.sheet_photos import sheet_photo
from fieldapp.media.sheet_detection import find_sheet, sheet_aspect

SIZE = (800, 600)


def decoded(jpeg: bytes) -> Image.Image:
    return Image.open(io.BytesIO(jpeg)).convert("RGB")


def assert_framed(photo) -> None:
    """Found, every corner within 2 % of the sheet's diagonal, top-left first."""
    found = find_sheet(decoded(photo.jpeg))
    assert found is not None, "no sheet found"
    assert corner_error(found, photo.corners, photo.width, photo.height) < 0.02


@pytest.mark.parametrize("background", ["wood", "black", "cloth", "cluttered"])
def test_sheet_found_on_every_kind_of_table(background):
    assert_framed(sheet_photo(7, 1, size=SIZE, background=background, sheet=True, finger=False))


def test_a_finger_over_an_edge_does_not_move_a_corner():
    assert_framed(sheet_photo(7, 2, size=SIZE, background="wood", sheet=True, finger=True))


@pytest.mark.parametrize(
    "index",
    [
        19,  # its top side on a crumpled napkin and a receipt
        23,  # its right side partly on a napkin
    ],
)
def test_a_sheet_partly_on_a_napkin_is_framed(index):
    """Where the sheet lies on the napkin its side is white on white, with little edge."""
    photo = sheet_photo(7, index, size=SIZE, background="cluttered", sheet=True, finger=False)
    assert_framed(photo)


def test_landscape_sheet():
    photo = sheet_photo(7, 3, size=SIZE, background="cloth", sheet=True, landscape=True)
    assert_framed(photo)
    (tlx, tly), (trx, _), _, (_, bly) = photo.corners
    assert trx - tlx > bly - tly  # wider than tall: it really is landscape


@pytest.mark.parametrize("rotation", [15.0, -15.0])
def test_turned_sheet_still_starts_at_its_top_left(rotation):
    photo = sheet_photo(
        7, 4, size=SIZE, background="black", sheet=True, tilt=5.0, rotation=rotation
    )
    assert_framed(photo)


def test_no_sheet_on_a_table_without_one():
    for background in ("wood", "cloth"):
        photo = sheet_photo(7, 5, size=SIZE, background=background, sheet=False)
        assert find_sheet(decoded(photo.jpeg)) is None


def test_no_sheet_on_a_cluttered_table():
    """Coasters, a beer mat, a napkin (bright, not a quadrilateral), a receipt, a phone."""
    for index in range(3):
        photo = sheet_photo(7, 10 + index, size=SIZE, background="cluttered", sheet=False)
        assert find_sheet(decoded(photo.jpeg)) is None


def test_no_sheet_on_a_plain_bright_wall():
    wall = Image.linear_gradient("L").resize(SIZE).point(lambda v: 200 + v // 8)
    assert find_sheet(Image.merge("RGB", (wall, wall, wall.point(lambda v: v - 6)))) is None


def test_a4_at_25_degrees_tilt_keeps_its_aspect_ratio():
    photo = sheet_photo(
        7, 6, size=SIZE, sheet=True, paper="A4", landscape=True, tilt=25.0, rotation=5.0
    )
    assert sheet_aspect(photo.corners, photo.width, photo.height) == pytest.approx(
        math.sqrt(2), rel=0.02
    )
    found = find_sheet(decoded(photo.jpeg))
    assert found is not None
    assert sheet_aspect(found, photo.width, photo.height) == pytest.approx(math.sqrt(2), rel=0.02)


def hand_composed_photo() -> tuple[Image.Image, list[tuple[float, float]]]:
    """A sheet drawn as a polygon on a dark striped tablecloth, with a red sketch, a coaster,
    a soft blur and grain: no perspective model, no OpenCV, unlike the generator."""
    rnd = random.Random(19)
    w, h = SIZE
    photo = Image.new("RGB", SIZE, (70, 52, 48))
    draw = ImageDraw.Draw(photo)
    for x in range(0, w, 24):
        draw.rectangle((x, 0, x + 11, h), fill=(84, 60, 54))
    draw.ellipse((640, 420, 760, 540), fill=(190, 150, 95))  # a cork coaster
    corners = [
        (250.0, 90.0),
        (575.0, 118.0),
        (560.0, 560.0),
        (215.0, 520.0),
    ]  # a slightly skewed portrait sheet
    draw.polygon(corners, fill=(238, 236, 228))
    for _ in range(40):  # the sketch, well inside the sheet
        x, y = rnd.uniform(300, 500), rnd.uniform(180, 460)
        draw.line(
            (x, y, x + rnd.uniform(-40, 40), y + rnd.uniform(-40, 40)), fill=(200, 40, 50), width=3
        )
    photo = photo.filter(ImageFilter.GaussianBlur(1.0))
    noise = Image.effect_noise(SIZE, 12).convert("RGB")
    photo = Image.blend(photo, noise, 0.06)
    return photo, [((x + 0.5) / w, (y + 0.5) / h) for x, y in corners]


def test_hand_composed_photo():
    photo, corners = hand_composed_photo()
    found = find_sheet(photo)
    assert found is not None
    assert corner_error(found, tuple(corners), *SIZE) < 0.02

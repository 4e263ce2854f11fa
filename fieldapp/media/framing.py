"""Framing: which part of a photo is the drawing, and the drawing cut out of it, straightened.

A photo taken on a bar table has the table, a thumb and a tilt around the sheet. The sheet's
four corners, found at ingest (sheet_detection.find_sheet) or placed by the artist in the
framing editor, say where the drawing is; `rectify()` maps that quadrilateral onto an upright
rectangle at the sheet's own aspect ratio. The archive file always keeps the whole photo, so a
framing can be changed or undone at any time.

Corners are fractions of the upright photo's width and height (0..1), so they mean the same at
every size of the photo (the archive, the display copy, the editor's preview), listed as the
framed result's top-left, top-right, bottom-right and bottom-left. A quarter turn of the result
is a shift of that list (`quarter_turn()`): no separate rotation to keep in step.

Pure functions on Pillow images: no app, no database, no disk.
"""

from __future__ import annotations

import json
import math

import cv2
import numpy as np
from PIL import Image

from fieldapp.media.sheet_detection import Corners, sheet_aspect

#: Framing kinds, as stored on Photo.framing and given in the API's photo body.
AUTO = "auto"  # the sheet was found at ingest (or on "reset to automatic")
MANUAL = "manual"  # the artist placed the corners (or chose the whole photo)
NONE = "none"  # no sheet found confidently: the whole photo is shown and the drawing needs framing
KINDS = (AUTO, MANUAL, NONE)

#: Which sheet detector framed a photo (Photo.framing_detector): raise it when find_sheet()
#: changes enough that `flask media reframe --all` should look at every photo again.
DETECTOR_VERSION = 2

#: The whole photo, upright.
WHOLE_PHOTO: Corners = ((0.0, 0.0), (1.0, 0.0), (1.0, 1.0), (0.0, 1.0))

#: A framing smaller than this share of the photo is a slip of the finger, not a sheet.
MIN_AREA_SHARE = 0.01
#: How far outside the photo a corner may be placed (a sheet cut by the frame's edge).
EDGE_SLACK = 0.05

# EXIF orientation -> where a point of the upright photo (u, v) is in the stored pixels, as
# fractions: the inverse of the transposition media.images applies to make the photo upright.
_STORED_POINT = {
    1: lambda u, v: (u, v),
    2: lambda u, v: (1 - u, v),
    3: lambda u, v: (1 - u, 1 - v),
    4: lambda u, v: (u, 1 - v),
    5: lambda u, v: (v, u),
    6: lambda u, v: (v, 1 - u),
    7: lambda u, v: (1 - v, 1 - u),
    8: lambda u, v: (1 - v, u),
}


class FramingRefused(ValueError):
    """Corners that cannot frame a drawing; the message says why, for the artist."""


def parse_corners(raw: str | list) -> Corners:
    """Corners sent by the editor (JSON `[[x, y], ×4]`, fractions), or FramingRefused.

    Refused: anything but four pairs of finite numbers, a corner far outside the photo, a
    shape that is not a convex quadrilateral in order (crossed or folded), or one too small.
    """
    try:
        points = json.loads(raw) if isinstance(raw, str) else raw
        corners = tuple((float(x), float(y)) for x, y in points)
    except (TypeError, ValueError):
        raise FramingRefused("The corners could not be read: drag them again.") from None
    if len(corners) != 4 or not all(math.isfinite(c) for point in corners for c in point):
        raise FramingRefused("A framing has exactly four corners.")
    if not all(-EDGE_SLACK <= c <= 1 + EDGE_SLACK for point in corners for c in point):
        raise FramingRefused("A corner is outside the photo: drag it back onto the photo.")
    middle = (sum(x for x, _ in corners) / 4, sum(y for _, y in corners) / 4)
    if not all(0 < c < 1 for c in middle):
        raise FramingRefused("The framing is off the photo: drag the corners onto the sheet.")
    if not _convex_in_order(corners):
        raise FramingRefused("The corners cross: put each one on its own corner of the sheet.")
    if _area(corners) < MIN_AREA_SHARE:
        raise FramingRefused("The framing is too small to hold a drawing.")
    return tuple((round(x, 5), round(y, 5)) for x, y in corners)


def quarter_turn(corners: Corners, turns: int = 1) -> Corners:
    """The same framing with its result turned 90° clockwise `turns` times."""
    shift = turns % 4
    return corners[-shift:] + corners[:-shift] if shift else corners


def is_whole_photo(corners: Corners | None) -> bool:
    """Whether a framing keeps the whole photo (possibly turned)."""
    return corners is not None and sorted(corners) == sorted(WHOLE_PHOTO)


def framing_label(framing: str, corners: Corners | None) -> str:
    """A framing as the edit history shows it."""
    if framing == NONE:
        return "none (whole photo)"
    if is_whole_photo(corners):
        return f"{framing}: whole photo"
    points = ", ".join(f"{x:.3f} {y:.3f}" for x, y in corners or ())
    return f"{framing}: {points}"


def rectify(
    image: Image.Image, corners: Corners, long_edge: int, *, orientation: int = 1
) -> Image.Image:
    """The sheet inside `corners`, perspective-corrected, upright and cropped to it.

    `image` is the photo as stored, `orientation` its EXIF orientation (1: already upright);
    the corners are those of the upright photo, so a sideways phone photo is framed without
    first turning all its pixels. The result has the sheet's own aspect ratio and is never
    larger than the sheet's extent in the photo nor than `long_edge` on its longer side.
    """
    width, height = _upright_size(image.size, orientation)
    stored = [_STORED_POINT[orientation](x, y) for x, y in corners]
    source = np.array([(x * image.width, y * image.height) for x, y in stored], np.float32)
    up = [(x * width, y * height) for x, y in corners]
    extent_w = max(_distance(up[0], up[1]), _distance(up[3], up[2]))
    extent_h = max(_distance(up[0], up[3]), _distance(up[1], up[2]))
    # The whole photo keeps its own shape; a sheet seen in perspective is measured.
    whole = is_whole_photo(corners)
    aspect = extent_w / extent_h if whole else sheet_aspect(corners, width, height)
    # The longer side of the sheet in the photo, at its true aspect ratio, capped.
    out_long = min(long_edge, max(extent_w, extent_h))
    out_w, out_h = (out_long, out_long / aspect) if aspect >= 1 else (out_long * aspect, out_long)
    size = (max(1, round(out_w)), max(1, round(out_h)))
    # A sheet much larger than the result is first box-reduced: bilinear sampling alone
    # would skip pixels and alias the lines.
    factor = max(1, int(min(extent_w / size[0], extent_h / size[1]) // 2))
    if factor > 1:
        image = image.reduce(factor)
        source /= factor
    # Only the pixels around the sheet are read when it is a small part of the photo.
    left, top = np.maximum(np.floor(source.min(axis=0)) - 2, 0).astype(int)
    right, bottom = np.minimum(np.ceil(source.max(axis=0)) + 2, image.size).astype(int)
    if (
        right - left >= 2
        and bottom - top >= 2
        and (right - left) * (bottom - top) < (image.width * image.height // 2)
    ):
        image = image.crop((int(left), int(top), int(right), int(bottom)))
        source -= np.array([left, top], np.float32)
    target = np.array([(0, 0), (size[0], 0), (size[0], size[1]), (0, size[1])], np.float32)
    # Corners are continuous coordinates (pixel edges at whole numbers); OpenCV's are pixel
    # centres, half a pixel further.
    matrix = cv2.getPerspectiveTransform(source - 0.5, target - 0.5)
    pixels = cv2.warpPerspective(
        _pixels(image if image.mode == "RGB" else image.convert("RGB")),
        matrix,
        size,
        flags=cv2.INTER_LINEAR,
        borderMode=cv2.BORDER_CONSTANT,
        borderValue=(255, 255, 255),  # past the photo's edge: paper, not black
    )
    return Image.fromarray(pixels, "RGB")


def _pixels(image: Image.Image) -> np.ndarray:
    """An RGB image's pixels as a read-only array: one copy (np.asarray makes two, twice as
    slow on the 30 MB of a big sheet)."""
    return np.frombuffer(image.tobytes(), np.uint8).reshape(image.height, image.width, 3)


def _upright_size(size: tuple[int, int], orientation: int) -> tuple[int, int]:
    return (size[1], size[0]) if orientation in (5, 6, 7, 8) else size


def _distance(a: tuple[float, float], b: tuple[float, float]) -> float:
    return math.hypot(a[0] - b[0], a[1] - b[1])


def _area(corners: Corners) -> float:
    """The quadrilateral's area (shoelace), in fractions of the photo's area."""
    return abs(
        sum(
            x1 * y2 - x2 * y1
            for (x1, y1), (x2, y2) in zip(corners, corners[1:] + corners[:1], strict=True)
        )
        / 2
    )


def _convex_in_order(corners: Corners) -> bool:
    """Whether the corners go round a convex quadrilateral, clockwise on screen (y down)."""
    crosses = []
    for i in range(4):
        (ax, ay), (bx, by), (cx, cy) = corners[i], corners[(i + 1) % 4], corners[(i + 2) % 4]
        crosses.append((bx - ax) * (cy - by) - (by - ay) * (cx - bx))
    return all(cross > 0 for cross in crosses)

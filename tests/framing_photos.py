"""Photos of a drawing on a table, with the sheet's corners known: for the framing tests.

A flat sheet (white, a red face drawn on it, a red dot near its top-left corner to tell which
way is up) is warped onto a table at the given corners. The bench's generator
(bench/sheet_photos.py) makes harder ones; these are plain cases a test can reason about.
"""

from __future__ import annotations

import io
import random

from PIL import Image, ImageDraw, ImageFilter

#: A4 portrait, as the flat sheet is drawn before it is put on the table.
SHEET_SIZE = (840, 1188)
#: An A4 sheet turned 8° on the table, seen from straight above: fractions of a 1600×1200
#: photo (TL, TR, BR, BL).
TILTED = ((0.381, 0.1921), (0.6781, 0.2477), (0.619, 0.8079), (0.3219, 0.7523))


def flat_sheet(size: tuple[int, int] = SHEET_SIZE) -> Image.Image:
    """The drawing itself: red lines on white paper, and a red dot near its top-left corner."""
    width, height = size
    sheet = Image.new("RGB", size, (246, 244, 238))
    draw = ImageDraw.Draw(sheet)
    red = (200, 25, 35)
    line = max(3, width // 120)
    draw.ellipse((width * 0.2, height * 0.18, width * 0.8, height * 0.72), outline=red, width=line)
    draw.ellipse((width * 0.35, height * 0.35, width * 0.43, height * 0.4), outline=red, width=line)
    draw.ellipse((width * 0.57, height * 0.35, width * 0.65, height * 0.4), outline=red, width=line)
    draw.arc(
        (width * 0.38, height * 0.45, width * 0.62, height * 0.6), 20, 160, fill=red, width=line
    )
    draw.ellipse((width * 0.06, height * 0.05, width * 0.14, height * 0.1), fill=red)
    return sheet


def table(size: tuple[int, int], seed: int = 1) -> Image.Image:
    """A dark wooden table: brown, with grain."""
    rng = random.Random(seed)
    width, height = size
    wood = Image.new("RGB", size, (92, 58, 34))
    draw = ImageDraw.Draw(wood)
    for _ in range(height // 6):
        y = rng.randrange(height)
        shade = rng.randrange(-22, 22)
        draw.line(
            (0, y, width, y + rng.randrange(-40, 40)), fill=(92 + shade, 58 + shade, 34), width=2
        )
    return wood.filter(ImageFilter.GaussianBlur(1))


def sheet_photo(
    corners=TILTED, size: tuple[int, int] = (1600, 1200), *, seed: int = 1, quality: int = 90
) -> bytes:
    """A JPEG of the flat sheet lying on the table with its corners at `corners` (fractions of
    the photo, the sheet's TL, TR, BR, BL)."""
    photo = table(size, seed)
    sheet = flat_sheet()
    width, height = size
    target = [(x * width, y * height) for x, y in corners]
    coefficients = _perspective(target, [(0, 0), (sheet.width, 0), sheet.size, (0, sheet.height)])
    warped = sheet.transform(
        size, Image.Transform.PERSPECTIVE, coefficients, Image.Resampling.BICUBIC
    )
    mask = Image.new("L", sheet.size, 255).transform(
        size, Image.Transform.PERSPECTIVE, coefficients, Image.Resampling.BICUBIC
    )
    photo.paste(warped, mask=mask)
    out = io.BytesIO()
    photo.save(out, "JPEG", quality=quality)
    return out.getvalue()


def no_sheet_photo(size: tuple[int, int] = (1600, 1200), seed: int = 2) -> bytes:
    """A JPEG of the table alone, with a couple of coasters and a glass: no sheet of paper."""
    rng = random.Random(seed)
    photo = table(size, seed)
    draw = ImageDraw.Draw(photo)
    width, height = size
    for _ in range(3):
        x, y, r = rng.randrange(width), rng.randrange(height), rng.randrange(60, 140)
        draw.ellipse(
            (x - r, y - r, x + r, y + r), fill=(150, 40, 40), outline=(230, 220, 200), width=6
        )
    out = io.BytesIO()
    photo.save(out, "JPEG", quality=90)
    return out.getvalue()


def _perspective(target, source) -> list[float]:
    """Pillow's PERSPECTIVE coefficients mapping output points `target` to input `source`."""
    import numpy as np

    rows, values = [], []
    for (x, y), (u, v) in zip(target, source, strict=True):
        rows.append([x, y, 1, 0, 0, 0, -u * x, -u * y])
        rows.append([0, 0, 0, x, y, 1, -v * x, -v * y])
        values += [u, v]
    return list(np.linalg.solve(np.array(rows, float), np.array(values, float)))

"""The app's icons, drawn with Pillow: a portrait in red ink, the project's one rule."""

from __future__ import annotations

import io
from dataclasses import dataclass
from functools import cache

from PIL import Image, ImageDraw

BACKGROUND = (17, 17, 17)
INK = (255, 90, 71)
SUPERSAMPLE = 4


@dataclass(frozen=True)
class IconSpec:
    size: int
    purpose: str  # "any": rounded tile; "maskable": full bleed, drawing inside the safe circle


ICONS = {
    "icon-192.png": IconSpec(192, "any"),
    "icon-512.png": IconSpec(512, "any"),
    "icon-maskable-512.png": IconSpec(512, "maskable"),
}


@cache
def icon_png(name: str) -> bytes:
    """The PNG bytes of one of ICONS (KeyError for any other name)."""
    spec = ICONS[name]
    big = spec.size * SUPERSAMPLE
    image = Image.new("RGBA", (big, big), (0, 0, 0, 0))
    draw = ImageDraw.Draw(image)
    if spec.purpose == "maskable":
        draw.rectangle((0, 0, big, big), fill=BACKGROUND)
        scale = 0.62  # the maskable safe zone is the central circle of 80 % diameter
    else:
        draw.rounded_rectangle((0, 0, big - 1, big - 1), radius=big // 5, fill=BACKGROUND)
        scale = 0.8
    _draw_face(draw, big, scale)
    out = io.BytesIO()
    small = image.resize((spec.size, spec.size), Image.Resampling.LANCZOS)
    # Two colours and their anti-aliased edges: a 64-colour palette looks the same at a sixth
    # of the bytes (the 512 px icon: 36 KB as RGBA, 6 KB as a palette), on every first visit.
    small = small.quantize(colors=64, method=Image.Quantize.FASTOCTREE)
    small.save(out, "PNG", optimize=True)
    return out.getvalue()


def _draw_face(draw: ImageDraw.ImageDraw, size: int, scale: float) -> None:
    """A quick line portrait: head, eyes, nose, mouth, as a drawer does it in a minute."""

    def at(x: float, y: float) -> tuple[float, float]:
        return (size / 2 + (x - 0.5) * size * scale, size / 2 + (y - 0.5) * size * scale)

    line = max(2, round(size * scale * 0.055))
    left, top = at(0.2, 0.08)
    right, bottom = at(0.8, 0.95)
    draw.ellipse((left, top, right, bottom), outline=INK, width=line)
    for eye_x in (0.37, 0.63):
        x0, y0 = at(eye_x - 0.05, 0.4)
        x1, y1 = at(eye_x + 0.05, 0.47)
        draw.ellipse((x0, y0, x1, y1), fill=INK)
    draw.line([at(0.5, 0.47), at(0.45, 0.62), at(0.52, 0.64)], fill=INK, width=line, joint="curve")
    x0, y0 = at(0.36, 0.62)
    x1, y1 = at(0.64, 0.8)
    draw.arc((x0, y0, x1, y1), start=20, end=160, fill=INK, width=line)

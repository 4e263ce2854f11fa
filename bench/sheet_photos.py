"""Synthetic phone photos of a drawing on a table, with the sheet's true corners.

A flat sheet (A4 or Letter, portrait or landscape, off-white, a red face-like doodle with
some hatching) is placed in 3-D in front of a pinhole camera whose principal point is the
frame's centre (so the perspective is a real one: `sheet_aspect` can recover the paper's
shape), tilted up to 30° about a random axis of its plane and turned up to 20° in the
image plane, and projected onto a background: wood (grain), black, cloth (a weave with
folds) or a cluttered table (coasters, a glass ring, a beer mat, a napkin, a receipt, a
phone). Then uneven light, a soft cast shadow, maybe a finger over one edge, sensor noise,
a little blur and a camera-like JPEG. A fifth of the photos have no sheet at all.

Every sample is deterministic in (seed, index). Corners are fractions (x/width, y/height)
of the photo, top-left, top-right, bottom-right, bottom-left of the upright sheet.

    .venv/bin/python bench/sheet_photos.py OUTDIR [--count N] [--seed S]  # writes JPEGs
"""

from __future__ import annotations

import argparse
import io
import math
import random
import sys
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np
from PIL import Image

BACKGROUNDS = ("wood", "black", "cloth", "cluttered")
PAPERS = {"A4": (210.0, 297.0), "Letter": (215.9, 279.4)}
Corners = tuple[tuple[float, float], ...]
Float = np.ndarray


@dataclass(frozen=True)
class SheetPhoto:
    """One synthetic photo and what is known about it."""

    jpeg: bytes
    width: int
    height: int
    background: str
    corners: Corners | None  # None: no sheet in the photo
    paper: str | None  # "A4" or "Letter"
    landscape: bool
    tilt: float  # degrees out of the image plane
    rotation: float  # degrees in the image plane
    finger: bool


def sheet_photo(
    seed: int,
    index: int,
    *,
    size: tuple[int, int] = (2016, 1512),
    background: str | None = None,
    sheet: bool | None = None,
    paper: str | None = None,
    landscape: bool | None = None,
    tilt: float | None = None,
    rotation: float | None = None,
    finger: bool | None = None,
    quality: int | None = None,
) -> SheetPhoto:
    """The photo number `index` of the set `seed`; any keyword fixes that property.

    `size` is the landscape frame; a photo of a portrait sheet is usually taken in portrait.
    """
    rnd = random.Random(f"{seed}:{index}")
    rng = np.random.default_rng(rnd.getrandbits(64))
    background = background or BACKGROUNDS[index % len(BACKGROUNDS)]
    has_sheet = sheet if sheet is not None else rnd.random() >= 0.2
    paper = paper or rnd.choice(tuple(PAPERS))
    landscape = landscape if landscape is not None else rnd.random() < 0.35
    portrait_frame = (not landscape) if rnd.random() < 0.8 else landscape
    w, h = (size[1], size[0]) if portrait_frame and size[0] > size[1] else size
    tilt = tilt if tilt is not None else rnd.uniform(0, 30)
    rotation = rotation if rotation is not None else rnd.uniform(-20, 20)
    finger = finger if finger is not None else (has_sheet and rnd.random() < 0.35)

    image = _background(background, w, h, rnd, rng)
    corners = None
    if has_sheet:
        quad = _place_sheet(PAPERS[paper], landscape, tilt, rotation, w, h, rnd)
        sheet_image = _sheet(PAPERS[paper], landscape, max(w, h), rnd, rng)
        _drop_shadow(image, quad, w, h, rnd)
        _paste_warped(image, sheet_image, quad)
        corners = tuple((float((x + 0.5) / w), float((y + 0.5) / h)) for x, y in quad)
        if finger:
            _finger(image, quad, w, h, rnd)
    else:
        finger = False
        if background != "cluttered" and rnd.random() < 0.5:
            _clutter(image, w, h, rnd, rng, count=rnd.randint(1, 3))
    image = _light(image, w, h, rnd)
    image = _camera(image, rnd, rng)
    out = io.BytesIO()
    Image.fromarray(image).save(out, "JPEG", quality=quality or rnd.randint(82, 93))
    return SheetPhoto(
        out.getvalue(),
        w,
        h,
        background,
        corners,
        paper if has_sheet else None,
        landscape,
        tilt,
        rotation,
        finger,
    )


def sheet_photos(seed: int, count: int, size: tuple[int, int] = (2016, 1512)) -> list[SheetPhoto]:
    """`count` photos of the set `seed`, backgrounds in turn."""
    return [sheet_photo(seed, i, size=size) for i in range(count)]


# --- the sheet -------------------------------------------------------------------------------


def _place_sheet(
    paper: tuple[float, float],
    landscape: bool,
    tilt: float,
    rotation: float,
    w: int,
    h: int,
    rnd: random.Random,
) -> Float:
    """Pixel coordinates (cv2's: pixel centres at integers) of the projected sheet's corners."""
    sw, sh = (paper[1], paper[0]) if landscape else paper
    f = max(w, h) * rnd.uniform(0.75, 1.0)  # a phone's wide lens
    k = np.array([[f, 0, w / 2], [0, f, h / 2], [0, 0, 1.0]])
    axis = rnd.uniform(0, math.pi)
    a, r = math.radians(tilt), math.radians(rotation)
    ax = np.array([math.cos(axis), math.sin(axis), 0.0])
    tilt_m = cv2.Rodrigues(ax * a)[0]
    roll = cv2.Rodrigues(np.array([0, 0, r]))[0]
    rot = roll @ tilt_m
    flat = np.array(
        [[-sw / 2, -sh / 2, 0], [sw / 2, -sh / 2, 0], [sw / 2, sh / 2, 0], [-sw / 2, sh / 2, 0]]
    )
    for attempt in range(400):
        # A tilted, turned sheet cannot always fill three quarters of the frame: aim lower.
        share = rnd.uniform(1 / 3, max(0.34, 3 / 4 - attempt * 0.002))
        centre_px = np.array([w * rnd.uniform(0.35, 0.65), h * rnd.uniform(0.35, 0.65), 1.0])
        direction = np.linalg.inv(k) @ centre_px
        z = 1000.0
        for _ in range(6):
            quad = _project(k, rot, direction * z, flat)
            area = abs(cv2.contourArea(quad.astype(np.float32)))
            z *= math.sqrt(area / (share * w * h))
        quad = _project(k, rot, direction * z, flat)
        margin = 0.01 * min(w, h)
        low, high = quad.min(axis=0), quad.max(axis=0)
        if low.min() > margin and high[0] < w - 1 - margin and high[1] < h - 1 - margin:
            return quad - 0.5  # from pixel-edge to pixel-centre coordinates
    raise RuntimeError("could not place the sheet")


def _project(k: Float, rot: Float, centre: Float, flat: Float) -> Float:
    points = (rot @ flat.T).T + centre
    projected = (k @ points.T).T
    return projected[:, :2] / projected[:, 2:]


def _sheet(
    paper: tuple[float, float],
    landscape: bool,
    long_px: int,
    rnd: random.Random,
    rng: np.random.Generator,
) -> np.ndarray:
    """The flat sheet: off-white paper with a red doodle, `long_px` along its long side."""
    pw, ph = (paper[1], paper[0]) if landscape else paper
    scale = long_px / max(pw, ph)
    sw, sh = round(pw * scale), round(ph * scale)
    tint = np.array([rnd.uniform(236, 250), rnd.uniform(234, 248), rnd.uniform(225, 246)])
    sheet = np.empty((sh, sw, 3), np.float32)
    sheet[:] = tint
    sheet += rng.normal(0, 1.5, (sh, sw, 1)).astype(np.float32)  # the paper's grain
    sheet = np.clip(sheet, 0, 255).astype(np.uint8)
    _doodle(sheet, rnd)
    return sheet


def _doodle(sheet: np.ndarray, rnd: random.Random) -> None:
    """A face-like drawing in red strokes, with hatching, inside the sheet's margins."""
    sh, sw = sheet.shape[:2]
    red = (rnd.randint(170, 225), rnd.randint(20, 60), rnd.randint(30, 70))
    t = max(2, round(min(sw, sh) * rnd.uniform(0.004, 0.009)))
    cx, cy = sw * rnd.uniform(0.45, 0.55), sh * rnd.uniform(0.42, 0.55)
    rx, ry = sw * rnd.uniform(0.22, 0.32), sh * rnd.uniform(0.22, 0.3)

    def pts(points: list[tuple[float, float]]) -> np.ndarray:
        return np.array([[round(x * 16), round(y * 16)] for x, y in points], np.int32)

    def stroke(points: list[tuple[float, float]], closed: bool = False) -> None:
        cv2.polylines(sheet, [pts(points)], closed, red, t, cv2.LINE_AA, shift=4)

    wobble = [rnd.uniform(-0.04, 0.04) for _ in range(6)]
    head = [
        (
            cx + rx * math.cos(u) * (1 + wobble[int(u * 6 / (2 * math.pi)) % 6]),
            cy + ry * math.sin(u) * (1 + wobble[int(u * 6 / (2 * math.pi)) % 6]),
        )
        for u in np.linspace(0, 2 * math.pi, 60)
    ]
    stroke(head, closed=True)
    for side in (-1, 1):  # eyes
        ex, ey = cx + side * rx * 0.4, cy - ry * 0.2
        eye = [
            (ex + rx * 0.15 * math.cos(u), ey + ry * 0.07 * math.sin(u))
            for u in np.linspace(0, 6.3, 20)
        ]
        stroke(eye, closed=True)
        cv2.circle(sheet, (round(ex), round(ey)), t * 2, red, -1, cv2.LINE_AA)
    stroke([(cx, cy - ry * 0.1), (cx - rx * 0.1, cy + ry * 0.25), (cx + rx * 0.05, cy + ry * 0.28)])
    stroke(
        [
            (cx - rx * 0.35 + rx * 0.7 * s, cy + ry * 0.5 + ry * 0.12 * math.sin(math.pi * s))
            for s in np.linspace(0, 1, 12)
        ]
    )
    for i in range(rnd.randint(6, 14)):  # hair
        u = math.pi * (1.1 + 0.8 * i / 14)
        x0, y0 = cx + rx * math.cos(u), cy + ry * math.sin(u)
        stroke([(x0, y0), (x0 + rx * rnd.uniform(-0.2, 0.2), y0 - ry * rnd.uniform(0.2, 0.45))])
    hx, hy = cx + rx * rnd.uniform(0.3, 0.6), cy + ry * rnd.uniform(0.1, 0.4)  # hatching on a cheek
    for i in range(rnd.randint(5, 12)):
        d = i * rx * 0.05
        stroke([(hx + d, hy), (hx + d - rx * 0.2, hy + ry * 0.3)])
    if rnd.random() < 0.5:  # shoulders
        stroke(
            [
                (cx - rx * 1.4, sh * 0.92),
                (cx - rx * 0.6, cy + ry * 1.1),
                (cx + rx * 0.6, cy + ry * 1.1),
                (cx + rx * 1.4, sh * 0.92),
            ]
        )


def _paste_warped(image: np.ndarray, sheet: np.ndarray, quad: Float) -> None:
    """Project the flat sheet onto the image at `quad` (exact: a plane's image is a homography)."""
    sh, sw = sheet.shape[:2]
    src = np.array(
        [[-0.5, -0.5], [sw - 0.5, -0.5], [sw - 0.5, sh - 0.5], [-0.5, sh - 0.5]], np.float32
    )
    m = cv2.getPerspectiveTransform(src, quad.astype(np.float32))
    size = (image.shape[1], image.shape[0])
    warped = cv2.warpPerspective(sheet, m, size, flags=cv2.INTER_LINEAR)
    cover = np.full((sh, sw), 255, np.uint8)
    alpha = (
        cv2.warpPerspective(cover, m, size, flags=cv2.INTER_LINEAR).astype(np.float32)[..., None]
        / 255
    )
    image[:] = (image * (1 - alpha) + warped * alpha).astype(np.uint8)


def _drop_shadow(image: np.ndarray, quad: Float, w: int, h: int, rnd: random.Random) -> None:
    """The sheet's soft contact shadow on the table."""
    mask = np.zeros((h, w), np.float32)
    offset = np.array([rnd.uniform(-3, 3), rnd.uniform(0, 5)]) * max(w, h) / 1000
    cv2.fillPoly(mask, [np.round(quad + offset).astype(np.int32)], 1.0)
    mask = cv2.GaussianBlur(mask, (0, 0), max(w, h) / 400)
    image[:] = (image * (1 - 0.35 * mask[..., None])).astype(np.uint8)


def _finger(image: np.ndarray, quad: Float, w: int, h: int, rnd: random.Random) -> None:
    """A fingertip (skin-coloured, shaded) reaching over one edge of the sheet into it."""
    side = rnd.randrange(4)
    a, b = quad[side], quad[(side + 1) % 4]
    p = a + (b - a) * rnd.uniform(0.25, 0.75)
    inward = np.array([-(b - a)[1], (b - a)[0]])
    inward /= np.linalg.norm(inward)
    centre = quad.mean(axis=0)
    if np.dot(centre - p, inward) < 0:
        inward = -inward
    s = max(w, h)
    length, width = s * rnd.uniform(0.18, 0.3), s * rnd.uniform(0.045, 0.065)
    tip = p + inward * width * rnd.uniform(0.8, 2.0)
    base = tip - inward * length
    skin = np.array([rnd.uniform(170, 235), rnd.uniform(120, 175), rnd.uniform(95, 150)])
    mask = np.zeros((h, w), np.float32)
    cv2.line(
        mask, tuple(np.round(tip).astype(int)), tuple(np.round(base).astype(int)), 1.0, round(width)
    )
    cv2.circle(mask, tuple(np.round(tip).astype(int)), round(width / 2), 1.0, -1)
    shade = _soft(mask, width / 4)
    mask = cv2.GaussianBlur(mask, (0, 0), 1.2)
    color = skin * (0.7 + 0.3 * shade[..., None])
    image[:] = (image * (1 - mask[..., None]) + color * mask[..., None]).astype(np.uint8)


# --- backgrounds -----------------------------------------------------------------------------


def _background(
    kind: str, w: int, h: int, rnd: random.Random, rng: np.random.Generator
) -> np.ndarray:
    if kind == "wood":
        return _wood(w, h, rnd, rng)
    if kind == "black":
        base = rnd.uniform(12, 45)
        img = np.full((h, w, 3), base, np.float32) + _smooth_noise(w, h, rng, 60, 6)[..., None]
        return np.clip(img, 0, 255).astype(np.uint8)
    if kind == "cloth":
        return _cloth(w, h, rnd, rng)
    table = _wood(w, h, rnd, rng) if rnd.random() < 0.6 else _cloth(w, h, rnd, rng)
    _clutter(table, w, h, rnd, rng, count=rnd.randint(3, 6))
    return table


def _soft(mask: Float, sigma: float) -> Float:
    """A wide Gaussian blur, done at an eighth of the size (the result is smooth anyway)."""
    h, w = mask.shape
    small = cv2.resize(mask, (max(1, w // 8), max(1, h // 8)), interpolation=cv2.INTER_AREA)
    return cv2.resize(
        cv2.GaussianBlur(small, (0, 0), sigma / 8), (w, h), interpolation=cv2.INTER_LINEAR
    )


def _smooth_noise(w: int, h: int, rng: np.random.Generator, cell: int, amp: float) -> Float:
    small = rng.normal(0, amp, (max(2, h // cell), max(2, w // cell))).astype(np.float32)
    return cv2.resize(small, (w, h), interpolation=cv2.INTER_CUBIC)


def _wood(w: int, h: int, rnd: random.Random, rng: np.random.Generator) -> np.ndarray:
    """Planks with grain: dark walnut to pale pine."""
    light = rnd.uniform(0.45, 1.0)
    base = np.array([200, 150, 100]) * light
    angle = rnd.uniform(0, math.pi)
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    along = xx * math.cos(angle) + yy * math.sin(angle)
    across = -xx * math.sin(angle) + yy * math.cos(angle)
    warp = _smooth_noise(w, h, rng, 80, 25)
    grain = np.sin((across + warp) * 2 * math.pi / (max(w, h) * rnd.uniform(0.01, 0.03)))
    fine = _smooth_noise(w, h, rng, 3, 0.25)
    plank_w = max(w, h) * rnd.uniform(0.12, 0.3)
    seams = (np.abs(((across / plank_w) % 1) - 0.5) > 0.495).astype(np.float32)
    plank_tone = np.floor(across / plank_w) % 3 * 0.05
    tone = 1 + 0.12 * grain + 0.1 * fine - 0.45 * seams - plank_tone + 0.0 * along
    img = base[None, None, :] * tone[..., None]
    return np.clip(img, 0, 255).astype(np.uint8)


def _cloth(w: int, h: int, rnd: random.Random, rng: np.random.Generator) -> np.ndarray:
    """A woven tablecloth with folds, in a colour from deep blue to light grey."""
    colours = [
        (40, 60, 120),
        (120, 30, 40),
        (50, 100, 60),
        (150, 150, 145),
        (170, 160, 140),
        (90, 90, 95),
    ]
    base = np.array(rnd.choice(colours), np.float32) * rnd.uniform(0.85, 1.15)
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    period = rnd.uniform(3, 6)
    weave = np.sin(xx * 2 * math.pi / period) * np.sin(yy * 2 * math.pi / period)
    folds = _smooth_noise(w, h, rng, 150, 0.12)
    img = base[None, None, :] * (1 + 0.08 * weave + folds)[..., None]
    if rnd.random() < 0.3:  # a checked pattern
        check = ((xx // (w / 12)) + (yy // (w / 12))) % 2
        img *= (0.85 + 0.15 * check)[..., None]
    return np.clip(img, 0, 255).astype(np.uint8)


def _clutter(
    img: np.ndarray, w: int, h: int, rnd: random.Random, rng: np.random.Generator, count: int
) -> None:
    """What lies on a bar table: coasters, a glass ring, a beer mat, a napkin, a receipt, a phone."""
    s = min(w, h)
    kinds = ["coaster", "ring", "beermat", "napkin", "receipt", "phone"]
    for kind in rnd.sample(kinds, min(count, len(kinds))):
        cx, cy = rnd.uniform(0, w), rnd.uniform(0, h)
        if kind == "coaster":
            r = round(s * rnd.uniform(0.08, 0.13))
            cork = (rnd.randint(160, 200), rnd.randint(120, 150), rnd.randint(70, 100))
            cv2.circle(img, (round(cx), round(cy)), r, cork, -1, cv2.LINE_AA)
            cv2.circle(
                img,
                (round(cx), round(cy)),
                round(r * 0.8),
                (140, 40, 40),
                max(2, r // 12),
                cv2.LINE_AA,
            )
        elif kind == "ring":
            r = round(s * rnd.uniform(0.05, 0.08))
            axes = (r, round(r * rnd.uniform(0.8, 1.0)))
            overlay = img.copy()
            cv2.ellipse(
                overlay,
                (round(cx), round(cy)),
                axes,
                rnd.uniform(0, 180),
                0,
                360,
                (60, 50, 40),
                max(2, r // 10),
                cv2.LINE_AA,
            )
            img[:] = cv2.addWeighted(overlay, 0.45, img, 0.55, 0)
        elif kind == "beermat":
            side = s * rnd.uniform(0.15, 0.22)
            box = cv2.boxPoints(((cx, cy), (side, side), rnd.uniform(0, 90))).astype(np.int32)
            colour = rnd.choice([(235, 232, 225), (200, 40, 40), (30, 60, 140)])
            cv2.fillPoly(img, [box], colour, cv2.LINE_AA)
            cv2.circle(
                img, (round(cx), round(cy)), round(side * 0.3), (220, 170, 30), -1, cv2.LINE_AA
            )
        elif kind == "napkin":  # bright, low saturation, big, but crumpled: not a quadrilateral
            r = s * rnd.uniform(0.12, 0.22)
            angles = sorted(rnd.uniform(0, 2 * math.pi) for _ in range(14))
            poly = np.array(
                [
                    [
                        cx + r * rnd.uniform(0.6, 1.2) * math.cos(a),
                        cy + r * rnd.uniform(0.6, 1.2) * math.sin(a),
                    ]
                    for a in angles
                ],
                np.int32,
            )
            tone = rnd.randint(225, 250)
            cv2.fillPoly(img, [poly], (tone, tone, tone - 4), cv2.LINE_AA)
            for _ in range(4):  # creases
                p = poly[rnd.randrange(len(poly))]
                cv2.line(
                    img,
                    (round(cx), round(cy)),
                    (int(p[0]), int(p[1])),
                    (tone - 30,) * 3,
                    2,
                    cv2.LINE_AA,
                )
        elif kind == "receipt":  # paper, but a long strip
            box = cv2.boxPoints(
                ((cx, cy), (s * 0.12, s * rnd.uniform(0.4, 0.55)), rnd.uniform(-30, 30))
            ).astype(np.int32)
            cv2.fillPoly(img, [box], (240, 238, 232), cv2.LINE_AA)
            for i in range(12):
                y = box[:, 1].min() + (i + 1) * (box[:, 1].max() - box[:, 1].min()) / 14
                cv2.line(
                    img,
                    (round(cx - s * 0.03), round(y)),
                    (round(cx + s * 0.03), round(y)),
                    (90, 90, 90),
                    2,
                )
        else:  # phone
            box = cv2.boxPoints(((cx, cy), (s * 0.16, s * 0.33), rnd.uniform(0, 180))).astype(
                np.int32
            )
            cv2.fillPoly(img, [box], (20, 20, 24), cv2.LINE_AA)
            inner = cv2.boxPoints(((cx, cy), (s * 0.14, s * 0.3), cv2.minAreaRect(box)[2])).astype(
                np.int32
            )
            cv2.fillPoly(img, [inner], (30, 40, 70), cv2.LINE_AA)


# --- light and camera ------------------------------------------------------------------------


def _light(img: np.ndarray, w: int, h: int, rnd: random.Random) -> np.ndarray:
    """A light gradient across the frame, vignetting, and a soft cast shadow over part of it."""
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    angle = rnd.uniform(0, 2 * math.pi)
    ramp = ((xx - w / 2) * math.cos(angle) + (yy - h / 2) * math.sin(angle)) / max(w, h)
    gain = 1 + rnd.uniform(0.1, 0.5) * ramp
    gain *= 1 - 0.25 * (((xx - w / 2) / w) ** 2 + ((yy - h / 2) / h) ** 2)
    if rnd.random() < 0.5:  # the shadow of a phone or a head: a blurred half-plane or blob
        shadow = np.zeros((h, w), np.float32)
        if rnd.random() < 0.5:
            a = rnd.uniform(0, 2 * math.pi)
            d = rnd.uniform(0.15, 0.4) * max(w, h)
            shadow[(xx - w / 2) * math.cos(a) + (yy - h / 2) * math.sin(a) > d] = 1
        else:
            cv2.ellipse(
                shadow,
                (round(rnd.uniform(0, w)), round(rnd.uniform(0, h))),
                (round(w * 0.3), round(h * 0.2)),
                rnd.uniform(0, 180),
                0,
                360,
                1.0,
                -1,
            )
        shadow = _soft(shadow, max(w, h) * rnd.uniform(0.01, 0.03))
        gain *= 1 - rnd.uniform(0.2, 0.4) * shadow
    warm = np.array([1.0, rnd.uniform(0.95, 1.0), rnd.uniform(0.85, 1.0)], np.float32)
    out = img.astype(np.float32) * gain[..., None] * warm
    return np.clip(out, 0, 255).astype(np.uint8)


def _camera(img: np.ndarray, rnd: random.Random, rng: np.random.Generator) -> np.ndarray:
    """A little blur and sensor noise."""
    blurred = cv2.GaussianBlur(img, (0, 0), rnd.uniform(0.5, 1.3))
    noise = rng.normal(0, rnd.uniform(1.5, 4.5), blurred.shape).astype(np.float32)
    return np.clip(blurred.astype(np.float32) + noise, 0, 255).astype(np.uint8)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("outdir", type=Path)
    parser.add_argument("--count", type=int, default=16)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    args.outdir.mkdir(parents=True, exist_ok=True)
    for i in range(args.count):
        photo = sheet_photo(args.seed, i)
        name = f"{i:03d}-{photo.background}-{'sheet' if photo.corners else 'none'}.jpg"
        (args.outdir / name).write_bytes(photo.jpeg)
        print(
            name,
            photo.paper,
            "landscape" if photo.landscape else "portrait",
            f"tilt {photo.tilt:.0f}",
            f"rot {photo.rotation:.0f}",
            "finger" if photo.finger else "",
            photo.corners,
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())

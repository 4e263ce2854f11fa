"""Find the sheet of paper in a photo of a drawing, or say honestly that it cannot.

Built on OpenCV (`cv2`, the headless wheel) and numpy: OpenCV is the field's standard for
document detection (threshold or edges, `findContours`, `approxPolyDP`, then a perspective
transform), well kept, fast, and shipped as a wheel with no system libraries.

How: on a small working copy (about 700 px), the paper is the bright, low-saturation region.
Several thresholds of a "paperness" map give candidate outlines; each gives quadrilaterals (its
hull's, and those on four of its long straight runs, for a sheet lying on a napkin), and each
convex one is refined against the image's edges (for each side, the strongest
bright-to-dark step along the side's normal, a robust line through those points, the corners
where the lines meet), so a finger over an edge, a red stroke or a rounded corner does not
move a corner. A candidate is kept only when every side is supported by a long, straight
edge with paper inside and something darker outside, its area and angles are those of a
sheet seen by a phone, and its shape is a paper size's after perspective. A sheet lying
partly on a napkin or a receipt has one side white on white along part of its length; it is
taken, when no candidate has four clean sides, only if its three other sides are clean, its
shape is A4's or Letter's within 3 %, no edge of it goes on past a corner and no red stroke
crosses it. Anything less is None: a wrong crop silently cuts a drawing, while None only puts
it on the artist's "needs framing" list.
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass

import cv2
import numpy as np
from numpy.typing import NDArray
from PIL import Image

Corners = tuple[tuple[float, float], ...]
Points = NDArray[np.float64]

WORKING_LONG_EDGE = 700
#: A4 (√2) and US Letter (11/8.5): an estimate this close to one is taken as that paper.
PAPER_ASPECTS = (math.sqrt(2), 11 / 8.5)
SNAP = 0.03

# What a sheet a phone photographed looks like (fractions of the frame, degrees, ratios).
MIN_AREA_SHARE, MAX_AREA_SHARE = 0.12, 0.92
MIN_ANGLE, MAX_ANGLE = 45.0, 135.0
MIN_ASPECT, MAX_ASPECT = 1.12, 1.7
MIN_SIDE_SUPPORT, MIN_MEAN_SUPPORT = 0.55, 0.72
CLEAR_SUPPORT = 0.9
# Px either side of a side, the paperness it must drop by across it, along how much of it.
SIDE_STRIP, PAPER_STEP, MIN_SIDE_CONTRAST = 5.0, 20.0, 0.55
MAX_GAP = 0.25
MIN_EDGE_STEP = 0.08  # log brightness over 2 px: paper against a pale tablecloth, blurred
MAX_RUNS = 7  # straight runs of an outline tried as a sheet's sides
# A sheet lying partly on a napkin or a receipt: one side white on white along part of it.
# It is taken only when its other three sides are clean, its shape is A4's or Letter's, and
# nothing says the quadrilateral is a piece of a larger outline.
WEAK_SIDE_SUPPORT, WEAK_SIDE_GAP = 0.35, 0.5  # the least edge, the longest stretch without
BEYOND = (0.03, 0.15)  # the stretch past a corner, share of the side, where no edge may go on
MAX_EDGE_BEYOND = 0.4
INK_BAND = 12  # px outside the sides where the drawing's red ink must not be
INK_SATURATION, MAX_INK_OUTSIDE = 45, 6  # % of red above green and blue; px


@dataclass(frozen=True)
class _Candidate:
    quad: Points  # TL, TR, BR, BL in working-copy pixels (pixel centres at integers)
    support: tuple[float, ...]  # per side, the share of its length with a clean edge on the line
    gaps: tuple[float, ...]  # per side, its longest stretch with no edge on the line, share of it


def find_sheet(image: Image.Image) -> Corners | None:
    """The sheet's four corners as fractions of `image` (TL, TR, BR, BL of the upright sheet),
    or None when no sheet is found confidently.

    `image` is the upright RGB photo at any size; it is reduced here to a small working copy.
    """
    small, factor = _working_copy(image)
    rgb = np.asarray(small, dtype=np.uint8)
    h, w = rgb.shape[:2]
    grey = cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY)
    # Log brightness: a shadow or a light gradient multiplies, so edges become differences
    # that keep their height in the shade.
    log_grey = np.log(cv2.GaussianBlur(grey, (0, 0), 1.0).astype(np.float32) + 16.0)
    smooth_paper = np.asarray(cv2.GaussianBlur(_paperness(rgb), (5, 5), 0), dtype=np.uint8)
    best: _Candidate | None = None
    best_weak: _Candidate | None = None  # one side white on white: only when nothing better
    for quad in _candidate_quads(smooth_paper):
        candidate = _refine(quad, log_grey)
        if candidate is None or not _shape_plausible(candidate.quad, smooth_paper, w, h):
            continue
        clean = _clean_sides(candidate, smooth_paper)
        if all(clean) and _supported(candidate):
            best = _better(best, candidate)
            if min(best.support) >= CLEAR_SUPPORT:
                break  # every side a clean edge along nearly all its length: no need to look on
        elif best is None and _one_weak_side_explained(candidate, clean, rgb, log_grey):
            best_weak = _better(best_weak, candidate)
    best = best or best_weak
    if best is None:
        return None
    return tuple(
        (float((x + 0.5) * factor / image.width), float((y + 0.5) * factor / image.height))
        for x, y in best.quad
    )


def _better(best: _Candidate | None, candidate: _Candidate) -> _Candidate:
    """The one with more edge under its sides."""
    if best is None or sum(candidate.support) > sum(best.support):
        return candidate
    return best


def sheet_aspect(corners: Corners, width: int, height: int) -> float:
    """The sheet's real width/height from its perspective quad in a `width` x `height` photo.

    Zhang & He ("Whiteboard scanning and image enhancement", 2007): with the principal point at
    the photo's centre, the quad gives the focal length and then the rectangle's true aspect.
    When the view is too frontal for that, the ratio of the mean side lengths. Within 3 % of
    A4 or Letter, the paper's exact ratio.
    """
    p = np.array([(x * width, y * height) for x, y in corners], dtype=np.float64)
    aspect = _whiteboard_aspect(p, width / 2, height / 2) or _side_aspect(p)
    for paper in PAPER_ASPECTS:
        for ratio in (paper, 1 / paper):
            if abs(aspect / ratio - 1) <= SNAP:
                return ratio
    return aspect


def _whiteboard_aspect(p: Points, u0: float, v0: float) -> float | None:
    m1, m2, m4, m3 = (np.array([x, y, 1.0]) for x, y in p)  # paper: m1 TL, m2 TR, m3 BL, m4 BR
    k2 = np.dot(np.cross(m1, m4), m3) / np.dot(np.cross(m2, m4), m3)
    k3 = np.dot(np.cross(m1, m4), m2) / np.dot(np.cross(m3, m4), m2)
    n2, n3 = k2 * m2 - m1, k3 * m3 - m1
    if abs(n2[2]) < 1e-6 or abs(n3[2]) < 1e-6:
        return None
    f2 = -(
        (n2[0] * n3[0] - (n2[0] * n3[2] + n2[2] * n3[0]) * u0 + n2[2] * n3[2] * u0 * u0)
        + (n2[1] * n3[1] - (n2[1] * n3[2] + n2[2] * n3[1]) * v0 + n2[2] * n3[2] * v0 * v0)
    ) / (n2[2] * n3[2])
    scale = max(u0, v0) * 2
    if not (0.2 * scale) ** 2 < f2 < (8 * scale) ** 2:
        return None  # nearly frontal: the focal length is not determined
    a_inv = np.linalg.inv(np.array([[math.sqrt(f2), 0, u0], [0, math.sqrt(f2), v0], [0, 0, 1.0]]))
    q = a_inv.T @ a_inv
    ratio2 = (n2 @ q @ n2) / (n3 @ q @ n3)
    return float(math.sqrt(ratio2)) if ratio2 > 0 else None


def _side_aspect(p: Points) -> float:
    side = [float(np.linalg.norm(p[(i + 1) % 4] - p[i])) for i in range(4)]
    return (side[0] + side[2]) / (side[1] + side[3])


# --- the working copy and candidate outlines -------------------------------------------------


def working_copy(image: Image.Image) -> Image.Image:
    """The copy the detector works on: box-reduced near WORKING_LONG_EDGE (cheap even from
    12 MP). A caller holding a photo that is not yet upright reduces it with this first and
    turns the small copy: find_sheet() then works on it as it is."""
    factor = max(1, round(max(image.size) / WORKING_LONG_EDGE))
    return image.reduce(factor) if factor > 1 else image


def _working_copy(image: Image.Image) -> tuple[Image.Image, int]:
    """A box-reduced copy near WORKING_LONG_EDGE (cheap even from 12 MP) and the factor."""
    factor = max(1, round(max(image.size) / WORKING_LONG_EDGE))
    small = working_copy(image)
    return (small if small.mode == "RGB" else small.convert("RGB")), factor


def _paperness(rgb: NDArray[np.uint8]) -> NDArray[np.uint8]:
    """Bright and grey: 2 min(R, G, B) - max(R, G, B), clipped to 0..255.

    Red ink (high max, low min) counts as not paper; the holes it leaves inside the sheet do
    not matter to an outer outline.
    """
    r, g, b = cv2.split(rgb)
    low = cv2.min(cv2.min(r, g), b).astype(np.int16)
    high = cv2.max(cv2.max(r, g), b).astype(np.int16)
    return np.clip(low * 2 - high, 0, 255).astype(np.uint8)


def _candidate_quads(smooth: NDArray[np.uint8]) -> list[Points]:
    """Quadrilaterals outlining bright, low-saturation regions of the (smoothed) paperness
    map at several thresholds."""
    h, w = smooth.shape[:2]
    otsu, _ = cv2.threshold(smooth, 0, 255, cv2.THRESH_BINARY + cv2.THRESH_OTSU)
    levels = sorted({int(otsu), *np.percentile(smooth, (35, 50, 65, 75)).astype(int).tolist()})
    kernel = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (5, 5))
    quads: list[Points] = []
    for level in levels:
        mask = (smooth > level).astype(np.uint8)
        mask = cv2.morphologyEx(mask, cv2.MORPH_OPEN, kernel)
        contours, _ = cv2.findContours(mask, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE)
        for contour in contours:
            if cv2.contourArea(contour) < MIN_AREA_SHARE * 0.7 * w * h:
                continue
            hull = _quad_of(contour)
            for quad in ([hull] if hull is not None else []) + _quads_from_sides(contour, w, h):
                if not any(np.abs(quad - q).max() < 2 for q in quads):
                    quads.append(quad)
    return quads


def _quad_of(contour: cv2.typing.MatLike) -> Points | None:
    """The four-cornered polygon approximating a contour's convex hull, if there is one."""
    hull = cv2.convexHull(contour)
    perimeter = cv2.arcLength(hull, True)
    for eps in (0.02, 0.03, 0.045, 0.06):
        poly = cv2.approxPolyDP(hull, eps * perimeter, True)
        if len(poly) == 4:
            return _reading_order(poly.reshape(4, 2).astype(np.float64))
        if len(poly) < 4:
            return None
    return None


def _quads_from_sides(contour: cv2.typing.MatLike, w: int, h: int) -> list[Points]:
    """Quadrilaterals whose sides lie on four of the outline's longest straight runs.

    When something bright touches the sheet (a napkin or a receipt under it), the outline
    goes round both and its hull is no quadrilateral, but the sheet's sides are still long
    straight stretches of it.
    """
    poly = cv2.approxPolyDP(contour, 0.008 * cv2.arcLength(contour, True), True).reshape(-1, 2)
    if len(poly) <= 4:
        return []
    runs = [
        (poly[i].astype(np.float64), poly[(i + 1) % len(poly)].astype(np.float64))
        for i in range(len(poly))
    ]
    lengths = [float(np.linalg.norm(b - a)) for a, b in runs]
    longest = sorted(sorted(range(len(runs)), key=lambda i: -lengths[i])[:MAX_RUNS])
    longest = [i for i in longest if lengths[i] > 0.08 * min(w, h)]
    quads = []
    for chosen in itertools.combinations(longest, 4):
        lines = [np.concatenate([runs[i][0], runs[i][1] - runs[i][0]]) for i in chosen]
        corners = [_intersect(lines[k - 1], lines[k]) for k in range(4)]
        if any(c is None for c in corners):
            continue
        quad = np.array(corners, dtype=np.float64)
        if not cv2.isContourConvex(quad.astype(np.float32)) or not _angles_plausible(quad):
            continue
        if (
            not MIN_AREA_SHARE
            < abs(cv2.contourArea(quad.astype(np.float32))) / (w * h)
            < MAX_AREA_SHARE
        ):
            continue
        quads.append(_reading_order(quad))
    return quads


def _reading_order(quad: Points) -> Points:
    """TL, TR, BR, BL: clockwise on screen, starting with the side that runs most to the right.

    For a sheet turned less than 45° that side is its top edge, portrait or landscape.
    """
    centre = quad.mean(axis=0)
    angles = np.arctan2(quad[:, 1] - centre[1], quad[:, 0] - centre[0])
    quad = quad[np.argsort(angles)]  # clockwise on screen (y points down)
    run = [(quad[(i + 1) % 4] - quad[i]) for i in range(4)]
    top = int(np.argmax([d[0] / (np.linalg.norm(d) + 1e-9) for d in run]))
    return np.roll(quad, -top, axis=0)


# --- refinement against the image's edges ----------------------------------------------------


def _refine(quad: Points, log_grey: NDArray[np.float32]) -> _Candidate | None:
    """Move each side onto the edge it follows; the corners are where the fitted lines meet."""
    support: tuple[float, ...] = ()
    side_gaps: tuple[float, ...] = ()
    for reach in (24.0, 10.0, 4.0):
        lines, shares, gaps = [], [], []
        for i in range(4):
            fitted = _fit_side(quad[i], quad[(i + 1) % 4], quad.mean(axis=0), log_grey, reach)
            if fitted is None:
                return None
            lines.append(fitted[0])
            shares.append(fitted[1])
            gaps.append(fitted[2])
        if min(shares) < MIN_SIDE_SUPPORT / 2:
            return None  # a side with hardly any edge under it will not become a sheet's
        corners = [_intersect(lines[i - 1], lines[i]) for i in range(4)]
        if any(c is None for c in corners):
            return None
        quad = np.array(corners, dtype=np.float64)
        support, side_gaps = tuple(shares), tuple(gaps)
    return _Candidate(quad, support, side_gaps)


def _fit_side(
    a: Points, b: Points, centre: Points, log_grey: NDArray[np.float32], reach: float
) -> tuple[Points, float, float] | None:
    """A line (point, direction) through the side's edge points, and how much of it they cover.

    Along the normal of each of 48 places on the side (corners left out), the strongest drop
    in brightness going outwards; points off the line (a finger's outline, a stroke) are
    dropped and the line fitted again.
    """
    length = float(np.linalg.norm(b - a))
    if length < 20:
        return None
    along = (b - a) / length
    normal = np.array([-along[1], along[0]])
    if np.dot((a + b) / 2 - centre, normal) < 0:
        normal = -normal  # outwards
    t = np.linspace(0.08, 0.92, 48)
    offsets = np.arange(-reach, reach + 0.5, 0.5)
    base = a[None, :] + (b - a)[None, :] * t[:, None]
    xy = base[:, None, :] + offsets[None, :, None] * normal[None, None, :]
    profile = cv2.remap(
        log_grey,
        xy[..., 0].astype(np.float32),
        xy[..., 1].astype(np.float32),
        cv2.INTER_LINEAR,
        borderMode=cv2.BORDER_REPLICATE,
    )
    step = profile[:, 4:] - profile[:, :-4]  # over 2 px, outwards: a blurred edge still counts
    k = np.argmin(step, axis=1)
    drop = -step[np.arange(len(t)), k]
    strong = drop > MIN_EDGE_STEP
    points = base + (offsets[k + 2])[:, None] * normal[None, :]
    if strong.sum() < 12:
        return None
    keep = strong.copy()
    line = None
    for tolerance in (3.0, 1.5, 1.0):
        fitted = cv2.fitLine(points[keep].astype(np.float32), cv2.DIST_HUBER, 0, 0.01, 0.01).ravel()
        direction, origin = fitted[:2].astype(np.float64), fitted[2:].astype(np.float64)
        residual = np.abs((points - origin) @ np.array([-direction[1], direction[0]]))
        keep = strong & (residual < tolerance)
        if keep.sum() < 10:
            return None
        line = (origin, direction)
    assert line is not None
    return np.concatenate(line), float(keep.mean()), _longest_gap(keep)


def _longest_gap(keep: NDArray[np.bool_]) -> float:
    """The longest stretch of a side without edge points, as a share of the side."""
    longest = run = 0
    for supported in keep:
        run = 0 if supported else run + 1
        longest = max(longest, run)
    return longest / len(keep)


def _intersect(first: Points, second: Points) -> Points | None:
    p, d = first[:2], first[2:]
    q, e = second[:2], second[2:]
    det = d[0] * -e[1] + e[0] * d[1]
    if abs(det) < 1e-6:
        return None
    s = ((q[0] - p[0]) * -e[1] + e[0] * (q[1] - p[1])) / det
    return p + s * d


# --- is it a sheet? --------------------------------------------------------------------------


def _shape_plausible(quad: Points, paper: NDArray[np.uint8], w: int, h: int) -> bool:
    """In the frame, the area, angles and shape of a sheet seen by a phone, paper inside."""
    margin = 0.02 * max(w, h)
    if quad[:, 0].min() < -margin or quad[:, 1].min() < -margin:
        return False
    if quad[:, 0].max() > w - 1 + margin or quad[:, 1].max() > h - 1 + margin:
        return False
    area = abs(cv2.contourArea(quad.astype(np.float32)))
    if not MIN_AREA_SHARE < area / (w * h) < MAX_AREA_SHARE:
        return False
    if not cv2.isContourConvex(quad.astype(np.float32)) or not _angles_plausible(quad):
        return False
    aspect = _aspect_in_working_copy(quad, w, h)
    if not MIN_ASPECT <= max(aspect, 1 / aspect) <= MAX_ASPECT:
        return False
    return _paper_inside(quad, paper)


def _aspect_in_working_copy(quad: Points, w: int, h: int) -> float:
    """The sheet's real width/height (`sheet_aspect`) from a quad in working-copy pixels."""
    corners = tuple((float((x + 0.5) / w), float((y + 0.5) / h)) for x, y in quad)
    return sheet_aspect(corners, w, h)


def _supported(candidate: _Candidate) -> bool:
    """Enough edge under the sides together (each side's own share is in `_clean_sides`)."""
    return bool(np.mean(candidate.support) >= MIN_MEAN_SUPPORT)


def _clean_sides(candidate: _Candidate, paper: NDArray[np.uint8]) -> list[bool]:
    """Per side: a long straight edge (a finger hides a short stretch of it, not a third),
    paper just inside and something darker just outside."""
    contrast = _paper_on_the_inside(candidate.quad, paper)
    return [
        support >= MIN_SIDE_SUPPORT and gap <= MAX_GAP and side_contrast
        for support, gap, side_contrast in zip(
            candidate.support, candidate.gaps, contrast, strict=True
        )
    ]


def _angles_plausible(quad: Points) -> bool:
    for i in range(4):
        u, v = quad[i - 1] - quad[i], quad[(i + 1) % 4] - quad[i]
        cos = np.dot(u, v) / (np.linalg.norm(u) * np.linalg.norm(v))
        if not MIN_ANGLE <= math.degrees(math.acos(np.clip(cos, -1, 1))) <= MAX_ANGLE:
            return False
    return True


def _paper_on_the_inside(quad: Points, paper: NDArray[np.uint8]) -> list[bool]:
    """Per side: along most of it, paper just inside and clearly less paper-like just outside.

    A sheet lying on a receipt or a napkin still has its other sides against the table; a
    quadrilateral borrowing one edge of a bright object under the sheet has paper on both
    sides of it along the rest of its length.
    """
    sides = []
    for base, normal in _along_sides(quad):
        inside = _sample(paper, base - SIDE_STRIP * normal)
        outside = _sample(paper, base + SIDE_STRIP * normal)
        sides.append(bool(np.mean(inside - outside > PAPER_STEP) >= MIN_SIDE_CONTRAST))
    return sides


def _along_sides(quad: Points, t: Points | None = None) -> list[tuple[Points, Points]]:
    """For each side, 48 places along it (corners left out) and its outward unit normal."""
    t = np.linspace(0.08, 0.92, 48)[:, None] if t is None else t[:, None]
    centre = quad.mean(axis=0)
    sides = []
    for i in range(4):
        a, b = quad[i], quad[(i + 1) % 4]
        along = (b - a) / np.linalg.norm(b - a)
        normal = np.array([-along[1], along[0]])
        if np.dot((a + b) / 2 - centre, normal) < 0:
            normal = -normal
        sides.append((a + (b - a) * t, normal))
    return sides


# --- a sheet with one side white on white ----------------------------------------------------


def _one_weak_side_explained(
    candidate: _Candidate,
    clean: list[bool],
    rgb: NDArray[np.uint8],
    log_grey: NDArray[np.float32],
) -> bool:
    """A sheet partly on a napkin or a receipt: three clean sides and one with an edge along
    only part of it, accepted only when every sign of a wrong crop is absent.

    A wrong crop (a side on the edge of a receipt, or across the sheet) shows as a shape that
    is no paper size's, as an edge of the quadrilateral that goes on past a corner (the real
    sheet's side continuing), or as the drawing's red ink just outside it.
    """
    if clean.count(False) != 1:
        return False
    weak = clean.index(False)
    if np.mean(candidate.support) < MIN_MEAN_SUPPORT:
        return False
    if candidate.support[weak] < WEAK_SIDE_SUPPORT or candidate.gaps[weak] > WEAK_SIDE_GAP:
        return False
    h, w = log_grey.shape[:2]
    aspect = _aspect_in_working_copy(candidate.quad, w, h)
    if not any(
        abs(aspect / ratio - 1) <= SNAP for paper in PAPER_ASPECTS for ratio in (paper, 1 / paper)
    ):
        return False
    return not _edge_goes_on_past_a_corner(candidate.quad, log_grey) and not _ink_outside(
        candidate.quad, rgb
    )


def _edge_goes_on_past_a_corner(quad: Points, log_grey: NDArray[np.float32]) -> bool:
    """Whether some side's edge (on its line, darker outside) goes on beyond one of its
    corners: then that corner is not the sheet's but a point along the sheet's side."""
    beyond = np.linspace(*BEYOND, 12)
    for i in range(4):
        side_first = np.roll(quad, -i, axis=0)
        for t in (1 + beyond, -beyond):  # past its end, then before its start
            base, normal = _along_sides(side_first, t)[0]
            step = _sample(log_grey, base - normal) - _sample(log_grey, base + normal)
            if np.mean(step > MIN_EDGE_STEP) > MAX_EDGE_BEYOND:
                return True
    return False


def _ink_outside(quad: Points, rgb: NDArray[np.uint8]) -> bool:
    """Whether a red stroke runs from inside the quadrilateral to outside it: a side cuts
    through the drawing. (A red beer mat or coaster by the sheet stops at its edge.)"""
    r, g, b = (c.astype(np.int16) for c in cv2.split(rgb))
    ink = (((r - np.maximum(g, b)) * 100 > INK_SATURATION * r) & (r > 110)).astype(np.uint8)
    quad_mask = np.zeros(ink.shape, np.uint8)
    cv2.fillPoly(quad_mask, [np.round(quad).astype(np.int32)], 1)
    square = np.ones((5, 5), np.uint8)
    inside = cv2.erode(quad_mask, square) > 0
    near = cv2.dilate(quad_mask, np.ones((2 * INK_BAND + 1,) * 2, np.uint8)) > 0
    outside = near & (cv2.dilate(quad_mask, square) == 0)
    _, strokes = cv2.connectedComponents(ink * near.astype(np.uint8), connectivity=8)
    crossing = np.intersect1d(strokes[inside & (ink > 0)], strokes[outside & (ink > 0)])
    return bool(np.isin(strokes[outside], crossing[crossing > 0]).sum() > MAX_INK_OUTSIDE)


def _sample(image: NDArray[np.uint8] | NDArray[np.float32], points: Points) -> NDArray[np.float32]:
    xy = points.astype(np.float32).reshape(1, -1, 2)
    values = cv2.remap(
        image, xy[..., 0], xy[..., 1], cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE
    )
    return values.ravel().astype(np.float32)


def _paper_inside(quad: Points, paper: NDArray[np.uint8]) -> bool:
    """The inside is mostly paper-like, clearly more than the outside: not a coloured or dark
    object, not a patch of a bright table."""
    mask = np.zeros(paper.shape[:2], np.uint8)
    inner = quad + (quad.mean(axis=0) - quad) * 0.06
    cv2.fillPoly(mask, [np.round(inner).astype(np.int32)], 1)
    inside = mask[::2, ::2].astype(bool)
    sample = paper[::2, ::2]
    return bool(np.median(sample[inside]) > max(60, np.median(sample[~inside]) + 25))

"""TEMPORARY placeholder until the detector branch (i19-detect) is merged."""

from __future__ import annotations

import math

from PIL import Image

Corners = tuple[tuple[float, float], ...]


def find_sheet(image: Image.Image) -> Corners | None:
    return None


def sheet_aspect(corners: Corners, width: int, height: int) -> float:
    p = [(x * width, y * height) for x, y in corners]
    w = (math.dist(p[0], p[1]) + math.dist(p[3], p[2])) / 2
    h = (math.dist(p[0], p[3]) + math.dist(p[1], p[2])) / 2
    return w / h

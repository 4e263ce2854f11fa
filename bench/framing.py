"""How well and how fast the sheet detector frames synthetic phone photos of drawings.

Photos from bench/sheet_photos.py (known corners; a fifth with no sheet). Printed:
(a) sheets found with every corner within 2 % of the sheet's diagonal (goal >= 95 %);
(b) confident wrong answers, a found sheet with a corner 2 % off or more plus a "found" on a
    photo with no sheet, over all photos (goal <= 1 %), by background;
(c) ingest with framing against bench/ingest.py's floor in the same run (goal <= 1.5x), on a
    12 MP photo from the generator; find_sheet alone too.
Accuracy is measured on 2016x1512 photos (the display size); timing on 4032x3024. A report:
exits 0 whatever the figures.

The detector was tuned on seed 1 (the default); seeds 2 and 3 were held out (seed 2 was
looked at once, for a wrong quadrilateral). The sheet partly on a napkin (one side white on
white) was then tuned on seeds 1 and 2, with seed 3 and the cluttered photos of seed 8 run
as checks; seeds 4 and 5 were held out and run once, at the end.

    .venv/bin/python bench/framing.py [--count N] [--seed S] [--repeat R] [--no-timing]
"""

from __future__ import annotations

import argparse
import io
import math
import sys
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from PIL import Image  # noqa: E402

from bench.ingest import floor, median_ms  # noqa: E402
from bench.sheet_photos import BACKGROUNDS, sheet_photo  # noqa: E402
from fieldapp.media.images import process_photo  # noqa: E402
from fieldapp.media.sheet_detection import Corners, find_sheet  # noqa: E402

FOUND_GOAL, WRONG_GOAL, TIME_GOAL = 0.95, 0.01, 1.5
TOLERANCE = 0.02  # of the sheet's diagonal


def corner_error(found: Corners, truth: Corners, width: int, height: int) -> float:
    """The largest corner distance as a share of the true sheet's diagonal (in pixels)."""
    px = [(x * width, y * height) for x, y in truth]
    diagonal = max(math.dist(px[0], px[2]), math.dist(px[1], px[3]))
    return (
        max(
            math.dist((fx * width, fy * height), (tx * width, ty * height))
            for (fx, fy), (tx, ty) in zip(found, truth, strict=True)
        )
        / diagonal
    )


def accuracy(seed: int, count: int) -> None:
    sheets, found_ok, wrong = Counter(), Counter(), Counter()
    photos, empties, seconds = Counter(), Counter(), 0.0
    misses = []
    for index in range(count):
        photo = sheet_photo(seed, index)
        image = Image.open(io.BytesIO(photo.jpeg)).convert("RGB")
        start = time.perf_counter()
        found = find_sheet(image)
        seconds += time.perf_counter() - start
        kind = photo.background
        photos[kind] += 1
        if photo.corners is None:
            empties[kind] += 1
            if found is not None:
                wrong[kind] += 1
                misses.append(f"#{index} {kind}: found a sheet on a photo without one")
            continue
        sheets[kind] += 1
        if found is None:
            misses.append(f"#{index} {kind}: none found{' (finger)' if photo.finger else ''}")
            continue
        error = corner_error(found, photo.corners, photo.width, photo.height)
        if error < TOLERANCE:
            found_ok[kind] += 1
        else:
            wrong[kind] += 1
            misses.append(f"#{index} {kind}: corner off by {error:.1%} of the diagonal")
    n_sheets, n_photos = sum(sheets.values()), sum(photos.values())
    found_share = sum(found_ok.values()) / n_sheets
    wrong_share = sum(wrong.values()) / n_photos
    print(f"seed {seed}: {n_photos} photos at 2016x1512, {n_sheets} with a sheet")
    print(
        f"{'background':<11} {'photos':>6} {'sheets':>6} {'found <2%':>10} {'no sheet':>8} {'wrong':>6}"
    )
    for kind in BACKGROUNDS:
        print(
            f"{kind:<11} {photos[kind]:>6} {sheets[kind]:>6} {found_ok[kind]:>10}"
            f" {empties[kind]:>8} {wrong[kind]:>6}"
        )
    print(
        f"(a) sheets found within 2 % of the diagonal: {found_share:6.1%}"
        f"  goal >= {FOUND_GOAL:.0%}  {_verdict(found_share >= FOUND_GOAL)}"
    )
    print(
        f"(b) confident wrong answers over all photos: {wrong_share:6.1%}"
        f"  goal <= {WRONG_GOAL:.0%}   {_verdict(wrong_share <= WRONG_GOAL)}"
    )
    print(f"    find_sheet on a 2016x1512 photo: {seconds / n_photos * 1000:.1f} ms on average")
    for line in misses:
        print("    " + line)


def timing(repeat: int) -> None:
    photo = sheet_photo(0, 1, size=(4032, 3024), sheet=True, finger=False, quality=92)
    data = photo.jpeg
    full = Image.open(io.BytesIO(data)).convert("RGB")
    display = full.reduce(2)
    floors, ingests, detects_display, detects_full = [], [], [], []
    for _ in range(3):  # interleaved, so that drift of the machine affects all alike
        floors.append(median_ms(lambda: floor(data), repeat))
        ingests.append(median_ms(lambda: process_photo(data, max_pixels=52_000_000), repeat))
        detects_display.append(median_ms(lambda: find_sheet(display), repeat))
        detects_full.append(median_ms(lambda: find_sheet(full), repeat))
    floor_ms, ingest_ms = min(floors), min(ingests)
    display_ms, full_ms = min(detects_display), min(detects_full)
    framed = (ingest_ms + display_ms) / floor_ms
    print(f"input: a 4032x3024 generated photo, {len(data) / 1e6:.1f} MB")
    print(f"floor (half-scale decode + one 2016-px JPEG):   {floor_ms:7.1f} ms  1.00x")
    print(
        f"process_photo as it is in this tree:            {ingest_ms:7.1f} ms  {ingest_ms / floor_ms:.2f}x"
    )
    print(
        f"find_sheet on the 2016-px display image:        {display_ms:7.1f} ms  {display_ms / floor_ms:.2f}x"
    )
    print(
        f"find_sheet on the decoded 12 MP image:          {full_ms:7.1f} ms  {full_ms / floor_ms:.2f}x"
    )
    print(
        f"(c) ingest with framing (process_photo + find_sheet on the display image): {framed:.2f}x"
        f"  goal <= {TIME_GOAL}x  {_verdict(framed <= TIME_GOAL)}"
    )


def _verdict(ok: bool) -> str:
    return "PASS" if ok else "FAIL"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=200)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--no-timing", action="store_true")
    args = parser.parse_args()
    accuracy(args.seed, args.count)
    if not args.no_timing:
        timing(args.repeat)
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""How well and how fast the sheet detector frames synthetic phone photos of drawings.

Photos from bench/sheet_photos.py (known corners; a fifth with no sheet). Printed:
(a) sheets found with every corner within 2 % of the sheet's diagonal (goal >= 95 %);
(b) confident wrong answers, a found sheet with a corner 2 % off or more plus a "found" on a
    photo with no sheet, over all photos (goal <= 1 %), by background;
(c) ingest of a 12 MP photo from the generator, its sheet found and cut, against
    bench/ingest.py's floor in the same run (goal <= 1.5x); and for comparison ingest of a
    photo with no sheet, ingest with the detector switched off, and find_sheet alone.
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
from fieldapp.media import images  # noqa: E402
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
    """Ingest of a 12 MP photo with a sheet and of one without, against the floor; and what
    framing costs, against ingest with the detector switched off."""
    sheet = sheet_photo(0, 1, size=(4032, 3024), sheet=True, finger=False, quality=92).jpeg
    bare = sheet_photo(0, 2, size=(4032, 3024), sheet=False, finger=False, quality=92).jpeg
    display = Image.open(io.BytesIO(sheet)).convert("RGB").reduce(2)
    found = process_photo(sheet, max_pixels=52_000_000).framing
    runs: dict[str, list[float]] = {key: [] for key in ("floor", "sheet", "bare", "off", "find")}
    for _ in range(3):  # interleaved, so that drift of the machine affects all alike
        runs["floor"].append(median_ms(lambda: floor(sheet), repeat))
        runs["sheet"].append(median_ms(lambda: process_photo(sheet, max_pixels=52_000_000), repeat))
        runs["bare"].append(median_ms(lambda: process_photo(bare, max_pixels=52_000_000), repeat))
        runs["off"].append(median_ms(lambda: _without_framing(sheet), repeat))
        runs["find"].append(median_ms(lambda: find_sheet(display), repeat))
    ms = {key: min(values) for key, values in runs.items()}
    ratio = {key: value / ms["floor"] for key, value in ms.items()}
    print(f"input: 4032x3024 generated photos, {len(sheet) / 1e6:.1f} MB (framing: {found})")
    print(f"floor (half-scale decode + one 2016-px JPEG):      {ms['floor']:7.1f} ms  1.00x")
    print(
        f"ingest without framing (detector switched off):    {ms['off']:7.1f} ms  {ratio['off']:.2f}x"
    )
    print(
        f"ingest, no sheet in the photo (shown whole):       {ms['bare']:7.1f} ms  {ratio['bare']:.2f}x"
    )
    print(
        f"find_sheet alone, on the 2016-px display copy:     {ms['find']:7.1f} ms  {ratio['find']:.2f}x"
    )
    print(
        f"(c) ingest with framing, the sheet found and cut: {ms['sheet']:7.1f} ms  "
        f"{ratio['sheet']:.2f}x  goal <= {TIME_GOAL}x  {_verdict(ratio['sheet'] <= TIME_GOAL)}"
    )


def _without_framing(data: bytes) -> None:
    """process_photo as it was before framing: no sheet looked for."""
    detector = images.find_sheet
    images.find_sheet = lambda image: None  # type: ignore[assignment]
    try:
        process_photo(data, max_pixels=52_000_000)
    finally:
        images.find_sheet = detector


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

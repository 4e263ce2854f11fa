"""Time the server-side processing of a 12-megapixel phone JPEG against a floor.

Floor: Pillow decoding the same file at half scale (JPEG draft mode) and encoding one 2016-px
JPEG, the least any server must do to show the photo. Measured in the same run, on the same
file, so the ratio means the same on any machine. Goal: at most 1.5x the floor.

    .venv/bin/python bench/ingest.py [--repeat N]
"""

from __future__ import annotations

import argparse
import io
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from PIL import Image  # noqa: E402

from fieldapp.media.images import process_photo  # noqa: E402
from fieldapp.media.storage import FolderStore, MediaStore  # noqa: E402
from tests.photo_corpus import camera_jpeg  # noqa: E402

GOAL = 1.5


def floor(data: bytes) -> None:
    image = Image.open(io.BytesIO(data))
    image.draft("RGB", (2016, 2016))
    image = image.convert("RGB")
    image.save(io.BytesIO(), "JPEG", quality=85)


def ingest(data: bytes) -> None:
    process_photo(data, max_pixels=52_000_000)


def ingest_and_store(data: bytes, store: MediaStore) -> None:
    processed = process_photo(data, max_pixels=52_000_000)
    for variant in ("archive", "display", "thumb"):
        rendition = getattr(processed, variant)
        stored = store.write(variant, rendition.data, rendition.extension)
        store.remove(stored.name)  # so the next round writes (and fsyncs) again


def median_ms(function, repeat: int) -> float:
    function()  # warm up: imports, thread pool, page cache
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        function()
        times.append(time.perf_counter() - start)
    return statistics.median(times) * 1000


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=9)
    args = parser.parse_args()
    data = camera_jpeg(orientation=6, gps=True)  # 4032x3024, EXIF orientation 6 and GPS
    print(f"input: 12 MP phone JPEG, {len(data) / 1e6:.1f} MB, orientation 6, GPS tags")
    with tempfile.TemporaryDirectory() as media:
        store = FolderStore(media)
        # Interleave the measurements so that drift of the machine affects all alike.
        floors, ingests, stores = [], [], []
        for _ in range(3):
            floors.append(median_ms(lambda: floor(data), args.repeat))
            ingests.append(median_ms(lambda: ingest(data), args.repeat))
            stores.append(median_ms(lambda: ingest_and_store(data, store), args.repeat))
    floor_ms, ingest_ms, store_ms = min(floors), min(ingests), min(stores)
    ratio = ingest_ms / floor_ms
    print(f"floor (half-scale decode + one 2016-px JPEG):        {floor_ms:7.1f} ms  1.00x")
    print(f"ingest (upright archive + display + thumbnail):      {ingest_ms:7.1f} ms  {ratio:.2f}x")
    print(
        f"ingest + atomic fsynced writes of the three files:   {store_ms:7.1f} ms  {store_ms / floor_ms:.2f}x"
    )
    print(f"goal: ingest at most {GOAL}x the floor -> {'met' if ratio <= GOAL else 'NOT met'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

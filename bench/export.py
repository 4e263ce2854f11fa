"""Export throughput and memory: N drawings exported by `flask export dataset` in a subprocess.

Builds a collection of N drawings quickly (bulk SQL, a few shared stored images, 756x1008 by
default, --width 1512 for the real display size), then runs the real command and reads that process's own peak RSS from
`os.wait4`. Run at two counts to show memory does not grow with the collection. Goal: peak
RSS under 256 MB whatever the count.

    .venv/bin/python bench/export.py [--counts 1000 10000] [--size 512] [--ink]
"""

from __future__ import annotations

import argparse
import io
import os
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import flask_migrate  # noqa: E402
from PIL import Image  # noqa: E402

from fieldapp import create_app  # noqa: E402
from fieldapp.extensions import db  # noqa: E402
from fieldapp.media.storage import MediaStore  # noqa: E402
from tests.dataset_fixtures import drawing_photo  # noqa: E402

GOAL_MB = 256
SHARED_IMAGES = 4


def build_collection(root: Path, count: int, width: int) -> dict[str, str]:
    """A migrated SQLite database with `count` drawings allowed for training; returns the env."""
    env = {
        "FIELDAPP_DATABASE_URL": f"sqlite:///{root / 'fieldapp.sqlite3'}",
        "FIELDAPP_MEDIA_DIR": str(root / "media"),
        "FIELDAPP_SECRET_KEY": "bench",
    }
    app = create_app(
        {"SQLALCHEMY_DATABASE_URI": env["FIELDAPP_DATABASE_URL"], "MEDIA_DIR": str(root / "media"),
         "SECRET_KEY": "bench"}
    )  # fmt: skip
    with app.app_context():
        flask_migrate.upgrade()
        db.engine.dispose()
    store = MediaStore(root / "media")
    names = []
    for seed in range(SHARED_IMAGES):
        photo = Image.open(io.BytesIO(drawing_photo(seed=seed, size=(width, width * 4 // 3))))
        out = io.BytesIO()
        photo.save(out, "JPEG", quality=85)
        names.append(store.write("display", out.getvalue(), "jpg").name)
    start = datetime(2026, 1, 1, 20, 0, tzinfo=UTC).replace(tzinfo=None)
    with sqlite3.connect(root / "fieldapp.sqlite3") as connection:
        connection.executemany(
            "INSERT INTO tickets (id, number, token, reserved_at) VALUES (?, ?, ?, ?)",
            ((n, n, f"token-{n:032d}", start) for n in range(1, count + 1)),
        )
        connection.executemany(
            "INSERT INTO encounters (id, uuid, status, ticket_id, venue_type, venue, city,"
            " started_at, utc_offset_minutes, drawing_started_at, drawing_finished_at,"
            " time_limit_seconds, consent_version_id, keep, gallery, training, social,"
            " credit_name, notes, received_at, data_sha256) VALUES"
            " (?, ?, 'completed', ?, 'bar', '', 'Berlin', ?, 60, ?, ?, 120, 1, 1, 1, 1, 0, ?,"
            " '', ?, '')",
            (
                (n, f"00000000-0000-4000-8000-{n:012d}", n, start + timedelta(minutes=n),
                 start + timedelta(minutes=n, seconds=10), start + timedelta(minutes=n, seconds=99),
                 f"Drawer {n}" if n % 3 == 0 else None, start)
                for n in range(1, count + 1)
            ),
        )  # fmt: skip
        connection.executemany(
            "INSERT INTO photos (id, encounter_id, original_sha256, original_format,"
            " original_bytes, width, height, archive_name, display_name, display_width,"
            " display_height, thumb_name, created_at) VALUES"
            " (?, ?, ?, 'JPEG', 1, 1512, 2016, ?, ?, 1512, 2016, ?, ?)",
            (
                (n, n, f"{n:064x}", names[n % SHARED_IMAGES], names[n % SHARED_IMAGES],
                 names[n % SHARED_IMAGES], start)
                for n in range(1, count + 1)
            ),
        )  # fmt: skip
    return env


def run_export(root: Path, env: dict[str, str], options: list[str]) -> tuple[float, float]:
    """Seconds and peak RSS (MB) of one `flask export dataset` process."""
    flask = Path(sys.executable).with_name("flask")
    started = time.perf_counter()
    child = subprocess.Popen(  # noqa: S603
        [str(flask), "--app", "fieldapp", "export", "dataset", str(root / "out.zip"), *options],
        env=os.environ | env,
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    _, status, usage = os.wait4(child.pid, 0)
    elapsed = time.perf_counter() - started
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(child.stderr.read().decode())
    return elapsed, usage.ru_maxrss / 1024  # Linux: kilobytes


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--counts", type=int, nargs="+", default=[1000, 10000])
    parser.add_argument("--size", default=None, help="export option --size")
    parser.add_argument("--ink", action="store_true", help="export option --ink")
    parser.add_argument(
        "--width", type=int, default=756, help="width of the shared stored images (height 4/3)"
    )
    args = parser.parse_args()
    options = (["--size", args.size] if args.size else []) + (["--ink"] if args.ink else [])
    print(
        f"stored images {args.width}x{args.width * 4 // 3}; export options: "
        f"{' '.join(options) or '(stored size)'}"
    )
    peaks = []
    for count in args.counts:
        root = Path(tempfile.mkdtemp(prefix="fieldapp-bench-export-"))
        try:
            env = build_collection(root, count, args.width)
            seconds, peak = run_export(root, env, options)
            size_mb = (root / "out.zip").stat().st_size / 1e6
        finally:
            shutil.rmtree(root, ignore_errors=True)
        peaks.append(peak)
        print(
            f"{count:>7,} drawings: {seconds:7.1f} s, {count / seconds:6.1f} items/s, "
            f"peak RSS {peak:6.1f} MB, zip {size_mb:,.0f} MB"
        )
    verdict = "OK" if max(peaks) < GOAL_MB else "OVER"
    print(f"peak RSS max {max(peaks):.1f} MB (goal < {GOAL_MB} MB): {verdict}; "
          f"growth from the smallest to the largest count: {peaks[-1] / peaks[0]:.2f}x")  # fmt: skip


if __name__ == "__main__":
    main()

"""Export throughput, memory and time to first byte: N drawings exported by `flask export
dataset` in a subprocess, then downloaded from gunicorn (the production server, one worker).

Builds a collection of N drawings quickly (bulk SQL, a few shared stored images, 756x1008 by
default, --width 1512 for the real display size), then runs the real command and reads that
process's own peak RSS from `os.wait4`. Run at two counts to show memory does not grow with the
collection. Goal: peak RSS under 256 MB whatever the count.

The download (`POST /dataset/export`, logged in) is timed to its first body byte and to its
end, against a floor measured in the same run on the same server: the median `GET /healthz`.
Goal: the first byte comes within seconds whatever the count (a small multiple of the floor
plus one drawing's encoding), a tiny fraction of the whole download; the download takes about
as long as the command line (the same work, sent as it is made).

Signing: what the C2PA manifest of each image (fieldapp/dataset/provenance.py) costs, timed on
one image of the collection against rendering that image (decode, re-encode) in the same run.

    .venv/bin/python bench/export.py [--counts 1000 10000] [--size 512] [--ink]
"""

from __future__ import annotations

import argparse
import io
import os
import re
import shutil
import socket
import sqlite3
import statistics
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
from fieldapp.auth.services import create_collector  # noqa: E402
from fieldapp.extensions import db  # noqa: E402
from fieldapp.media.storage import FolderStore  # noqa: E402
from tests.dataset_fixtures import drawing_photo  # noqa: E402

GOAL_MB = 256
SHARED_IMAGES = 4
USERNAME, PASSWORD = "bench", "a long bench password"  # noqa: S105 - a throwaway instance


def build_collection(root: Path, count: int, width: int) -> dict[str, str]:
    """A migrated SQLite database with `count` drawings allowed for training; returns the env."""
    env = {
        "FIELDAPP_DATABASE_URL": f"sqlite:///{root / 'fieldapp.sqlite3'}",
        "FIELDAPP_MEDIA_DIR": str(root / "media"),
        "FIELDAPP_SECRET_KEY": "bench",
        "FIELDAPP_C2PA_DIR": str(root / "c2pa"),  # the bench's own signing key
    }
    app = create_app(
        {"SQLALCHEMY_DATABASE_URI": env["FIELDAPP_DATABASE_URL"], "MEDIA_DIR": str(root / "media"),
         "SECRET_KEY": "bench"}
    )  # fmt: skip
    with app.app_context():
        flask_migrate.upgrade()
        create_collector(db.session, USERNAME, PASSWORD)
        db.session.commit()
        db.engine.dispose()
    store = FolderStore(root / "media")
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


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _csrf(html: str) -> str:
    return re.search(r'name="csrf_token" (?:type="hidden" )?value="([^"]+)"', html).group(1)


def _peak_rss_mb(pid: int) -> float:
    """VmHWM (peak resident memory) of a running process, in MB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return 0.0


def run_download(root: Path, env: dict[str, str], options: list[str]) -> dict[str, float]:
    """Time one download from gunicorn: the floor, the first body byte, the end."""
    import requests

    port = _free_port()
    log = root / "gunicorn.log"
    server = subprocess.Popen(  # noqa: S603 - our own gunicorn
        [sys.executable, "-m", "gunicorn", "-c", str(ROOT / "gunicorn.conf.py"),
         "fieldapp:create_app()"],
        env=os.environ | env | {"FIELDAPP_BIND": f"127.0.0.1:{port}", "FIELDAPP_WORKERS": "1",
                                "FIELDAPP_THREADS": "2", "FIELDAPP_ACCESS_LOG": "off"},
        cwd=ROOT, stdout=log.open("wb"), stderr=subprocess.STDOUT,
    )  # fmt: skip
    url = f"http://127.0.0.1:{port}"
    try:
        browser = requests.Session()
        for _ in range(300):
            try:
                page = browser.get(f"{url}/login", timeout=5)
                break
            except requests.ConnectionError:
                if server.poll() is not None:
                    raise SystemExit(log.read_text()) from None
                time.sleep(0.1)
        browser.post(f"{url}/login", data={"username": USERNAME, "password": PASSWORD,
                                           "csrf_token": _csrf(page.text)}).raise_for_status()  # fmt: skip
        floors = []
        for _ in range(30):
            started = time.perf_counter()
            browser.get(f"{url}/healthz").raise_for_status()
            floors.append(time.perf_counter() - started)
        form = {"kind": "training", "csrf_token": _csrf(browser.get(f"{url}/dataset/export").text)}
        if "--size" in options:
            form["size"] = options[options.index("--size") + 1]
        if "--ink" in options:
            form["ink"] = "y"
        started = time.perf_counter()
        with browser.post(f"{url}/dataset/export", data=form, stream=True) as response:
            response.raise_for_status()
            received = len(response.raw.read(1))
            first_byte = time.perf_counter() - started
            while chunk := response.raw.read(1024 * 1024):
                received += len(chunk)
        total = time.perf_counter() - started
        children = Path(f"/proc/{server.pid}/task/{server.pid}/children").read_text().split()
        worker_peak = max((_peak_rss_mb(int(pid)) for pid in children), default=0.0)
    finally:
        server.terminate()
        server.wait(timeout=30)
    return {"floor": statistics.median(floors), "first_byte": first_byte, "total": total,
            "bytes": received, "worker_peak": worker_peak}  # fmt: skip


def signing_cost(width: int, options: list[str], rounds: int = 30) -> dict[str, float]:
    """Median seconds to render one exported image and to sign it (its C2PA manifest)."""
    from fieldapp.dataset.images import render_export_image
    from fieldapp.dataset.provenance import MIME_TYPES, ImageProvenance, export_signer
    from fieldapp.media.xmp import with_rights

    size = int(options[options.index("--size") + 1]) if "--size" in options else None
    with tempfile.TemporaryDirectory(prefix="fieldapp-bench-sign-") as scratch:
        stored = Path(scratch) / "stored.jpg"
        stored.write_bytes(drawing_photo(seed=1, size=(width, width * 4 // 3)))
        renders, signs = [], []
        with export_signer(Path(scratch) / "c2pa") as signer:
            for _ in range(rounds):
                started = time.perf_counter()
                pixels, extension = render_export_image(stored, size=size, ink="--ink" in options)
                data = with_rights(pixels, training_allowed=True, creator="Drawer")
                renders.append(time.perf_counter() - started)
                image = ImageProvenance(
                    title=f"x.{extension}", credit="Drawer", framing="auto",
                    training_allowed=True, square_size=size, ink="--ink" in options,
                )  # fmt: skip
                started = time.perf_counter()
                signed = signer.sign(data, MIME_TYPES[extension], image)
                signs.append(time.perf_counter() - started)
    return {"render": statistics.median(renders), "sign": statistics.median(signs),
            "added_bytes": len(signed) - len(data), "bytes": len(data)}  # fmt: skip


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
    cost = signing_cost(args.width, options)
    print(
        f"signing one image: {cost['sign'] * 1000:.1f} ms = {cost['sign'] / cost['render']:.1%} "
        f"of rendering it ({cost['render'] * 1000:.1f} ms); the manifest adds "
        f"{cost['added_bytes'] / 1024:.1f} KB to its {cost['bytes'] / 1024:.0f} KB"
    )
    peaks = []
    for count in args.counts:
        root = Path(tempfile.mkdtemp(prefix="fieldapp-bench-export-"))
        try:
            env = build_collection(root, count, args.width)
            seconds, peak = run_export(root, env, options)
            size_mb = (root / "out.zip").stat().st_size / 1e6
            web = run_download(root, env, options)
        finally:
            shutil.rmtree(root, ignore_errors=True)
        peaks.extend([peak, web["worker_peak"]])
        print(
            f"{count:>7,} drawings: command line {seconds:7.1f} s, {count / seconds:6.1f} items/s, "
            f"peak RSS {peak:6.1f} MB, zip {size_mb:,.0f} MB"
        )
        print(
            f"{'':>17} download: first byte {web['first_byte'] * 1000:8.1f} ms "
            f"= {web['first_byte'] / web['floor']:6.1f}x the floor (GET /healthz "
            f"{web['floor'] * 1000:.1f} ms) = {web['first_byte'] / web['total']:.2%} of the "
            f"download; whole {web['total']:7.1f} s = {web['total'] / seconds:.2f}x the command "
            f"line, {web['bytes'] / 1e6:,.0f} MB; worker peak RSS {web['worker_peak']:6.1f} MB"
        )
    verdict = "OK" if max(peaks) < GOAL_MB else "OVER"
    print(f"peak RSS max {max(peaks):.1f} MB (goal < {GOAL_MB} MB): {verdict}; "
          f"growth from the smallest to the largest count: {peaks[-2] / peaks[0]:.2f}x")  # fmt: skip


if __name__ == "__main__":
    main()

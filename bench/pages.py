"""Time the pages that grow with the collection, at 1,000 and at 100,000 encounters.

Builds two SQLite databases by bulk SQL inserts (two years of evenings, eight venue types,
about a quarter declined, 2 % withdrawn, consent choices spread, a ticket per drawing, photo rows
pointing at three small real image files), then times each page through the Flask test client
after a warm-up (the lowest median of 3 rounds of 25): the log's first page and a deep page
(through its cursor), the gallery's first and a deep page, the collector's ledger and the
public one, and the live feed.

Prints the median at each size and the ratio 100,000 / 1,000. Goals: ratio at most 1.5; at
100,000, log and gallery under 50 ms, ledger under 150 ms.

    .venv/bin/python bench/pages.py [--runs 25] [--rounds 3] [--small 1000] [--large 100000]
"""

from __future__ import annotations

import argparse
import io
import random
import re
import secrets
import statistics
import sys
import tempfile
import time
import uuid as uuidlib
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import flask_migrate  # noqa: E402
from PIL import Image  # noqa: E402
from sqlalchemy import insert, select, text  # noqa: E402

from fieldapp import create_app  # noqa: E402
from fieldapp.auth.services import create_collector  # noqa: E402
from fieldapp.encounters.models import VENUE_TYPES, Encounter  # noqa: E402
from fieldapp.extensions import db  # noqa: E402
from fieldapp.media.models import Photo  # noqa: E402
from fieldapp.media.storage import FolderStore, MediaStore  # noqa: E402
from fieldapp.tickets.models import Ticket  # noqa: E402

PASSWORD = "bench password long enough"  # noqa: S105 (a throwaway database)
GOALS_MS = {"log": 50, "gallery": 50, "ledger": 150}
RATIO_GOAL = 1.5
LIMITS = (30, 60, 120, 120, 180, 300, 300, 600, None)
VENUE_WEIGHTS = (30, 20, 15, 10, 10, 5, 5, 5)
OFFSETS = (-300, -240, 0, 60, 60, 60, 120)
NOW = datetime.now(UTC).replace(microsecond=0)


def build(root: Path, count: int, seed: int = 5):
    """A migrated database under `root` holding `count` encounters; returns the app."""
    app = create_app(
        {
            "SECRET_KEY": "bench",
            "SQLALCHEMY_DATABASE_URI": f"sqlite:///{root / 'fieldapp.sqlite3'}",
            "MEDIA_DIR": str(root / "media"),
            "WTF_CSRF_ENABLED": True,
        }
    )
    rng = random.Random(seed)
    with app.app_context():
        flask_migrate.upgrade(directory=str(ROOT / "migrations"))
        create_collector(db.session, "bench", PASSWORD)
        db.session.commit()
        files = _image_files(FolderStore(app.config["MEDIA_DIR"]))
        _insert_encounters(rng, count, files)
        db.session.execute(text("ANALYZE"))
        db.session.commit()
    return app


def _image_files(store: MediaStore) -> list[dict]:
    """Three real small drawings' files, shared by every photo row."""
    files = []
    for color in ((200, 30, 30), (30, 30, 200), (20, 20, 20)):
        out = io.BytesIO()
        Image.new("RGB", (600, 800), color).save(out, "JPEG")
        data = out.getvalue()
        names = {v: store.write(v, data, "jpg").name for v in ("archive", "display", "thumb")}
        files.append(names)
    return files


def _insert_encounters(rng: random.Random, count: int, files: list[dict]) -> None:
    span = timedelta(days=730).total_seconds()
    encounters, tickets, photos = [], [], []
    number = 0
    for i in range(1, count + 1):
        # Evenings: most encounters start between 18:00 and 01:00 in the room.
        day = NOW - timedelta(seconds=rng.uniform(0, span))
        offset = rng.choice(OFFSETS)
        started = day.replace(hour=(18 + rng.randrange(8)) % 24) - timedelta(minutes=offset)
        started = min(started, NOW - timedelta(minutes=30))
        venue = rng.choices(VENUE_TYPES, VENUE_WEIGHTS)[0]
        row = {
            "id": i, "uuid": str(uuidlib.UUID(int=rng.getrandbits(128))), "venue_type": venue,
            "venue": "", "city": "", "started_at": started, "utc_offset_minutes": offset,
            "received_at": started + timedelta(minutes=20), "data_sha256": "0" * 64,
            "notes": "", "ticket_id": None, "drawing_started_at": None,
            "drawing_finished_at": None, "time_limit_seconds": None, "consent_version_id": None,
            "keep": None, "gallery": None, "training": None, "social": None,
            "credit_name": None, "recorded_by_id": None, "withdrawn_at": None,
        }  # fmt: skip
        if rng.random() < 0.25:
            encounters.append(row | {"status": "declined"})
            continue
        number += 1
        withdrawn = started + timedelta(days=3) if rng.random() < 0.02 else None
        limit = rng.choice(LIMITS)
        drawing = rng.uniform(20, (limit or 900) * 1.1)
        draw_start = started + timedelta(seconds=rng.uniform(60, 240))
        keep = not withdrawn
        row |= {
            "status": "completed", "ticket_id": number, "time_limit_seconds": limit,
            "drawing_started_at": draw_start,
            "drawing_finished_at": draw_start + timedelta(seconds=drawing),
            "consent_version_id": 1, "keep": keep, "gallery": keep and rng.random() < 0.6,
            "training": keep and rng.random() < 0.3, "social": keep and rng.random() < 0.4,
            "credit_name": f"Drawer {number}" if keep and rng.random() < 0.3 else None,
            "withdrawn_at": withdrawn,
        }  # fmt: skip
        encounters.append(row)
        tickets.append(
            {"id": number, "number": number, "token": secrets.token_urlsafe(18),
             "reserved_at": started - timedelta(days=1), "withdrawn_at": withdrawn}
        )  # fmt: skip
        if keep:
            names = files[number % len(files)]
            photos.append(
                {"encounter_id": i, "original_sha256": f"{rng.getrandbits(256):064x}",
                 "original_format": "JPEG", "original_bytes": 50_000, "width": 600,
                 "height": 800, "archive_name": names["archive"],
                 "display_name": names["display"], "display_width": 600,
                 "display_height": 800, "thumb_name": names["thumb"], "created_at": started}
            )  # fmt: skip
    session = db.session
    for model, rows in ((Ticket, tickets), (Encounter, encounters), (Photo, photos)):
        for start in range(0, len(rows), 5000):
            session.execute(insert(model.__table__), rows[start : start + 5000])
    session.commit()


def _log_in(client) -> None:
    page = client.get("/login").text
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)
    response = client.post(
        "/login", data={"username": "bench", "password": PASSWORD, "csrf_token": token}
    )
    assert response.status_code == 302, response.status_code


def _deep_urls(app) -> dict[str, str]:
    """Cursors half-way down the log and the gallery."""
    with app.app_context():
        session = db.session
        total = session.scalar(select(db.func.count()).select_from(Encounter))
        started, encounter_id = session.execute(
            select(Encounter.started_at, Encounter.id)
            .order_by(Encounter.started_at.desc(), Encounter.id.desc())
            .offset(total // 2)
            .limit(1)
        ).one()
        shown = session.scalar(
            select(db.func.count()).select_from(Encounter).where(Encounter.gallery.is_(True))
        )
        number = session.scalar(
            select(Ticket.number)
            .join(Encounter, Encounter.ticket_id == Ticket.id)
            .where(Encounter.gallery.is_(True))
            .order_by(Encounter.started_at.desc(), Ticket.number.desc())
            .offset(shown // 2)
            .limit(1)
        )
    return {
        "log, deep page": f"/encounters?before={started.isoformat()}_{encounter_id}",
        "gallery, deep page": f"/gallery?before={number}",
    }


def _urls(app) -> dict[str, str]:
    return {
        "log, first page": "/encounters",
        "gallery, first page": "/gallery",
        "ledger (collector)": "/ledger",
        "ledger (public)": "/ledger/public",
        "live feed": "/live.json",
    } | _deep_urls(app)


def _timed_get(client, url: str) -> float:
    start = time.perf_counter()
    response = client.get(url)
    elapsed = time.perf_counter() - start
    assert response.status_code == 200, (url, response.status_code)
    return elapsed


def time_pages(apps: dict[int, object], runs: int, rounds: int) -> dict[int, dict[str, float]]:
    """Median milliseconds of each page at each size, after a warm-up: the lowest median of
    `rounds` rounds of `runs` requests. The sizes take turns, request by request, so that the
    machine's drift (other work on its two cores) falls on both alike."""
    clients, urls = {}, {}
    for size, app in apps.items():
        clients[size] = app.test_client()
        _log_in(clients[size])
        urls[size] = _urls(app)
    medians: dict[int, dict[str, float]] = {size: {} for size in apps}
    for name in urls[next(iter(apps))]:
        for size in apps:  # warm-up
            for _ in range(3):
                _timed_get(clients[size], urls[size][name])
        for _ in range(rounds):
            times: dict[int, list[float]] = {size: [] for size in apps}
            for _ in range(runs):
                for size in apps:
                    times[size].append(_timed_get(clients[size], urls[size][name]))
            for size in apps:
                median = statistics.median(times[size]) * 1000
                medians[size][name] = min(medians[size].get(name, median), median)
    return medians


def goal_of(name: str) -> float | None:
    for key, goal in GOALS_MS.items():
        if name.startswith(key):
            return goal
    return None


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=25)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--small", type=int, default=1_000)
    parser.add_argument("--large", type=int, default=100_000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        apps = {}
        for size in (args.small, args.large):
            root = Path(tmp) / str(size)
            root.mkdir()
            began = time.perf_counter()
            apps[size] = build(root, size)
            print(f"built {size:,} encounters in {time.perf_counter() - began:.1f} s")
        results = time_pages(apps, args.runs, args.rounds)
        for app in apps.values():
            with app.app_context():
                db.engine.dispose()
    small, large = results[args.small], results[args.large]
    print(f"\nlowest median of {args.rounds} x {args.runs} requests (Flask test client), ms")
    print(f"{'page':<22}{args.small:>10,}{args.large:>10,}{'ratio':>8}  goal")
    met = True
    for name in large:
        ratio = large[name] / small[name]
        goal = goal_of(name)
        ok = ratio <= RATIO_GOAL and (goal is None or large[name] < goal)
        met &= ok or goal is None
        target = f"< {goal} ms, ratio <= {RATIO_GOAL}" if goal else "(no goal)"
        mark = "" if goal is None else ("met" if ok else "NOT met")
        print(f"{name:<22}{small[name]:>10.1f}{large[name]:>10.1f}{ratio:>8.2f}  {target} {mark}")
    return 0 if met else 1


if __name__ == "__main__":
    sys.exit(main())

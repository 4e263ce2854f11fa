"""Test data with named options: make_encounter(app, declined=True, credit_name="Ana")."""

from __future__ import annotations

import io
import json
import re
import uuid as uuidlib
from datetime import UTC, datetime, timedelta
from pathlib import Path

from PIL import Image
from sqlalchemy import func, select

from fieldapp.encounters.services import encounter_by_uuid, record_encounter
from fieldapp.encounters.validation import parse_encounter_data
from fieldapp.extensions import db
from fieldapp.media.images import process_photo
from fieldapp.media.services import media_store
from tests.conftest import csrf_token_from


def encounter_data(*, declined: bool = False, started_at: datetime | None = None, **fields) -> dict:
    """The `data` JSON of an upload, valid unless told otherwise."""
    started = started_at or datetime.now(UTC) - timedelta(minutes=10)
    if declined:
        return {
            "status": "declined",
            "venue_type": "bar",
            "venue": "pool night",
            "city": "New York",
            "started_at": started.isoformat(),
            **fields,
        }
    return {
        "status": "completed",
        "venue_type": "bar",
        "venue": "pool night",
        "city": "New York",
        "started_at": started.isoformat(),
        "drawing_started_at": (started + timedelta(minutes=1)).isoformat(),
        "drawing_finished_at": (started + timedelta(minutes=3)).isoformat(),
        "time_limit_seconds": 120,
        "consent": {
            "version": 1,
            "keep": True,
            "gallery": True,
            "training": False,
            "social": False,
        },
        "credit": {"anonymous": True},
        "notes": "",
        **fields,
    }


def make_encounter(
    app,
    *,
    photo: bytes | None = None,
    declined: bool = False,
    withdrawn: bool = False,
    credit_name: str | None = None,
    **fields,
):
    """Record an encounter through the real service; returns its UUID.

    `credit_name="Ana"` credits the drawer by name; `withdrawn=True` withdraws it afterwards
    through the real withdrawal service, as its drawer would.
    """
    client_uuid = str(uuidlib.uuid4())
    if credit_name is not None:
        fields["credit"] = {"name": credit_name}
    with app.app_context():
        data = parse_encounter_data(encounter_data(declined=declined, **fields))
        processed = (
            process_photo(photo, max_pixels=app.config["MAX_PHOTO_PIXELS"]) if photo else None
        )
        record_encounter(
            db.session,
            media_store(),
            uuid=client_uuid,
            data=data,
            photo=processed,
            collector_id=None,
        )
        if withdrawn:
            from fieldapp.withdrawal.services import withdraw

            withdraw(db.session, media_store(), encounter_by_uuid(db.session, client_uuid).ticket)
    return client_uuid


def token_of(app, client_uuid: str) -> str:
    """The participant token of an encounter."""
    with app.app_context():
        return encounter_by_uuid(db.session, client_uuid).token


def number_of(app, client_uuid: str) -> int:
    """The portrait number of an encounter."""
    with app.app_context():
        return encounter_by_uuid(db.session, client_uuid).number


def small_jpeg(color=(200, 30, 30), size=(300, 400)) -> bytes:
    """A plain 300x400 JPEG: a valid photo where its content does not matter."""
    out = io.BytesIO()
    Image.new("RGB", size, color).save(out, "JPEG")
    return out.getvalue()


def put_encounter(
    client,
    token: str,
    client_uuid: str,
    data: dict,
    photo: bytes | None = None,
    *,
    filename: str = "drawing.jpg",
    content_type: str = "image/jpeg",
):
    """PUT /api/v1/encounters/<uuid> as the phone sends it: multipart `data` JSON and `photo`."""
    parts = {"data": json.dumps(data)}
    if photo is not None:
        parts["photo"] = (io.BytesIO(photo), filename, content_type)
    return client.put(
        f"/api/v1/encounters/{client_uuid}",
        data=parts,
        headers={"Authorization": f"Bearer {token}"},
        content_type="multipart/form-data",
    )


def count_rows(app, model) -> int:
    """How many rows a table holds."""
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(model))


def stored_files(app) -> list[Path]:
    """Every file under the app's media directory."""
    root = Path(app.config["MEDIA_DIR"])
    return sorted(p for p in root.rglob("*") if p.is_file()) if root.exists() else []


def home_count(html: str) -> tuple[str, str]:
    """The home screen's "N of GOAL drawings", as shown."""
    drawings = re.search(r'id="home-drawings">([\d,]+)</strong>', html).group(1)
    goal = re.search(r'id="home-goal">([\d,]+)</span> drawings', html).group(1)
    return drawings, goal


def batch_fields(client, **overrides) -> dict:
    """The backlog import's form, filled in: a batch at a fair, numbered from 1 (`overrides`
    change any field)."""
    page = client.get("/encounters/import")
    assert page.status_code == 200
    return {
        "csrf_token": csrf_token_from(page.text),
        "start_number": "1",
        "on": "2025-06-14",
        "utc_offset": "120",
        "venue_type": "fair",
        "venue": "zine fair",
        "city": "Leipzig",
        "consent_version": "1",
        "gallery": "y",
        **overrides,
    }

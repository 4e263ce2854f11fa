"""What the live screen and the zine show: public figures and the latest public drawings.

Only public data: the count, the labor totals, and drawings from the gallery service (keep +
gallery consent, not withdrawn), with the credit their drawers chose.
"""

from __future__ import annotations

import hashlib
import json

from flask import url_for
from sqlalchemy.orm import Session

from fieldapp.gallery.services import GalleryItem, gallery_page
from fieldapp.ledger.services import current_goal, labor_totals

LATEST = 8


def live_figures(session: Session, *, latest: int = LATEST) -> dict:
    """The live screen's data, as JSON-ready values."""
    totals = labor_totals(session)
    goal = current_goal(session)
    completed = totals["drawings"] + totals["withdrawn"]
    return {
        "drawings": totals["drawings"],
        "goal": goal,
        "approaches": completed + totals["declined"],
        "collector_hours": round(totals["collector_seconds"] / 3600, 1),
        "drawer_hours": round(totals["drawer_seconds"] / 3600, 1),
        "latest": [_drawing(item) for item in gallery_page(session, per_page=latest).items],
    }


def _drawing(item: GalleryItem) -> dict:
    width, height = item.thumb_size
    return {
        "number": item.number,
        "credit": item.credit,
        "url": url_for("gallery.item", number=item.number),
        "thumb": url_for("gallery.thumb", number=item.number, v=item.image_version),
        "width": width,
        "height": height,
    }


def etag_of(payload: dict) -> str:
    """A strong validator: the SHA-256 of the canonical JSON."""
    canonical = json.dumps(payload, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()[:32]

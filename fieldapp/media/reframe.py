"""`flask media reframe`: look for the sheet in photos stored before framing, or before the
sheet detector last changed.

Which photos: those the current detector (framing.DETECTOR_VERSION) has not looked at yet,
never one the artist framed by hand; with `needs_framing` only those still shown whole. Each
photo is one write transaction that writes its new display image and thumbnail, points the row
at them and records the change in the edit history; the old files are deleted after the
commit. So the command is idempotent (a photo looked at is not looked at again) and resumable
(stopped halfway, it goes on where it stopped), and a crash leaves at worst orphan files that
`flask media sweep` removes.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from fieldapp.database import write_transaction
from fieldapp.encounters.history import record_revision
from fieldapp.media.framing import AUTO, DETECTOR_VERSION, MANUAL, NONE, framing_label
from fieldapp.media.models import Photo
from fieldapp.media.services import (
    apply_framing,
    frame_archive,
    remove_created,
    remove_unreferenced,
    stored_corners,
)
from fieldapp.media.storage import MediaStore

REASON = "Framed by `flask media reframe`."


@dataclass
class ReframeReport:
    """What a run did, for its summary."""

    framed: int = 0  # a sheet was found
    unframed: int = 0  # none found: shown whole, listed as needing framing
    problems: list[str] = field(default_factory=list)  # photos whose archive could not be read

    def summary(self) -> str:
        looked = self.framed + self.unframed
        return (
            f"Looked at {looked} photo(s): {self.framed} framed, "
            f"{self.unframed} still need framing by hand."
        )


def photos_to_reframe(session: Session, *, needs_framing: bool) -> list[int]:
    """The ids of the photos a run looks at, oldest first."""
    query = select(Photo.id).where(
        Photo.framing != MANUAL,
        or_(Photo.framing_detector.is_(None), Photo.framing_detector != DETECTOR_VERSION),
    )
    if needs_framing:
        query = query.where(Photo.framing == NONE)
    ids = list(session.scalars(query.order_by(Photo.id)))
    session.commit()
    return ids


def reframe_stored(
    session: Session,
    store: MediaStore,
    photo_ids: list[int],
    *,
    progress: Callable[[int], None] | None = None,
) -> ReframeReport:
    """Look for the sheet in each photo and frame it by what is found (see the module)."""
    report = ReframeReport()
    for photo_id in photo_ids:
        try:
            framing = _reframe_one(session, store, photo_id)
        except (OSError, ValueError) as error:
            report.problems.append(f"photo {photo_id}: {error}")
            framing = None
        if framing == AUTO:
            report.framed += 1
        elif framing == NONE:
            report.unframed += 1
        if progress:
            progress(1)
    return report


def _reframe_one(session: Session, store: MediaStore, photo_id: int) -> str | None:
    """One photo, in its own transaction; its framing after, or None if it was skipped (gone,
    withdrawn or framed by hand since the list was made)."""
    photo = session.get(Photo, photo_id)
    if photo is None or photo.framing == MANUAL or photo.framing_detector == DETECTOR_VERSION:
        session.commit()
        return None
    archive_name = photo.archive_name
    session.commit()
    framed = frame_archive(store, archive_name, None, AUTO)  # slow: outside the write lock
    with write_transaction(session) as undo:
        photo = session.get(Photo, photo_id)
        if photo is None or photo.framing == MANUAL or photo.archive_name != archive_name:
            return None  # withdrawn, replaced or framed by hand meanwhile
        before = photo.framing, stored_corners(photo)
        reframed = apply_framing(session, store, photo, framed)
        undo.append(lambda: remove_created(store, reframed.written))
        after = framed.framing, framed.corners
        if after != before:
            record_revision(
                session,
                photo.encounter_id,
                collector_id=None,
                kind="framing",
                reason=REASON,
                changes=[("framing", framing_label(*before), framing_label(*after))],
            )
    remove_unreferenced(session, store, reframed.replaced)
    return framed.framing

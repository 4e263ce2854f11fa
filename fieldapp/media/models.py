"""The stored files of a photographed drawing."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from fieldapp.database import UTCDateTime, utcnow
from fieldapp.extensions import Model


class Photo(Model):
    """A drawing's photo: an archive copy, a display image and a thumbnail, none with metadata.

    File names are relative to the media directory and made of each file's own SHA-256.
    `original_sha256` is the hash of the bytes the phone sent: the same photo sent twice is
    recognised, and it can belong to one encounter only.

    The archive is the whole upright photo; the display image and thumbnail show its framing
    (media.framing): the sheet found at ingest ("auto"), placed by the artist ("manual"), or
    the whole photo when no sheet was found ("none": the drawing needs framing). `corners` are
    the framing's four corners as fractions of the archive (NULL for "none");
    `framing_detector` the version of the sheet detector that last looked at the photo (NULL:
    stored before framing existed; see `flask media reframe`).
    """

    __tablename__ = "photos"

    id: Mapped[int] = mapped_column(primary_key=True)
    encounter_id: Mapped[int] = mapped_column(ForeignKey("encounters.id"), unique=True)
    original_sha256: Mapped[str] = mapped_column(String(64), unique=True)
    original_format: Mapped[str] = mapped_column(String(8))
    original_bytes: Mapped[int]
    width: Mapped[int]  # of the upright archive image
    height: Mapped[int]
    archive_name: Mapped[str] = mapped_column(String(128))
    display_name: Mapped[str] = mapped_column(String(128))
    display_width: Mapped[int]
    display_height: Mapped[int]
    thumb_name: Mapped[str] = mapped_column(String(128))
    framing: Mapped[str] = mapped_column(String(8), default="none", server_default="none")
    corners: Mapped[list | None] = mapped_column(JSON)
    framing_detector: Mapped[int | None]
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    encounter = relationship("Encounter", back_populates="photo")


class PendingRemoval(Model):
    """A media file a withdrawal (or a replaced photo) left in the store because the store did
    not answer when it tried to delete it. No row names the file, so nothing serves it; it is
    deleted by the next request that finds the store answering (media.services
    `retry_removals()`), or by `flask media sweep`."""

    __tablename__ = "pending_removals"

    name: Mapped[str] = mapped_column(String(128), primary_key=True)
    queued_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

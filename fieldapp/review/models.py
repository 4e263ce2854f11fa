"""The audit history of the collector's edits to an encounter (not its consent: see consent)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from fieldapp.database import UTCDateTime, utcnow
from fieldapp.extensions import db

# Free-text fields that can point at a person (their upload fingerprint goes when they change).
PERSONAL_FIELDS = ("venue", "city", "notes", "credit_name")
# What a tombstone keeps: when the drawer withdraws, the history keeps the values of these
# fields only (the collector's labor); every other value (occasion, city, notes, name, the
# photo's hash, the imported file's name) and every reason is erased.
TOMBSTONE_FIELDS = (
    "venue_type", "started_at", "time_limit_seconds", "drawing_started_at", "drawing_finished_at",
    "number", "ticket",
)  # fmt: skip
ERASED = "(erased)"


class EncounterRevision(db.Model):
    """One save by the collector: who, when, why, and the field changes it made."""

    __tablename__ = "encounter_revisions"

    id: Mapped[int] = mapped_column(primary_key=True)
    encounter_id: Mapped[int] = mapped_column(ForeignKey("encounters.id"), index=True)
    collector_id: Mapped[int | None] = mapped_column(ForeignKey("collectors.id"))
    # edit, renumber, swap, attach_ticket, photo, import
    kind: Mapped[str] = mapped_column(String(16))
    reason: Mapped[str] = mapped_column(Text, default="")
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    collector = relationship("Collector", lazy="joined")
    changes = relationship(
        "FieldChange",
        order_by="FieldChange.id",
        lazy="selectin",
        cascade="all, delete-orphan",
    )


class FieldChange(db.Model):
    """One field of a revision: its old and new value, as text."""

    __tablename__ = "encounter_field_changes"

    id: Mapped[int] = mapped_column(primary_key=True)
    revision_id: Mapped[int] = mapped_column(ForeignKey("encounter_revisions.id"), index=True)
    field: Mapped[str] = mapped_column(String(32))
    old_value: Mapped[str] = mapped_column(Text, default="")
    new_value: Mapped[str] = mapped_column(Text, default="")

"""The audit history of the collector's edits to an encounter (not its consent: see consent)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from fieldapp.database import UTCDateTime, utcnow
from fieldapp.extensions import db

# Fields whose values can point at a person: their old and new values are erased from the
# history when the drawer withdraws (and the credit name's when they choose anonymity).
PERSONAL_FIELDS = ("venue", "city", "notes", "credit_name")
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

"""Encounters: one in-person meeting each, completed (a drawing was made) or declined."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from enum import StrEnum

from sqlalchemy import CheckConstraint, ForeignKey, Index, String, Text, false, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from fieldapp.database import UTCDateTime, utcnow
from fieldapp.extensions import Model

VENUE_TYPES = ("bar", "party", "fair", "conference", "street", "transit", "home", "other")


# `data_sha256` after a name was erased: the upload's fingerprint hashed the name with fields we
# still hold, so a list of names could be tried against it. A retry is then taken on trust.
FINGERPRINT_ERASED = ""


AGE_ADULT, AGE_MINOR = "adult", "minor"
AGE_GROUPS = (AGE_ADULT, AGE_MINOR)


class EncounterStatus(StrEnum):
    COMPLETED = "completed"
    DECLINED = "declined"


class Encounter(Model):
    """One meeting. A declined one keeps only its venue and time: no personal data.

    The consent columns hold the *current* choices; every change to them goes through the
    consent service, which appends a ConsentEvent in the same transaction.
    """

    __tablename__ = "encounters"
    __table_args__ = (
        CheckConstraint("status IN ('completed', 'declined')", name="status"),
        CheckConstraint(
            "venue_type IN ('bar', 'party', 'fair', 'conference', 'street', 'transit', "
            "'home', 'other')",
            name="venue_type",
        ),
        CheckConstraint(
            "time_limit_seconds IS NULL OR time_limit_seconds > 0", name="time_limit_positive"
        ),
        Index("ix_encounters_started_at_id", "started_at", "id"),
        # The log's filters, each keyset-ordered on (started_at, id) like the unfiltered log.
        Index("ix_encounters_status_started_at_id", "status", "started_at", "id"),
        Index("ix_encounters_venue_type_started_at_id", "venue_type", "started_at", "id"),
        Index("ix_encounters_gallery_started_at_id", "gallery", "started_at", "id"),
        Index("ix_encounters_training_started_at_id", "training", "started_at", "id"),
        Index("ix_encounters_social_started_at_id", "social", "started_at", "id"),
        # A helper's own encounters, newest first (its list, its last venue).
        Index("ix_encounters_recorded_by_id_started_at_id", "recorded_by_id", "started_at", "id"),
        # Tombstones only: a partial index, so the planner never takes it for "not withdrawn"
        # (nearly every row), which the gallery and the log ask on every page.
        Index(
            "ix_encounters_withdrawn_at",
            "withdrawn_at",
            sqlite_where=text("withdrawn_at IS NOT NULL"),
            postgresql_where=text("withdrawn_at IS NOT NULL"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    uuid: Mapped[str] = mapped_column(String(36), unique=True)
    status: Mapped[str] = mapped_column(String(16))
    ticket_id: Mapped[int | None] = mapped_column(ForeignKey("tickets.id"), unique=True)
    venue_type: Mapped[str] = mapped_column(String(16))
    venue: Mapped[str] = mapped_column(String(200), default="")
    city: Mapped[str] = mapped_column(String(100), default="")
    started_at: Mapped[datetime] = mapped_column(UTCDateTime)
    # The collector's local offset at the time, so dates read as they did in the room.
    utc_offset_minutes: Mapped[int] = mapped_column(default=0)
    drawing_started_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    drawing_finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    time_limit_seconds: Mapped[int | None]
    consent_version_id: Mapped[int | None] = mapped_column(ForeignKey("consent_versions.id"))
    # The language of the consent text the drawer was shown (None: the version's own).
    consent_language: Mapped[str | None] = mapped_column(String(16))
    # "adult" or "minor" (under FIELDAPP_ADULT_AGE): only the answer, never a birth date.
    age_group: Mapped[str] = mapped_column(String(8), default="adult", server_default="adult")
    # A minor's drawing is shown in the gallery only once a parent or guardian agreed.
    guardian_agreed: Mapped[bool] = mapped_column(default=False, server_default=false())
    keep: Mapped[bool | None]
    gallery: Mapped[bool | None]
    training: Mapped[bool | None]
    social: Mapped[bool | None]
    credit_name: Mapped[str | None] = mapped_column(String(100))  # None: anonymous
    notes: Mapped[str] = mapped_column(Text, default="")
    recorded_by_id: Mapped[int | None] = mapped_column(ForeignKey("collectors.id"))
    received_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # SHA-256 of the upload's canonical data: a retry must match it exactly (unless erased).
    data_sha256: Mapped[str] = mapped_column(String(64))
    # Set when the drawer withdrew: the row is then only a tombstone (number, date, "withdrawn").
    withdrawn_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    ticket = relationship("Ticket", lazy="joined")
    consent_version = relationship("ConsentVersion")
    photo = relationship("Photo", back_populates="encounter", uselist=False, lazy="joined")

    @property
    def number(self) -> int | None:
        return self.ticket.number if self.ticket else None

    @property
    def token(self) -> str | None:
        return self.ticket.token if self.ticket else None

    @property
    def is_completed(self) -> bool:
        return self.status == EncounterStatus.COMPLETED

    @property
    def is_minor(self) -> bool:
        return self.age_group == AGE_MINOR

    @property
    def is_withdrawn(self) -> bool:
        return self.withdrawn_at is not None

    @property
    def local_started_at(self) -> datetime:
        """The start time as the clock in the room showed it."""
        return self.started_at.astimezone(timezone(timedelta(minutes=self.utc_offset_minutes)))

    @property
    def drawing_seconds(self) -> int | None:
        if self.drawing_started_at and self.drawing_finished_at:
            return round((self.drawing_finished_at - self.drawing_started_at).total_seconds())
        return None


# The edit history: the collector's saves (not the consent's: see consent.models) ---------

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


class EncounterRevision(Model):
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


class FieldChange(Model):
    """One field of a revision: its old and new value, as text."""

    __tablename__ = "encounter_field_changes"

    id: Mapped[int] = mapped_column(primary_key=True)
    revision_id: Mapped[int] = mapped_column(ForeignKey("encounter_revisions.id"), index=True)
    field: Mapped[str] = mapped_column(String(32))
    old_value: Mapped[str] = mapped_column(Text, default="")
    new_value: Mapped[str] = mapped_column(Text, default="")

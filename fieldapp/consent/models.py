"""What participants were told (consent versions) and what they chose (consent events)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from fieldapp.database import UTCDateTime, utcnow
from fieldapp.extensions import Model


class ConsentVersion(Model):
    """One exact consent text. Immutable once any encounter points at it."""

    __tablename__ = "consent_versions"

    id: Mapped[int] = mapped_column(primary_key=True)  # the version number shown to people
    text: Mapped[str] = mapped_column(Text)
    sha256: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class ConsentEvent(Model):
    """One entry of an encounter's append-only consent history (grant, change, withdraw).

    The credit *name* is deliberately not kept here: choosing anonymity must be able to erase
    it, so it lives only on the encounter. The history records whether a credit was given.
    """

    __tablename__ = "consent_events"
    __table_args__ = (
        CheckConstraint("kind IN ('grant', 'change', 'withdraw')", name="kind"),
        CheckConstraint("actor IN ('collector', 'participant')", name="actor"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    encounter_id: Mapped[int] = mapped_column(ForeignKey("encounters.id"), index=True)
    kind: Mapped[str] = mapped_column(String(16))
    actor: Mapped[str] = mapped_column(String(16))
    method: Mapped[str] = mapped_column(String(32))  # field_capture, participant_page, ...
    keep: Mapped[bool]
    gallery: Mapped[bool]
    training: Mapped[bool]
    social: Mapped[bool]
    credited: Mapped[bool]
    reason: Mapped[str] = mapped_column(Text, default="")
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

"""What participants were told (consent versions) and what they chose (consent events)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, String, Text, UniqueConstraint, false
from sqlalchemy.orm import Mapped, mapped_column

from fieldapp.database import UTCDateTime, utcnow
from fieldapp.extensions import Model


class ConsentVersion(Model):
    """One exact consent text, in its own language. Immutable once any encounter points at it.

    What the drawer sees is layered: a short `summary`, one line per choice (`choice_texts`, a
    JSON object, see consent.texts) and the full `text` one tap away. All three are hashed
    together (`sha256`), because all of it is what the drawer saw. Versions published before
    layering have no summary nor choice texts, and their hash is the text's alone.
    """

    __tablename__ = "consent_versions"

    id: Mapped[int] = mapped_column(primary_key=True)  # the version number shown to people
    language: Mapped[str] = mapped_column(String(16), default="en", server_default="en")
    summary: Mapped[str] = mapped_column(Text, default="", server_default="")
    choice_texts: Mapped[str] = mapped_column(Text, default="", server_default="")
    text: Mapped[str] = mapped_column(Text)
    sha256: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class ConsentTranslation(Model):
    """The same consent version in another language: as immutable, with its own SHA-256.

    An encounter records the language its drawer was shown (`Encounter.consent_language`).
    """

    __tablename__ = "consent_translations"
    __table_args__ = (UniqueConstraint("version_id", "language"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    version_id: Mapped[int] = mapped_column(ForeignKey("consent_versions.id"))
    language: Mapped[str] = mapped_column(String(16))
    summary: Mapped[str] = mapped_column(Text)
    choice_texts: Mapped[str] = mapped_column(Text)
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
    # A minor's drawing is shown in the gallery only once the collector confirms that a
    # parent or guardian agreed: the event that confirms it says so, and every later one.
    guardian_agreed: Mapped[bool] = mapped_column(default=False, server_default=false())
    reason: Mapped[str] = mapped_column(Text, default="")
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

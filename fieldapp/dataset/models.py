"""The collector's dataset settings, and a manifest of every export that went out."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, BigInteger, CheckConstraint, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from fieldapp.database import UTCDateTime, utcnow
from fieldapp.extensions import Model

EXPORT_KINDS = ("training", "archive")


class DatasetSettings(Model):
    """One row: what the collector wrote once for every export (license, names, datasheet)."""

    __tablename__ = "dataset_settings"

    id: Mapped[int] = mapped_column(primary_key=True)
    license: Mapped[str] = mapped_column(String(40), default="CC-BY-NC-4.0")  # an SPDX id
    pretty_name: Mapped[str] = mapped_column(String(120), default="")
    creator: Mapped[str] = mapped_column(String(120), default="")
    contact: Mapped[str] = mapped_column(String(200), default="")
    # Datasheet answers by question key (fieldapp/dataset/documents.py lists the questions).
    answers: Mapped[dict] = mapped_column(JSON, default=dict)
    default_size: Mapped[int | None]  # None: the stored display size; else a square of N px
    default_ink: Mapped[bool] = mapped_column(default=False)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class DatasetExport(Model):
    """The manifest of one export: when, what kind, with which options, of which drawings."""

    __tablename__ = "dataset_exports"
    __table_args__ = (CheckConstraint("kind IN ('training', 'archive')", name="kind"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    kind: Mapped[str] = mapped_column(String(16))
    image_size: Mapped[int | None]
    ink: Mapped[bool]
    license: Mapped[str] = mapped_column(String(40))
    item_count: Mapped[int]
    # Consent version numbers the exported drawings record, e.g. [1, 2].
    consent_versions: Mapped[list] = mapped_column(JSON, default=list)
    made_by: Mapped[str] = mapped_column(String(32))  # "web" or "command line"
    zip_bytes: Mapped[int | None] = mapped_column(BigInteger)
    zip_sha256: Mapped[str | None] = mapped_column(String(64))


class DatasetExportItem(Model):
    """One drawing that went out in an export (so a later withdrawal can be traced to it)."""

    __tablename__ = "dataset_export_items"

    export_id: Mapped[int] = mapped_column(ForeignKey("dataset_exports.id"), primary_key=True)
    encounter_id: Mapped[int] = mapped_column(
        ForeignKey("encounters.id"), primary_key=True, index=True
    )
    number: Mapped[int]

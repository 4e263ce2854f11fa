"""The collector's diary: dated entries in Markdown, each public or private."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from fieldapp.database import UTCDateTime, utcnow
from fieldapp.extensions import Model


class DiaryEntry(Model):
    """One entry. `body` is the Markdown as typed; it is rendered and sanitised when shown,
    so that a `#123` link follows the drawing's gallery consent at the time of reading."""

    __tablename__ = "diary_entries"
    __table_args__ = (Index("ix_diary_entries_public_date", "public", "entry_date", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    entry_date: Mapped[date]
    title: Mapped[str] = mapped_column(String(200), default="")
    body: Mapped[str] = mapped_column(Text)
    public: Mapped[bool] = mapped_column(default=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

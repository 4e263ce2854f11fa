"""The collector's ledger settings: the goal the count is measured against."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint
from sqlalchemy.orm import Mapped, mapped_column

from fieldapp.database import UTCDateTime, utcnow
from fieldapp.extensions import Model


class LedgerSettings(Model):
    """One row (id 1) once the collector has set a goal; until then the app config's GOAL."""

    __tablename__ = "ledger_settings"
    __table_args__ = (CheckConstraint("goal > 0", name="goal_positive"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    goal: Mapped[int]
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

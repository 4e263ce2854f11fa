"""The collector's account and the API tokens of his devices."""

from __future__ import annotations

from datetime import datetime

from flask_login import UserMixin
from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from fieldapp.database import UTCDateTime, utcnow
from fieldapp.extensions import db


class Collector(UserMixin, db.Model):
    """A person who collects drawings: logs in, records encounters, reviews them."""

    __tablename__ = "collectors"

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    # werkzeug's scrypt hash: "scrypt:32768:8:1$salt$hash"
    password_hash: Mapped[str] = mapped_column(String(255))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # Part of every session and remember cookie; logging out moves it on, so a cookie from
    # before the logout (a slow request's answer, a stolen copy) can never log anyone in again.
    login_generation: Mapped[int] = mapped_column(default=0, server_default="0")

    api_tokens: Mapped[list[ApiToken]] = relationship(back_populates="collector")

    def get_id(self) -> str:
        return f"{self.id}.{self.login_generation}"


class ApiToken(db.Model):
    """A bearer token for the JSON API. Only its SHA-256 is stored; the token is shown once."""

    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    collector_id: Mapped[int] = mapped_column(ForeignKey("collectors.id"))
    token_sha256: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    collector: Mapped[Collector] = relationship(back_populates="api_tokens")

"""Accounts (the collector and his helpers), their signed-in devices, API tokens, and the
failed logins the login limit counts."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import TYPE_CHECKING

from flask_login import UserMixin
from sqlalchemy import CheckConstraint, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from fieldapp.database import UTCDateTime, utcnow
from fieldapp.extensions import Model


class Role(StrEnum):
    #: The artist: everything.
    COLLECTOR = "collector"
    #: A friend in the field: records encounters and declined approaches, sees the QR codes of
    #: its own encounters; never the log, names, photos, private figures, settings or exports.
    HELPER = "helper"


class Collector(UserMixin, Model):
    """A person who collects drawings and logs in: the collector, or a helper (`role`)."""

    __tablename__ = "collectors"
    __table_args__ = (CheckConstraint("role IN ('collector', 'helper')", name="role"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    role: Mapped[str] = mapped_column(
        String(16), default=Role.COLLECTOR, server_default="collector"
    )
    # werkzeug's scrypt hash: "scrypt:32768:8:1$salt$hash"
    password_hash: Mapped[str] = mapped_column(String(255))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # Part of every session and remember cookie; logging out moves it on, so a cookie from
    # before the logout (a slow request's answer, a stolen copy) can never log anyone in again.
    login_generation: Mapped[int] = mapped_column(default=0, server_default="0")

    api_tokens: Mapped[list[ApiToken]] = relationship(back_populates="collector")
    devices: Mapped[list[Device]] = relationship(back_populates="collector")

    @property
    def is_helper(self) -> bool:
        return self.role == Role.HELPER

    #: The signed-in device (`Device.id`) of the current request: set at login and by the user
    #: loader, not stored on the account. Part of the session id, so that revoking the device
    #: ends that login.
    if TYPE_CHECKING:  # declared for the type checker only: the ORM would map an annotation
        device_id: int | None
    device_id = None

    def get_id(self) -> str:
        return f"{self.id}.{self.login_generation}.{self.device_id}"


class ApiToken(Model):
    """A bearer token for the JSON API. Only its SHA-256 is stored; the token is shown once."""

    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    collector_id: Mapped[int] = mapped_column(ForeignKey("collectors.id"))
    token_sha256: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    #: What the collector called it ("Laptop import script"), to recognise it in the list.
    label: Mapped[str] = mapped_column(String(100), default="", server_default="")
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    collector: Mapped[Collector] = relationship(back_populates="api_tokens")


class Device(Model):
    """One signed-in browser (a login): named from its User-Agent, revocable on its own. Its id
    is part of the session and remember cookies, so revoking it ends that login at once."""

    __tablename__ = "devices"

    id: Mapped[int] = mapped_column(primary_key=True)
    collector_id: Mapped[int] = mapped_column(ForeignKey("collectors.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(200), default="", server_default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_seen_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    collector: Mapped[Collector] = relationship(back_populates="devices")


class LoginFailure(Model):
    """A failed login, counted by the login limit in the database itself, so the limit holds
    across every worker and restart of every app server sharing it. Old rows are pruned."""

    __tablename__ = "login_failures"
    __table_args__ = (Index("ix_login_failures_key_at", "key", "at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    #: What is limited: the client's address ("ip:203.0.113.9").
    key: Mapped[str] = mapped_column(String(255))
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

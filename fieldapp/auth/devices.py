"""Signed-in devices: one `Device` row per login, named from its browser, revocable on its own.

The device's id is part of the session and remember cookies (`Collector.get_id()`), and the
user loader refuses a revoked or missing device: revoking one ends that login on its next
request. "Last seen" is written at most every `SEEN_EVERY`, not on every request.
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from typing import cast

from sqlalchemy import CursorResult, select, update
from sqlalchemy.orm import Session

from fieldapp.auth.models import Collector, Device
from fieldapp.database import utcnow

#: How stale `last_seen_at` may get before a request writes it again.
SEEN_EVERY = timedelta(minutes=5)

# Order matters: Edge, Opera and Samsung's browser also say "Chrome" and "Safari"; Chrome
# says "Safari"; iOS browsers are WebKit with their own token (CriOS, FxiOS, EdgiOS).
_BROWSERS = (
    (re.compile(r"EdgiOS|EdgA?/|Edg/"), "Edge"),
    (re.compile(r"OPR/|Opera|OPiOS"), "Opera"),
    (re.compile(r"SamsungBrowser/"), "Samsung Internet"),
    (re.compile(r"Firefox/|FxiOS"), "Firefox"),
    (re.compile(r"CriOS|Chrome/|Chromium/"), "Chrome"),
    (re.compile(r"Safari/|AppleWebKit/"), "Safari"),
)
_SYSTEMS = (
    (re.compile(r"iPhone|iPod"), "iPhone"),
    (re.compile(r"iPad"), "iPad"),
    (re.compile(r"Android"), "Android"),
    (re.compile(r"CrOS"), "ChromeOS"),
    (re.compile(r"Windows"), "Windows"),
    (re.compile(r"Macintosh|Mac OS X"), "Mac"),
    (re.compile(r"Linux|X11"), "Linux"),
)


def device_name(user_agent: str | None) -> str:
    """A name people recognise: "Safari on iPhone", "Chrome on Android", "Firefox on Windows"."""
    agent = user_agent or ""
    browser = next((name for pattern, name in _BROWSERS if pattern.search(agent)), None)
    system = next((name for pattern, name in _SYSTEMS if pattern.search(agent)), None)
    if browser and system:
        return f"{browser} on {system}"
    if browser or system:
        return browser or f"A browser on {system}"
    return "Unknown browser"


def start_device(session: Session, collector: Collector, user_agent: str | None) -> Device:
    """Record a new login of `collector` and make it the collector's current device. The caller
    commits (inside its write transaction)."""
    now = utcnow()
    device = Device(
        collector=collector, name=device_name(user_agent), created_at=now, last_seen_at=now
    )
    session.add(device)
    session.flush()
    collector.device_id = device.id
    return device


def active_devices(session: Session, collector_id: int) -> list[Device]:
    """The collector's devices still signed in, the most recently seen first."""
    return list(
        session.scalars(
            select(Device)
            .where(Device.collector_id == collector_id, Device.revoked_at.is_(None))
            .order_by(Device.last_seen_at.desc(), Device.id.desc())
        )
    )


def revoke_device(session: Session, collector_id: int, device_id: int) -> bool:
    """Sign one of the collector's devices out; False when it is not theirs or already out.
    The caller commits."""
    # An UPDATE without RETURNING gives a CursorResult; Session.execute() is typed for any
    # statement (Result), so the type checker is told.
    statement = (
        update(Device)
        .where(
            Device.id == device_id,
            Device.collector_id == collector_id,
            Device.revoked_at.is_(None),
        )
        .values(revoked_at=utcnow())
    )
    return cast(CursorResult, session.execute(statement)).rowcount == 1


def revoke_other_devices(session: Session, collector_id: int, keep: int | None) -> int:
    """Sign out every device of the collector but `keep` (None: every one). How many were cut
    off. The caller commits."""
    statement = update(Device).where(
        Device.collector_id == collector_id, Device.revoked_at.is_(None)
    )
    if keep is not None:
        statement = statement.where(Device.id != keep)
    return cast(CursorResult, session.execute(statement.values(revoked_at=utcnow()))).rowcount


def needs_seen(device_last_seen: datetime, now: datetime | None = None) -> bool:
    """True when the device's `last_seen_at` is old enough to be written again."""
    return (now or utcnow()) - device_last_seen >= SEEN_EVERY


def mark_seen(session: Session, device_id: int, now: datetime | None = None) -> None:
    """Write the device's `last_seen_at` unless another request just did. The caller commits."""
    now = now or utcnow()
    session.execute(
        update(Device)
        .where(Device.id == device_id, Device.last_seen_at <= now - SEEN_EVERY)
        .values(last_seen_at=now)
    )


def ago(moment: datetime, now: datetime | None = None) -> str:
    """When, in words a glance reads: "just now", "5 minutes ago", "yesterday", "on 2 Mar 2026"."""
    seconds = ((now or utcnow()) - moment).total_seconds()
    if seconds < 60:
        return "just now"
    for unit, size in (("minute", 60), ("hour", 3600)):
        if seconds < size * (60 if unit == "minute" else 24):
            count = int(seconds // size)
            return f"{count} {unit}{'' if count == 1 else 's'} ago"
    days = int(seconds // 86400)
    if days == 1:
        return "yesterday"
    if days < 30:
        return f"{days} days ago"
    return f"on {moment.day} {moment.strftime('%b %Y')}"

"""The login limit: failed logins per client address, counted before any password is checked.

Every login attempt first takes a place in the count (`begin_attempt`); an attempt over the
limit is refused there, before scrypt runs, so a refused guess costs nothing. An attempt whose
password turns out right gives its place back (`LoginAttempt.succeeded`): only failures count,
and a collector who logs in often is never locked out.

Where the count lives:

- by default, in the database (`login_failures`): taking a place is one write transaction
  (`write_transaction`, which serialises writers on SQLite and PostgreSQL), so the limit holds
  exactly across every worker and restart of every app server sharing the database, with no
  other service to run. Rows older than the longest window are pruned on the way.
- with `FIELDAPP_RATELIMIT_STORAGE_URI` set (`redis://...`), in that storage of the `limits`
  library, in fixed windows; its atomic increment takes the place.
"""

from __future__ import annotations

import math
import threading
import time
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from limits import RateLimitItem, parse_many
from limits.errors import ConfigurationError
from limits.storage import Storage, storage_from_string
from limits.strategies import FixedWindowRateLimiter
from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from fieldapp.auth.models import LoginFailure
from fieldapp.database import utcnow, write_transaction


def limit_key(client_address: str | None) -> str:
    """What the limit counts by: the client's address as the app sees it (after ProxyFix)."""
    return f"ip:{client_address or 'unknown'}"


@dataclass(frozen=True)
class Refusal:
    """Too many failed logins from this address: wait `retry_after` seconds."""

    retry_after: int

    def wait_in_words(self) -> str:
        minutes = max(1, math.ceil(self.retry_after / 60))
        return "1 minute" if minutes == 1 else f"{minutes} minutes"


@dataclass
class LoginAttempt:
    """A place taken in the count: a failure unless `succeeded()` gives it back."""

    refusal: Refusal | None = None
    _give_back: list = field(default_factory=list)

    def succeeded(self) -> None:
        """The password was right: this attempt was no failure. Call it inside the login's
        write transaction, so the place is given back in the same commit as the login."""
        for give_back in self._give_back:
            give_back()
        self._give_back.clear()


def begin_attempt(
    session: Session,
    key: str,
    limit: str,
    storage_uri: str | None,
    now: datetime | None = None,
) -> LoginAttempt:
    """Take a place for one login attempt from `key`, or say how long it must wait.

    `limit` is a limits string ("10 per 15 minutes", several separated by ";"); `storage_uri`
    None counts in the database, else in that `limits` storage.
    """
    items = parse_many(limit)
    if storage_uri is None:
        return _begin_in_database(session, key, items, now or utcnow())
    return _begin_in_storage(_storage(storage_uri), key, items)


def _begin_in_database(
    session: Session, key: str, items: list[RateLimitItem], now: datetime
) -> LoginAttempt:
    with write_transaction(session):
        longest = max(item.get_expiry() for item in items)
        session.execute(
            delete(LoginFailure).where(LoginFailure.at <= now - timedelta(seconds=longest))
        )
        waits = []
        for item in items:
            window = timedelta(seconds=item.get_expiry())
            newest = session.scalars(
                select(LoginFailure.at)
                .where(LoginFailure.key == key, LoginFailure.at > now - window)
                .order_by(LoginFailure.at.desc())
                .limit(item.amount)
            ).all()
            if len(newest) >= item.amount:
                # A place frees up when the oldest of the last `amount` failures leaves the window.
                waits.append((newest[-1] + window - now).total_seconds())
        if waits:
            return LoginAttempt(refusal=Refusal(max(1, math.ceil(max(waits)))))
        failure = LoginFailure(key=key, at=now)
        session.add(failure)
        session.flush()
        failure_id = failure.id

    def give_back() -> None:
        session.execute(delete(LoginFailure).where(LoginFailure.id == failure_id))

    return LoginAttempt(_give_back=[give_back])


_storages: dict[str, Storage] = {}
_storages_lock = threading.Lock()


def _storage(uri: str) -> Storage:
    """One storage (one connection pool) per URI and process. Made under a lock: two threads
    making it at once would import the client twice over, and `limits` then reads the version
    of a half-imported module ("0.0.0") and refuses it."""
    with _storages_lock:
        if uri not in _storages:
            storage = storage_from_string(uri)
            if not isinstance(storage, Storage):  # an async+ scheme: this limiter counts in sync
                raise ConfigurationError("asyncio storages (async+...) cannot count logins")
            _storages[uri] = storage
        return _storages[uri]


def check_storage(uri: str | None) -> str | None:
    """Why failed logins cannot be counted in `uri` (an unknown scheme, a client library not
    installed), or None. Asked once at start, so a wrong setting stops the server there rather
    than answering 500 to every login. Connects to nothing."""
    if uri is None:
        return None
    try:
        _storage(uri)
    except (ConfigurationError, ValueError) as error:
        return f"FIELDAPP_RATELIMIT_STORAGE_URI={uri!r} cannot be used: {error}"
    return None


def _begin_in_storage(storage: Storage, key: str, items: list[RateLimitItem]) -> LoginAttempt:
    windows = FixedWindowRateLimiter(storage)
    taken: list[RateLimitItem] = []

    def give_back(items_taken: list[RateLimitItem]) -> None:
        for item in items_taken:
            storage.incr(item.key_for("login", key), item.get_expiry(), amount=-1)

    for item in items:
        taken.append(item)
        if not windows.hit(item, "login", key):  # an atomic increment: no two take one place
            give_back(taken)
            reset_at = windows.get_window_stats(item, "login", key).reset_time
            return LoginAttempt(refusal=Refusal(max(1, math.ceil(reset_at - time.time()))))
    return LoginAttempt(_give_back=[lambda: give_back(taken)])

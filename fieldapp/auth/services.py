"""Accounts, passwords and API tokens."""

from __future__ import annotations

import hashlib
import re
import secrets

from sqlalchemy import func, select
from sqlalchemy.orm import Session
from werkzeug.security import check_password_hash, generate_password_hash

from fieldapp.auth.models import ApiToken, Collector

MIN_PASSWORD_LENGTH = 10
MAX_PASSWORD_LENGTH = 1024  # scrypt of a megabyte is a denial of service, not a password
USERNAME_PATTERN = re.compile(r"^[A-Za-z0-9_.-]{1,64}$")
PASSWORD_METHOD = "scrypt"  # noqa: S105  (a KDF name) memory-hard: N=2**15, r=8, p=1

# Checked against when the username is unknown, so both paths cost one scrypt.
_DUMMY_HASH = generate_password_hash("not a real password", method=PASSWORD_METHOD)


class AccountError(ValueError):
    """An account could not be created or changed; the message says why, for people."""


def has_collector(session: Session) -> bool:
    """True once the first account exists."""
    return session.scalar(select(func.count()).select_from(Collector)) > 0


def password_problem(password: str) -> str | None:
    """Why this password is refused, or None when it is acceptable."""
    if len(password) < MIN_PASSWORD_LENGTH:
        return f"Use at least {MIN_PASSWORD_LENGTH} characters."
    if len(password) > MAX_PASSWORD_LENGTH:
        return f"Use at most {MAX_PASSWORD_LENGTH} characters."
    return None


def create_collector(session: Session, username: str, password: str) -> Collector:
    """Add an account with a scrypt-hashed password. The caller commits."""
    username = username.strip()
    if not USERNAME_PATTERN.match(username):
        raise AccountError("A username is 1-64 letters, digits, dots, dashes or underscores.")
    if problem := password_problem(password):
        raise AccountError(problem)
    if session.scalar(select(Collector).where(Collector.username == username)):
        raise AccountError(f"The username {username!r} is taken.")
    collector = Collector(
        username=username, password_hash=generate_password_hash(password, method=PASSWORD_METHOD)
    )
    session.add(collector)
    session.flush()
    return collector


def authenticate(session: Session, username: str, password: str) -> Collector | None:
    """The collector with these credentials, or None. Takes as long either way."""
    collector = session.scalar(select(Collector).where(Collector.username == username.strip()))
    if collector is None or len(password) > MAX_PASSWORD_LENGTH:
        check_password_hash(_DUMMY_HASH, password[:MAX_PASSWORD_LENGTH])
        return None
    return collector if check_password_hash(collector.password_hash, password) else None


def create_api_token(session: Session, collector: Collector) -> str:
    """Make a new API token and return it; only its SHA-256 is kept. The caller commits."""
    token = secrets.token_urlsafe(32)
    session.add(ApiToken(collector=collector, token_sha256=_sha256(token)))
    session.flush()
    return token


def collector_for_api_token(session: Session, token: str) -> Collector | None:
    """The collector an API token belongs to, or None."""
    api_token = session.scalar(select(ApiToken).where(ApiToken.token_sha256 == _sha256(token)))
    return api_token.collector if api_token else None


def _sha256(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()

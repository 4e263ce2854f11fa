"""Accounts, passwords and API tokens."""

from __future__ import annotations

import hashlib
import logging
import re
import secrets
from datetime import timedelta
from typing import cast

from sqlalchemy import CursorResult, delete, func, select, update
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session
from werkzeug.security import check_password_hash, generate_password_hash

from fieldapp.auth.devices import revoke_other_devices
from fieldapp.auth.models import ApiToken, Collector
from fieldapp.database import utcnow, write_transaction

logger = logging.getLogger(__name__)

MIN_PASSWORD_LENGTH = 10
MAX_PASSWORD_LENGTH = 1024  # scrypt of a megabyte is a denial of service, not a password
USERNAME_PATTERN = re.compile(r"^[A-Za-z0-9_.-]{1,64}$")
PASSWORD_METHOD = "scrypt"  # noqa: S105  (a KDF name) memory-hard: N=2**15, r=8, p=1
MAX_TOKEN_LABEL_LENGTH = 100
#: How stale an API token's `last_used_at` may get before a request writes it again.
TOKEN_USE_EVERY = timedelta(minutes=5)

# Checked against when the username is unknown, so both paths cost one scrypt.
_DUMMY_HASH = generate_password_hash("not a real password", method=PASSWORD_METHOD)


class AccountError(ValueError):
    """An account could not be created or changed; the message says why, for people."""


def has_collector(session: Session) -> bool:
    """True once the first account exists."""
    return session.scalars(select(func.count()).select_from(Collector)).one() > 0


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


def new_password_hash(collector: Collector, current: str, new: str) -> str:
    """The hash of `new` once `current` is the collector's password and `new` acceptable;
    raises AccountError. Two scrypt runs: call it outside any write transaction."""
    if len(current) > MAX_PASSWORD_LENGTH or not check_password_hash(
        collector.password_hash, current
    ):
        raise AccountError("The current password is wrong.")
    if problem := password_problem(new):
        raise AccountError(problem)
    return generate_password_hash(new, method=PASSWORD_METHOD)


def set_password_hash(
    session: Session, collector: Collector, password_hash: str, keep_device: int | None
) -> None:
    """Give the account its new password (from `new_password_hash`), and end every other
    signed-in device and every API token (whoever knew the old password is out at once); the
    device `keep_device` stays signed in. The caller commits."""
    collector.password_hash = password_hash
    revoke_other_devices(session, collector.id, keep=keep_device)
    revoke_api_tokens(session, collector.id)


def create_api_token(session: Session, collector: Collector, label: str = "") -> str:
    """Make a new API token and return it; only its SHA-256 is kept. The caller commits."""
    label = " ".join(label.split())
    if len(label) > MAX_TOKEN_LABEL_LENGTH:
        raise AccountError(f"A token's label is at most {MAX_TOKEN_LABEL_LENGTH} characters.")
    token = secrets.token_urlsafe(32)
    session.add(ApiToken(collector=collector, token_sha256=_sha256(token), label=label))
    session.flush()
    return token


def api_tokens_of(session: Session, collector_id: int) -> list[ApiToken]:
    """The account's API tokens, the newest first."""
    return list(
        session.scalars(
            select(ApiToken)
            .where(ApiToken.collector_id == collector_id)
            .order_by(ApiToken.created_at.desc(), ApiToken.id.desc())
        )
    )


def revoke_api_token(session: Session, token_id: int, collector_id: int | None = None) -> bool:
    """Delete one API token (of `collector_id`, when given): it is refused from its next
    request. False when there is no such token. The caller commits."""
    statement = delete(ApiToken).where(ApiToken.id == token_id)
    if collector_id is not None:
        statement = statement.where(ApiToken.collector_id == collector_id)
    # An UPDATE or DELETE without RETURNING gives a CursorResult; Session.execute() is typed
    # for any statement (Result), so the type checker is told.
    return cast(CursorResult, session.execute(statement)).rowcount == 1


def revoke_api_tokens(session: Session, collector_id: int) -> int:
    """Delete every API token of the account; how many. The caller commits."""
    statement = delete(ApiToken).where(ApiToken.collector_id == collector_id)
    return cast(CursorResult, session.execute(statement)).rowcount  # as in revoke_api_token()


def collector_for_api_token(session: Session, token: str) -> Collector | None:
    """The collector an API token belongs to, or None (a revoked token is deleted, so refused).

    Notes the token's use, at most every TOKEN_USE_EVERY, in a write transaction of its own:
    call it before the request writes anything."""
    api_token = session.scalar(select(ApiToken).where(ApiToken.token_sha256 == _sha256(token)))
    if api_token is None:
        return None
    now = utcnow()
    if api_token.last_used_at is None or now - api_token.last_used_at >= TOKEN_USE_EVERY:
        token_id, collector_id = api_token.id, api_token.collector_id
        try:
            with write_transaction(session):
                session.execute(
                    update(ApiToken)
                    .where(ApiToken.id == token_id)
                    .where(
                        (ApiToken.last_used_at.is_(None))
                        | (ApiToken.last_used_at <= now - TOKEN_USE_EVERY)
                    )
                    .values(last_used_at=now)
                )
        except OperationalError:  # the database busy for 15 s: a later request notes it
            logger.warning("could not note the use of API token %s", token_id)
        return session.get(Collector, collector_id)
    return api_token.collector


def _sha256(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()

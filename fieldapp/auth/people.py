"""The collector's people: listing accounts, adding a helper, removing one.

A helper cannot be deleted once it has recorded anything (encounters, tickets and edit history
point at it, and the labor ledger counts its work), so removing it disables it instead: its
password can no longer match, every session of it ends (`login_generation` moves on), its
devices are revoked and its API tokens deleted. Its encounters keep `recorded_by_id`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from fieldapp.auth.devices import revoke_other_devices
from fieldapp.auth.models import Collector, Role
from fieldapp.auth.services import AccountError, create_collector, revoke_api_tokens
from fieldapp.database import write_transaction
from fieldapp.encounters.models import Encounter

# Not a werkzeug hash (no "$"): check_password_hash() is False for every password.
DISABLED_PASSWORD_HASH = "!removed"  # noqa: S105  (a marker, not a password)


@dataclass(frozen=True)
class Person:
    """One account as the people page lists it."""

    id: int
    username: str
    role: str
    created_at: datetime
    encounters: int
    removed: bool


def is_removed(account: Collector) -> bool:
    """True for a helper that the collector removed (it can no longer log in)."""
    return account.password_hash == DISABLED_PASSWORD_HASH


def create_account(session: Session, username: str, password: str, role: str) -> Collector:
    """Add an account with this role (collector or helper). The caller commits."""
    if role not in set(Role):
        raise AccountError(f"A role is {' or '.join(Role)}.")
    account = create_collector(session, username, password)
    account.role = Role(role)
    session.flush()
    return account


def add_helper(session: Session, username: str, password: str) -> Collector:
    """Create a helper account in its own transaction."""
    with write_transaction(session):
        return create_account(session, username, password, Role.HELPER)


def people(session: Session) -> list[Person]:
    """Every account, the collector(s) first, with how many encounters each recorded."""
    recorded = (
        select(func.count(Encounter.id))
        .where(Encounter.recorded_by_id == Collector.id)
        .scalar_subquery()
    )
    rows = session.execute(
        select(Collector, recorded).order_by(Collector.role, Collector.username)
    ).all()
    return [
        Person(c.id, c.username, c.role, c.created_at, count, is_removed(c)) for c, count in rows
    ]


def remove_helper(session: Session, helper_id: int) -> Collector:
    """Disable a helper for good: no password matches it, its sessions end, its devices are
    revoked and its API tokens deleted. Its encounters stay, still recorded by it."""
    with write_transaction(session):
        helper = session.get(Collector, helper_id)
        if helper is None or not helper.is_helper:
            raise AccountError("Only a helper's account can be removed.")
        helper.password_hash = DISABLED_PASSWORD_HASH
        helper.login_generation += 1  # every session and remember cookie of it is void now
        revoke_other_devices(session, helper.id, keep=None)
        revoke_api_tokens(session, helper.id)
    return helper

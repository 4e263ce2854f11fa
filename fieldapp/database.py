"""Database plumbing the services rely on: SQLite settings, write transactions, UTC times."""

from __future__ import annotations

import contextvars
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime

from sqlalchemy import DateTime, Engine, event, text
from sqlalchemy.orm import Session
from sqlalchemy.types import TypeDecorator

# Set while a write_transaction() is open: on SQLite its BEGIN takes the write lock at once.
_write_intent: contextvars.ContextVar[bool] = contextvars.ContextVar("write_intent", default=False)

#: The PostgreSQL advisory lock every write transaction holds until it ends ("fa" in ASCII):
#: writers queue one behind the other, as they do on SQLite.
WRITE_LOCK_KEY = 0x6661


def configure_engine(engine: Engine) -> None:
    """Give a SQLite engine WAL, a busy timeout, foreign keys and explicit BEGINs.

    pysqlite opens transactions on its own and never for SELECTs; taking that over lets a
    writer say BEGIN IMMEDIATE, so concurrent writers queue on the busy timeout instead of
    failing when a read transaction tries to become a write transaction.
    """
    if engine.dialect.name != "sqlite":
        return

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection, _record) -> None:
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA busy_timeout=15000")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA synchronous=NORMAL")
        # Overwrite deleted content with zeros: an erased name or a withdrawn drawing's notes
        # must not linger in free pages of the file.
        cursor.execute("PRAGMA secure_delete=ON")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection) -> None:
        # Straight to the driver: every request begins (and rolls back) a transaction, and
        # exec_driver_sql() would run SQLAlchemy's whole execution path twice per request.
        connection.connection.driver_connection.execute(
            "BEGIN IMMEDIATE" if _write_intent.get() else "BEGIN"
        )


@contextmanager
def write_transaction(session: Session) -> Iterator[list[Callable[[], None]]]:
    """Run the block as one write transaction, committed at the end, rolled back on error.

    Any read transaction already open (the login lookup, say) is finished first, so that the
    block starts its own transaction holding the write lock from its first statement (SQLite's
    BEGIN IMMEDIATE; on PostgreSQL a transaction-scoped advisory lock).
    The block may append undo actions (removing files it wrote); they run on failure, before
    the rollback releases the lock, so no other writer can see a half-done state.
    """
    session.commit()
    token = _write_intent.set(True)
    undo: list[Callable[[], None]] = []
    try:
        if session.get_bind().dialect.name == "postgresql":
            # Under READ COMMITTED two writers could both see "UUID unknown" or the same highest
            # ticket number; one lock per write transaction gives SQLite's one-writer-at-a-time.
            session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": WRITE_LOCK_KEY})
        yield undo
        session.commit()
    except BaseException:
        for action in reversed(undo):
            action()
        session.rollback()
        raise
    finally:
        _write_intent.reset(token)


def utcnow() -> datetime:
    """The current time, timezone-aware, in UTC."""
    return datetime.now(UTC)


class UTCDateTime(TypeDecorator):
    """An aware datetime stored as naive UTC, and handed back aware (UTC) on every database."""

    impl = DateTime
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetimes are ambiguous; give a timezone")
        return value.astimezone(UTC).replace(tzinfo=None)

    def process_result_value(self, value: datetime | None, dialect):
        return None if value is None else value.replace(tzinfo=UTC)

"""Database plumbing the services rely on: SQLite settings, write transactions, UTC times."""

from __future__ import annotations

import contextvars
import weakref
from collections import namedtuple
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection, DateTime, Dialect, Engine, Select, event, text
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
def plain_connection() -> Iterator[Connection]:
    """A connection for a busy public page that reads a few plain rows and writes nothing: no ORM
    session to set up and tear down, a third of such a page's database time (bench/load.py).

    It is a pooled connection of the engine, or the connection the app's sessions are bound to
    when they are bound to one (the tests run each in one transaction that is rolled back), so
    that the page sees what the sessions see.
    """
    from fieldapp.extensions import db

    bound = db.session.session_factory.kw.get("bind")
    if isinstance(bound, Connection):
        yield bound
        return
    with db.engine.connect() as connection:
        yield connection


class DirectSelect:
    """A SELECT of the busiest public pages: compiled once per database by SQLAlchemy, run
    straight on the driver's cursor.

    SQLAlchemy's execution path (events, a transaction begun and rolled back, result metadata)
    cost the participant page about 100 µs for a query SQLite answers in 11 (bench/load.py).
    The values still pass through the bind and result processors of each column's type, so a row
    holds what `connection.execute()` would give, as a named tuple (hashable, fields by label).

    Read-only, one statement. On a connection with no transaction open, SQLite runs it in a read
    transaction of its own and the pool rolls PostgreSQL's back when the connection returns; on
    a connection inside a transaction (a session's, the tests') it sees what that transaction
    sees.
    """

    def __init__(self, statement: Select) -> None:
        self.statement = statement
        self._row = namedtuple("Row", statement.selected_columns.keys())
        self._plans: weakref.WeakKeyDictionary[Dialect, _Plan] = weakref.WeakKeyDictionary()

    def all(self, connection: Connection, **parameters: Any) -> list[tuple]:
        plan = self._plans.get(connection.dialect) or self._plan(connection.dialect)
        values = plan.parameters(parameters)
        cursor = connection.connection.dbapi_connection.cursor()
        try:
            cursor.execute(plan.sql, values)
            fetched = cursor.fetchall()
        finally:
            cursor.close()
        make, processed = self._row._make, plan.processed
        if not processed:
            return [make(row) for row in fetched]
        rows = []
        for row in fetched:
            row = list(row)
            for index, process in processed:
                row[index] = process(row[index])
            rows.append(make(row))
        return rows

    def first(self, connection: Connection, **parameters: Any) -> tuple | None:
        rows = self.all(connection, **parameters)
        return rows[0] if rows else None

    def _plan(self, dialect: Dialect) -> _Plan:
        compiled = self.statement.compile(dialect=dialect)
        if compiled.post_compile_params or compiled.literal_execute_params:
            raise ValueError("DirectSelect runs statements whose SQL is complete once compiled")
        result = [
            (index, column.type.dialect_impl(dialect).result_processor(dialect, None))
            for index, column in enumerate(self.statement.selected_columns)
        ]
        binds = {
            name: bind.type.dialect_impl(dialect).bind_processor(dialect)
            for name, bind in compiled.binds.items()
        }
        plan = _Plan(
            sql=compiled.string,
            compiled=compiled,
            positions=tuple(compiled.positiontup) if compiled.positional else None,
            binds={name: process for name, process in binds.items() if process is not None},
            processed=tuple((index, process) for index, process in result if process is not None),
        )
        self._plans[dialect] = plan
        return plan


@dataclass(frozen=True)
class _Plan:
    """A DirectSelect compiled for one database."""

    sql: str
    compiled: Any  # sqlalchemy.sql.compiler.SQLCompiler
    positions: tuple[str, ...] | None  # parameter names in order, for "?"-style drivers
    binds: dict[str, Callable[[Any], Any]]
    processed: tuple[tuple[int, Callable[[Any], Any]], ...]  # columns whose values are converted

    def parameters(self, given: dict[str, Any]) -> tuple | dict:
        values = self.compiled.construct_params(given)
        for name, process in self.binds.items():
            values[name] = process(values[name])
        if self.positions is None:
            return values
        return tuple(values[name] for name in self.positions)


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

"""The ORM bypass of the busiest public pages: a plain pooled connection, and SELECTs compiled
once and run straight on the driver (see README.md in this folder for what they bought)."""

from __future__ import annotations

import weakref
from collections import namedtuple
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, Dialect, Select


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
        self._make_row = _row_maker(statement.selected_columns.keys())
        self._plans: weakref.WeakKeyDictionary[Dialect, _Plan] = weakref.WeakKeyDictionary()

    def all(self, connection: Connection, **parameters: Any) -> list[Any]:
        plan = self._plans.get(connection.dialect) or self._plan(connection.dialect)
        values = plan.parameters(parameters)
        driver = connection.connection.dbapi_connection
        assert driver is not None  # a checked-out connection always holds one
        cursor = driver.cursor()
        try:
            cursor.execute(plan.sql, values)
            fetched = cursor.fetchall()
        finally:
            cursor.close()
        make, processed = self._make_row, plan.processed
        if not processed:
            return [make(row) for row in fetched]
        rows = []
        for row in fetched:
            row = list(row)
            for index, process in processed:
                row[index] = process(row[index])
            rows.append(make(row))
        return rows

    def first(self, connection: Connection, **parameters: Any) -> Any | None:
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
            positions=tuple(compiled.positiontup or ()) if compiled.positional else None,
            binds={name: process for name, process in binds.items() if process is not None},
            processed=tuple((index, process) for index, process in result if process is not None),
        )
        self._plans[dialect] = plan
        return plan


def _row_maker(labels: Iterable[str]) -> Callable[[Iterable[Any]], Any]:
    """Rows as named tuples (hashable, fields by label), made at run time from the labels, so a
    type checker cannot know their fields."""
    row: Any = namedtuple("Row", list(labels))  # type: ignore[misc]  # labels known at run time
    return row._make


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

"""Date arithmetic the ledger needs inside SQL, written once per dialect (SQLite, PostgreSQL).

Times are stored in UTC with the room's offset beside them (`utc_offset_minutes`); the ledger
groups by the clock in the room, so each expression first shifts the time by that offset.
"""

from __future__ import annotations

from sqlalchemy import Date, Float, Integer
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.functions import FunctionElement


class _TwoArgs(FunctionElement):
    inherit_cache = True

    def _args(self, compiler, **kw) -> list[str]:
        return [compiler.process(clause, **kw) for clause in self.clauses]


class local_hour(_TwoArgs):  # noqa: N801 (reads as the SQL function it is)
    """local_hour(utc_time, offset_minutes): the hour (0-23) on the room's clock."""

    type = Integer()
    name = "local_hour"
    inherit_cache = True


class local_weekday(_TwoArgs):  # noqa: N801
    """local_weekday(utc_time, offset_minutes): 0 = Sunday ... 6 = Saturday, in the room."""

    type = Integer()
    name = "local_weekday"
    inherit_cache = True


class local_week(_TwoArgs):  # noqa: N801
    """local_week(utc_time, offset_minutes): the Monday of the room's week (a date, or its ISO
    text on SQLite)."""

    type = Date()
    name = "local_week"
    inherit_cache = True


class local_day(_TwoArgs):  # noqa: N801
    """local_day(utc_time, offset_minutes): the room's calendar day (a date, or ISO text)."""

    type = Date()
    name = "local_day"
    inherit_cache = True


class seconds_between(_TwoArgs):  # noqa: N801
    """seconds_between(start, end): end - start in seconds (NULL if either is NULL)."""

    type = Float()
    name = "seconds_between"
    inherit_cache = True


def _sqlite_shifted(at: str, offset: str) -> str:
    return f"{at}, ({offset}) || ' minutes'"


@compiles(local_hour, "sqlite")
def _local_hour_sqlite(element, compiler, **kw):
    at, offset = element._args(compiler, **kw)
    return f"CAST(strftime('%H', {_sqlite_shifted(at, offset)}) AS INTEGER)"


@compiles(local_weekday, "sqlite")
def _local_weekday_sqlite(element, compiler, **kw):
    at, offset = element._args(compiler, **kw)
    return f"CAST(strftime('%w', {_sqlite_shifted(at, offset)}) AS INTEGER)"


@compiles(local_week, "sqlite")
def _local_week_sqlite(element, compiler, **kw):
    at, offset = element._args(compiler, **kw)
    # 'weekday 0' moves forward to Sunday (or stays on it); six days back is that week's Monday.
    return f"date({_sqlite_shifted(at, offset)}, 'weekday 0', '-6 days')"


@compiles(local_day, "sqlite")
def _local_day_sqlite(element, compiler, **kw):
    at, offset = element._args(compiler, **kw)
    return f"date({_sqlite_shifted(at, offset)})"


@compiles(seconds_between, "sqlite")
def _seconds_between_sqlite(element, compiler, **kw):
    start, end = element._args(compiler, **kw)
    return f"((julianday({end}) - julianday({start})) * 86400.0)"


def _pg_shifted(at: str, offset: str) -> str:
    return f"({at} + make_interval(mins => {offset}))"


@compiles(local_hour, "postgresql")
def _local_hour_pg(element, compiler, **kw):
    at, offset = element._args(compiler, **kw)
    return f"CAST(EXTRACT(HOUR FROM {_pg_shifted(at, offset)}) AS INTEGER)"


@compiles(local_weekday, "postgresql")
def _local_weekday_pg(element, compiler, **kw):
    at, offset = element._args(compiler, **kw)
    return f"CAST(EXTRACT(DOW FROM {_pg_shifted(at, offset)}) AS INTEGER)"


@compiles(local_week, "postgresql")
def _local_week_pg(element, compiler, **kw):
    at, offset = element._args(compiler, **kw)
    return f"CAST(date_trunc('week', {_pg_shifted(at, offset)}) AS DATE)"


@compiles(local_day, "postgresql")
def _local_day_pg(element, compiler, **kw):
    at, offset = element._args(compiler, **kw)
    return f"CAST({_pg_shifted(at, offset)} AS DATE)"


@compiles(seconds_between, "postgresql")
def _seconds_between_pg(element, compiler, **kw):
    start, end = element._args(compiler, **kw)
    return f"EXTRACT(EPOCH FROM ({end} - {start}))"

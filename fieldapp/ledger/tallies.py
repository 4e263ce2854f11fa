"""The ledger's running tallies, and their check against the encounters themselves.

The database keeps `ledger_tallies` up to date by itself: triggers (migration b5b000000001;
the person dimension since b8b000000001) add every inserted encounter to its buckets, move
it when a relevant column changes (a withdrawal, a correction of its venue, time, time limit or
of who recorded it) and take it out when it is deleted, whichever code or tool writes the row.
So the ledger reads a few hundred small rows however many encounters there are.

This module computes the same tallies a second, independent way (SQLAlchemy aggregates over
`encounters`, through `ledger.sql`): `check_tallies()` compares the two, `rebuild_tallies()`
replaces the table's rows by the recomputed ones (`flask ledger check` / `flask ledger rebuild`).
"""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy import Float, String, case, delete, func, literal, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from fieldapp.database import write_transaction
from fieldapp.encounters.models import Encounter
from fieldapp.extensions import Model
from fieldapp.ledger.sql import local_day, local_hour, local_week, local_weekday, seconds_between

DIMENSIONS = ("total", "venue", "limit", "hour", "weekday", "week", "day", "person")
KINDS = ("drawing", "withdrawn", "declined")


class LedgerTally(Model):
    """One bucket of one dimension for one kind of encounter: how many, and how long.

    dimension / bucket: total / "" · venue / venue type · limit / seconds or "none" ·
    hour / "0".."23" · weekday / "0" (Sunday).."6" · week / Monday "YYYY-MM-DD" ·
    day / "YYYY-MM-DD" (the room's clock for hour, weekday, week and day) ·
    person / the recording account's id, "" for none (`recorded_by_id`).
    kind: drawing (in the collection) · withdrawn · declined.
    """

    __tablename__ = "ledger_tallies"

    dimension: Mapped[str] = mapped_column(String(16), primary_key=True)
    bucket: Mapped[str] = mapped_column(String(32), primary_key=True)
    kind: Mapped[str] = mapped_column(String(16), primary_key=True)
    encounters: Mapped[int] = mapped_column(default=0)
    drawer_seconds: Mapped[float] = mapped_column(Float, default=0.0)
    drawer_timed: Mapped[int] = mapped_column(default=0)
    collector_seconds: Mapped[float] = mapped_column(Float, default=0.0)
    collector_timed: Mapped[int] = mapped_column(default=0)


def kind_of_encounter():
    """SQL: the ledger's kind of an encounter: declined, withdrawn or drawing."""
    return case(
        (Encounter.status == "declined", literal("declined")),
        (Encounter.withdrawn_at.is_not(None), literal("withdrawn")),
        else_=literal("drawing"),
    )


def _bucket_expression(dimension: str):
    at, offset = Encounter.started_at, Encounter.utc_offset_minutes
    return {
        "total": literal(""),
        "venue": Encounter.venue_type,
        "limit": Encounter.time_limit_seconds,
        "hour": local_hour(at, offset),
        "weekday": local_weekday(at, offset),
        "week": local_week(at, offset),
        "day": local_day(at, offset),
        "person": Encounter.recorded_by_id,
    }[dimension]


def _as_bucket(dimension: str, value: Any) -> str:
    if dimension == "person":
        return "" if value is None else str(int(value))
    if dimension == "limit":
        return "none" if value is None else str(int(value))
    if dimension in ("week", "day"):
        return value.isoformat() if isinstance(value, date) else str(value)[:10]
    if dimension in ("hour", "weekday"):
        return str(int(value))
    return str(value)


def expected_tallies(session: Session) -> dict[tuple[str, str, str], tuple]:
    """The tallies recomputed from `encounters` (one GROUP BY per dimension)."""
    drawer = seconds_between(Encounter.drawing_started_at, Encounter.drawing_finished_at)
    collector = seconds_between(Encounter.started_at, Encounter.drawing_finished_at)
    kind = kind_of_encounter()
    result = {}
    for dimension in DIMENSIONS:
        bucket = _bucket_expression(dimension)
        rows = session.execute(
            select(
                bucket,
                kind,
                func.count(),
                func.coalesce(func.sum(drawer), 0.0),
                func.count(drawer),
                func.coalesce(func.sum(collector), 0.0),
                func.count(collector),
            ).group_by(bucket, kind)
        )
        for value, row_kind, *figures in rows:
            result[(dimension, _as_bucket(dimension, value), row_kind)] = tuple(figures)
    return result


def check_tallies(session: Session) -> list[str]:
    """Where the stored tallies differ from the encounters (empty: they agree)."""
    stored = {
        (t.dimension, t.bucket, t.kind): (
            t.encounters, t.drawer_seconds, t.drawer_timed, t.collector_seconds,
            t.collector_timed,
        )
        for t in session.scalars(select(LedgerTally))
        if t.encounters
    }  # fmt: skip
    expected = expected_tallies(session)
    problems = []
    for key in sorted(set(stored) | set(expected)):
        have, want = stored.get(key), expected.get(key)
        if have is None or want is None or not _close(have, want):
            problems.append(f"{'/'.join(key)}: stored {have}, encounters say {want}")
    return problems


def _close(have: tuple, want: tuple) -> bool:
    return all(abs(a - b) < 0.01 for a, b in zip(have, want, strict=True))


def rebuild_tallies(session: Session) -> int:
    """Replace every tally by the recomputed one; returns the number of rows written."""
    expected = expected_tallies(session)
    with write_transaction(session):
        session.execute(delete(LedgerTally))
        session.add_all(
            LedgerTally(
                dimension=dimension, bucket=bucket, kind=kind, encounters=n,
                drawer_seconds=d_sum, drawer_timed=d_n, collector_seconds=c_sum,
                collector_timed=c_n,
            )
            for (dimension, bucket, kind), (n, d_sum, d_n, c_sum, c_n) in expected.items()
        )  # fmt: skip
    return len(expected)

"""The labor ledger: what the collection has cost in human time, computed by SQL aggregates.

Every figure is a COUNT or SUM grouped in the database (a handful of queries, none of which
loads encounters into Python), so the page costs the same few queries at 100 or 100,000
encounters.

What counts where (the page says it too):

- A **drawing** towards the goal is a completed encounter whose drawer has not withdrawn it.
- A **withdrawn** drawing was still drawn: it counts as labor (in the approaches, the acceptance
  rate and both hours totals) and nowhere else: not towards the goal, in no chart, breakdown or
  pace. Beyond its existence nothing about it is shown.
- The **collector's time** of an encounter runs from its start (the collector walks up) to the
  end of the drawing. The photo and the handoff afterwards are not timed, and neither are
  declined approaches, so the figure is a lower bound; encounters without a recorded end of
  drawing are left out of it (and counted as untimed).
- The **drawers' time** is the sum of the measured drawing times.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta

from flask import current_app
from sqlalchemy import and_, func, select
from sqlalchemy.orm import Session

from fieldapp.database import utcnow, write_transaction
from fieldapp.encounters.models import VENUE_TYPES, Encounter, EncounterStatus
from fieldapp.ledger.models import LedgerSettings
from fieldapp.ledger.sql import local_hour, local_week, local_weekday, seconds_between

PACE_DAYS = 30
WEEKS_SHOWN = 26
MAX_GOAL = 1_000_000
WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")


@dataclass(frozen=True)
class Headline:
    """The count others show (home, live screen): drawings in the collection and the goal."""

    drawings: int
    approaches: int
    withdrawn: int
    goal: int


@dataclass(frozen=True)
class Ledger:
    """Every figure of the ledger page. `by_hour` and `by_weekday` are empty in the public one."""

    now: datetime
    goal: int
    drawings: int
    withdrawn: int
    declined: int
    collector_seconds: float
    collector_timed: int
    drawer_seconds: float
    drawer_timed: int
    recent: int  # drawings in the last PACE_DAYS days
    weeks: list[tuple[date, int]]  # the last WEEKS_SHOWN weeks (Monday, drawings), oldest first
    by_venue: list[tuple[str, int, int]]  # venue type, drawings, declined approaches
    by_time_limit: list[tuple[int | None, int]]  # seconds (None: no limit), drawings
    by_hour: list[tuple[int, int]] = field(default_factory=list)  # 0-23 in the room, drawings
    by_weekday: list[tuple[str, int]] = field(default_factory=list)  # Monday first, drawings
    public: bool = False

    @property
    def completed(self) -> int:
        """Drawings made, withdrawn ones included: the drawers' yes."""
        return self.drawings + self.withdrawn

    @property
    def approaches(self) -> int:
        return self.completed + self.declined

    @property
    def acceptance_rate(self) -> float | None:
        """Share of approaches that became a drawing (withdrawn ones included)."""
        return self.completed / self.approaches if self.approaches else None

    @property
    def progress(self) -> float:
        return min(1.0, self.drawings / self.goal)

    @property
    def remaining(self) -> int:
        return max(0, self.goal - self.drawings)

    @property
    def pace_per_day(self) -> float:
        return self.recent / PACE_DAYS

    @property
    def pace_per_week(self) -> float:
        return self.pace_per_day * 7

    @property
    def goal_date(self) -> date | None:
        """The day the goal is reached at the pace of the last 30 days (None: no pace, or
        reached already)."""
        if self.remaining == 0 or self.recent == 0:
            return None
        return (self.now + timedelta(days=self.remaining / self.pace_per_day)).date()

    @property
    def collector_hours(self) -> float:
        return self.collector_seconds / 3600

    @property
    def drawer_hours(self) -> float:
        return self.drawer_seconds / 3600

    @property
    def untimed(self) -> int:
        """Drawings (withdrawn included) whose collector's time was not recorded."""
        return self.completed - self.collector_timed


def current_goal(session: Session) -> int:
    """The collector's goal if set, else the app config's GOAL (FIELDAPP_GOAL)."""
    settings = session.get(LedgerSettings, 1)
    return settings.goal if settings else current_app.config["GOAL"]


def set_goal(session: Session, goal: int) -> None:
    """Store the collector's goal (1 to MAX_GOAL)."""
    if not 0 < goal <= MAX_GOAL:
        raise ValueError(f"the goal must be between 1 and {MAX_GOAL:,}")
    with write_transaction(session):
        settings = session.get(LedgerSettings, 1)
        if settings is None:
            session.add(LedgerSettings(id=1, goal=goal))
        else:
            settings.goal = goal


def _in_collection():
    return and_(
        Encounter.status == EncounterStatus.COMPLETED.value, Encounter.withdrawn_at.is_(None)
    )


def headline(session: Session) -> Headline:
    """Drawings in the collection (withdrawn ones not counted), approaches, withdrawn, goal."""
    withdrawn = Encounter.withdrawn_at.is_not(None)
    rows = session.execute(
        select(Encounter.status, withdrawn, func.count()).group_by(Encounter.status, withdrawn)
    ).all()
    drawings = withdrawn_count = approaches = 0
    for status, is_withdrawn, count in rows:
        approaches += count
        if status == EncounterStatus.COMPLETED.value:
            if is_withdrawn:
                withdrawn_count += count
            else:
                drawings += count
    return Headline(drawings, approaches, withdrawn_count, current_goal(session))


def ledger(session: Session, *, now: datetime | None = None, public: bool = False) -> Ledger:
    """All the ledger's figures at `now` (default: the current time).

    The public ledger leaves out when in the day and week the collector is out (hour of day,
    weekday): it is a routine someone could use to find him.
    """
    now = now or utcnow()
    totals = labor_totals(session)
    return Ledger(
        now=now,
        goal=current_goal(session),
        recent=_recent(session, now),
        weeks=_weeks(session, now),
        by_hour=[] if public else _by_hour(session),
        by_weekday=[] if public else _by_weekday(session),
        public=public,
        **totals,
    )


def labor_totals(session: Session) -> dict:
    """One grouped scan: counts (drawings, withdrawn, declined), both times in seconds and
    how many were timed, and the venue and time-limit breakdowns (keys as in Ledger)."""
    withdrawn = Encounter.withdrawn_at.is_not(None)
    drawer = seconds_between(Encounter.drawing_started_at, Encounter.drawing_finished_at)
    collector = seconds_between(Encounter.started_at, Encounter.drawing_finished_at)
    query = select(
        Encounter.status,
        withdrawn,
        Encounter.venue_type,
        Encounter.time_limit_seconds,
        func.count(),
        func.coalesce(func.sum(drawer), 0.0),
        func.count(drawer),
        func.coalesce(func.sum(collector), 0.0),
        func.count(collector),
    ).group_by(Encounter.status, withdrawn, Encounter.venue_type, Encounter.time_limit_seconds)
    sums = defaultdict(float)
    venues = {venue: [0, 0] for venue in VENUE_TYPES}
    limits: dict[int | None, int] = defaultdict(int)
    for status, is_withdrawn, venue, limit, count, d_sum, d_n, c_sum, c_n in session.execute(query):
        sums["drawer_seconds"] += d_sum
        sums["drawer_timed"] += d_n
        sums["collector_seconds"] += c_sum
        sums["collector_timed"] += c_n
        if status == EncounterStatus.DECLINED.value:
            sums["declined"] += count
            venues.setdefault(venue, [0, 0])[1] += count
        elif is_withdrawn:
            sums["withdrawn"] += count
        else:
            sums["drawings"] += count
            venues.setdefault(venue, [0, 0])[0] += count
            limits[limit] += count
    return {
        "drawings": int(sums["drawings"]),
        "withdrawn": int(sums["withdrawn"]),
        "declined": int(sums["declined"]),
        "drawer_seconds": sums["drawer_seconds"],
        "drawer_timed": int(sums["drawer_timed"]),
        "collector_seconds": sums["collector_seconds"],
        "collector_timed": int(sums["collector_timed"]),
        "by_venue": [(venue, drawn, declined) for venue, (drawn, declined) in venues.items()],
        "by_time_limit": sorted(limits.items(), key=lambda item: (item[0] is None, item[0] or 0)),
    }


def _recent(session: Session, now: datetime) -> int:
    since = now - timedelta(days=PACE_DAYS)
    return session.scalar(
        select(func.count()).where(
            _in_collection(), Encounter.started_at > since, Encounter.started_at <= now
        )
    )


def monday_of(day: date) -> date:
    return day - timedelta(days=day.weekday())


def _weeks(session: Session, now: datetime) -> list[tuple[date, int]]:
    """Drawings per week (Monday to Sunday in the room) for the last WEEKS_SHOWN weeks."""
    last = monday_of(now.astimezone(UTC).date())
    first = last - timedelta(weeks=WEEKS_SHOWN - 1)
    # A day's margin: the room's clock may be up to 14 hours off UTC.
    since = datetime.combine(first, datetime.min.time(), UTC) - timedelta(days=1)
    week = local_week(Encounter.started_at, Encounter.utc_offset_minutes)
    rows = session.execute(
        select(week, func.count())
        .where(_in_collection(), Encounter.started_at >= since, Encounter.started_at <= now)
        .group_by(week)
    ).all()
    counts = {_as_date(monday): count for monday, count in rows}
    return [(first + timedelta(weeks=i), counts.get(first + timedelta(weeks=i), 0))
            for i in range(WEEKS_SHOWN)]  # fmt: skip


def _as_date(value) -> date:
    """A date from the database: SQLite hands back ISO text, PostgreSQL a date."""
    return value if isinstance(value, date) else date.fromisoformat(str(value)[:10])


def _by_hour(session: Session) -> list[tuple[int, int]]:
    hour = local_hour(Encounter.started_at, Encounter.utc_offset_minutes)
    rows = dict(
        session.execute(select(hour, func.count()).where(_in_collection()).group_by(hour)).all()
    )
    return [(h, rows.get(h, 0)) for h in range(24)]


def _by_weekday(session: Session) -> list[tuple[str, int]]:
    weekday = local_weekday(Encounter.started_at, Encounter.utc_offset_minutes)
    rows = dict(
        session.execute(
            select(weekday, func.count()).where(_in_collection()).group_by(weekday)
        ).all()
    )
    # SQL counts Sunday as 0; the page starts the week on Monday.
    return [(name, rows.get((i + 1) % 7, 0)) for i, name in enumerate(WEEKDAYS)]


def time_limit_label(seconds: int | None) -> str:
    if seconds is None:
        return "no limit"
    if seconds % 60:
        return f"{seconds} s" if seconds < 60 else f"{seconds // 60} min {seconds % 60} s"
    return f"{seconds // 60} min"

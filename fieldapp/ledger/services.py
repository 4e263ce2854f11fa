"""The labor ledger: what the collection has cost in human time, computed by SQL aggregates.

Every figure is read from `ledger_tallies`, SQL aggregates that the database itself keeps
current on every write to `encounters` (see `tallies.py`): a few queries over a few hundred
small rows, the same at 100 or 100,000 encounters, and nothing loaded row by row.

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
- **Each person's labor** (`labor_by_person`, the collector's page only) counts the encounters
  each account recorded (`recorded_by_id`), from the tallies' person dimension; a helper's own
  count (`own_headline`) reads its rows there too.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta

from flask import current_app
from sqlalchemy import Row, func, select
from sqlalchemy.orm import Session

from fieldapp.auth.models import Collector
from fieldapp.database import utcnow, write_transaction
from fieldapp.encounters.models import VENUE_TYPES
from fieldapp.ledger.models import LedgerSettings
from fieldapp.ledger.tallies import LedgerTally

DRAWING, WITHDRAWN, DECLINED = "drawing", "withdrawn", "declined"  # LedgerTally.kind
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


class _Labor:
    """What the whole ledger and one person's labor count alike: drawings in the collection,
    withdrawn ones, declined approaches, and the measured drawing time."""

    drawings: int
    withdrawn: int
    declined: int
    drawer_seconds: float

    @property
    def completed(self) -> int:
        """Drawings made, withdrawn ones included: the drawers' yes."""
        return self.drawings + self.withdrawn

    @property
    def approaches(self) -> int:
        return self.completed + self.declined

    @property
    def drawer_hours(self) -> float:
        return self.drawer_seconds / 3600


@dataclass(frozen=True)
class PersonLabor(_Labor):
    """What one account recorded: its drawings (withdrawn apart), declined approaches, and
    the drawing time it measured. `username` None: recorded without an account (a script)."""

    username: str | None
    role: str | None
    drawings: int = 0
    withdrawn: int = 0
    declined: int = 0
    drawer_seconds: float = 0.0
    drawer_timed: int = 0


@dataclass(frozen=True)
class Ledger(_Labor):
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
    by_person: list[PersonLabor] = field(default_factory=list)  # never in the public one
    public: bool = False

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


def _tally_rows(session: Session, *dimensions: str):
    return session.execute(
        select(
            LedgerTally.dimension,
            LedgerTally.bucket,
            LedgerTally.kind,
            LedgerTally.encounters,
            LedgerTally.drawer_seconds,
            LedgerTally.drawer_timed,
            LedgerTally.collector_seconds,
            LedgerTally.collector_timed,
        ).where(LedgerTally.dimension.in_(dimensions), LedgerTally.encounters != 0)
    ).all()


def headline(session: Session) -> Headline:
    """Drawings in the collection (withdrawn ones not counted), approaches, withdrawn, goal."""
    counts = {row.kind: row.encounters for row in _tally_rows(session, "total")}
    return _headline(session, counts)


def headline_for(session: Session, account_id: int, *, helper: bool) -> Headline:
    """The count an account is shown: the collection's, or a helper's own (nothing of anyone
    else's work: the collection's figures are the collector's)."""
    return own_headline(session, account_id) if helper else headline(session)


def _headline(session: Session, counts: dict[str, int]) -> Headline:
    drawings, withdrawn = counts.get(DRAWING, 0), counts.get(WITHDRAWN, 0)
    approaches = drawings + withdrawn + counts.get(DECLINED, 0)
    return Headline(drawings, approaches, withdrawn, current_goal(session))


def ledger(session: Session, *, now: datetime | None = None, public: bool = False) -> Ledger:
    """All the ledger's figures at `now` (default: the current time).

    The public ledger leaves out when in the day and week the collector is out (hour of day,
    weekday): it is a routine someone could use to find him.
    """
    now = now or utcnow()
    totals = labor_totals(session)
    by_hour, by_weekday = ([], []) if public else _routine(session)
    return Ledger(
        now=now,
        goal=current_goal(session),
        recent=_recent(session, now),
        weeks=_weeks(session, now),
        by_hour=by_hour,
        by_weekday=by_weekday,
        by_person=[] if public else labor_by_person(session),
        public=public,
        **totals,
    )


def _person_rows(session: Session, account_id: int | None = None):
    """The person tallies (one row per account and kind), or only one account's."""
    query = select(
        LedgerTally.bucket,
        LedgerTally.kind,
        LedgerTally.encounters,
        LedgerTally.drawer_seconds,
        LedgerTally.drawer_timed,
    ).where(LedgerTally.dimension == "person", LedgerTally.encounters != 0)
    if account_id is not None:
        query = query.where(LedgerTally.bucket == str(account_id))
    return session.execute(query).all()


def labor_by_person(session: Session) -> list[PersonLabor]:
    """Each account's labor, the most drawings first; accounts that recorded nothing left out."""
    sums: dict[int | None, dict[str, float]] = defaultdict(lambda: defaultdict(float))
    for bucket, kind, encounters, seconds, timed in _person_rows(session):
        account_id = int(bucket) if bucket else None  # "": recorded without an account
        sums[account_id][kind] += encounters
        sums[account_id]["drawer_seconds"] += seconds
        sums[account_id]["drawer_timed"] += timed
    accounts = {
        account.id: account
        for account in session.scalars(
            select(Collector).where(Collector.id.in_([i for i in sums if i is not None]))
        )
    }
    people = [
        PersonLabor(
            username=accounts[account_id].username if account_id in accounts else None,
            role=accounts[account_id].role if account_id in accounts else None,
            drawings=int(figures[DRAWING]),
            withdrawn=int(figures[WITHDRAWN]),
            declined=int(figures[DECLINED]),
            drawer_seconds=figures["drawer_seconds"],
            drawer_timed=int(figures["drawer_timed"]),
        )
        for account_id, figures in sums.items()
    ]
    return sorted(people, key=lambda p: (-p.completed, -p.approaches, p.username or "~"))


def own_headline(session: Session, account_id: int) -> Headline:
    """A helper's own count: its drawings, approaches and withdrawn, and the public goal; nothing
    of anyone else's work."""
    counts: dict[str, int] = defaultdict(int)
    for _, kind, encounters, _, _ in _person_rows(session, account_id):
        counts[kind] += encounters
    return _headline(session, counts)


def labor_totals(session: Session) -> dict:
    """Counts (drawings, withdrawn, declined), both times in seconds and how many were timed,
    and the venue and time-limit breakdowns (keys as in Ledger)."""
    sums: dict[str, float] = defaultdict(float)
    venues = {venue: [0, 0] for venue in VENUE_TYPES}
    limits: list[tuple[int | None, int]] = []
    for row in _tally_rows(session, "total", "venue", "limit"):
        if row.dimension == "total":
            sums[row.kind] += row.encounters
            sums["drawer_seconds"] += row.drawer_seconds
            sums["drawer_timed"] += row.drawer_timed
            sums["collector_seconds"] += row.collector_seconds
            sums["collector_timed"] += row.collector_timed
        elif row.dimension == "venue" and row.kind in (DRAWING, DECLINED):
            venues.setdefault(row.bucket, [0, 0])[row.kind == DECLINED] += row.encounters
        elif row.dimension == "limit" and row.kind == DRAWING:
            limits.append((None if row.bucket == "none" else int(row.bucket), row.encounters))
    return {
        "drawings": int(sums[DRAWING]),
        "withdrawn": int(sums[WITHDRAWN]),
        "declined": int(sums[DECLINED]),
        "drawer_seconds": sums["drawer_seconds"],
        "drawer_timed": int(sums["drawer_timed"]),
        "collector_seconds": sums["collector_seconds"],
        "collector_timed": int(sums["collector_timed"]),
        "by_venue": [(venue, drawn, declined) for venue, (drawn, declined) in venues.items()],
        "by_time_limit": sorted(limits, key=lambda item: (item[0] is None, item[0] or 0)),
    }


def _drawings_in(
    session: Session, dimension: str, first: str, last: str
) -> Sequence[Row[str, int]]:
    """Drawings per bucket of a date dimension (week, day), buckets from `first` to `last`."""
    return session.execute(
        select(LedgerTally.bucket, func.sum(LedgerTally.encounters))
        .where(
            LedgerTally.dimension == dimension,
            LedgerTally.kind == DRAWING,
            LedgerTally.bucket.between(first, last),
        )
        .group_by(LedgerTally.bucket)
    ).all()


def _recent(session: Session, now: datetime) -> int:
    """Drawings made in the last PACE_DAYS calendar days, today included."""
    today = now.astimezone(UTC).date()
    first = today - timedelta(days=PACE_DAYS - 1)
    return sum(n for _, n in _drawings_in(session, "day", first.isoformat(), today.isoformat()))


def monday_of(day: date) -> date:
    return day - timedelta(days=day.weekday())


def _weeks(session: Session, now: datetime) -> list[tuple[date, int]]:
    """Drawings per week (Monday to Sunday in the room) for the last WEEKS_SHOWN weeks."""
    last = monday_of(now.astimezone(UTC).date())
    first = last - timedelta(weeks=WEEKS_SHOWN - 1)
    counts = dict(_drawings_in(session, "week", first.isoformat(), last.isoformat()))
    mondays = [first + timedelta(weeks=i) for i in range(WEEKS_SHOWN)]
    return [(monday, int(counts.get(monday.isoformat(), 0))) for monday in mondays]


def _routine(session: Session) -> tuple[list[tuple[int, int]], list[tuple[str, int]]]:
    """Drawings by hour of the day (0-23) and by weekday (Monday first), in the room."""
    hours, weekdays = [0] * 24, [0] * 7
    for row in _tally_rows(session, "hour", "weekday"):
        if row.kind != DRAWING:
            continue
        if row.dimension == "hour":
            hours[int(row.bucket)] += row.encounters
        else:  # SQL counts Sunday as 0; the page starts the week on Monday.
            weekdays[(int(row.bucket) - 1) % 7] += row.encounters
    return list(enumerate(hours)), list(zip(WEEKDAYS, weekdays, strict=True))


def time_limit_label(seconds: int | None) -> str:
    if seconds is None:
        return "no limit"
    if seconds % 60:
        return f"{seconds} s" if seconds < 60 else f"{seconds // 60} min {seconds % 60} s"
    return f"{seconds // 60} min"

"""The encounter log: filters, search and sorts, a page at a time by keyset.

Every sort is a keyset on a unique key ((started_at, id) or the portrait number) and every
equality filter has an index ending in (started_at, id), so a page costs about the same at
100,000 encounters as at 1,000: no OFFSET, and no count of the whole filtered set.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, time, timedelta

from sqlalchemy import Select, SQLColumnExpression, and_, exists, func, literal, or_, select
from sqlalchemy.orm import Session

from fieldapp.arguments import BIGGEST_INTEGER, database_int
from fieldapp.encounters.models import AGE_GROUPS, VENUE_TYPES, Encounter, EncounterStatus
from fieldapp.encounters.validation import EARLIEST
from fieldapp.media.framing import NONE
from fieldapp.media.models import Photo
from fieldapp.tickets.models import Ticket

STATUSES = ("completed", "declined", "withdrawn")
CHOICES = ("keep", "gallery", "training", "social")
SORTS = {
    "newest": "Newest first",
    "oldest": "Oldest first",
    "number_desc": "Highest number first (drawings only)",
    "number_asc": "Lowest number first (drawings only)",
}
VIEWS = ("table", "grid")
PHOTO_FILTERS = ("with", "without", "needs_framing")
PER_PAGE = 48  # fills grids of 2, 3 or 4 columns
SEARCH_LIMIT = 100
# UTC offsets run from -12:00 to +14:00: a local day lies within these hours of the UTC day.
WIDEST_OFFSET = timedelta(hours=14)


@dataclass(frozen=True)
class LogFilters:
    """What the log shows, read from the URL (anything unreadable is ignored, not an error)."""

    date_from: date | None = None
    date_to: date | None = None
    venue_type: str = ""
    status: str = ""
    choices: dict[str, bool] = field(default_factory=dict)  # e.g. {"gallery": True}
    photo: str = ""  # "with", "without", "needs_framing" (no sheet found in it) or ""
    age_group: str = ""  # "minor", "adult" or "": the drawer's age group as they said it
    q: str = ""
    sort: str = "newest"
    view: str = "table"

    @classmethod
    def from_args(cls, args: Mapping[str, str]) -> LogFilters:
        choices = {}
        for name in CHOICES:
            value = args.get(name, "")
            if value in ("yes", "no"):
                choices[name] = value == "yes"
        return cls(
            date_from=_date(args.get("from")),
            date_to=_date(args.get("to")),
            venue_type=_one_of(args.get("venue_type"), VENUE_TYPES),
            status=_one_of(args.get("status"), STATUSES),
            choices=choices,
            photo=_one_of(args.get("photo"), PHOTO_FILTERS),
            age_group=_one_of(args.get("age"), AGE_GROUPS),
            q=" ".join((args.get("q") or "").split())[:SEARCH_LIMIT],
            sort=_one_of(args.get("sort"), tuple(SORTS)) or "newest",
            view=_one_of(args.get("view"), VIEWS) or "table",
        )

    def args(self, **overrides) -> dict[str, str]:
        """The filters as URL arguments (empty ones left out), for links and the CSV export."""
        current = replace(self, **overrides)
        out = {
            "from": current.date_from.isoformat() if current.date_from else "",
            "to": current.date_to.isoformat() if current.date_to else "",
            "venue_type": current.venue_type,
            "status": current.status,
            "photo": current.photo,
            "age": current.age_group,
            "q": current.q,
            "sort": "" if current.sort == "newest" else current.sort,
            "view": "" if current.view == "table" else current.view,
        }
        out |= {name: "yes" if value else "no" for name, value in current.choices.items()}
        return {key: value for key, value in out.items() if value}

    @property
    def active(self) -> int:
        """How many filters narrow the log (the sort and the view do not)."""
        narrowing = self.args(sort="newest", view="table")
        return len(narrowing)

    @property
    def by_number(self) -> bool:
        return self.sort.startswith("number")


@dataclass(frozen=True)
class LogPage:
    encounters: list[Encounter]
    next_cursor: str | None  # pass as `after` to get the next page


def filtered(session: Session, filters: LogFilters) -> Select:
    """The filtered, sorted query (no page limit): the log pages and the CSV export share it."""
    query = select(Encounter)
    if filters.by_number:
        query = query.join(Ticket, Encounter.ticket_id == Ticket.id)
    for condition in _conditions(session, filters):
        query = query.where(condition)
    return query.order_by(*_order(filters))


def log_page(
    session: Session, filters: LogFilters, *, after: str | None = None, per_page: int = PER_PAGE
) -> LogPage:
    """One page of the log under these filters, after the cursor of the previous page."""
    query = filtered(session, filters)
    keyset = _after(filters, after)
    if keyset is not None:
        query = query.where(keyset)
    rows = list(session.scalars(query.limit(per_page + 1)).unique())
    page, more = rows[:per_page], len(rows) > per_page
    return LogPage(page, _cursor(filters, page[-1]) if more else None)


def _conditions(session: Session, filters: LogFilters) -> list:
    conditions = []
    if filters.date_from:
        earliest = _utc_midnight(filters.date_from, -WIDEST_OFFSET)
        if earliest is not None:
            conditions.append(Encounter.started_at >= earliest)
        conditions.append(_local_date(session) >= filters.date_from.isoformat())
    if filters.date_to:
        latest = _utc_midnight(filters.date_to, timedelta(days=1) + WIDEST_OFFSET)
        if latest is not None:
            conditions.append(Encounter.started_at < latest)
        conditions.append(_local_date(session) <= filters.date_to.isoformat())
    if filters.venue_type:
        conditions.append(Encounter.venue_type == filters.venue_type)
    if filters.status == "withdrawn":
        # A range, not IS NOT NULL, so that the index below can be searched, not scanned.
        conditions.append(Encounter.withdrawn_at >= EARLIEST)
    elif filters.status:
        conditions += [Encounter.status == filters.status, Encounter.withdrawn_at.is_(None)]
    for name, wanted in filters.choices.items():
        column = getattr(Encounter, name)
        conditions.append(column.is_(True) if wanted else or_(column.is_(False), column.is_(None)))
    if filters.age_group:
        # Minors are few: no index of their own (the log walks (started_at, id) to find them).
        conditions.append(Encounter.age_group == filters.age_group)
    if filters.photo == "needs_framing":
        # No sheet was found in the photo: the artist frames it by hand (the framing editor).
        conditions.append(exists().where(Photo.encounter_id == Encounter.id, Photo.framing == NONE))
    elif filters.photo:
        has_photo = exists().where(Photo.encounter_id == Encounter.id)
        conditions.append(has_photo if filters.photo == "with" else ~has_photo)
    if filters.q:
        pattern = "%" + _escape_like(filters.q) + "%"
        conditions.append(
            or_(
                *(
                    column.ilike(pattern, escape="\\")
                    for column in (
                        Encounter.venue,
                        Encounter.city,
                        Encounter.notes,
                        Encounter.credit_name,
                    )
                )
            )
        )
    return conditions


def needing_framing(session: Session) -> int:
    """How many drawings' photos have no sheet found in them (the log links to them)."""
    return session.scalar(select(func.count()).where(Photo.framing == NONE)) or 0


def _utc_midnight(day: date, shift: timedelta) -> datetime | None:
    """Midnight UTC on `day`, moved by `shift`: the bound of the range the date index is searched
    in. None past the calendar's ends (0001-01-01 minus 14 hours, 9999-12-31 plus a day), where
    there is nothing to leave out and the local date alone decides."""
    try:
        return datetime.combine(day, time(), UTC) + shift
    except OverflowError:
        return None


def _local_date(session: Session):
    """The encounter's date as the clock in the room showed it, as 'YYYY-MM-DD' text."""
    if session.get_bind().dialect.name == "sqlite":
        shift = func.printf("%+d minutes", Encounter.utc_offset_minutes)
        return func.date(Encounter.started_at, shift)
    shifted = Encounter.started_at + func.make_interval(0, 0, 0, 0, 0, Encounter.utc_offset_minutes)
    return func.to_char(shifted, literal("YYYY-MM-DD"))


def _order(filters: LogFilters) -> list:
    started_at: SQLColumnExpression[datetime] = Encounter.started_at
    if filters.status == "withdrawn":
        # The planner cannot tell how few tombstones there are (SQLite keeps no histogram):
        # ordering by the bare column, it walks the whole log in time order looking for them.
        # Ordering by the same value as an expression lets it find them by their own index
        # and sort those few instead.
        started_at = func.coalesce(Encounter.started_at, Encounter.started_at)
    if filters.sort == "number_desc":
        return [Ticket.number.desc()]
    if filters.sort == "number_asc":
        return [Ticket.number.asc()]
    if filters.sort == "oldest":
        return [started_at.asc(), Encounter.id.asc()]
    return [started_at.desc(), Encounter.id.desc()]


def _cursor(filters: LogFilters, last: Encounter) -> str:
    if filters.by_number:
        return str(last.number)
    return f"{last.started_at.isoformat()}_{last.id}"


def _after(filters: LogFilters, cursor: str | None):
    """The keyset condition for the rows after `cursor` (None: the first page)."""
    if not cursor:
        return None
    if filters.by_number:
        if not (cursor.isascii() and cursor.isdigit()):
            return None
        try:
            number = database_int(cursor)
        except ValueError:  # digits beyond the database's integers: beyond every number too
            number = BIGGEST_INTEGER
        return Ticket.number < number if filters.sort == "number_desc" else Ticket.number > number
    moment, _, encounter_id = cursor.rpartition("_")
    try:
        started_at, last_id = datetime.fromisoformat(moment), database_int(encounter_id)
        if started_at.tzinfo is None:
            return None
        started_at = started_at.astimezone(UTC)  # 0001-01-01T00:00+14:00 has no UTC time
    except (ValueError, OverflowError):
        return None
    if filters.sort == "oldest":
        return or_(
            Encounter.started_at > started_at,
            and_(Encounter.started_at == started_at, Encounter.id > last_id),
        )
    return or_(
        Encounter.started_at < started_at,
        and_(Encounter.started_at == started_at, Encounter.id < last_id),
    )


def _escape_like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def _date(value: str | None) -> date | None:
    try:
        return date.fromisoformat(value) if value else None
    except ValueError:
        return None


def _one_of(value: str | None, allowed: tuple[str, ...]) -> str:
    return value if value in allowed else ""


def is_status(encounter: Encounter) -> str:
    """completed, declined or withdrawn: the status the log shows and filters on."""
    if encounter.is_withdrawn:
        return "withdrawn"
    return EncounterStatus(encounter.status).value

"""The public gallery: only drawings whose drawer chose keep + gallery and did not withdraw
(and, for a minor, whose parent or guardian agreed)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from functools import cache

from sqlalchemy import BindParameter, Connection, Select, bindparam, or_, select
from sqlalchemy.orm import Session, contains_eager

from fieldapp.encounters.models import AGE_MINOR, Encounter, EncounterStatus
from fieldapp.media.images import THUMB_LONG_EDGE
from fieldapp.media.models import Photo
from fieldapp.signals.services import image_version, photo_version, training_allowed
from fieldapp.tickets.models import Ticket
from fieldapp.web.direct_select import DirectSelect

PER_PAGE = 24


@dataclass(frozen=True)
class GalleryItem:
    """What the public may see of one drawing: never its token, UUID or notes."""

    number: int
    started_at: datetime
    credit: str  # the name the drawer chose, or "Anonymous"
    time_limit_seconds: int | None
    display_width: int
    display_height: int
    image_version: str  # in the image URLs: a new one whenever the served bytes change

    @property
    def thumb_size(self) -> tuple[int, int]:
        """The thumbnail's pixel size, as media.images made it (for width/height attributes)."""
        longest = max(self.display_width, self.display_height)
        if longest <= THUMB_LONG_EDGE:
            return self.display_width, self.display_height
        scale = THUMB_LONG_EDGE / longest
        return round(self.display_width * scale), round(self.display_height * scale)


@dataclass(frozen=True)
class GalleryPage:
    items: list[GalleryItem]
    next_before: int | None  # the portrait number to pass as `before` for older drawings


def _in_gallery(query: Select) -> Select:
    """`query` joined to tickets and photos, limited to what the gallery may show."""
    return (
        query.join(Ticket, Encounter.ticket_id == Ticket.id)
        .join(Photo, Photo.encounter_id == Encounter.id)
        .where(
            Encounter.status == EncounterStatus.COMPLETED.value,
            Encounter.keep.is_(True),
            Encounter.gallery.is_(True),
            # A minor's drawing only once the collector confirmed a parent's or guardian's
            # agreement: the live screen and the diary read the gallery through here too.
            or_(Encounter.age_group != AGE_MINOR, Encounter.guardian_agreed.is_(True)),
            Encounter.withdrawn_at.is_(None),
            Ticket.withdrawn_at.is_(None),
        )
    )


def _shown() -> Select:
    """Encounters the gallery may show, loaded with their ticket and photo in one query."""
    return _in_gallery(select(Encounter)).options(
        contains_eager(Encounter.ticket), contains_eager(Encounter.photo)
    )


# A page of the gallery reads only these columns: plain rows are several times cheaper to load
# than encounters with their tickets and photos (bench/load.py).
_PAGE_COLUMNS = (
    Ticket.number,
    Encounter.started_at,
    Encounter.utc_offset_minutes,
    Encounter.credit_name,
    Encounter.time_limit_seconds,
    Encounter.keep,
    Encounter.training,
    Encounter.age_group,
    Photo.display_width,
    Photo.display_height,
    Photo.display_name,
)


def _page_item(row) -> GalleryItem:
    offset = timezone(timedelta(minutes=row.utc_offset_minutes))
    return GalleryItem(
        number=row.number,
        started_at=row.started_at.astimezone(offset),
        credit=row.credit_name or "Anonymous",
        time_limit_seconds=row.time_limit_seconds,
        display_width=row.display_width,
        display_height=row.display_height,
        image_version=photo_version(row.display_name, training_allowed(row), row.credit_name),
    )


def _item(encounter: Encounter) -> GalleryItem:
    return GalleryItem(
        number=encounter.ticket.number,
        started_at=encounter.local_started_at,
        credit=encounter.credit_name or "Anonymous",
        time_limit_seconds=encounter.time_limit_seconds,
        display_width=encounter.photo.display_width,
        display_height=encounter.photo.display_height,
        image_version=image_version(encounter),
    )


@cache
def _newest_first() -> Select:
    """The page query, built once (the models are configured by the first call)."""
    return _in_gallery(select(*_PAGE_COLUMNS)).order_by(
        Encounter.started_at.desc(), Ticket.number.desc()
    )


def gallery_page(
    session: Session, *, before: int | None = None, per_page: int = PER_PAGE
) -> GalleryPage:
    """Drawings newest first, a page at a time, by keyset on (date, number).

    `before` is the portrait number of the last drawing of the previous page (it still works if
    that drawing left the gallery since); a number no encounter has starts from the newest.
    """
    rows = gallery_rows(session.connection(), before=before, per_page=per_page)
    return page_of(rows, per_page)


def gallery_rows(connection: Connection, *, before: int | None, per_page: int = PER_PAGE) -> tuple:
    """The plain rows of gallery_page(): everything the page is made of (hashable), and one
    more row than the page shows when there are older drawings. Read on the driver, without
    the ORM's or SQLAlchemy's execution machinery (bench/load.py)."""
    anchor = None
    if before is not None:
        anchor = _anchor_query().first(connection, number=before)
    if anchor is None:
        return tuple(_page_query(False, per_page + 1).all(connection))
    started_at, number = anchor
    return tuple(
        _page_query(True, per_page + 1).all(connection, started_at=started_at, number=number)
    )


@cache
def _anchor_query() -> DirectSelect:
    return DirectSelect(
        select(Encounter.started_at, Ticket.number)
        .join(Ticket, Encounter.ticket_id == Ticket.id)
        .where(Ticket.number == bindparam("number"))
    )


@cache
def _page_query(after_anchor: bool, limit: int) -> DirectSelect:
    """A page's statement, built and compiled once per shape (bench/load.py)."""
    query = _newest_first()
    if after_anchor:
        started_at: BindParameter[datetime] = bindparam("started_at")
        # Written as a range plus a tie-break (not `a < x OR (a = x AND ...)`), so that SQLite
        # seeks into the date index instead of scanning it from the newest end.
        query = query.where(
            Encounter.started_at <= started_at,
            or_(Encounter.started_at < started_at, Ticket.number < bindparam("number")),
        )
    return DirectSelect(query.limit(limit))


def page_of(rows: tuple, per_page: int = PER_PAGE) -> GalleryPage:
    """The page gallery_rows() read."""
    items = [_page_item(row) for row in rows[:per_page]]
    more = len(rows) > per_page
    return GalleryPage(items, items[-1].number if more and items else None)


def gallery_photo(session: Session, number: int) -> tuple[GalleryItem, Encounter] | None:
    """The drawing with this portrait number and its encounter, if it is in the gallery now."""
    encounter = session.scalar(_shown().where(Ticket.number == number))
    if encounter is None:
        return None
    return _item(encounter), encounter

"""The public gallery: only drawings whose drawer chose keep + gallery and did not withdraw."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Select, and_, or_, select
from sqlalchemy.orm import Session, contains_eager

from fieldapp.encounters.models import Encounter, EncounterStatus
from fieldapp.media.images import THUMB_LONG_EDGE
from fieldapp.signals.services import image_version
from fieldapp.tickets.models import Ticket

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


def _shown() -> Select:
    """Encounters the gallery may show, loaded with their ticket and photo in one query."""
    return (
        select(Encounter)
        .join(Encounter.ticket)
        .join(Encounter.photo)
        .options(contains_eager(Encounter.ticket), contains_eager(Encounter.photo))
        .where(
            Encounter.status == EncounterStatus.COMPLETED.value,
            Encounter.keep.is_(True),
            Encounter.gallery.is_(True),
            Encounter.withdrawn_at.is_(None),
            Ticket.withdrawn_at.is_(None),
        )
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


def gallery_page(
    session: Session, *, before: int | None = None, per_page: int = PER_PAGE
) -> GalleryPage:
    """Drawings newest first, a page at a time, by keyset on (date, number).

    `before` is the portrait number of the last drawing of the previous page (it still works if
    that drawing left the gallery since); a number no encounter has starts from the newest.
    """
    query = _shown().order_by(Encounter.started_at.desc(), Ticket.number.desc())
    if before is not None:
        anchor = session.execute(
            select(Encounter.started_at, Ticket.number)
            .join(Ticket, Encounter.ticket_id == Ticket.id)
            .where(Ticket.number == before)
        ).first()
        if anchor is not None:
            started_at, number = anchor
            query = query.where(
                or_(
                    Encounter.started_at < started_at,
                    and_(Encounter.started_at == started_at, Ticket.number < number),
                )
            )
    rows = session.scalars(query.limit(per_page + 1)).all()
    items = [_item(encounter) for encounter in rows[:per_page]]
    more = len(rows) > per_page
    return GalleryPage(items, items[-1].number if more and items else None)


def gallery_photo(session: Session, number: int) -> tuple[GalleryItem, Encounter] | None:
    """The drawing with this portrait number and its encounter, if it is in the gallery now."""
    encounter = session.scalar(_shown().where(Ticket.number == number))
    if encounter is None:
        return None
    return _item(encounter), encounter

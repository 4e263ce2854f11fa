"""What a participant's token opens: their ticket, their encounter and the consent they saw."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from functools import cache
from typing import Any

from sqlalchemy import Connection, bindparam, select
from sqlalchemy.orm import Session, lazyload

from fieldapp.consent.models import ConsentTranslation, ConsentVersion
from fieldapp.consent.texts import ConsentText
from fieldapp.encounters.models import Encounter, EncounterStatus
from fieldapp.media.models import Photo
from fieldapp.tickets.models import Ticket
from fieldapp.web.direct_select import DirectSelect


class _TicketAnswers:
    """What the participant's pages ask of a ticket and its encounter, whether they were loaded
    as ORM objects (ParticipantView) or as plain columns (ParticipantPage)."""

    ticket: Any
    encounter: Any

    @property
    def is_withdrawn(self) -> bool:
        return self.ticket.withdrawn_at is not None

    @property
    def can_change_choices(self) -> bool:
        """A kept, not withdrawn drawing: its drawer may change what it is allowed for."""
        e = self.encounter
        return e is not None and not self.is_withdrawn and e.is_completed and bool(e.keep)


@dataclass(frozen=True)
class ParticipantView(_TicketAnswers):
    ticket: Ticket
    encounter: Encounter | None  # None: reserved on the phone, upload not arrived yet
    consent_sha256: str | None = None  # of the consent text the drawer was shown


def participant_view(session: Session, token: str) -> ParticipantView | None:
    """The ticket and encounter behind a token, or None for a token that does not exist."""
    if not token or len(token) > 64:  # as ticket_by_token: nothing that long is a token
        return None
    row = session.execute(_view_query(), {"token": token}).first()
    if row is None:
        return None
    if row.Encounter is None and row.Ticket.retired_at is not None:
        return None  # replaced by a printed ticket: this link leads nowhere any more
    return ParticipantView(row.Ticket, row.Encounter, row.consent_sha256)


@cache
def _view_query():
    """One query for the ticket, its encounter and photo, and the hash of its consent text (the
    busiest public page), built once. The encounter's ticket is the row's own: no second join
    to tickets. The text itself comes from consent_shown(), once per process."""
    return (
        select(Ticket, Encounter, ConsentVersion.sha256.label("consent_sha256"))
        .outerjoin(Encounter, Encounter.ticket_id == Ticket.id)
        .outerjoin(ConsentVersion, ConsentVersion.id == Encounter.consent_version_id)
        .options(lazyload(Encounter.ticket))
        .where(Ticket.token == bindparam("token"))
    )


@dataclass(frozen=True)
class ConsentShown(ConsentText):
    """A consent text as the participant page shows it: the text its drawer was shown, in
    their language, and when its version was published."""

    created_at: datetime | None = None


#: Rendered consent texts of this process, by (version id, SHA-256 of the version, language).
#: A version and its translations never change once published (database triggers refuse it);
#: the hash in the key makes that hold even for two databases that number different texts alike.
_consent_shown: dict[tuple[int, str, str | None], ConsentShown] = {}
CONSENT_VERSIONS_KEPT = 256


def consent_shown(
    connection: Connection, version_id: int, sha256: str, language: str | None = None
) -> ConsentShown | None:
    """The consent text an encounter points at, in the language its drawer was shown
    (`Encounter.consent_language`; None: the version's own), read once per process on the
    page's own plain connection (no ORM session on the busiest page). None when the version's
    hash is not `sha256`, or the version has no text in that language."""
    key = (version_id, sha256, language)
    shown = _consent_shown.get(key)
    if shown is not None:
        return shown
    version = connection.execute(
        select(
            ConsentVersion.id,
            ConsentVersion.language,
            ConsentVersion.summary,
            ConsentVersion.choice_texts,
            ConsentVersion.text,
            ConsentVersion.sha256,
            ConsentVersion.created_at,
        ).where(ConsentVersion.id == version_id)
    ).first()
    if version is None or version.sha256 != sha256:
        return None
    row: Any = version
    if language is not None and language != version.language:
        row = connection.execute(
            select(
                ConsentTranslation.language,
                ConsentTranslation.summary,
                ConsentTranslation.choice_texts,
                ConsentTranslation.text,
                ConsentTranslation.sha256,
            ).where(
                ConsentTranslation.version_id == version_id,
                ConsentTranslation.language == language,
            )
        ).first()
        if row is None:
            return None
    shown = ConsentShown.from_row(row, version.id, created_at=version.created_at)
    if len(_consent_shown) < CONSENT_VERSIONS_KEPT:
        _consent_shown[key] = shown
    return shown


# The participant page (GET) --------------------------------------------------------------
# The busiest public page reads plain columns into frozen dataclasses that carry the attribute
# names of Ticket, Encounter and Photo that page.html, image_version() and training_allowed()
# use: several times cheaper to load and to read in the template than ORM objects
# (bench/load.py). The routes that change something keep loading the ORM objects.


@dataclass(frozen=True)
class TicketShown:
    number: int
    token: str
    reserved_at: datetime
    withdrawn_at: datetime | None


@dataclass(frozen=True)
class PhotoShown:
    display_width: int
    display_height: int
    display_name: str  # named by its content: a new framing is a new name (image_version())


@dataclass(frozen=True)
class EncounterShown:
    status: str
    keep: bool | None
    gallery: bool | None
    training: bool | None
    social: bool | None
    credit_name: str | None
    local_started_at: datetime
    time_limit_seconds: int | None
    consent_version_id: int | None
    consent_language: str | None  # None: the consent version's own language
    age_group: str  # "adult" or "minor": a minor's drawing is never trained on (signals)
    photo: PhotoShown | None

    @property
    def is_completed(self) -> bool:
        return self.status == EncounterStatus.COMPLETED


@dataclass(frozen=True)
class ParticipantPage(_TicketAnswers):
    """What the participant page shows; the same questions as ParticipantView answers."""

    ticket: TicketShown
    encounter: EncounterShown | None
    consent_sha256: str | None


def participant_page(connection: Connection, token: str) -> ParticipantPage | None:
    """participant_view() for the page itself, from one query of plain columns run on the
    driver: neither an ORM session nor SQLAlchemy's execution path (bench/load.py)."""
    if not token or len(token) > 64:
        return None
    row = _page_query().first(connection, token=token)
    if row is None:
        return None
    if row.encounter_id is None and row.retired_at is not None:
        return None  # replaced by a printed ticket: this link leads nowhere any more
    ticket = TicketShown(row.number, row.token, row.reserved_at, row.ticket_withdrawn_at)
    if row.encounter_id is None:
        return ParticipantPage(ticket, None, None)
    photo = None
    if row.display_name is not None:
        photo = PhotoShown(row.display_width, row.display_height, row.display_name)
    offset = timezone(timedelta(minutes=row.utc_offset_minutes))
    encounter = EncounterShown(
        status=row.status,
        keep=row.keep,
        gallery=row.gallery,
        training=row.training,
        social=row.social,
        credit_name=row.credit_name,
        local_started_at=row.started_at.astimezone(offset),
        time_limit_seconds=row.time_limit_seconds,
        consent_version_id=row.consent_version_id,
        consent_language=row.consent_language,
        age_group=row.age_group,
        photo=photo,
    )
    return ParticipantPage(ticket, encounter, row.consent_sha256)


@cache
def _page_query() -> DirectSelect:
    return DirectSelect(
        select(
            Ticket.number,
            Ticket.token,
            Ticket.reserved_at,
            Ticket.withdrawn_at.label("ticket_withdrawn_at"),
            Ticket.retired_at,
            Encounter.id.label("encounter_id"),
            Encounter.status,
            Encounter.keep,
            Encounter.gallery,
            Encounter.training,
            Encounter.social,
            Encounter.credit_name,
            Encounter.age_group,
            Encounter.started_at,
            Encounter.utc_offset_minutes,
            Encounter.time_limit_seconds,
            Encounter.consent_version_id,
            Encounter.consent_language,
            Photo.display_width,
            Photo.display_height,
            Photo.display_name,
            ConsentVersion.sha256.label("consent_sha256"),
        )
        .outerjoin(Encounter, Encounter.ticket_id == Ticket.id)
        .outerjoin(Photo, Photo.encounter_id == Encounter.id)
        .outerjoin(ConsentVersion, ConsentVersion.id == Encounter.consent_version_id)
        .where(Ticket.token == bindparam("token"))
    )

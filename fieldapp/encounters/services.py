"""Recording encounters exactly once, and reading them back for the collector."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from fieldapp.consent.models import ConsentVersion
from fieldapp.consent.services import record_field_grant, text_in, texts_of
from fieldapp.database import write_transaction
from fieldapp.encounters.models import FINGERPRINT_ERASED, Encounter, EncounterStatus
from fieldapp.encounters.validation import EncounterData, InvalidEncounter
from fieldapp.media.images import ProcessedPhoto
from fieldapp.media.services import PhotoConflict, attach_photo, remove_created, retry_removals
from fieldapp.media.storage import MediaStore
from fieldapp.tickets.models import Ticket
from fieldapp.tickets.services import reserve_tickets, ticket_by_token


class EncounterConflict(Exception):
    """The upload contradicts what is stored (HTTP 409). The message says what and why."""


class EncounterGone(Exception):
    """The drawer withdrew this drawing (HTTP 410): nothing may be stored for it again."""


def gone_message(number: int | None) -> str:
    return (
        f"Drawing #{number} was withdrawn by its drawer. Nothing was stored; "
        "delete the phone's copy of its photo."
    )


@dataclass(frozen=True)
class Recorded:
    encounter: Encounter
    created: bool


def record_encounter(
    session: Session,
    store: MediaStore,
    *,
    uuid: str,
    data: EncounterData,
    photo: ProcessedPhoto | None,
    collector_id: int | None,
) -> Recorded:
    """Store an encounter, keyed by the phone's UUID, at most once.

    The same UUID with the same data is acknowledged again (and a photo missing until then is
    attached); with other data it is a conflict. Photo files are written and fsynced before
    the commit, and removed again if the commit does not happen.
    """
    if photo is not None and data.status == EncounterStatus.DECLINED:
        raise InvalidEncounter(
            [{"field": "photo", "message": "a declined approach has no drawing"}]
        )
    if photo is not None and data.choices is not None and not data.choices.keep:
        raise InvalidEncounter(
            [
                {
                    "field": "photo",
                    "message": "the drawer did not allow keeping the drawing: no photo is stored",
                }
            ]
        )
    try:
        recorded = _record_once(session, store, uuid, data, photo, collector_id)
    except IntegrityError:
        # Another writer stored the same UUID between our check and our insert (possible
        # on PostgreSQL; SQLite's BEGIN IMMEDIATE serialises writers). Look once more.
        recorded = _record_once(session, store, uuid, data, photo, collector_id)
    if photo is not None:
        retry_removals(session, store)  # the store took this photo: it takes deletions again
    return recorded


def _record_once(session, store, uuid, data, photo, collector_id) -> Recorded:
    with write_transaction(session) as undo:
        encounter = session.scalar(select(Encounter).where(Encounter.uuid == uuid))
        created = encounter is None
        if encounter is not None and encounter.is_withdrawn:
            raise EncounterGone(gone_message(encounter.number))
        if created:
            encounter = _insert(session, uuid, data, collector_id)
        elif encounter.data_sha256 not in (data.fingerprint, FINGERPRINT_ERASED):
            raise EncounterConflict(
                f"Encounter {uuid} was already recorded with different data; it was not changed."
            )
        if photo is not None:
            _attach(session, store, encounter, photo, undo)
    session.refresh(encounter)
    return Recorded(encounter, created)


def _insert(
    session: Session, uuid: str, data: EncounterData, collector_id: int | None
) -> Encounter:
    offset = data.started_at.utcoffset()
    assert offset is not None  # parse_encounter_data() accepts aware times only
    encounter = Encounter(
        uuid=uuid,
        status=data.status.value,
        venue_type=data.venue_type,
        venue=data.venue,
        city=data.city,
        started_at=data.started_at,
        utc_offset_minutes=int(offset.total_seconds() // 60),
        recorded_by_id=collector_id,
        data_sha256=data.fingerprint,
    )
    if data.status == EncounterStatus.COMPLETED:
        version = session.get(ConsentVersion, data.consent_version)
        if version is None:
            raise InvalidEncounter(
                [
                    {
                        "field": "consent.version",
                        "message": f"there is no consent version {data.consent_version}",
                    }
                ]
            )
        encounter.consent_language = _consent_language(session, version, data.consent_language)
        encounter.age_group = data.age_group
        encounter.ticket = _claim_ticket(session, data.ticket, collector_id)
        encounter.drawing_started_at = data.drawing_started_at
        encounter.drawing_finished_at = data.drawing_finished_at
        encounter.time_limit_seconds = data.time_limit_seconds
        encounter.consent_version_id = data.consent_version
        encounter.credit_name = data.credit_name
        encounter.notes = data.notes
    session.add(encounter)
    session.flush()
    if data.choices is not None:
        record_field_grant(session, encounter, data.choices, credited=data.credit_name is not None)
    return encounter


def _consent_language(
    session: Session, version: ConsentVersion, language: str | None
) -> str | None:
    """The language to record: None for the version's own (said or not), else a translation's
    code, which must exist: the encounter points at the exact text its drawer saw."""
    if language is None or language == version.language:
        return None
    if text_in(session, version, language) is None:
        published = ", ".join(text.language for text in texts_of(session, version))
        raise InvalidEncounter(
            [
                {
                    "field": "consent.language",
                    "message": f"consent version {version.id} has no {language} text "
                    f"(it has: {published})",
                }
            ]
        )
    return language


def _claim_ticket(session: Session, token: str | None, collector_id: int | None) -> Ticket:
    if token is None:
        return reserve_tickets(session, 1, collector_id)[0]
    ticket = ticket_by_token(session, token)
    if ticket is None:
        raise InvalidEncounter(
            [{"field": "ticket", "message": "no reserved ticket has this token"}]
        )
    if ticket.withdrawn_at is not None:
        raise EncounterGone(gone_message(ticket.number))
    if ticket.retired_at is not None:
        raise EncounterConflict(
            f"Ticket #{ticket.number} was replaced by a printed ticket and cannot be used."
        )
    if session.scalar(select(Encounter.id).where(Encounter.ticket_id == ticket.id)) is not None:
        raise EncounterConflict(f"Ticket #{ticket.number} already belongs to another encounter.")
    return ticket


def _attach(session, store, encounter: Encounter, photo: ProcessedPhoto, undo) -> None:
    if encounter.photo is not None:
        if encounter.photo.original_sha256 != photo.original_sha256:
            raise EncounterConflict(
                f"Encounter {encounter.uuid} already has a different photo; it was not replaced."
            )
        return
    try:
        _photo, written = attach_photo(session, encounter.id, photo, store)
    except PhotoConflict as conflict:
        raise EncounterConflict(
            "This photo is already the drawing of another encounter."
        ) from conflict
    undo.append(lambda: remove_created(store, written))


# Reading ---------------------------------------------------------------------------------


def encounter_by_uuid(session: Session, uuid: str) -> Encounter | None:
    """The encounter with this client UUID, or None."""
    return session.scalar(select(Encounter).where(Encounter.uuid == uuid))


def encounters_recorded_by(session: Session, account_id: int, *, limit: int) -> list[Encounter]:
    """The completed encounters an account recorded, newest first (at most `limit`)."""
    return list(
        session.scalars(
            select(Encounter)
            .where(
                Encounter.recorded_by_id == account_id,
                Encounter.status == EncounterStatus.COMPLETED,
            )
            .order_by(Encounter.started_at.desc(), Encounter.id.desc())
            .limit(limit)
        )
    )


def last_venue(session: Session) -> dict[str, str]:
    """Venue type, occasion and city of the newest encounter, to prefill the next one."""
    return last_venue_and_time(session)[0]


def last_venue_and_time(
    session: Session, *, recorded_by: int | None = None
) -> tuple[dict[str, str], datetime | None]:
    """`last_venue()`, and when that encounter began (None: no encounter yet): the phone offers
    an old venue instead of assuming it. `recorded_by`: only that account's encounters (a
    helper is never shown where the collector was)."""
    query = select(Encounter).order_by(Encounter.started_at.desc(), Encounter.id.desc())
    if recorded_by is not None:
        query = query.where(Encounter.recorded_by_id == recorded_by)
    latest = session.scalar(query.limit(1))
    if latest is None:
        return {"venue_type": "bar", "venue": "", "city": ""}, None
    venue = {"venue_type": latest.venue_type, "venue": latest.venue, "city": latest.city}
    return venue, latest.started_at

"""Withdrawal: a drawer takes their drawing back, for good, and only a tombstone stays.

The drawer withdraws on their own page (`/p/<token>/withdraw`), or asks the collector in person
and the collector withdraws it from the encounter page, with a reason. Both end here, in
`withdraw()`: one write transaction marks the ticket, turns every choice off through the consent
history, erases the personal fields and the edit history's values; the photo files are deleted
right after the commit, so the drawing leaves every page, feed, file and export at once.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from fieldapp.consent.services import change_consent
from fieldapp.database import utcnow, write_transaction
from fieldapp.encounters.history import erase_personal_history
from fieldapp.encounters.models import FINGERPRINT_ERASED, Encounter
from fieldapp.media.models import Photo
from fieldapp.media.services import photo_file_names, remove_unreferenced
from fieldapp.media.storage import MediaStore
from fieldapp.tickets.models import Ticket


@dataclass(frozen=True)
class Withdrawal:
    number: int
    withdrawn_at: datetime
    files_removed: int


def withdraw(
    session: Session,
    store: MediaStore,
    ticket: Ticket,
    *,
    actor: str = "participant",
    method: str = "participant_page",
    reason: str = "",
) -> Withdrawal:
    """Withdraw the drawing behind a ticket, for good; keep only a tombstone.

    In one write transaction: the ticket is marked withdrawn (so a late upload is refused),
    and its encounter, if it has arrived, loses its photo row, credit name, notes, occasion and
    city, gets a 'withdraw' event and every choice set to no. The photo files are deleted only
    after the commit: a failed commit leaves everything as it was. Withdrawing twice changes
    nothing. The collector withdrawing at the drawer's request passes `actor="collector"`,
    `method="drawer_request"` and a reason.
    """
    with write_transaction(session):
        ticket = session.get_one(Ticket, ticket.id)
        if ticket.withdrawn_at is not None:
            return Withdrawal(ticket.number, ticket.withdrawn_at, 0)
        now = utcnow()
        ticket.withdrawn_at = now
        doomed: list[str] = []
        encounter = session.scalar(select(Encounter).where(Encounter.ticket_id == ticket.id))
        if encounter is not None:
            doomed = _withdraw_encounter(session, encounter, now, actor, method, reason)
    removed = remove_unreferenced(session, store, doomed)
    return Withdrawal(ticket.number, now, removed)


def _withdraw_encounter(session, encounter, now, actor, method, reason) -> list[str]:
    change_consent(
        session,
        encounter,
        kind="withdraw",
        actor=actor,
        method=method,
        reason=reason,
        keep=False,
        gallery=False,
        training=False,
        social=False,
        credit_name=None,
    )
    encounter.withdrawn_at = now
    # Free text could point at the person ("Julia's birthday"): only the venue type, the
    # times (the artist's labor) and the number stay.
    encounter.notes = ""
    encounter.venue = ""
    encounter.city = ""
    # The upload fingerprint hashes the original data, name included: a tombstone needs none.
    encounter.data_sha256 = FINGERPRINT_ERASED
    erase_personal_history(session, encounter.id)  # the edit history forgets them too
    doomed: list[str] = []
    photo = session.scalar(select(Photo).where(Photo.encounter_id == encounter.id))
    if photo is not None:
        doomed = photo_file_names(photo)
        session.delete(photo)
    session.flush()
    return doomed

"""The collector's after-hours fixes: edits with a reason, renumbering, attaching a printed
ticket, replacing the photo and framing the drawing in it. Each is one write transaction that also appends a revision
to the encounter's audit history; a withdrawn encounter (a tombstone) refuses them all."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from fieldapp.auth.models import Collector
from fieldapp.database import utcnow, write_transaction
from fieldapp.encounters.history import REASON_LIMIT, record_revision
from fieldapp.encounters.models import FINGERPRINT_ERASED, PERSONAL_FIELDS, VENUE_TYPES, Encounter
from fieldapp.encounters.validation import MAX_TIME_LIMIT_SECONDS, NAME_LIMIT, TEXT_LIMITS
from fieldapp.media.framing import (
    AUTO,
    MANUAL,
    NONE,
    WHOLE_PHOTO,
    Corners,
    framing_label,
    is_whole_photo,
)
from fieldapp.media.images import ProcessedPhoto
from fieldapp.media.models import Photo
from fieldapp.media.services import (
    apply_framing,
    attach_photo,
    frame_archive,
    photo_file_names,
    remove_created,
    remove_unreferenced,
    stored_corners,
)
from fieldapp.media.storage import MediaStore
from fieldapp.tickets.models import Ticket

# What the collector may edit, in the order the history lists it.
EDITABLE = (
    "venue_type", "venue", "city", "started_at", "time_limit_seconds", "drawing_started_at",
    "drawing_finished_at", "notes", "credit_name",
)  # fmt: skip
DECLINED_EDITABLE = ("venue_type", "venue", "city", "started_at")
LABELS = {
    "venue_type": "venue type", "venue": "occasion", "city": "city", "started_at": "date and time",
    "time_limit_seconds": "time limit", "drawing_started_at": "drawing started",
    "drawing_finished_at": "drawing finished", "notes": "notes", "credit_name": "credit name",
    "number": "number", "ticket": "ticket", "photo": "photo", "framing": "framing",
}  # fmt: skip

#: The framing editor's three ways to save, and what the history says of each by default.
FRAMINGS = {
    "corners": "Framed by hand.",
    "whole": "The whole photo is the drawing.",
    "auto": "Framing reset to automatic.",
}


class ReviewRefused(ValueError):
    """A fix that cannot be made. The message says why; nothing was changed."""


def _check_reason(reason: str | None) -> str:
    reason = " ".join((reason or "").split())
    if not reason:
        raise ReviewRefused("Say why: the history keeps the reason for every change.")
    if len(reason) > REASON_LIMIT:
        raise ReviewRefused(f"The reason is longer than {REASON_LIMIT} characters.")
    return reason


def _editable(session: Session, encounter: Encounter) -> Encounter:
    """The encounter, fresh inside the transaction, or a refusal for a tombstone."""
    encounter = session.get_one(Encounter, encounter.id)
    if encounter.is_withdrawn:
        raise ReviewRefused(
            f"Drawing #{encounter.number} was withdrawn by its drawer: "
            "it is a tombstone and cannot be changed."
        )
    return encounter


def as_text(field: str, value: Any, encounter: Encounter) -> str:
    """A value as the history shows it (times in the room's clock)."""
    if value is None:
        return "none" if field in ("time_limit_seconds",) else ""
    if isinstance(value, datetime):
        return value.astimezone(encounter.local_started_at.tzinfo).isoformat(timespec="seconds")
    return str(value)


# Editing fields --------------------------------------------------------------------------


def edit_encounter(
    session: Session,
    encounter: Encounter,
    values: dict[str, Any],
    *,
    reason: str,
    collector_id: int | None,
) -> list[tuple[str, str, str]]:
    """Change the given fields, with a reason kept in the history; returns what changed.

    `values` maps field names of EDITABLE to new values (datetimes aware). Fields not given
    keep their value. A credit name can be corrected only while the drawer chose to be
    credited; choosing anonymity or credit is a consent change (see consent.update_choices).
    """
    reason = _check_reason(reason)
    with write_transaction(session):
        encounter = _editable(session, encounter)
        allowed = EDITABLE if encounter.is_completed else DECLINED_EDITABLE
        unknown = sorted(set(values) - set(allowed))
        if unknown:
            raise ReviewRefused(f"These cannot be edited here: {', '.join(unknown)}.")
        values = _checked(encounter, values)
        changes = [
            (
                name,
                as_text(name, getattr(encounter, name), encounter),
                as_text(name, new, encounter),
            )
            for name, new in values.items()
            if getattr(encounter, name) != new
        ]
        if not changes:
            return []
        for name, _old, _new in changes:
            setattr(encounter, name, values[name])
        if any(name in PERSONAL_FIELDS for name, _o, _n in changes):
            # The upload's fingerprint hashed the old text: it must not outlive it.
            encounter.data_sha256 = FINGERPRINT_ERASED
        record_revision(
            session,
            encounter.id,
            collector_id=collector_id,
            kind="edit",
            reason=reason,
            changes=changes,
        )
    return changes


def _checked(encounter: Encounter, values: dict[str, Any]) -> dict[str, Any]:
    problems = []
    out = dict(values)
    for name in ("venue", "city", "notes"):
        if name in out:
            out[name] = (out[name] or "").strip()
            if len(out[name]) > TEXT_LIMITS[name]:
                problems.append(
                    f"The {LABELS[name]} is longer than {TEXT_LIMITS[name]} characters."
                )
    if "venue_type" in out and out["venue_type"] not in VENUE_TYPES:
        problems.append("Choose a venue type from the list.")
    if "started_at" in out and out["started_at"] is None:
        problems.append("The date and time are required.")
    limit = out.get("time_limit_seconds")
    if limit is not None and not 1 <= limit <= MAX_TIME_LIMIT_SECONDS:
        problems.append(f"The time limit must be between 1 and {MAX_TIME_LIMIT_SECONDS} seconds.")
    started = out.get("drawing_started_at", encounter.drawing_started_at)
    finished = out.get("drawing_finished_at", encounter.drawing_finished_at)
    if finished and not started:
        problems.append("Give the time the drawing started too.")
    if started and finished and finished < started:
        problems.append("The drawing cannot finish before it started.")
    if "credit_name" in out:
        name = " ".join((out["credit_name"] or "").split())
        if encounter.credit_name is None:
            problems.append(
                "This drawer chose to stay anonymous: no name may be stored. "
                "A change of credit is a consent correction."
            )
        elif not name:
            problems.append("The name is empty. To make the drawer anonymous, correct the consent.")
        elif len(name) > NAME_LIMIT:
            problems.append(f"The name is longer than {NAME_LIMIT} characters.")
        out["credit_name"] = name
    if problems:
        raise ReviewRefused(" ".join(problems))
    return out


# Numbers and tickets ---------------------------------------------------------------------


@dataclass(frozen=True)
class Renumbered:
    message: str
    other_uuid: str | None = None  # the encounter whose number was swapped, if any


def renumber(
    session: Session,
    encounter: Encounter,
    new_number: int,
    *,
    swap: bool,
    reason: str,
    collector_id: int | None,
) -> Renumbered:
    """Give the drawing a free number, or swap numbers with another drawing, in one transaction.

    The ticket keeps its token: the QR code the drawer holds still leads to the same drawing.
    A number held by another ticket is refused unless `swap` is asked and that ticket is
    another drawing (not a reserved ticket, not a tombstone).
    """
    reason = _check_reason(reason)
    if not 1 <= new_number <= 10**9:
        raise ReviewRefused("A portrait number is a whole number from 1.")
    with write_transaction(session):
        encounter = _editable(session, encounter)
        if not encounter.is_completed:
            raise ReviewRefused("A declined approach has no number.")
        mine = encounter.ticket
        old_number = mine.number
        if new_number == old_number:
            raise ReviewRefused(f"The drawing is already #{new_number}.")
        holder = session.scalar(select(Ticket).where(Ticket.number == new_number))
        if holder is None:
            mine.number = new_number
            _number_revision(
                session, encounter, old_number, new_number, "renumber", reason, collector_id
            )
            return Renumbered(f"Drawing #{old_number} is now #{new_number}.")
        other = session.scalar(select(Encounter).where(Encounter.ticket_id == holder.id))
        if not swap:
            taken_by = "another drawing" if other is not None else "a reserved ticket"
            raise ReviewRefused(
                f"#{new_number} is already taken by {taken_by}; nothing was changed. "
                "Choose a free number, or swap with that drawing."
            )
        if other is None or not other.is_completed:
            raise ReviewRefused(
                f"#{new_number} is a reserved ticket (on a phone or a printed sheet), not a "
                "drawing: it cannot be swapped. Nothing was changed."
            )
        if other.is_withdrawn:
            raise ReviewRefused(
                f"#{new_number} was withdrawn by its drawer: a tombstone keeps its number."
            )
        # Numbers are unique: park one on a number no ticket can have while the other moves.
        mine.number = -mine.id
        session.flush()
        holder.number = old_number
        session.flush()
        mine.number = new_number
        _number_revision(session, encounter, old_number, new_number, "swap", reason, collector_id)
        _number_revision(session, other, new_number, old_number, "swap", reason, collector_id)
        return Renumbered(
            f"Swapped: this drawing is now #{new_number}, the other #{old_number}.", other.uuid
        )


def _number_revision(session, encounter, old, new, kind, reason, collector_id) -> None:
    record_revision(
        session,
        encounter.id,
        collector_id=collector_id,
        kind=kind,
        reason=reason,
        changes=[("number", str(old), str(new))],
    )


def attach_printed_ticket(
    session: Session, encounter: Encounter, number: int, *, reason: str, collector_id: int | None
) -> str:
    """Make a printed ticket (reserved, unused) this drawing's ticket: its token, the one on
    the label the drawer holds, now leads here.

    The ticket it replaces is retired, not deleted: its number may be written on a drawing or
    remembered by a phone, so it is never handed out again; no upload can claim it and its
    link answers 404. Both numbers are in the history.
    """
    reason = _check_reason(reason)
    with write_transaction(session):
        encounter = _editable(session, encounter)
        if not encounter.is_completed:
            raise ReviewRefused("A declined approach has no drawing to attach a ticket to.")
        printed = session.scalar(select(Ticket).where(Ticket.number == number))
        if printed is None:
            raise ReviewRefused(f"No ticket #{number} was ever reserved or printed.")
        if printed.id == encounter.ticket_id:
            raise ReviewRefused(f"Ticket #{number} is already this drawing's ticket.")
        if printed.withdrawn_at is not None or printed.retired_at is not None:
            raise ReviewRefused(f"Ticket #{number} was withdrawn or replaced: it cannot be used.")
        if session.scalar(select(Encounter.id).where(Encounter.ticket_id == printed.id)):
            raise ReviewRefused(
                f"Ticket #{number} already belongs to another drawing; nothing was changed."
            )
        if printed.printed_at is None:
            raise ReviewRefused(
                f"Ticket #{number} was not printed on a ticket sheet: it may be waiting in a "
                "phone's stock for the next drawer, so it cannot be attached here."
            )
        replaced = encounter.ticket
        replaced.retired_at = utcnow()
        encounter.ticket = printed
        record_revision(
            session,
            encounter.id,
            collector_id=collector_id,
            kind="attach_ticket",
            reason=reason,
            changes=[
                ("number", str(replaced.number), str(printed.number)),
                ("ticket", f"#{replaced.number} (now retired)", f"printed #{printed.number}"),
            ],
        )
    return (
        f"Printed ticket #{number} now leads to this drawing; ticket #{replaced.number} is retired."
    )


# The photo -------------------------------------------------------------------------------


def replace_photo(
    session: Session,
    store: MediaStore,
    encounter: Encounter,
    photo: ProcessedPhoto,
    *,
    reason: str,
    collector_id: int | None,
) -> str:
    """Retake, replace or add the drawing's photo (already processed: no metadata left).

    The new files are written and fsynced before the commit (removed again if it fails); the
    old files are deleted only after it, and only if no other photo shares them.
    """
    reason = _check_reason(reason)
    with write_transaction(session) as undo:
        encounter = _editable(session, encounter)
        if not encounter.is_completed or not encounter.keep:
            raise ReviewRefused(
                "The drawer did not allow keeping this drawing: no photo may be stored."
            )
        old = session.scalar(select(Photo).where(Photo.encounter_id == encounter.id))
        if old is not None and old.original_sha256 == photo.original_sha256:
            raise ReviewRefused("This is the photo the drawing already has; nothing changed.")
        owner = session.scalar(
            select(Photo.encounter_id).where(Photo.original_sha256 == photo.original_sha256)
        )
        if owner is not None:
            raise ReviewRefused("This photo is already another drawing's photo.")
        doomed: list[str] = []
        old_label = "none"
        if old is not None:
            doomed, old_label = photo_file_names(old), old.original_sha256[:12]
            session.delete(old)
            session.flush()
        _new, written = attach_photo(session, encounter.id, photo, store)
        undo.append(lambda: remove_created(store, written))
        record_revision(
            session,
            encounter.id,
            collector_id=collector_id,
            kind="photo",
            reason=reason,
            changes=[("photo", old_label, photo.original_sha256[:12])],
        )
    remove_unreferenced(session, store, doomed)
    return "Photo replaced." if old_label != "none" else "Photo added."


def change_framing(
    session: Session,
    store: MediaStore,
    encounter: Encounter,
    how: str,
    corners: Corners | None = None,
    *,
    reason: str | None = None,
    collector_id: int | None,
) -> str:
    """Frame the drawing again: by the artist's `corners` ("corners"), as the whole photo
    ("whole", turned as `corners` say when given), or as the sheet detector finds it ("auto").

    The display image and thumbnail are made again from the archive photo (which never
    changes); their URLs change with them. The old files are removed after the commit, like a
    replaced photo's, and the change goes into the edit history.
    """
    if how not in FRAMINGS:
        raise ReviewRefused("Choose how to frame the drawing.")
    if how == "corners" and corners is None:
        raise ReviewRefused("Place the four corners on the sheet first.")
    if how == "whole":
        corners = corners if is_whole_photo(corners) else WHOLE_PHOTO
    reason = _check_reason(reason or FRAMINGS[how])
    held = encounter.photo
    if held is None or encounter.is_withdrawn:
        raise ReviewRefused("This drawing has no photo to frame.")
    # Decoding the photo takes a moment: done before the write transaction, then checked.
    framed = frame_archive(store, held.archive_name, None if how == "auto" else corners,
                           AUTO if how == "auto" else MANUAL)  # fmt: skip
    with write_transaction(session) as undo:
        encounter = _editable(session, encounter)
        photo = session.scalar(select(Photo).where(Photo.encounter_id == encounter.id))
        if photo is None or photo.archive_name != framed.archive_name:
            raise ReviewRefused("The photo was replaced meanwhile: frame the new one.")
        before = framing_label(photo.framing, stored_corners(photo))
        reframed = apply_framing(session, store, photo, framed)
        undo.append(lambda: remove_created(store, reframed.written))
        record_revision(
            session,
            encounter.id,
            collector_id=collector_id,
            kind="framing",
            reason=reason,
            changes=[("framing", before, framing_label(framed.framing, framed.corners))],
        )
    remove_unreferenced(session, store, reframed.replaced)
    if framed.framing == NONE:
        return "No sheet found: the whole photo is shown. Frame it by hand."
    return "Framing saved."


def recorded_by(session: Session, encounter: Encounter) -> str | None:
    """The username of the account that recorded the encounter (None: no account)."""
    if encounter.recorded_by_id is None:
        return None
    return session.scalar(
        select(Collector.username).where(Collector.id == encounter.recorded_by_id)
    )

"""An encounter's edit history: the collector's saves appended, what a drawer takes back erased."""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from fieldapp.database import utcnow
from fieldapp.encounters.models import ERASED, TOMBSTONE_FIELDS, EncounterRevision, FieldChange

#: The longest reason a change may give (the collector's edits, corrections and withdrawals).
REASON_LIMIT = 500


def record_revision(
    session: Session,
    encounter_id: int,
    *,
    collector_id: int | None,
    kind: str,
    reason: str,
    changes: Iterable[tuple[str, str, str]],
) -> EncounterRevision:
    """Append one revision (field, old, new for each change) in the caller's transaction."""
    revision = EncounterRevision(
        encounter_id=encounter_id,
        collector_id=collector_id,
        kind=kind,
        reason=reason,
        recorded_at=utcnow(),
    )
    revision.changes = [FieldChange(field=f, old_value=o, new_value=n) for f, o, n in changes]
    session.add(revision)
    session.flush()
    return revision


def erase_personal_history(
    session: Session, encounter_id: int, fields: tuple[str, ...] | None = None
) -> None:
    """Erase personal values from an encounter's history, in the caller's transaction.

    With `fields` (anonymity: the credit name), the old and new values of those fields. Without
    (withdrawal), every value but those a tombstone keeps, and every reason (free text that may
    name the drawer). Who changed which field and when stays: that is the collector's labor.
    """
    revisions = select(EncounterRevision.id).where(EncounterRevision.encounter_id == encounter_id)
    erased = (
        FieldChange.field.in_(fields)
        if fields is not None
        else FieldChange.field.not_in(TOMBSTONE_FIELDS)
    )
    session.execute(
        update(FieldChange)
        .where(FieldChange.revision_id.in_(revisions), erased)
        .values(old_value=ERASED, new_value=ERASED)
        .execution_options(synchronize_session=False)
    )
    if fields is None:
        session.execute(
            update(EncounterRevision)
            .where(EncounterRevision.encounter_id == encounter_id)
            .values(reason=ERASED)
            .execution_options(synchronize_session=False)
        )


def history(session: Session, encounter_id: int) -> list[EncounterRevision]:
    """An encounter's revisions, newest first."""
    return list(
        session.scalars(
            select(EncounterRevision)
            .where(EncounterRevision.encounter_id == encounter_id)
            .order_by(EncounterRevision.recorded_at.desc(), EncounterRevision.id.desc())
        ).unique()
    )

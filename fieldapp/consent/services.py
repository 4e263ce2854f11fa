"""The consent text in force, what each participant chose, and how they change their mind.

Every change of an encounter's consent goes through `change_consent()` (a withdrawal too:
fieldapp/withdrawal): it appends a ConsentEvent and updates the encounter's denormalised columns in the
same transaction, so the history and the columns can never disagree.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from enum import Enum
from typing import Literal

from sqlalchemy import event, func, select
from sqlalchemy.orm import Session

from fieldapp.consent.models import ConsentEvent, ConsentVersion
from fieldapp.database import utcnow, write_transaction
from fieldapp.encounters.history import erase_personal_history
from fieldapp.encounters.models import FINGERPRINT_ERASED, Encounter

ACTORS = ("collector", "participant")
#: How a consent event came about: in the field, on the drawer's own page, a correction by the
#: collector, or the collector acting on the drawer's request (a withdrawal asked in person).
METHODS = ("field_capture", "participant_page", "collector_correction", "drawer_request")
CHOICE_NAMES = ("keep", "gallery", "training", "social")
NAME_LIMIT = 100
MAX_CONSENT_TEXT = 20_000


class _Unchanged(Enum):
    """`credit_name` not given: the name stays as it is (None would mean anonymous)."""

    UNCHANGED = "unchanged"


_UNCHANGED = _Unchanged.UNCHANGED


class ConsentError(ValueError):
    """A consent change that cannot be made. The message says why, in plain words."""


class ConsentVersionImmutable(ConsentError):
    """A consent version was about to be changed, or deleted while an encounter uses it."""


@dataclass(frozen=True)
class ConsentChoices:
    """What a participant allowed for their drawing."""

    keep: bool
    gallery: bool
    training: bool
    social: bool


@dataclass(frozen=True)
class ConsentState:
    """An encounter's consent as its history says it is now."""

    keep: bool
    gallery: bool
    training: bool
    social: bool
    credited: bool
    withdrawn: bool


# Versions --------------------------------------------------------------------------------


def current_version(session: Session) -> ConsentVersion | None:
    """The newest consent text: the one shown to the next participant."""
    return session.scalar(select(ConsentVersion).order_by(ConsentVersion.id.desc()).limit(1))


def text_sha256(text: str) -> str:
    """The fingerprint of a consent text, stored with it and exported with every drawing."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def normal_consent_text(text: str) -> str:
    """The text as it is stored: Windows/old-Mac line ends made \\n, outer blank space removed."""
    return text.replace("\r\n", "\n").replace("\r", "\n").strip()


def publish_version(session: Session, text: str) -> tuple[ConsentVersion, bool]:
    """Make `text` the consent text shown from now on, as a new immutable version.

    Returns the version and whether it is new: the same text as the current version creates
    nothing. Runs in its own write transaction.
    """
    text = normal_consent_text(text)
    if not text:
        raise ConsentError("The consent text is empty.")
    if len(text) > MAX_CONSENT_TEXT:
        raise ConsentError(f"The consent text is longer than {MAX_CONSENT_TEXT:,} characters.")
    with write_transaction(session):
        current = current_version(session)
        if current is not None and current.text == text:
            return current, False
        version = ConsentVersion(text=text, sha256=text_sha256(text), created_at=utcnow())
        session.add(version)
    return version, True


def version_usage(session: Session) -> dict[int, int]:
    """How many encounters saw each consent version, by version number."""
    rows = session.execute(
        select(Encounter.consent_version_id, func.count())
        .where(Encounter.consent_version_id.is_not(None))
        .group_by(Encounter.consent_version_id)
    )
    return {version_id: count for version_id, count in rows if version_id is not None}


@event.listens_for(ConsentVersion, "before_update")
def _refuse_update(_mapper, _connection, version: ConsentVersion) -> None:
    # The database refuses too (triggers of migration 3884487b9dfc); this says it in Python.
    raise ConsentVersionImmutable(
        f"Consent version {version.id} cannot be changed: publish a new version instead."
    )


@event.listens_for(ConsentVersion, "before_delete")
def _refuse_delete_if_used(_mapper, connection, version: ConsentVersion) -> None:
    used = connection.scalar(select(func.count()).where(Encounter.consent_version_id == version.id))
    if used:
        raise ConsentVersionImmutable(
            f"Consent version {version.id} cannot be deleted: {used} encounter(s) record it."
        )


# Events ----------------------------------------------------------------------------------


def record_field_grant(
    session: Session, encounter: Encounter, choices: ConsentChoices, *, credited: bool
) -> ConsentEvent:
    """The first consent, given in the field; in the caller's transaction.

    The credit name itself was set on the encounter by the caller (`credited` says whether).
    """
    return change_consent(
        session,
        encounter,
        kind="grant",
        actor="collector",
        method="field_capture",
        keep=choices.keep,
        gallery=choices.gallery,
        training=choices.training,
        social=choices.social,
        credit_name=encounter.credit_name if credited else None,
    )


def change_consent(
    session: Session,
    encounter: Encounter,
    *,
    actor: str,
    method: str,
    reason: str = "",
    kind: str = "change",
    keep: bool | None = None,
    gallery: bool | None = None,
    training: bool | None = None,
    social: bool | None = None,
    credit_name: str | None | Literal[_Unchanged.UNCHANGED] = _UNCHANGED,
) -> ConsentEvent:
    """Change an encounter's consent: append one event and update its columns together.

    Choices left as None keep their value; `credit_name=None` means anonymous and erases the
    stored name (the event keeps only whether a credit was given). Runs in the caller's
    transaction. Raises ConsentError for a change that is not allowed.
    """
    if actor not in ACTORS:
        raise ConsentError(f"Unknown actor {actor!r}.")
    if method not in METHODS:
        raise ConsentError(f"Unknown method {method!r}.")
    reason = (reason or "").strip()
    if method in ("collector_correction", "drawer_request") and not reason:
        raise ConsentError("A change made by the collector needs a reason.")
    if encounter.is_withdrawn:
        raise ConsentError("This drawing was withdrawn: its consent can no longer change.")
    if not encounter.is_completed:
        raise ConsentError("A declined approach has no consent to change.")
    if kind == "change" and keep is not None and keep != encounter.keep:
        raise ConsentError("Keeping the drawing is ended only by withdrawing it.")

    wanted = {"keep": keep, "gallery": gallery, "training": training, "social": social}
    for name, value in wanted.items():
        if value is not None:
            setattr(encounter, name, bool(value))
    if not encounter.keep and (encounter.gallery or encounter.training or encounter.social):
        raise ConsentError("A drawing that is not kept cannot be shown or used.")
    if credit_name is not _UNCHANGED:
        credit_name = _credit_name(credit_name)
        if kind != "grant" and credit_name != encounter.credit_name:
            # The upload's fingerprint hashed the old name: it must go with it.
            encounter.data_sha256 = FINGERPRINT_ERASED
        if credit_name is None and encounter.credit_name is not None:
            # Anonymity erases the name from the collector's edit history too.
            erase_personal_history(session, encounter.id, ("credit_name",))
        encounter.credit_name = credit_name

    entry = ConsentEvent(
        encounter_id=encounter.id,
        kind=kind,
        actor=actor,
        method=method,
        keep=bool(encounter.keep),
        gallery=bool(encounter.gallery),
        training=bool(encounter.training),
        social=bool(encounter.social),
        credited=encounter.credit_name is not None,
        reason=reason,
        recorded_at=utcnow(),
    )
    session.add(entry)
    session.flush()
    return entry


def update_choices(
    session: Session,
    encounter: Encounter,
    *,
    actor: str,
    method: str,
    reason: str = "",
    gallery: bool,
    training: bool,
    social: bool,
    credit_name: str | None,
) -> bool:
    """Set gallery/training/social and the credit in one write transaction, as one event.

    Returns False, recording nothing, when the choices are already these.
    """
    with write_transaction(session):
        encounter = session.get_one(Encounter, encounter.id)
        wanted = (gallery, training, social, _credit_name(credit_name))
        if (encounter.gallery, encounter.training, encounter.social, encounter.credit_name) == (
            wanted
        ):
            return False
        change_consent(
            session,
            encounter,
            actor=actor,
            method=method,
            reason=reason,
            gallery=gallery,
            training=training,
            social=social,
            credit_name=credit_name,
        )
    return True


def _credit_name(name: str | None) -> str | None:
    if name is None:
        return None
    name = " ".join(str(name).split())
    if not name:
        raise ConsentError("The name is empty: give a name, or choose anonymous.")
    if len(name) > NAME_LIMIT:
        raise ConsentError(f"The name is longer than {NAME_LIMIT} characters.")
    return name


def consent_history(session: Session, encounter: Encounter) -> list[ConsentEvent]:
    """An encounter's consent events, oldest first."""
    return list(
        session.scalars(
            select(ConsentEvent)
            .where(ConsentEvent.encounter_id == encounter.id)
            .order_by(ConsentEvent.recorded_at, ConsentEvent.id)
        )
    )


def derive_state(events: list[ConsentEvent]) -> ConsentState | None:
    """The current consent, read from the history alone (None: no consent was ever given).

    Each event records the whole state after it, so the newest event is the state; a withdraw
    event ends the history.
    """
    if not events:
        return None
    last = max(events, key=lambda e: (e.recorded_at, e.id))
    return ConsentState(
        keep=last.keep,
        gallery=last.gallery,
        training=last.training,
        social=last.social,
        credited=last.credited,
        withdrawn=any(e.kind == "withdraw" for e in events),
    )

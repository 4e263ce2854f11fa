"""The consent text in force, what each participant chose, and how they change their mind.

Every change of an encounter's consent goes through `change_consent()` (a withdrawal too:
fieldapp/withdrawal): it appends a ConsentEvent and updates the encounter's denormalised columns in the
same transaction, so the history and the columns can never disagree.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum
from typing import Literal

from sqlalchemy import event, func, select
from sqlalchemy.orm import Session

from fieldapp.consent.models import ConsentEvent, ConsentTranslation, ConsentVersion
from fieldapp.consent.texts import (
    ConsentText,
    ConsentTextError,
    checked_parts,
    consent_sha256,
    dump_choices,
)
from fieldapp.database import utcnow, write_transaction
from fieldapp.encounters.history import erase_personal_history
from fieldapp.encounters.models import FINGERPRINT_ERASED, Encounter

ACTORS = ("collector", "participant")
#: How a consent event came about: in the field, on the drawer's own page, a correction by the
#: collector, the collector acting on the drawer's request (a withdrawal asked in person), or
#: the collector confirming that a minor's parent or guardian agreed to the gallery.
METHODS = (
    "field_capture", "participant_page", "collector_correction", "drawer_request",
    "guardian_consent",
)  # fmt: skip
#: Why a minor's drawing allows less, in the words every refusal uses.
MINOR_RULES = {
    "training": "a minor's drawing is never used to train machine-learning models",
    "social": "a minor's drawing is never posted on social media",
    "credit": "a minor is never credited by name",
}
CHOICE_NAMES = ("keep", "gallery", "training", "social")
NAME_LIMIT = 100


class _Unchanged(Enum):
    """`credit_name` not given: the name stays as it is (None would mean anonymous)."""

    UNCHANGED = "unchanged"


_UNCHANGED = _Unchanged.UNCHANGED


class ConsentError(ConsentTextError):
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
    """The fingerprint of a consent text published before layering (the text alone)."""
    return consent_sha256("", "", {}, text)


def publish_version(
    session: Session,
    text: str,
    *,
    summary: str,
    choices: dict[str, dict[str, str]],
    language: str = "en",
) -> tuple[ConsentVersion, bool]:
    """Make this layered text the consent shown from now on, as a new immutable version.

    Returns the version and whether it is new: the same texts as the current version create
    nothing. Its translations are published on it afterwards (`publish_translation`). Runs in
    its own write transaction; ConsentTextError says what is missing.
    """
    summary, choices, text = checked_parts(language, summary, choices, text)
    sha256 = consent_sha256(language, summary, choices, text)
    with write_transaction(session):
        current = current_version(session)
        if current is not None and current.sha256 == sha256:
            return current, False
        version = ConsentVersion(
            language=language,
            summary=summary,
            choice_texts=dump_choices(choices),
            text=text,
            sha256=sha256,
            created_at=utcnow(),
        )
        session.add(version)
    return version, True


def publish_translation(
    session: Session,
    version: ConsentVersion,
    language: str,
    *,
    summary: str,
    choices: dict[str, dict[str, str]],
    text: str,
) -> ConsentTranslation:
    """Add `version` in another language: immutable once published, with its own SHA-256.

    A language has one text per version: to say it differently, publish a new version.
    """
    summary, choices, text = checked_parts(language, summary, choices, text)
    if language == version.language:
        raise ConsentError(
            f"Version {version.id} is itself in {language}: publish a new version to change it."
        )
    with write_transaction(session):
        taken = session.scalar(
            select(ConsentTranslation.id).where(
                ConsentTranslation.version_id == version.id,
                ConsentTranslation.language == language,
            )
        )
        if taken is not None:
            raise ConsentError(
                f"Version {version.id} already has its {language} text, and a published text "
                "never changes: publish a new version to say it differently."
            )
        translation = ConsentTranslation(
            version_id=version.id,
            language=language,
            summary=summary,
            choice_texts=dump_choices(choices),
            text=text,
            sha256=consent_sha256(language, summary, choices, text),
            created_at=utcnow(),
        )
        session.add(translation)
    return translation


def _as_text(row: ConsentVersion | ConsentTranslation, version_id: int) -> ConsentText:
    return ConsentText.from_row(row, version_id)


def texts_of(session: Session, version: ConsentVersion) -> list[ConsentText]:
    """Every language of a version: its own first, then its translations by language."""
    translations = session.scalars(
        select(ConsentTranslation)
        .where(ConsentTranslation.version_id == version.id)
        .order_by(ConsentTranslation.language)
    )
    return [_as_text(version, version.id)] + [_as_text(t, version.id) for t in translations]


def text_in(session: Session, version: ConsentVersion, language: str | None) -> ConsentText | None:
    """The version in `language` (None: its own language), or None when it has no such text."""
    if language is None or language == version.language:
        return _as_text(version, version.id)
    translation = session.scalar(
        select(ConsentTranslation).where(
            ConsentTranslation.version_id == version.id,
            ConsentTranslation.language == language,
        )
    )
    return _as_text(translation, version.id) if translation is not None else None


def text_seen(session: Session, encounter: Encounter) -> ConsentText | None:
    """The exact consent text this encounter's drawer was shown, in their language."""
    if encounter.consent_version_id is None:
        return None
    version = session.get_one(ConsentVersion, encounter.consent_version_id)
    return text_in(session, version, encounter.consent_language)


def version_usage(session: Session) -> dict[int, int]:
    """How many encounters saw each consent version, by version number."""
    rows = session.execute(
        select(Encounter.consent_version_id, func.count())
        .where(Encounter.consent_version_id.is_not(None))
        .group_by(Encounter.consent_version_id)
    )
    return {version_id: count for version_id, count in rows if version_id is not None}


def language_usage(session: Session) -> dict[tuple[int, str], int]:
    """How many encounters saw each text, by (version number, language)."""
    rows = session.execute(
        select(Encounter.consent_version_id, Encounter.consent_language, func.count())
        .where(Encounter.consent_version_id.is_not(None))
        .group_by(Encounter.consent_version_id, Encounter.consent_language)
    )
    own = {
        row.id: row.language
        for row in session.execute(select(ConsentVersion.id, ConsentVersion.language))
    }
    usage: dict[tuple[int, str], int] = {}
    for version_id, language, count in rows:
        if version_id is None:
            continue
        key = (version_id, language or own[version_id])
        usage[key] = usage.get(key, 0) + count
    return usage


def earlier_text_in(session: Session, version: ConsentVersion, language: str) -> ConsentText | None:
    """The newest text in `language` published before `version` (a version of its own in that
    language, or a translation): the draft a new translation starts from."""
    translation = session.scalar(
        select(ConsentTranslation)
        .where(ConsentTranslation.language == language, ConsentTranslation.version_id < version.id)
        .order_by(ConsentTranslation.version_id.desc())
        .limit(1)
    )
    own = session.scalar(
        select(ConsentVersion)
        .where(ConsentVersion.language == language, ConsentVersion.id < version.id)
        .order_by(ConsentVersion.id.desc())
        .limit(1)
    )
    if own is not None and (translation is None or own.id > translation.version_id):
        return _as_text(own, own.id)
    return _as_text(translation, translation.version_id) if translation is not None else None


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


@event.listens_for(ConsentTranslation, "before_update")
def _refuse_translation_update(_mapper, _connection, translation: ConsentTranslation) -> None:
    raise ConsentVersionImmutable(
        f"The {translation.language} text of consent version {translation.version_id} cannot "
        "be changed: publish a new version instead."
    )


@event.listens_for(ConsentTranslation, "before_delete")
def _refuse_translation_delete_if_used(
    _mapper, connection, translation: ConsentTranslation
) -> None:
    # The database refuses too (triggers of migration b9a000000001).
    used = connection.scalar(
        select(func.count()).where(
            Encounter.consent_version_id == translation.version_id,
            Encounter.consent_language == translation.language,
        )
    )
    if used:
        raise ConsentVersionImmutable(
            f"The {translation.language} text of consent version {translation.version_id} "
            f"cannot be deleted: {used} encounter(s) record it."
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
    guardian_agreed: bool | None = None,
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
    if method in ("collector_correction", "drawer_request", "guardian_consent") and not reason:
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
    if guardian_agreed is not None:
        if not encounter.is_minor:
            raise ConsentError("Only a minor's drawing needs a parent's or guardian's agreement.")
        encounter.guardian_agreed = bool(guardian_agreed)
    if encounter.is_minor:
        refused = [
            rule
            for name, rule in MINOR_RULES.items()
            if (encounter.credit_name is not None if name == "credit" else getattr(encounter, name))
        ]
        if refused:
            raise ConsentError("Not allowed: " + "; ".join(refused) + ".")

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
        guardian_agreed=bool(encounter.guardian_agreed),
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


def record_guardian_agreement(
    session: Session, encounter: Encounter, *, agreed: bool, reason: str
) -> bool:
    """The collector confirms (or takes back) that a minor's parent or guardian agreed to the
    public gallery: one event, with the reason (who agreed, and how). In one write transaction.

    Returns False, recording nothing, when it is already so. ConsentError says why not: not a
    minor, no gallery wished, no reason.
    """
    with write_transaction(session):
        encounter = session.get_one(Encounter, encounter.id)
        if encounter.is_minor and agreed and not encounter.gallery:
            raise ConsentError(
                "The drawer did not wish the gallery: a guardian's agreement would show nothing."
            )
        if encounter.is_minor and encounter.guardian_agreed == agreed:
            return False
        change_consent(
            session,
            encounter,
            actor="collector",
            method="guardian_consent",
            reason=reason,
            guardian_agreed=agreed,
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

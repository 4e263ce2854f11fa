"""The consent text in force, and the history of what each participant chose."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from fieldapp.consent.models import ConsentEvent, ConsentVersion


@dataclass(frozen=True)
class ConsentChoices:
    """What a participant allowed for their drawing."""

    keep: bool
    gallery: bool
    training: bool
    social: bool


def current_version(session: Session) -> ConsentVersion | None:
    """The newest consent text: the one shown to the next participant."""
    return session.scalar(select(ConsentVersion).order_by(ConsentVersion.id.desc()).limit(1))


def text_sha256(text: str) -> str:
    """The fingerprint of a consent text, stored with it and exported with every drawing."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def record_field_grant(session, encounter, choices: ConsentChoices, *, credited: bool) -> None:
    """Set an encounter's first consent and append the 'grant' event, in the caller's transaction."""
    encounter.keep = choices.keep
    encounter.gallery = choices.gallery
    encounter.training = choices.training
    encounter.social = choices.social
    session.add(
        ConsentEvent(
            encounter_id=encounter.id,
            kind="grant",
            actor="collector",
            method="field_capture",
            keep=choices.keep,
            gallery=choices.gallery,
            training=choices.training,
            social=choices.social,
            credited=credited,
        )
    )

"""Rescuing a phone's outbox: the encounters it could not upload, brought in as one zip.

The phone's outbox page saves every unsent record as one zip: `fieldapp-outbox.json` at its
root (the manifest) and `photos/<uuid>.<ext>` for each record with a photo. Each record is
recorded as its upload would have been (`parse_encounter_data`, the photo pipeline,
`record_encounter`), keyed by its UUID: a record the server already holds, because the phone
uploaded it meanwhile or the same zip was imported before, is a duplicate, never a second
encounter. The import form's batch settings do not apply: each record carries its own number
(its ticket), venue, time and consent.
"""

from __future__ import annotations

import json
import re
import uuid as uuidlib
import zipfile
from typing import Any, BinaryIO

from sqlalchemy.orm import Session

from fieldapp.backlog.services import ZIP_ERRORS, ZIP_MAX_FILES, ZIP_MAX_TOTAL_BYTES, Outcome
from fieldapp.database import write_transaction
from fieldapp.encounters.history import record_revision
from fieldapp.encounters.models import Encounter
from fieldapp.encounters.services import (
    EncounterConflict,
    EncounterGone,
    Recorded,
    encounter_by_uuid,
    gone_message,
    record_encounter,
)
from fieldapp.encounters.validation import InvalidEncounter, parse_encounter_data
from fieldapp.media.framing import NONE
from fieldapp.media.images import ProcessedPhoto, UnacceptablePhoto
from fieldapp.media.services import photo_unless_held, read_upload
from fieldapp.media.storage import MediaStore

MANIFEST_NAME = "fieldapp-outbox.json"
MANIFEST_FORMAT = "fieldapp-outbox"
MANIFEST_VERSION = 1
MANIFEST_MAX_BYTES = 8 * 1024 * 1024  # 2,000 records of a few KB each, with room to spare
# The only members a record may name: its own photo, in the zip's photos/ folder.
PHOTO_NAME = re.compile(r"photos/([0-9A-Fa-f-]{36})\.(jpg|jpeg|png|webp|heic|heif)")
RESCUE_REASON = "Rescued from the phone's outbox (zip)"


class OutboxUnreadable(Exception):
    """The zip cannot be read as a phone's outbox; the message says why. Nothing is stored."""


class RecordRefused(Exception):
    """One record of the manifest cannot be recorded; the message says why."""


def is_outbox_zip(filename: str, stream: BinaryIO) -> bool:
    """Whether an uploaded file is a rescue zip: a `.zip` with `fieldapp-outbox.json` at its root.

    Reads only the zip's directory and leaves the stream at its start, so that any other zip
    (or a damaged one) goes on to the ordinary import as before.
    """
    if not filename.lower().endswith(".zip"):
        return False
    try:
        return MANIFEST_NAME in zipfile.ZipFile(stream).namelist()
    except ZIP_ERRORS:
        return False
    finally:
        stream.seek(0)


def import_outbox_zip(
    session: Session,
    store: MediaStore,
    *,
    filename: str,
    stream: BinaryIO,
    max_photo_bytes: int,
    max_pixels: int,
    collector_id: int | None,
) -> list[Outcome]:
    """Record every encounter of a rescue zip, each at most once, keyed by its UUID.

    One outcome per record, in the manifest's order: imported (recorded now, by
    `collector_id`, with an "import" revision), duplicate (the server already holds this UUID
    with the same data) or refused (with the reason; nothing stored for that record). A zip
    that cannot be read as an outbox is one refused outcome, and nothing of it is stored. The
    zip is read in place, one photo at a time, never unpacked to disk.
    """
    try:
        archive = zipfile.ZipFile(stream)
        records = manifest_records(archive)
    except OutboxUnreadable as unreadable:
        return [Outcome(filename, "refused", str(unreadable), from_outbox=True)]
    except ZIP_ERRORS:
        return [
            Outcome(
                filename,
                "refused",
                "This zip file is damaged; nothing in it was read.",
                from_outbox=True,
            )
        ]
    return [
        _rescue_record(
            session,
            store,
            archive,
            record,
            label=f"{filename}/record {index}",
            zip_name=filename,
            max_photo_bytes=max_photo_bytes,
            max_pixels=max_pixels,
            collector_id=collector_id,
        )
        for index, record in enumerate(records, start=1)
    ]


# The manifest ----------------------------------------------------------------------------


def manifest_records(archive: zipfile.ZipFile) -> list[Any]:
    """The records of a rescue zip's manifest, unchecked one by one; raises OutboxUnreadable
    when the zip is over the import's limits or its manifest is not a version-1 outbox."""
    members = [m for m in archive.infolist() if not m.is_dir()]
    if len(members) > ZIP_MAX_FILES + 1:  # the photos, and the manifest
        raise OutboxUnreadable(
            f"The zip holds {len(members)} files; at most {ZIP_MAX_FILES} photos and the "
            "manifest. Nothing in it was read."
        )
    if sum(m.file_size for m in members) > ZIP_MAX_TOTAL_BYTES:
        limit = ZIP_MAX_TOTAL_BYTES // 1024**3
        raise OutboxUnreadable(f"The zip unpacks to more than {limit} GB. Nothing in it was read.")
    body = _manifest_json(archive)
    version = body.get("version")
    if (
        body.get("format") != MANIFEST_FORMAT
        or type(version) is not int
        or version != MANIFEST_VERSION
    ):
        raise OutboxUnreadable(
            f"{MANIFEST_NAME} is not a phone outbox this server can read (format "
            f'"{MANIFEST_FORMAT}", version {MANIFEST_VERSION}). Nothing in the zip was read.'
        )
    records = body.get("records")
    if not isinstance(records, list):
        raise OutboxUnreadable(f"{MANIFEST_NAME} has no list of records. Nothing was read.")
    if len(records) > ZIP_MAX_FILES:
        raise OutboxUnreadable(
            f"The outbox holds {len(records)} records; at most {ZIP_MAX_FILES}. "
            "Nothing in it was read."
        )
    return records


def _manifest_json(archive: zipfile.ZipFile) -> dict:
    limit = f"{MANIFEST_NAME} is larger than {MANIFEST_MAX_BYTES // 1024**2} MB. Nothing was read."
    member = archive.getinfo(MANIFEST_NAME)
    if member.file_size > MANIFEST_MAX_BYTES:
        raise OutboxUnreadable(limit)
    with archive.open(member) as stream:
        raw = stream.read(MANIFEST_MAX_BYTES + 1)  # the declared size may lie
    if len(raw) > MANIFEST_MAX_BYTES:
        raise OutboxUnreadable(limit)
    try:
        body = json.loads(raw)
    except (ValueError, RecursionError):  # RecursionError: nested thousands of levels deep
        raise OutboxUnreadable(f"{MANIFEST_NAME} is not valid JSON. Nothing was read.") from None
    if not isinstance(body, dict):
        raise OutboxUnreadable(f"{MANIFEST_NAME} is not a JSON object. Nothing was read.")
    return body


# One record ------------------------------------------------------------------------------


def _rescue_record(
    session: Session,
    store: MediaStore,
    archive: zipfile.ZipFile,
    record: Any,
    *,
    label: str,
    zip_name: str,
    max_photo_bytes: int,
    max_pixels: int,
    collector_id: int | None,
) -> Outcome:
    """Record one manifest record as its upload would have been; say what became of it."""
    try:
        client_uuid = _record_uuid(record)
        label = f"{zip_name}/{client_uuid}"
        known = encounter_by_uuid(session, client_uuid)
        if known is not None and known.is_withdrawn:  # before reading a photo we will not keep
            raise EncounterGone(gone_message(known.number))
        data = parse_encounter_data(record.get("data"))
        photo = _photo(
            archive, record.get("photo"), client_uuid, known, max_photo_bytes, max_pixels
        )
        recorded = record_encounter(
            session, store, uuid=client_uuid, data=data, photo=photo, collector_id=collector_id
        )
    except InvalidEncounter as invalid:
        return _refused(label, "Not recorded: " + in_words(invalid) + ".")
    except UnacceptablePhoto as refused:
        return _refused(label, refused.message)
    except (RecordRefused, EncounterConflict, EncounterGone) as refused:
        return _refused(label, str(refused))
    if recorded.created:
        _record_rescue(session, recorded.encounter, zip_name, collector_id)
    return _recorded_outcome(label, recorded)


def _record_uuid(record: Any) -> str:
    if not isinstance(record, dict):
        raise RecordRefused("This record is not a JSON object; nothing was stored for it.")
    value = record.get("uuid")
    if isinstance(value, str) and len(value) < 64:
        try:
            return str(uuidlib.UUID(value))
        except ValueError:
            pass
    raise RecordRefused("This record's uuid is not a UUID; nothing was stored for it.")


def _photo(
    archive: zipfile.ZipFile,
    name: Any,
    client_uuid: str,
    known: Encounter | None,
    max_bytes: int,
    max_pixels: int,
) -> ProcessedPhoto | None:
    """The record's photo through the upload pipeline, or None when it has none (or the
    server already holds this very file for it, as a retried upload's)."""
    if name is None:
        return None
    member = _photo_member(archive, name, client_uuid)
    try:
        with archive.open(member) as stream:
            data = read_upload(stream, max_bytes)
    except UnacceptablePhoto:
        raise
    except ZIP_ERRORS:
        raise RecordRefused(
            "Its photo is damaged inside the zip; nothing was stored for this record."
        ) from None
    held = known.photo if known is not None else None
    return photo_unless_held(held, data, max_pixels=max_pixels)


def _photo_member(archive: zipfile.ZipFile, name: Any, client_uuid: str) -> zipfile.ZipInfo:
    """The zip member a record names as its photo: only `photos/<its uuid>.<ext>`."""
    match = PHOTO_NAME.fullmatch(name) if isinstance(name, str) else None
    if match is None or str(uuidlib.UUID(match.group(1))) != client_uuid:
        raise RecordRefused(
            "Its photo must be photos/<its uuid>.jpg (or .png, .webp, .heic) inside the zip; "
            "nothing was stored for this record."
        )
    try:
        return archive.getinfo(name)
    except KeyError:
        raise RecordRefused(
            f"The zip has no {name}, the photo this record names; nothing was stored for it."
        ) from None


def _record_rescue(
    session: Session, encounter: Encounter, zip_name: str, collector_id: int | None
) -> None:
    """The edit history's first entry: where this encounter came from."""
    with write_transaction(session):
        record_revision(
            session,
            encounter.id,
            collector_id=collector_id,
            kind="import",
            reason=RESCUE_REASON,
            changes=[("file", "", zip_name)],
        )


def _recorded_outcome(label: str, recorded: Recorded) -> Outcome:
    encounter = recorded.encounter
    number = encounter.number
    what = f"#{number}" if number is not None else "a declined approach"
    if recorded.created:
        message, status = f"Recorded {what} (from the phone's outbox).", "imported"
    else:
        message, status = f"Already on the server as {what}; skipped.", "duplicate"
    photo = encounter.photo
    return Outcome(
        label,
        status,
        message,
        number,
        encounter.uuid,
        from_outbox=True,
        needs_framing=photo is not None and photo.framing == NONE,
    )


def _refused(label: str, message: str) -> Outcome:
    return Outcome(label, "refused", message, from_outbox=True)


def in_words(invalid: InvalidEncounter) -> str:
    """An upload's field errors as one sentence: "consent.keep must be true or false; ..."."""
    return "; ".join(f"{e['field']} {e['message']}" for e in invalid.errors)

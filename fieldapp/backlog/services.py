"""Importing the backlog: photos of older drawings, each becoming a completed encounter.

Numbers are given from a starting number in the order of the photos' capture time (EXIF
DateTimeOriginal, read before the pipeline strips it) or, without one, their file names;
a number another ticket holds is skipped to the next free one. Each photo goes through the
same pipeline as the field's uploads (`process_photo`, `record_encounter`): the same file
imported twice is recognised by its content hash and creates nothing new.
"""

from __future__ import annotations

import hashlib
import hmac
import io
import secrets
import uuid as uuidlib
import zipfile
import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone
from pathlib import PurePosixPath
from typing import BinaryIO

from PIL import ExifTags, Image
from sqlalchemy import select
from sqlalchemy.orm import Session

from fieldapp.consent.services import ConsentChoices
from fieldapp.database import write_transaction
from fieldapp.encounters.history import record_revision
from fieldapp.encounters.services import EncounterConflict, EncounterGone, record_encounter
from fieldapp.encounters.validation import InvalidEncounter, parse_encounter_data
from fieldapp.media.framing import NONE
from fieldapp.media.images import UnacceptablePhoto, process_photo
from fieldapp.media.models import Photo
from fieldapp.media.storage import MediaStore
from fieldapp.tickets.models import Ticket
from fieldapp.tickets.services import TOKEN_BYTES

ZIP_MAX_FILES = 2000
ZIP_MAX_TOTAL_BYTES = 2 * 1024**3  # uncompressed, as the archive declares it and as read
BATCH_MAX_BYTES = 1024**3  # one request: the no-JavaScript form with every photo, or a zip
PROBE_BYTES = 256 * 1024  # enough of a JPEG to hold its EXIF (at most 64 KB)
# What a damaged or hostile archive raises while being read (zlib.error: a corrupt stream;
# RuntimeError: an encrypted member; NotImplementedError: an unknown compression method).
ZIP_ERRORS = (
    zipfile.BadZipFile, OSError, EOFError, RuntimeError, ValueError, NotImplementedError, zlib.error,
)  # fmt: skip
_IGNORED = ("__MACOSX/", ".DS_Store", "Thumbs.db")


@dataclass(frozen=True)
class BatchSettings:
    """What every photo of a batch shares; all of it can be edited afterwards."""

    on: date
    utc_offset_minutes: int
    venue_type: str
    venue: str
    city: str
    consent_version: int
    choices: ConsentChoices

    def started_at(self) -> datetime:
        # The encounters happened that day; the hour is not known. Noon, in the room's clock.
        zone = timezone(timedelta(minutes=self.utc_offset_minutes))
        return datetime.combine(self.on, time(12, 0), zone)


@dataclass(frozen=True)
class Outcome:
    """What became of one file: imported (with its number), duplicate, or refused."""

    filename: str
    status: str  # imported, duplicate, refused
    message: str
    number: int | None = None
    uuid: str | None = None
    skipped_numbers: tuple[int, ...] = ()
    # A record of a phone's rescue zip: numbered by its own ticket, not by the batch, so the
    # batch's next number does not follow it.
    from_outbox: bool = False
    # No sheet was found in the photo: shown whole until the artist frames it (the editor).
    needs_framing: bool = False

    def as_json(self) -> dict:
        return {
            "filename": self.filename,
            "status": self.status,
            "message": self.message,
            "number": self.number,
            "uuid": self.uuid,
            "from_outbox": self.from_outbox,
            "needs_framing": self.needs_framing,
        }


# Order -----------------------------------------------------------------------------------


def capture_time(data: bytes) -> datetime | None:
    """EXIF DateTimeOriginal (or DateTime) of an image's first bytes, as a naive wall clock."""
    try:
        with Image.open(io.BytesIO(data)) as image:
            exif = image.getexif()
            value = exif.get_ifd(ExifTags.IFD.Exif).get(ExifTags.Base.DateTimeOriginal)
            value = value or exif.get(ExifTags.Base.DateTime)
    except Exception:  # a truncated probe or an unreadable file: order it by name
        return None
    try:
        return datetime.strptime(str(value).strip("\x00 "), "%Y:%m:%d %H:%M:%S")
    except (TypeError, ValueError):
        return None


def order_key(filename: str, taken: datetime | None) -> tuple:
    """Photos with a capture time first, oldest first; then the others by file name."""
    return (0, taken, filename) if taken else (1, datetime.min, filename)


# One photo -------------------------------------------------------------------------------


def import_uuid(photo_sha256: str, secret: bytes) -> str:
    """The encounter UUID of an imported photo: the same file always gets the same one.

    So a photo whose drawer withdrew is refused if imported again (its Photo row, and with it
    the hash, is gone; the tombstone's UUID remains). Keyed with the app's secret, so that the
    UUID of a tombstone cannot be matched against a photo by anyone holding it.
    """
    digest = hmac.new(secret, photo_sha256.encode(), hashlib.sha256).digest()
    return str(uuidlib.UUID(bytes=digest[:16], version=4))


def import_photo(
    session: Session,
    store: MediaStore,
    settings: BatchSettings,
    *,
    filename: str,
    data: bytes,
    from_number: int,
    max_pixels: int,
    collector_id: int | None,
    secret: bytes,
) -> Outcome:
    """Make one completed encounter of one photo, numbered at or after `from_number`."""
    sha = hashlib.sha256(data).hexdigest()
    existing = session.scalar(select(Photo).where(Photo.original_sha256 == sha))
    if existing is not None:
        number = existing.encounter.number
        return Outcome(filename, "duplicate", f"Already imported as #{number}; skipped.", number)
    try:
        processed = process_photo(data, max_pixels=max_pixels)
    except UnacceptablePhoto as refused:
        return Outcome(filename, "refused", refused.message)
    number, skipped = _reserve_number(session, from_number, collector_id)
    client_uuid = import_uuid(sha, secret)
    data_json = {
        "status": "completed",
        "ticket": number.token,
        "venue_type": settings.venue_type,
        "venue": settings.venue,
        "city": settings.city,
        "started_at": settings.started_at().isoformat(),
        "consent": {"version": settings.consent_version, **settings.choices.__dict__},
        "credit": {"anonymous": True},
        "notes": f"Backlog import: {filename}"[:2000],
    }
    try:
        recorded = record_encounter(
            session,
            store,
            uuid=client_uuid,
            data=parse_encounter_data(data_json),
            photo=processed,
            collector_id=collector_id,
        )
        with write_transaction(session):
            record_revision(
                session,
                recorded.encounter.id,
                collector_id=collector_id,
                kind="import",
                reason="Backlog import",
                changes=[("file", "", filename)],
            )
    except (InvalidEncounter, EncounterConflict, EncounterGone) as refused:
        _release(session, number)
        return Outcome(filename, "refused", str(refused))
    message = f"Imported as #{number.number}."
    if skipped:
        message += (
            f" (#{skipped[0]}–#{skipped[-1]} taken, skipped)"
            if len(skipped) > 1
            else (f" (#{skipped[0]} taken, skipped)")
        )
    return Outcome(
        filename,
        "imported",
        message,
        number.number,
        recorded.encounter.uuid,
        tuple(skipped),
        needs_framing=processed.framing == NONE,
    )


def _reserve_number(
    session: Session, from_number: int, collector_id: int | None
) -> tuple[Ticket, list[int]]:
    """Reserve the first free number at or after `from_number`; also say which were taken."""
    with write_transaction(session):
        taken = session.scalars(
            select(Ticket.number)
            .where(Ticket.number >= from_number)
            .order_by(Ticket.number)
            .limit(10_000)
        )
        number, skipped = from_number, []
        for held in taken:
            if held != number:
                break
            skipped.append(number)
            number += 1
        ticket = Ticket(
            number=number, token=secrets.token_urlsafe(TOKEN_BYTES), reserved_by_id=collector_id
        )
        session.add(ticket)
    return ticket, skipped


def _release(session: Session, ticket: Ticket) -> None:
    """Give back a number reserved for a photo that could not be recorded."""
    with write_transaction(session):
        unused = session.get(Ticket, ticket.id)
        if unused is not None:
            session.delete(unused)


# Many photos, zips -----------------------------------------------------------------------


@dataclass(frozen=True)
class Source:
    """A file of the batch: its name, its capture time and how to read it (lazily, for zips)."""

    filename: str
    taken: datetime | None
    read: Callable[[], bytes]


def sources_of(
    filename: str, stream: BinaryIO, max_photo_bytes: int
) -> tuple[list[Source], list[Outcome]]:
    """One uploaded file as import sources: itself, or the photos inside a zip.

    A zip is read in place (never unpacked to disk), one member at a time.
    """
    if filename.lower().endswith(".zip"):
        return _zip_sources(filename, stream, max_photo_bytes)
    data = stream.read(max_photo_bytes + 1)
    if len(data) > max_photo_bytes:
        limit = max_photo_bytes // (1024 * 1024)
        return [], [Outcome(filename, "refused", f"Larger than {limit} MB; skipped.")]
    return [Source(filename, capture_time(data[:PROBE_BYTES]), lambda: data)], []


def _zip_sources(
    name: str, stream: BinaryIO, max_photo_bytes: int
) -> tuple[list[Source], list[Outcome]]:
    try:
        archive = zipfile.ZipFile(stream)
        members = [m for m in archive.infolist() if not m.is_dir()]
    except ZIP_ERRORS:
        return [], [Outcome(name, "refused", "This zip file is damaged; nothing in it was read.")]
    members = [m for m in members if not any(part in m.filename for part in _IGNORED)]
    if len(members) > ZIP_MAX_FILES:
        return [], [
            Outcome(
                name, "refused", f"The zip holds {len(members)} files; at most {ZIP_MAX_FILES}."
            )
        ]
    if sum(m.file_size for m in members) > ZIP_MAX_TOTAL_BYTES:
        limit = ZIP_MAX_TOTAL_BYTES // 1024**3
        return [], [Outcome(name, "refused", f"The zip unpacks to more than {limit} GB.")]
    sources, refused = [], []
    for member in members:
        label = f"{name}/{member.filename}"
        path = PurePosixPath(member.filename.replace("\\", "/"))
        if path.is_absolute() or ".." in path.parts:
            refused.append(Outcome(label, "refused", "An unsafe path inside the zip; skipped."))
            continue
        if member.file_size > max_photo_bytes:
            limit = max_photo_bytes // (1024 * 1024)
            refused.append(Outcome(label, "refused", f"Larger than {limit} MB; skipped."))
            continue
        if path.suffix.lower() == ".zip":
            refused.append(Outcome(label, "refused", "A zip inside a zip is not opened; skipped."))
            continue
        reader = _member_reader(archive, member, max_photo_bytes)
        try:
            head = _read_limited(archive, member, PROBE_BYTES)
        except ZIP_ERRORS:
            refused.append(Outcome(label, "refused", "This file is damaged inside the zip."))
            continue
        sources.append(Source(label, capture_time(head), reader))
    return sources, refused


def _read_limited(archive: zipfile.ZipFile, member: zipfile.ZipInfo, limit: int) -> bytes:
    with archive.open(member) as stream:
        return stream.read(limit)


def _member_reader(archive, member, max_photo_bytes):
    def read() -> bytes:
        # The declared size may lie: never read more than a photo may weigh.
        data = _read_limited(archive, member, max_photo_bytes + 1)
        if len(data) > max_photo_bytes:
            raise UnacceptablePhoto(f"Larger than {max_photo_bytes // (1024 * 1024)} MB.", 413)
        return data

    return read


def import_sources(
    session: Session,
    store: MediaStore,
    settings: BatchSettings,
    sources: list[Source],
    *,
    start_number: int,
    max_pixels: int,
    collector_id: int | None,
    secret: bytes,
) -> Iterator[Outcome]:
    """Import the sources in capture order, numbering from `start_number`; yields each outcome."""
    next_number = start_number
    for source in sorted(sources, key=lambda s: order_key(s.filename, s.taken)):
        try:
            data = source.read()
        except UnacceptablePhoto as refused:
            yield Outcome(source.filename, "refused", refused.message)
            continue
        except ZIP_ERRORS:
            yield Outcome(source.filename, "refused", "This file is damaged inside the zip.")
            continue
        outcome = import_photo(
            session,
            store,
            settings,
            filename=source.filename,
            data=data,
            from_number=next_number,
            max_pixels=max_pixels,
            collector_id=collector_id,
            secret=secret,
        )
        if outcome.status == "imported":
            assert outcome.number is not None  # an imported file has its number
            next_number = outcome.number + 1
        yield outcome

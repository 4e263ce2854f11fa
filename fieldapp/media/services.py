"""Storing a processed photo for an encounter, and finding its files again."""

from __future__ import annotations

import hashlib
import io
from dataclasses import dataclass
from pathlib import PurePosixPath

from flask import current_app
from PIL import Image
from sqlalchemy import delete, or_, select
from sqlalchemy.orm import Session

from fieldapp.database import write_transaction
from fieldapp.media.framing import AUTO, DETECTOR_VERSION, MANUAL, NONE, Corners
from fieldapp.media.images import (
    SIZED_WIDTHS,
    ProcessedPhoto,
    Rendition,
    UnacceptablePhoto,
    display_renditions,
    process_photo,
    scale_to_width,
)
from fieldapp.media.models import PendingRemoval, Photo
from fieldapp.media.sheet_detection import find_sheet, working_copy
from fieldapp.media.storage import MediaStore, StorageUnavailable, StoredFile, store_for

VARIANTS = ("archive", "display", "thumb")
ARCHIVE_FORMATS = ("JPEG", "PNG")  # what media.images writes an archive as
#: The folder of reduced display images, made on first request (see sized_display()).
SIZED = "sized"


class PhotoConflict(Exception):
    """This exact photo is already another encounter's drawing."""


def attach_photo(
    session: Session, encounter_id: int, processed: ProcessedPhoto, store: MediaStore
) -> tuple[Photo, list[StoredFile]]:
    """Write the three files durably and add the Photo row (the caller commits).

    Returns the files this call created, so that the caller can remove them if its commit
    fails: the files are on disk before the row that points at them, never after.
    """
    owner = session.scalar(select(Photo).where(Photo.original_sha256 == processed.original_sha256))
    if owner is not None:
        raise PhotoConflict(owner.encounter_id)
    written: list[StoredFile] = []
    try:
        for variant in VARIANTS:
            rendition = getattr(processed, variant)
            written.append(store.write(variant, rendition.data, rendition.extension))
        archive, display, thumb = written
        photo = Photo(
            encounter_id=encounter_id,
            original_sha256=processed.original_sha256,
            original_format=processed.original_format,
            original_bytes=processed.original_bytes,
            width=processed.archive.width,
            height=processed.archive.height,
            archive_name=archive.name,
            display_name=display.name,
            display_width=processed.display.width,
            display_height=processed.display.height,
            thumb_name=thumb.name,
            framing=processed.framing,
            corners=corners_json(processed.corners),
            framing_detector=DETECTOR_VERSION,
        )
        session.add(photo)
        session.flush()
    except BaseException:
        remove_created(store, written)
        raise
    return photo, written


def corners_json(corners: Corners | None) -> list | None:
    """Corners as stored in Photo.corners (JSON lists)."""
    return None if corners is None else [list(point) for point in corners]


def stored_corners(photo: Photo) -> Corners | None:
    """A photo's framing corners as media.framing takes them (None: the whole photo)."""
    return None if photo.corners is None else tuple((x, y) for x, y in photo.corners)


@dataclass(frozen=True)
class Framed:
    """A photo's display image and thumbnail made for a framing, not yet stored."""

    archive_name: str  # the archive they were made from
    framing: str
    corners: Corners | None
    display: Rendition
    thumb: Rendition


@dataclass(frozen=True)
class Reframed:
    """What a new framing changed: files to undo if the commit fails, files to remove after."""

    written: list[StoredFile]
    replaced: list[str]  # the old display image and thumbnail (remove_unreferenced after commit)


def frame_archive(
    store: MediaStore, archive_name: str, corners: Corners | None, framing: str
) -> Framed:
    """The display image and thumbnail of an archive photo framed by `corners` (None: the
    whole photo as stored). Slow (the full photo is decoded): call it outside a transaction.

    `framing` AUTO with corners None means "look for the sheet now": the detector runs on the
    archive and the framing is AUTO or NONE by what it finds.
    """
    with Image.open(io.BytesIO(store.read(archive_name)), formats=ARCHIVE_FORMATS) as archive:
        icc = archive.info.get("icc_profile")
        image = archive.convert("RGB")
    if framing == AUTO and corners is None:
        # The detector sees the archive as ingest saw the upload: the same working copy.
        corners = find_sheet(working_copy(image))
        framing = AUTO if corners is not None else NONE
    display, thumb = display_renditions(image, corners, icc=icc)
    return Framed(archive_name, framing, corners, display, thumb)


def apply_framing(session: Session, store: MediaStore, photo: Photo, framed: Framed) -> Reframed:
    """Store a framing's files and point the photo's row at them (the caller commits, then
    removes `replaced`). The files are written before the row changes."""
    if photo.archive_name != framed.archive_name:
        raise ValueError("the photo was replaced while it was being framed")
    written: list[StoredFile] = []
    try:
        written.append(store.write("display", framed.display.data, framed.display.extension))
        written.append(store.write("thumb", framed.thumb.data, framed.thumb.extension))
    except BaseException:
        remove_created(store, written)
        raise
    replaced = [photo.display_name, photo.thumb_name]
    photo.display_name, photo.thumb_name = written[0].name, written[1].name
    photo.display_width, photo.display_height = framed.display.width, framed.display.height
    photo.framing, photo.corners = framed.framing, corners_json(framed.corners)
    if framed.framing != MANUAL:
        photo.framing_detector = DETECTOR_VERSION
    session.flush()
    kept = {stored.name for stored in written}
    return Reframed(written, [name for name in replaced if name not in kept])


def remove_created(store: MediaStore, files: list[StoredFile]) -> None:
    """Undo attach_photo's writes: remove the files it created (not those already there).

    When the store fails meanwhile (it is why the writes are undone, often), the files stay:
    no row names them, so nothing serves them; a retried upload of the same photo finds them
    and uses them, and `flask media sweep` removes those never claimed.
    """
    for stored in files:
        if stored.created:
            try:
                store.remove(stored.name)
            except StorageUnavailable as error:
                current_app.logger.warning("Left %s in the store: %s", stored.name, error)


def photo_file_names(photo: Photo) -> list[str]:
    """Every stored file of a photo, media-relative (its reduced display images, made on
    request, follow their display file: see remove_unreferenced())."""
    return [file_name(photo, variant) for variant in VARIANTS]


def sized_name(display_name: str, width: int) -> str:
    """Where the display image `display_name`, reduced to `width` pixels wide, is kept.

    Named after the display file (itself named by its SHA-256), so the name says which photo it
    belongs to without a column: deleting a photo's files deletes these with them.
    """
    stem = PurePosixPath(display_name).stem
    return f"{SIZED}/{stem[:2]}/{stem}-{width}w.jpg"


def _display_of_sized(name: str) -> str:
    """The display file a reduced image was made from (sized_name() backwards)."""
    stem = PurePosixPath(name).stem.rsplit("-", 1)[0]
    return f"display/{stem[:2]}/{stem}.jpg"


def sized_widths(photo_display_width: int) -> tuple[int, ...]:
    """The reduced widths worth offering for a display image this wide (smaller ones only)."""
    return tuple(width for width in SIZED_WIDTHS if width < photo_display_width)


def sized_display(session: Session, store: MediaStore, photo: Photo, width: int) -> str | None:
    """The media-relative name of `photo`'s display image reduced to `width`, made if missing.

    None when there is no such image to serve: a width not offered, or the photo deleted
    (withdrawn, replaced) meanwhile. The file is written in a write transaction that first
    checks the photo is still there; a withdrawal deletes its row in one too and the files after
    its commit, so either the file is never written or the withdrawal sees it and deletes it:
    no reduced copy outlives its drawing.

    When the copy cannot be written (the disk full, the folder read-only), the display image's
    own name: the phone gets the larger image rather than none, and the copy is made on a later
    request, once there is room. The caller tells the two apart by the name.
    """
    if width not in sized_widths(photo.display_width):
        return None
    name = sized_name(photo.display_name, width)
    if store.exists(name):
        return name
    display_name = photo.display_name
    try:
        display = store.read(display_name)
    except FileNotFoundError:
        return None
    reduced = scale_to_width(display, width)  # outside the lock: 10-40 ms of Pillow
    try:
        with write_transaction(session):
            still_there = session.scalar(
                select(Photo.id).where(Photo.display_name == display_name).limit(1)
            )
            if still_there is None:
                return None
            store.write_as(name, reduced.data)
    except StorageUnavailable as error:
        current_app.logger.warning(
            "No reduced copy %s (%s): serving the display image instead", name, error
        )
        return display_name
    return name


def remove_unreferenced(session: Session, store: MediaStore, names: list[str]) -> int:
    """Delete those files no Photo row points at any more; returns how many were deleted.

    Call after the commit that deleted their rows, never before: a row must never point at a
    missing file. Files are content-addressed, so another photo could share one; it is kept.
    The reduced copies of a display file named here go with it (see sized_display()).
    """
    # A display file's reduced copies go with it, whether they were made or not.
    sized = [sized_name(n, w) for n in names if n.startswith("display/") for w in SIZED_WIDTHS]
    doomed = [name for name in [*names, *sized] if not is_referenced(session, name)]
    try:
        removed = _remove_existing(store, doomed)
    except StorageUnavailable as error:
        # Nothing names these files, so nothing serves them; they are deleted once the store
        # answers again: by the next call of this function or `retry_removals()`.
        current_app.logger.warning("Deleting %d file(s) later: %s", len(doomed), error)
        _queue_removals(session, doomed)
        return 0
    return removed + retry_removals(session, store)


def is_referenced(session: Session, name: str) -> bool:
    """True while a photo row names the file (for a reduced copy: the display file it came
    from): content-addressed, a file may be shared, and a shared file is kept."""
    name_in_row = _display_of_sized(name) if name.startswith(f"{SIZED}/") else name
    shared = session.scalar(
        select(Photo.id)
        .where(
            or_(
                Photo.archive_name == name_in_row,
                Photo.display_name == name_in_row,
                Photo.thumb_name == name_in_row,
            )
        )
        .limit(1)
    )
    return shared is not None


def _remove_existing(store: MediaStore, names: list[str]) -> int:
    if not names:
        return 0
    # The store must answer first: a bucket that is not there says "no such object" of every
    # name, which is no proof that a file is gone (StorageUnavailable queues them instead).
    store.check()
    removed = 0
    for name in names:
        if store.exists(name):
            store.remove(name)
            removed += 1
    return removed


def _queue_removals(session: Session, names: list[str]) -> None:
    with write_transaction(session):
        queued = set(session.scalars(select(PendingRemoval.name)))
        session.add_all(PendingRemoval(name=name) for name in names if name not in queued)


def retry_removals(session: Session, store: MediaStore) -> int:
    """Delete the files whose deletion the store did not take before (see PendingRemoval);
    returns how many were deleted. Quiet when the store still does not answer: they wait."""
    pending = list(session.scalars(select(PendingRemoval.name).order_by(PendingRemoval.name)))
    if not pending:
        return 0
    doomed = [name for name in pending if not is_referenced(session, name)]
    try:
        removed = _remove_existing(store, doomed)
    except StorageUnavailable:
        return 0
    with write_transaction(session):
        session.execute(delete(PendingRemoval).where(PendingRemoval.name.in_(pending)))
    return removed


def referenced_names(session: Session) -> set[str]:
    """Every file a photo row names, and every reduced copy such a display file may have."""
    names: set[str] = set()
    for row in session.execute(select(Photo.archive_name, Photo.display_name, Photo.thumb_name)):
        names.update(row)
        names.update(sized_name(row.display_name, width) for width in SIZED_WIDTHS)
    return names


def sweep_orphans(session: Session, store: MediaStore) -> list[str]:
    """Delete every media file no Photo row names, and temp files of interrupted writes.

    They are what a crash between writing the files and committing leaves behind; no URL
    serves them (images are found through their Photo row). Runs inside a write transaction:
    uploads write their files under the same lock, so none is between its writes and its
    commit while this looks. Returns the media-relative names removed.
    """
    removed: list[str] = []
    with write_transaction(session):
        referenced = referenced_names(session)
        for variant in (*VARIANTS, SIZED):
            for name in store.names(variant):
                if name not in referenced:
                    store.remove(name)
                    removed.append(name)
        session.execute(delete(PendingRemoval))  # every file no row names is gone now
    return removed


def file_name(photo: Photo, variant: str) -> str:
    """The media-relative name of one of a photo's files."""
    return {
        "archive": photo.archive_name,
        "display": photo.display_name,
        "thumb": photo.thumb_name,
    }[variant]


def read_upload(stream, max_bytes: int) -> bytes:
    """Read an uploaded file, refusing (413) one over the size limit without reading it all."""
    data = stream.read(max_bytes + 1)
    if len(data) > max_bytes:
        raise UnacceptablePhoto(f"The photo is larger than {max_bytes // (1024 * 1024)} MB.", 413)
    return data


def media_store() -> MediaStore:
    """The running app's media store: FIELDAPP_MEDIA_URL's bucket, else the media folder."""
    config = current_app.config
    return store_for(
        config.get("MEDIA_URL"),
        folder=config["MEDIA_DIR"],
        endpoint_url=config.get("S3_ENDPOINT_URL"),
    )


def photo_unless_held(held: Photo | None, data: bytes, *, max_pixels: int) -> ProcessedPhoto | None:
    """An uploaded photo processed, or None when it is the very file the encounter already
    holds (a retried upload: not decoded again)."""
    if held is not None and held.original_sha256 == hashlib.sha256(data).hexdigest():
        return None
    return process_photo(data, max_pixels=max_pixels)


def prepare_photo(data: bytes) -> ProcessedPhoto:
    """Process an upload with the running app's pixel limit (raises UnacceptablePhoto)."""
    return process_photo(data, max_pixels=current_app.config["MAX_PHOTO_PIXELS"])

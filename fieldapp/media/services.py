"""Storing a processed photo for an encounter, and finding its files again."""

from __future__ import annotations

from flask import current_app
from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from fieldapp.database import write_transaction
from fieldapp.media.images import ProcessedPhoto, UnacceptablePhoto, process_photo
from fieldapp.media.models import Photo
from fieldapp.media.storage import MediaStore, StoredFile

VARIANTS = ("archive", "display", "thumb")


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
        )
        session.add(photo)
        session.flush()
    except BaseException:
        remove_created(store, written)
        raise
    return photo, written


def remove_created(store: MediaStore, files: list[StoredFile]) -> None:
    """Undo attach_photo's writes: remove the files it created (not those already there)."""
    for stored in files:
        if stored.created:
            store.remove(stored.name)


def photo_file_names(photo: Photo) -> list[str]:
    """Every stored file of a photo, media-relative."""
    return [file_name(photo, variant) for variant in VARIANTS]


def remove_unreferenced(session: Session, store: MediaStore, names: list[str]) -> int:
    """Delete those files no Photo row points at any more; returns how many were deleted.

    Call after the commit that deleted their rows, never before: a row must never point at a
    missing file. Files are content-addressed, so another photo could share one; it is kept.
    """
    removed = 0
    for name in names:
        shared = session.scalar(
            select(Photo.id)
            .where(
                or_(
                    Photo.archive_name == name,
                    Photo.display_name == name,
                    Photo.thumb_name == name,
                )
            )
            .limit(1)
        )
        if shared is None and store.path(name).exists():
            store.remove(name)
            removed += 1
    return removed


def sweep_orphans(session: Session, store: MediaStore) -> list[str]:
    """Delete every media file no Photo row names, and temp files of interrupted writes.

    They are what a crash between writing the files and committing leaves behind; no URL
    serves them (images are found through their Photo row). Runs inside a write transaction:
    uploads write their files under the same lock, so none is between its writes and its
    commit while this looks. Returns the media-relative names removed.
    """
    removed: list[str] = []
    with write_transaction(session):
        referenced: set[str] = set()
        for names in session.execute(
            select(Photo.archive_name, Photo.display_name, Photo.thumb_name)
        ):
            referenced.update(names)
        for variant in VARIANTS:
            folder = store.root / variant
            if not folder.is_dir():
                continue
            for path in sorted(folder.rglob("*")):
                name = path.relative_to(store.root).as_posix()
                if path.is_file() and name not in referenced:
                    path.unlink(missing_ok=True)
                    removed.append(name)
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
    """The media directory of the running app."""
    return MediaStore(current_app.config["MEDIA_DIR"])


def prepare_photo(data: bytes) -> ProcessedPhoto:
    """Process an upload with the running app's pixel limit (raises UnacceptablePhoto)."""
    return process_photo(data, max_pixels=current_app.config["MAX_PHOTO_PIXELS"])

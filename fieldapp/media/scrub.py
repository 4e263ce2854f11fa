"""`flask media scrub`: take the metadata out of photo files stored before every file was clean.

Files written since `encode_clean()` hold pixels and at most an ICC profile. Older ones may
still hold a camera's JPEG comment, PNG text chunks and the like: nothing serves them (the way
out keeps only the picture, see xmp.py), but they sit on disk and go into every backup. Each
such file is rewritten without them, keeping the same rule as the way out: only the segments or
chunks that draw the picture and its colour profile are kept, copied byte for byte, so the
pixels are untouched and nothing is compressed again.

Never losing a drawing: the clean file is written (temp file, fsync, rename) and the `Photo` row
pointed at it in one write transaction; the old file is deleted only after the commit. A crash
at any moment leaves the row naming a file that is there; what is left over is an orphan, which
`flask media sweep` removes.
"""

from __future__ import annotations

import io
from dataclasses import dataclass, field
from functools import partial
from pathlib import PurePosixPath

from PIL import Image
from sqlalchemy import select
from sqlalchemy.orm import Session

from fieldapp.database import write_transaction
from fieldapp.media.images import (
    ARCHIVE_JPEG_QUALITY,
    DISPLAY_JPEG_QUALITY,
    SIZED_WIDTHS,
    THUMB_JPEG_QUALITY,
    encode_clean,
)
from fieldapp.media.models import Photo
from fieldapp.media.services import VARIANTS, file_name, remove_unreferenced, sized_name
from fieldapp.media.storage import MediaStore, StorageUnavailable, content_name

# What a picture needs is decided once, for files leaving the server and for files kept on it.
from fieldapp.media.xmp import without_metadata

#: Quality of a JPEG that has to be re-encoded because its segments cannot be walked.
_JPEG_QUALITY = {
    "archive": ARCHIVE_JPEG_QUALITY,
    "display": DISPLAY_JPEG_QUALITY,
    "thumb": THUMB_JPEG_QUALITY,
}


def reencoded(data: bytes, variant: str) -> bytes:
    """A file whose structure cannot be walked, decoded and written again by encode_clean():
    a PNG losslessly, a JPEG at the quality the app gives that variant. Raises whatever
    Pillow raises for bytes it cannot decode."""
    image = Image.open(io.BytesIO(data), formats=("JPEG", "PNG"))
    image.load()
    icc_profile = image.info.get("icc_profile")
    if image.format == "PNG":
        return encode_clean(image, "PNG", compress_level=1, icc_profile=icc_profile)
    quality = _JPEG_QUALITY.get(variant, DISPLAY_JPEG_QUALITY)
    return encode_clean(image, "JPEG", quality=quality, icc_profile=icc_profile)


@dataclass
class ScrubReport:
    """What a scrub did, for its one-line summary."""

    checked: int = 0  # files read: the photos' own and their reduced copies
    files: int = 0  # photo files rewritten without their metadata
    photos: int = 0  # photos with at least one such file
    reencoded: int = 0  # of `files`, those that could not be rewritten byte-wise
    reduced_dropped: int = 0  # reduced copies deleted, to be made again from a clean display
    problems: list[str] = field(default_factory=list)  # missing, unreadable or not written

    def summary(self) -> str:
        line = f"Scrubbed {_count(self.files, 'file')} of {_count(self.photos, 'photo')}"
        if self.reencoded:
            line += f" ({self.reencoded} re-encoded)"
        line += (
            f"; dropped {_count(self.reduced_dropped, 'reduced copy', 'reduced copies')}; "
            f"checked {_count(self.checked, 'file')}"
        )
        if self.problems:
            line += f"; {_count(len(self.problems), 'file')} could not be scrubbed"
        return line + "."


def _count(number: int, one: str, many: str | None = None) -> str:
    return f"{number} {one if number == 1 else many or one + 's'}"


def scrub_media(session: Session, store: MediaStore) -> ScrubReport:
    """Rewrite every stored photo file that holds more than pixels and an ICC profile.

    Each photo whose files change gets the clean files and its row's new names in one write
    transaction, then loses its old files and its reduced copies (made again on request). A
    photo withdrawn or replaced meanwhile is left to that change. Files are read and walked
    outside the write lock. Running it again changes nothing.
    """
    report = ScrubReport()
    rows = session.execute(
        select(Photo.id, Photo.archive_name, Photo.display_name, Photo.thumb_name).order_by(
            Photo.id
        )
    ).all()
    session.commit()  # ends the read: the files are read with no transaction open
    for row in rows:
        names = {variant: getattr(row, f"{variant}_name") for variant in VARIANTS}
        _scrub_photo(session, store, row.id, names, report)
    return report


def _scrub_photo(
    session: Session, store: MediaStore, photo_id: int, names: dict[str, str], report: ScrubReport
) -> None:
    cleaned: dict[str, bytes] = {}
    reencoded_files = 0
    for variant, name in names.items():
        report.checked += 1
        try:
            data = store.read(name)
        except FileNotFoundError:
            report.problems.append(f"{name} (missing)")
            continue
        try:
            clean = without_metadata(data)
        except ValueError:
            try:
                clean = reencoded(data, variant)
            except Exception:
                report.problems.append(f"{name} (unreadable)")
                continue
            reencoded_files += 1
        if clean != data:
            cleaned[variant] = clean
    reduced = [
        sized_name(names["display"], width)
        for width in SIZED_WIDTHS
        if store.exists(sized_name(names["display"], width))
    ]
    report.checked += len(reduced)
    if cleaned:
        try:
            old_names = _point_at_clean_files(session, store, photo_id, names, cleaned)
        except StorageUnavailable as error:
            unwritten = ", ".join(names[variant] for variant in cleaned)
            report.problems.append(f"{unwritten} (no clean copy written: {error.strerror})")
            return
        if old_names is None:
            return  # withdrawn or replaced meanwhile
        report.files += len(cleaned)
        report.photos += 1
        report.reencoded += reencoded_files
        remove_unreferenced(session, store, old_names)
        doomed = reduced
    else:
        doomed = [name for name in reduced if _carries_metadata(store, name)]
    for name in doomed:
        store.remove(name)
    report.reduced_dropped += len(doomed)


def _point_at_clean_files(
    session: Session,
    store: MediaStore,
    photo_id: int,
    names: dict[str, str],
    cleaned: dict[str, bytes],
) -> list[str] | None:
    """Write the clean files and point the row at them in one write transaction; the names the
    row no longer holds, for deleting after the commit (None: the row changed meanwhile)."""
    replaced: list[str] = []
    with write_transaction(session) as undo:
        photo = session.get(Photo, photo_id, populate_existing=True)
        if photo is None or any(file_name(photo, v) != name for v, name in names.items()):
            return None
        for variant, data in cleaned.items():
            old = names[variant]
            new = content_name(variant, data, PurePosixPath(old).suffix.lstrip("."))
            if new == old:
                # The name is these very bytes' (the file was changed on disk since): put them
                # back under it. Either version is a whole picture at every moment.
                store.replace(old, data)
                continue
            stored = store.write_as(new, data)
            if stored.created:
                undo.append(partial(store.remove, new))
            setattr(photo, f"{variant}_name", new)
            replaced.append(old)
    return replaced


def _carries_metadata(store: MediaStore, name: str) -> bool:
    try:
        data = store.read(name)
        return without_metadata(data) != data
    except FileNotFoundError:
        return False  # gone meanwhile: it will be made again anyway
    except ValueError:
        return True  # a damaged reduced copy is made again too

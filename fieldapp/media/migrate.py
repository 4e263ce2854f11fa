"""`flask media migrate --to URL`: copy the photo files of the store in use to another store (a
folder to a bucket, a bucket to a folder, one bucket to another), before switching
FIELDAPP_MEDIA_URL to it.

What is copied: every file a Photo row names (archive, display image, thumbnail), the reduced
copies of those display images that were made (they would be made again on request, but a
phone should not wait for them), and the marks a finished `media scrub` leaves. A file no row
names (a crash's leftover, which `media sweep` would delete) is not copied, only counted.

Each file is checked twice: its bytes in the source against the SHA-256 in its name (a reduced
copy or a mark has none: its copy is checked against the source's bytes), and the copy in the
destination against those bytes. A file whose copy is already there with the right SHA-256 is
not copied again, so the command is idempotent, and resumable: stopped halfway (a store that
stopped answering, Ctrl-C), it goes on where it stopped. A damaged copy in the destination is
replaced. A source file that is missing or damaged is a problem reported at the end; the others
are copied all the same.

The command changes neither the database nor the source store: switching stores is the
operator's step (set FIELDAPP_MEDIA_URL, restart), after a last run with writes stopped.
"""

from __future__ import annotations

import hashlib
import os
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy.orm import Session

from fieldapp.media.s3 import S3Store
from fieldapp.media.services import SIZED, VARIANTS, is_referenced, referenced_names
from fieldapp.media.storage import (
    FolderStore,
    MediaStore,
    MediaUrlError,
    StorageUnavailable,
    parse_media_url,
    store_for,
)

#: A photo file's name holds the SHA-256 of its bytes: `<kind>/<xx>/<sha256>.<ext>`.
CONTENT_NAME = re.compile(
    rf"(?:{'|'.join(VARIANTS)})/[0-9a-f]{{2}}/(?P<sha256>[0-9a-f]{{64}})\.\w+"
)


@dataclass
class MigrationPlan:
    """The files a run copies, in order, and how many files of the source it leaves."""

    names: list[str]
    unreferenced: int


@dataclass
class MigrationReport:
    """What a run did, for its summary."""

    copied: int = 0
    already_there: int = 0  # the destination held the file with the right SHA-256
    unreferenced: int = 0  # files of the source no photo row names: not copied
    gone: int = 0  # deleted from the source during the run by a withdrawal: nothing to copy
    problems: list[str] = field(default_factory=list)  # files not copied, and why
    stopped: str | None = None  # why the run stopped before the end (a store stopped answering)

    def summary(self) -> str:
        gone = f", {self.gone} withdrawn during the run" if self.gone else ""
        return (
            f"Copied {self.copied}, already there {self.already_there}, skipped "
            f"(unreferenced) {self.unreferenced}{gone}, problems {len(self.problems)}."
        )


class MigrationRefused(ValueError):
    """The destination cannot be used: the store in use itself, inside it, or no store."""


def destination_store(to: str, source: MediaStore, *, endpoint_url: str | None) -> MediaStore:
    """The store `--to` names (a folder, or `s3://BUCKET/PREFIX` reached with the app's own
    endpoint and AWS_* credentials); refused when it names no store or overlaps `source`."""
    if not to.strip():
        raise MediaUrlError("--to names no folder and no s3://BUCKET/PREFIX")
    if to.lower().startswith("s3:"):
        parse_media_url(to)  # "s3:/bucket" is a mistyped URL, not a folder named "s3:"
    folder = str(Path(to).expanduser().absolute()) if "://" not in to else ""
    destination = store_for(folder or to, folder=folder, endpoint_url=endpoint_url)
    overlap = _overlap(source, destination)
    if overlap:
        raise MigrationRefused(
            f"{destination.location} {overlap} the store in use ({source.location}): copy to "
            "another folder, bucket or prefix."
        )
    return destination


def _overlap(source: MediaStore, destination: MediaStore) -> str | None:
    """How the two stores share files ("is", "is inside", "holds"), or None when they do not.

    A destination inside the source would hold files the source's `media sweep` deletes as
    unreferenced, and the reverse the same; both are refused with the same store.
    """
    if isinstance(source, FolderStore) and isinstance(destination, FolderStore):
        ours, theirs = _real_path(source.root), _real_path(destination.root)
        return _nested(ours.parts, theirs.parts)
    if isinstance(source, S3Store) and isinstance(destination, S3Store):
        if source.bucket != destination.bucket:
            return None
        ours_key = tuple(p for p in source.prefix.split("/") if p)
        theirs_key = tuple(p for p in destination.prefix.split("/") if p)
        return _nested(ours_key, theirs_key)
    return None


def _nested(ours: tuple[str, ...], theirs: tuple[str, ...]) -> str | None:
    if ours == theirs:
        return "is"
    if theirs[: len(ours)] == ours:
        return "is inside"
    if ours[: len(theirs)] == theirs:
        return "holds"
    return None


def _real_path(path: Path) -> Path:
    """The path with every link resolved, even when its last parts do not exist yet."""
    return Path(os.path.realpath(path))


def plan_migration(
    session: Session, source: MediaStore, marks: Iterable[str] = ()
) -> MigrationPlan:
    """The files to copy (see the module), sorted by folder then name; `marks` are files the
    commands leave in the store's top folder (SCRUBBED_MARK), copied when present."""
    referenced = referenced_names(session)
    session.commit()  # a read only: hold no transaction (a SQLite lock) while copying
    present = [name for folder in (*VARIANTS, SIZED) for name in source.names(folder)]
    wanted = [name for name in present if name in referenced]
    # A row whose file is missing from the source is listed too: the run reports it.
    missing = sorted(name for name in referenced - set(present) if not name.startswith(f"{SIZED}/"))
    kept_marks = [mark for mark in marks if source.exists(mark)]
    return MigrationPlan(
        names=[*wanted, *missing, *kept_marks], unreferenced=len(present) - len(wanted)
    )


def migrate_media(
    session: Session,
    source: MediaStore,
    destination: MediaStore,
    plan: MigrationPlan,
    *,
    progress: Callable[[int], None] | None = None,
) -> MigrationReport:
    """Copy the plan's files from `source` to `destination`, each checked (see the module).

    Stops early, with `stopped` saying why, when either store stops answering: every file
    after would fail the same way, each after a timeout. Run again, it goes on from there.
    """
    report = MigrationReport(unreferenced=plan.unreferenced)
    for name in plan.names:
        try:
            outcome = _copy_one(source, destination, name)
        except StorageUnavailable as error:
            # Every file after would fail the same way if a store is down: stop. Else the
            # failure was this one file's (one the server may not read).
            down = unanswered(source, destination)
            if down:
                report.stopped = down
                break
            report.problems.append(f"{name}: {error.strerror}")
            outcome = None
        except FileNotFoundError:
            still_named = is_referenced(session, name)
            session.commit()  # a read only, as above
            if not still_named:
                report.gone += 1  # withdrawn since the plan was made: nothing to copy
            else:
                report.problems.append(f"{name}: missing from {source.location}")
            outcome = None
        except _Damaged as damaged:
            report.problems.append(f"{name}: {damaged}")
            outcome = None
        if outcome is True:
            report.copied += 1
        elif outcome is False:
            report.already_there += 1
        if progress:
            progress(1)
    return report


class _Damaged(Exception):
    """A file whose bytes are not what its name or its source says."""


def _copy_one(source: MediaStore, destination: MediaStore, name: str) -> bool:
    """Copy one file unless the destination has it already; True when it was copied."""
    stated = CONTENT_NAME.fullmatch(name)
    expected = stated["sha256"] if stated else None
    held = _sha256_or_none(destination, name)
    if held is not None and held == (expected or source.sha256(name)):
        return False
    data = source.read(name)
    digest = hashlib.sha256(data).hexdigest()
    if expected is not None and digest != expected:
        raise _Damaged(
            f"damaged in {source.location} (its bytes do not match the SHA-256 in its name); "
            "not copied"
        )
    destination.replace(name, data)  # a damaged copy there is replaced whole
    copied = _sha256_or_none(destination, name)
    if copied != digest:
        raise _Damaged(f"the copy in {destination.location} does not match the source")
    return True


def _sha256_or_none(store: MediaStore, name: str) -> str | None:
    try:
        return store.sha256(name)
    except FileNotFoundError:
        return None


def unanswered(source: MediaStore, destination: MediaStore) -> str | None:
    """Which store does not answer now, in words, or None when both do.

    The destination must take a file; the source is only read, never written to (a folder
    mounted read-only is a fine source), so for a folder it is enough that it is there.
    """
    if isinstance(source, FolderStore):
        if not source.root.is_dir():
            return f"the source folder {source.location} is not there"
    else:
        try:
            source.check()
        except StorageUnavailable as error:
            return f"the source {source.location} does not answer ({error.strerror})"
    try:
        destination.check()
    except StorageUnavailable as error:
        return (
            f"the destination {destination.location} cannot be reached or written to "
            f"({error.strerror})"
        )
    return None

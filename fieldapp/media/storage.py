"""Content-addressed files under the media directory, written atomically and fsynced."""

from __future__ import annotations

import errno
import hashlib
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path

#: Write failures that mean "the disk is full", not "this photo is bad".
_FULL = {errno.ENOSPC, errno.EDQUOT, errno.EFBIG}


class StorageUnavailable(OSError):
    """The media directory cannot take the file: full, read-only, or missing.

    A server-side condition (507 when full, 503 otherwise): the phone keeps the drawing and
    sends it again later; nothing was stored.
    """

    def __init__(self, cause: OSError):
        super().__init__(cause.errno, cause.strerror)
        self.full = cause.errno in _FULL
        self.status = 507 if self.full else 503

    @property
    def message(self) -> str:
        problem = "is full" if self.full else "cannot be written to"
        return (
            f"The server's photo storage {problem}, so nothing was stored. Nothing was lost "
            "from your phone: it keeps the drawing and sends it again later."
        )


@dataclass(frozen=True)
class StoredFile:
    name: str  # relative to the media directory, e.g. "display/ab/ab12...ef.jpg"
    created: bool  # False when an identical file was already there


class MediaStore:
    """Files named by their own SHA-256. A name, once written, always holds the same bytes."""

    def __init__(self, root: str | os.PathLike):
        self.root = Path(root)

    def path(self, name: str) -> Path:
        return self.root / name

    def write(self, kind: str, data: bytes, extension: str) -> StoredFile:
        """Store `data` durably: temp file, fsync, rename, fsync the folder. Never half a file.

        Raises StorageUnavailable when the disk is full or the folder cannot be written.
        """
        return self.write_as(content_name(kind, data, extension), data)

    def write_as(self, name: str, data: bytes) -> StoredFile:
        """Store `data` durably under a name the caller derived from other content (a reduced
        copy of a stored file, named after it): the same name must always mean the same bytes.
        """
        try:
            return self._write(name, data)
        except StorageUnavailable:
            raise
        except OSError as error:
            raise StorageUnavailable(error) from error

    def replace(self, name: str, data: bytes) -> None:
        """Put `data` under `name` even though a file is there, in one atomic rename: for a
        name that holds other bytes than the ones it was made from (a file changed on disk).
        At every moment the name holds either the old bytes or the new ones, in full.
        """
        try:
            self._write(name, data, replace=True)
        except OSError as error:
            raise StorageUnavailable(error) from error

    def _write(self, name: str, data: bytes, *, replace: bool = False) -> StoredFile:
        target = self.path(name)
        if target.exists() and not replace:
            return StoredFile(name, created=False)
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, temp_path = tempfile.mkstemp(dir=target.parent, prefix=".incoming-")
        try:
            with os.fdopen(fd, "wb") as temp:
                temp.write(data)
                temp.flush()
                os.fsync(temp.fileno())
            os.replace(temp_path, target)
        except BaseException:
            Path(temp_path).unlink(missing_ok=True)
            raise
        _fsync_dir(target.parent)
        return StoredFile(name, created=True)

    def remove(self, name: str) -> None:
        self.path(name).unlink(missing_ok=True)


def content_name(kind: str, data: bytes, extension: str) -> str:
    """The name MediaStore.write() stores `data` under: its kind's folder and its own SHA-256."""
    digest = hashlib.sha256(data).hexdigest()
    return f"{kind}/{digest[:2]}/{digest}.{extension}"


def _fsync_dir(directory: Path) -> None:
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)

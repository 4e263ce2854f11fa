"""Where photo files are kept: a local folder, or an S3-compatible object store.

Every file is named by its own SHA-256 (`<kind>/<xx>/<sha256>.<ext>`), or, for a reduced copy,
after the file it was made from: a name, once written, always holds the same bytes. Both stores
keep the same promises, which the rest of the app relies on:

- a write is whole or absent (a folder: temp file, fsync, rename; S3: one PUT), and returns
  only once the bytes are durable, so callers write before the database commit that names them;
- `remove()` of a missing name is no error; `read()` of one raises FileNotFoundError;
- a store that cannot be reached or written raises StorageUnavailable (503 with Retry-After,
  507 when a disk is full): the caller stores nothing and the phone sends the drawing again.

`FIELDAPP_MEDIA_URL` chooses the store (media/services.py `media_store()`): unset, the folder
`FIELDAPP_MEDIA_DIR`; `s3://BUCKET/PREFIX`, that bucket through boto3, its endpoint from
`FIELDAPP_S3_ENDPOINT_URL` and its credentials and region from the standard `AWS_*` variables.
"""

from __future__ import annotations

import errno
import hashlib
import os
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

#: Write failures that mean "the disk is full", not "this photo is bad".
_FULL = {errno.ENOSPC, errno.EDQUOT, errno.EFBIG}
#: Left in a folder by a write interrupted between its temp file and its rename.
TEMP_PREFIX = ".incoming-"
#: How long a client should wait before trying again a request the store could not serve.
RETRY_AFTER_SECONDS = 30


class StorageUnavailable(OSError):
    """The store cannot take or give the file: a disk full, read-only or missing, an object
    store that does not answer or refuses.

    A server-side condition (507 when full, 503 otherwise): the phone keeps the drawing and
    sends it again later; nothing was stored.
    """

    def __init__(self, cause: OSError | Exception, *, full: bool | None = None):
        if isinstance(cause, OSError) and cause.errno is not None:
            super().__init__(cause.errno, cause.strerror)
        else:
            super().__init__(errno.EIO, str(cause))
        self.full = (getattr(cause, "errno", None) in _FULL) if full is None else full
        self.status = 507 if self.full else 503
        self.retry_after = 300 if self.full else RETRY_AFTER_SECONDS

    @property
    def message(self) -> str:
        problem = "is full" if self.full else "cannot be reached or written to"
        return (
            f"The server's photo storage {problem}, so nothing was stored. Nothing was lost "
            "from your phone: it keeps the drawing and sends it again later."
        )


@dataclass(frozen=True)
class StoredFile:
    name: str  # relative to the store, e.g. "display/ab/ab12...ef.jpg"
    created: bool  # False when an identical file was already there


class MediaStore:
    """Files named by their own SHA-256. A name, once written, always holds the same bytes."""

    #: What the store is, for messages and /healthz: the folder's path or the s3:// URL.
    location: str

    def write(self, kind: str, data: bytes, extension: str) -> StoredFile:
        """Store `data` durably under its content name. Never half a file.

        Raises StorageUnavailable when the store cannot take it.
        """
        return self.write_as(content_name(kind, data, extension), data)

    def write_as(self, name: str, data: bytes) -> StoredFile:
        """Store `data` durably under a name the caller derived from other content (a reduced
        copy of a stored file, named after it): the same name must always mean the same bytes.
        """
        raise NotImplementedError

    def replace(self, name: str, data: bytes) -> None:
        """Put `data` under `name` even though a file is there, at once: for a name that holds
        other bytes than the ones it was made from (a file changed in the store). At every
        moment the name holds either the old bytes or the new ones, in full."""
        raise NotImplementedError

    def read(self, name: str) -> bytes:
        """The file's bytes. FileNotFoundError when there is none; StorageUnavailable when the
        store cannot be read."""
        raise NotImplementedError

    def exists(self, name: str) -> bool:
        raise NotImplementedError

    def remove(self, name: str) -> None:
        """Delete the file now (no error when it is not there)."""
        raise NotImplementedError

    def names(self, folder: str) -> Iterator[str]:
        """Every file under `folder` ("display", "sized"...), store-relative, sorted; temp
        files of interrupted writes included (media sweep removes them)."""
        raise NotImplementedError

    def is_empty(self) -> bool:
        """True when the store holds no file at all (a restore refuses a store that does)."""
        raise NotImplementedError

    def check(self) -> None:
        """Raise StorageUnavailable unless the store answers now (/healthz)."""
        raise NotImplementedError

    def sha256(self, name: str) -> str:
        """The SHA-256 of the file's bytes, as held now."""
        return hashlib.sha256(self.read(name)).hexdigest()


class FolderStore(MediaStore):
    """Files in a local folder, written atomically and fsynced (the default store)."""

    def __init__(self, root: str | os.PathLike):
        self.root = Path(root)
        self.location = str(self.root)

    def path(self, name: str) -> Path:
        return self.root / name

    def write_as(self, name: str, data: bytes) -> StoredFile:
        try:
            return self._write(name, data)
        except StorageUnavailable:
            raise
        except OSError as error:
            raise StorageUnavailable(error) from error

    def replace(self, name: str, data: bytes) -> None:
        try:
            self._write(name, data, replace=True)
        except OSError as error:
            raise StorageUnavailable(error) from error

    def _write(self, name: str, data: bytes, *, replace: bool = False) -> StoredFile:
        target = self.path(name)
        if target.exists() and not replace:
            return StoredFile(name, created=False)
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, temp_path = tempfile.mkstemp(dir=target.parent, prefix=TEMP_PREFIX)
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

    def read(self, name: str) -> bytes:
        try:
            return self.path(name).read_bytes()
        except (FileNotFoundError, IsADirectoryError, NotADirectoryError):
            raise FileNotFoundError(name) from None
        except OSError as error:
            raise StorageUnavailable(error) from error

    def exists(self, name: str) -> bool:
        return self.path(name).is_file()

    def remove(self, name: str) -> None:
        self.path(name).unlink(missing_ok=True)

    def names(self, folder: str) -> Iterator[str]:
        top = self.root / folder
        if not top.is_dir():
            return
        for path in sorted(top.rglob("*")):
            if path.is_file():
                yield path.relative_to(self.root).as_posix()

    def is_empty(self) -> bool:
        return not (self.root.exists() and any(p.is_file() for p in self.root.rglob("*")))

    def check(self) -> None:
        """The folder exists (or can be made) and takes a file."""
        try:
            self.root.mkdir(parents=True, exist_ok=True)
            with tempfile.TemporaryFile(dir=self.root, prefix=TEMP_PREFIX):
                pass
        except OSError as error:
            raise StorageUnavailable(error) from error


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


class MediaUrlError(ValueError):
    """FIELDAPP_MEDIA_URL (or `media migrate --to`) names no store we can use."""


def parse_media_url(url: str) -> tuple[str, str]:
    """`s3://BUCKET/PREFIX` as (bucket, prefix without slashes at either end)."""
    parts = urlsplit(url)
    if parts.scheme != "s3" or not parts.netloc:
        raise MediaUrlError(
            f"A media URL reads s3://BUCKET/PREFIX (or is a folder path), got {url!r}"
        )
    if parts.query or parts.fragment:
        raise MediaUrlError(f"A media URL has no ?query or #fragment, got {url!r}")
    return parts.netloc, parts.path.strip("/")


def store_for(url: str | None, *, folder: str, endpoint_url: str | None = None) -> MediaStore:
    """The store a media URL names: None (or a path) a folder, `s3://...` a bucket.

    The S3 client is made once per process and URL (media.s3 keeps them): boto3 clients are
    thread-safe, and making one costs milliseconds that a request should not pay.
    """
    if not url:
        return FolderStore(folder)
    if "://" not in url:
        return FolderStore(url)
    from fieldapp.media.s3 import s3_store

    bucket, prefix = parse_media_url(url)
    return s3_store(bucket, prefix, endpoint_url)

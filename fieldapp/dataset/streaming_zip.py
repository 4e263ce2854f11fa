"""A zip archive handed on while it is written: each entry's bytes as soon as it is finished."""

from __future__ import annotations

import hashlib
import io
import zipfile
from typing import BinaryIO

ZIP_TIME = (1980, 1, 1, 0, 0, 0)  # fixed: the same files give the same bytes
_COPY_CHUNK = 1024 * 1024


class StreamingZip:
    """A zip written one entry at a time, whose finished bytes `take()` hands on.

    zipfile writes an entry's local header, then its data, then seeks back to fill in the
    header's CRC and sizes. Here it writes into a buffer holding only the entry being written,
    and `take()` (between entries) hands on bytes that zipfile never seeks back to. So every
    entry keeps a complete local header and no data descriptor (streaming readers such as Java's
    ZipInputStream cannot read a stored entry followed by one), the bytes are exactly those
    zipfile would write into a file, and zipfile adds ZIP64 records wherever a size, an offset or
    the number of entries needs them. Memory: the entry being written, never the archive.

    Each file's SHA-256 is kept, in order, for SHA256SUMS.
    """

    def __init__(self) -> None:
        self._sink = _EntrySink()
        # typeshed asks a file to write into for close(), which ZipFile never calls on a file
        # it was given (only on one it opened itself): the sink has none, on purpose.
        self._archive = zipfile.ZipFile(self._sink, "w", allowZip64=True)  # type: ignore[call-overload]
        self.sums: list[tuple[str, str]] = []

    def add_bytes(
        self, name: str, data: bytes, *, compress: bool = True, listed: bool = True
    ) -> str:
        """Add a file from memory; returns its SHA-256 (listed in `sums` unless told not)."""
        self._archive.writestr(_info(name, compress), data)  # ZIP64 headers if its size needs
        digest = hashlib.sha256(data).hexdigest()
        if listed:
            self.sums.append((name, digest))
        return digest

    def add_file(self, name: str, source: BinaryIO) -> str:
        """Add a file copied from an open binary file, from its start; returns its SHA-256."""
        digest = hashlib.sha256()
        source.seek(0)
        with self._archive.open(_info(name, compress=True), "w", force_zip64=True) as target:
            while chunk := source.read(_COPY_CHUNK):
                digest.update(chunk)
                target.write(chunk)
        self.sums.append((name, digest.hexdigest()))
        return digest.hexdigest()

    def take(self) -> bytes:
        """The bytes written since the last call (whole entries only)."""
        return self._sink.take()

    def close(self) -> bytes:
        """Write the central directory; returns the archive's last bytes."""
        self._archive.close()
        return self._sink.take()


def _info(name: str, compress: bool) -> zipfile.ZipInfo:
    info = zipfile.ZipInfo(name, date_time=ZIP_TIME)
    info.compress_type = zipfile.ZIP_DEFLATED if compress else zipfile.ZIP_STORED
    info.external_attr = 0o644 << 16
    return info


class _EntrySink:
    """What zipfile writes into: seekable only over the bytes not yet taken.

    Never closed: a ZipFile dropped unfinished (a download cut short) writes its central
    directory here when collected, into a buffer nobody reads.
    """

    def __init__(self) -> None:
        self._taken = 0
        self._buffer = io.BytesIO()

    def flush(self) -> None:
        pass

    def write(self, data) -> int:
        return self._buffer.write(data)

    def tell(self) -> int:
        return self._taken + self._buffer.tell()

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        if whence == io.SEEK_END:
            offset += self._taken + len(self._buffer.getbuffer())
        elif whence == io.SEEK_CUR:
            offset += self.tell()
        if offset < self._taken:
            raise io.UnsupportedOperation("those bytes of the zip were already handed on")
        self._buffer.seek(offset - self._taken)
        return offset

    def take(self) -> bytes:
        data = self._buffer.getvalue()
        if self._buffer.tell() != len(data):
            raise RuntimeError("an entry of the zip is still being written")
        self._taken += len(data)
        self._buffer = io.BytesIO()
        return data

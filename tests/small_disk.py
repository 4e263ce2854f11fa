"""A small filesystem of a test's own (tmpfs), filled on demand: writes then fail with ENOSPC
for real, as on a phone or a server whose disk is full. Mounting needs root."""

from __future__ import annotations

import errno
import os
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest


class SmallDisk:
    def __init__(self, root: Path):
        self.root = root
        self.filler = root / "filler"

    def fill(self, leave: int = 0) -> Path:
        """Fill to the last byte, then give back `leave` bytes. (Written until ENOSPC rather than
        measured first: whatever writes there meanwhile, a browser say, would make the measure
        wrong.) Returns the filler."""
        with open(self.filler, "ab", buffering=0) as filler:
            chunk = b"\0" * 65_536
            while chunk:
                try:
                    filler.write(chunk)
                except OSError as error:
                    if error.errno != errno.ENOSPC:
                        raise
                    chunk = chunk[: len(chunk) // 2]
        if leave:
            os.truncate(self.filler, max(0, self.filler.stat().st_size - leave))
        return self.filler

    def assert_full(self) -> None:
        """A write of one page fails with ENOSPC (and leaves nothing)."""
        probe = self.root / "probe"
        with pytest.raises(OSError) as full:
            probe.write_bytes(b"x" * 4096)
        assert full.value.errno == errno.ENOSPC
        probe.unlink(missing_ok=True)

    def free(self) -> None:
        self.filler.unlink(missing_ok=True)


@contextmanager
def small_disk(root: Path, size: str, *, mode: str | None = None) -> Iterator[SmallDisk]:
    """A tmpfs of `size` ("32m") mounted on `root` (made if missing) for the block; the test is
    skipped where it cannot be mounted (not root, no CAP_SYS_ADMIN)."""
    root.mkdir(exist_ok=True)
    if os.geteuid() != 0:
        pytest.skip("mounting a small filesystem needs root")
    options = f"size={size}" + (f",mode={mode}" if mode else "")
    mounted = subprocess.run(
        ["/bin/mount", "-t", "tmpfs", "-o", options, "tmpfs", str(root)],
        capture_output=True,
        text=True,
    )
    if mounted.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {mounted.stderr.strip()}")
    try:
        yield SmallDisk(root)
    finally:
        subprocess.run(["/bin/umount", "-l", str(root)], check=False)

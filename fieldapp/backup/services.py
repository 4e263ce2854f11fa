"""A backup is one tar file: a consistent snapshot of the database, every media file a photo
row of that snapshot names, and `backup.json` (format, date, counts, each file's SHA-256).

SQLite: the snapshot is taken with SQLite's online backup API (other writers may go on), and
the media files are those its `photos` rows name; files are content-addressed and never
change, so copying them afterwards is consistent, unless a withdrawal deleted one in between,
in which case the whole backup is taken again. PostgreSQL: `pg_dump` of a snapshot exported
from the same REPEATABLE READ transaction that lists the media files.

The media store is a folder or a bucket (media.storage), either one on either side: a backup
taken from a bucket restores into a folder and the reverse. A store that does not answer
stops the command with a message; nothing is written.

Restore refuses an instance that holds any data, and an archive holding anything but regular
files named as fieldapp names them (a link, a device, `..`, an absolute or unknown name, a
member twice); it checks every hash before anything is put in place, then writes the database
and the media files, each inside the media folder.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import re
import sqlite3
import subprocess
import tarfile
import tempfile
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from sqlalchemy import Engine, text
from sqlalchemy.engine import make_url

from fieldapp.database import utcnow
from fieldapp.media.services import SIZED, VARIANTS
from fieldapp.media.storage import FolderStore, MediaStore, StorageUnavailable

FORMAT = 1
MANIFEST = "backup.json"
SQLITE_MEMBER = "database.sqlite3"
POSTGRES_MEMBER = "database.pgdump"
ATTEMPTS = 3
#: Tables whose rows make an instance "not empty" (consent version 1 comes with migrations).
DATA_TABLES = ("collectors", "tickets", "encounters", "photos", "consent_events")
_CHUNK = 1024 * 1024


class BackupError(RuntimeError):
    """A backup or restore that cannot be done. The message says why, in plain words."""


@dataclass(frozen=True)
class BackupSummary:
    path: Path
    encounters: int
    media_files: int
    bytes: int


def _sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as source:
        while chunk := source.read(_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def _photo_file_names(connection) -> list[str]:
    rows = connection.execute(
        text("SELECT archive_name, display_name, thumb_name FROM photos ORDER BY id")
    )
    return sorted({name for row in rows for name in row})


# Backup ----------------------------------------------------------------------------------


def backup(engine: Engine, store: MediaStore, out: Path) -> BackupSummary:
    """Write a backup of the database behind `engine` and of the media `store` (a folder or a
    bucket) to the tar `out`."""
    if not out.parent.is_dir():
        raise BackupError(f"No folder {out.parent} to write the backup in.")
    for _attempt in range(ATTEMPTS):
        with tempfile.TemporaryDirectory(prefix="fieldapp-backup-") as scratch_dir:
            scratch = Path(scratch_dir)
            if engine.dialect.name == "sqlite":
                member, snapshot, names = _snapshot_sqlite(engine, scratch)
            elif engine.dialect.name == "postgresql":
                member, snapshot, names = _snapshot_postgres(engine, scratch)
            else:
                raise BackupError(f"Backups of {engine.dialect.name} databases are not supported.")
            encounters = _count_encounters(engine, snapshot, member)
            try:
                return _write_tar(out, member, snapshot, store, names, engine, encounters)
            except FileNotFoundError:
                continue  # a withdrawal removed a file after the snapshot: take it again
            except StorageUnavailable as error:
                raise BackupError(
                    f"The media store {store.location} cannot be reached or read "
                    f"({error.strerror}); no backup was written."
                ) from None
    raise BackupError("The media files kept changing during the backup; try again.")


def _snapshot_sqlite(engine: Engine, scratch: Path) -> tuple[str, Path, list[str]]:
    target = scratch / SQLITE_MEMBER
    source_path = make_url(str(engine.url)).database
    # Not None: the app's SQLite database is a file (an in-memory `sqlite://` has no backup).
    assert source_path is not None
    source = sqlite3.connect(source_path)
    destination = sqlite3.connect(target)
    try:
        source.backup(destination)  # the online backup API: a consistent copy
    finally:
        source.close()
    try:
        destination.execute("PRAGMA journal_mode=DELETE")  # one self-contained file
        names = _photo_file_names_sqlite(destination)
    finally:
        destination.close()
    return SQLITE_MEMBER, target, names


def _photo_file_names_sqlite(connection: sqlite3.Connection) -> list[str]:
    rows = connection.execute("SELECT archive_name, display_name, thumb_name FROM photos")
    return sorted({name for row in rows for name in row})


def _snapshot_postgres(engine: Engine, scratch: Path) -> tuple[str, Path, list[str]]:
    """pg_dump of exactly the snapshot in which the media files were listed."""
    target = scratch / POSTGRES_MEMBER
    with engine.connect() as connection:
        connection.exec_driver_sql("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")
        snapshot_id = connection.exec_driver_sql("SELECT pg_export_snapshot()").scalar_one()
        names = _photo_file_names(connection)
        _run(["pg_dump", "--format=custom", "--no-owner", f"--snapshot={snapshot_id}",
              f"--file={target}", "--dbname", _libpq_url(engine)], engine)  # fmt: skip
        connection.exec_driver_sql("COMMIT")
    return POSTGRES_MEMBER, target, names


def _libpq_url(engine: Engine) -> str:
    url = make_url(str(engine.url)).set(drivername="postgresql", password=None)
    return url.render_as_string(hide_password=False)


def _run(command: list[str], engine: Engine) -> None:
    env = dict(os.environ)
    if engine.url.password:
        env["PGPASSWORD"] = engine.url.password  # not on the command line, where ps shows it
    try:
        subprocess.run(command, check=True, env=env, capture_output=True)  # noqa: S603
    except FileNotFoundError:
        raise BackupError(
            f"{command[0]} is not installed (apt-get install postgresql-client)."
        ) from None
    except subprocess.CalledProcessError as failed:
        message = failed.stderr.decode(errors="replace").strip()
        raise BackupError(f"{command[0]} failed: {message}") from None


def _count_encounters(engine: Engine, snapshot: Path, member: str) -> int:
    if member == SQLITE_MEMBER:
        with sqlite3.connect(snapshot) as connection:
            return connection.execute("SELECT count(*) FROM encounters").fetchone()[0]
    with engine.connect() as connection:
        return connection.execute(text("SELECT count(*) FROM encounters")).scalar_one()


def _write_tar(out, member, snapshot, store, names, engine, encounters) -> BackupSummary:
    files = {member: _sha256_file(snapshot)}
    fd, temp_name = tempfile.mkstemp(dir=out.parent, prefix=".backup-", suffix=".tar")
    os.close(fd)
    try:
        with tarfile.open(temp_name, "w") as tar:
            tar.add(snapshot, arcname=member)
            for name in names:
                data = store.read(name)
                files[f"media/{name}"] = hashlib.sha256(data).hexdigest()
                info = tarfile.TarInfo(f"media/{name}")
                info.size = len(data)
                info.mode = 0o644
                tar.addfile(info, io.BytesIO(data))
            manifest = {
                "format": FORMAT,
                "created_at": utcnow().isoformat(),
                "database": engine.dialect.name,
                "encounters": encounters,
                "files": files,
            }
            data = json.dumps(manifest, indent=1, sort_keys=True).encode()
            info = tarfile.TarInfo(MANIFEST)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
        with open(temp_name, "rb") as written:
            os.fsync(written.fileno())
        os.replace(temp_name, out)
    finally:
        Path(temp_name).unlink(missing_ok=True)
    return BackupSummary(out, encounters, len(names), out.stat().st_size)


# Restore ---------------------------------------------------------------------------------


def instance_is_empty(engine: Engine, store: MediaStore) -> str | None:
    """None when the instance holds no data; else what it holds, in words."""
    if not store.is_empty():
        return f"the media store {store.location} has files"
    if engine.dialect.name == "sqlite" and not _sqlite_file_exists(engine):
        return None  # asking would create the file: a refused restore must leave nothing
    with engine.connect() as connection:
        for table in DATA_TABLES:
            try:
                rows = connection.execute(text(f"SELECT count(*) FROM {table}")).scalar_one()  # noqa: S608
            except Exception:  # noqa: BLE001 - no such table: an unmigrated, empty database
                connection.rollback()
                continue
            if rows:
                return f"the database has {rows} row(s) in {table}"
    return None


def _sqlite_file_exists(engine: Engine) -> bool:
    database = make_url(str(engine.url)).database
    return not database or database == ":memory:" or Path(database).exists()


def restore(engine: Engine, store: MediaStore, archive: Path) -> BackupSummary:
    """Put the backup `archive` into this empty instance, after checking every file's hash.

    Nothing is written, neither the database nor a media file, unless every member of the
    archive is a regular file with a name fieldapp writes (see `_refusal()`), every file the
    manifest lists is there exactly once with its SHA-256, and every media file's place is
    inside the media folder (for a folder store).
    """
    if not archive.is_file():
        raise BackupError(f"No backup file {archive}.")
    try:
        holding = instance_is_empty(engine, store)
    except StorageUnavailable as error:
        raise BackupError(
            f"The media store {store.location} cannot be reached ({error.strerror}); nothing "
            "was restored."
        ) from None
    if holding:
        raise BackupError(
            f"Refusing to restore into an instance that holds data ({holding}). Restore into "
            "an empty instance: a new FIELDAPP_DATABASE_URL and FIELDAPP_MEDIA_DIR (or "
            "FIELDAPP_MEDIA_URL)."
        )
    with tempfile.TemporaryDirectory(prefix="fieldapp-restore-") as scratch_dir:
        scratch = Path(scratch_dir)
        manifest = _extract_verified(archive, scratch)
        if manifest["database"] != engine.dialect.name:
            raise BackupError(
                f"This backup is of a {manifest['database']} database; this instance uses "
                f"{engine.dialect.name}."
            )
        media = [name for name in manifest["files"] if name.startswith("media/")]
        if isinstance(store, FolderStore):
            for name in media:
                _check_media_target(store.root, name, archive)
        if engine.dialect.name == "sqlite":
            _restore_sqlite(engine, scratch / SQLITE_MEMBER)
        else:
            _run(["pg_restore", "--no-owner", "--clean", "--if-exists", "--single-transaction",
                  "--dbname", _libpq_url(engine), str(scratch / POSTGRES_MEMBER)], engine)  # fmt: skip
        for name in media:
            try:
                store.write_as(name.removeprefix("media/"), (scratch / name).read_bytes())
            except StorageUnavailable as error:
                raise BackupError(
                    f"The media store {store.location} could not take {name}: {error.strerror}. "
                    "Empty it and the database, then restore again."
                ) from None
    return BackupSummary(archive, manifest["encounters"], len(media), archive.stat().st_size)


#: The media files a backup may hold: exactly the names fieldapp/media writes. A photo's files
#: are `<variant>/<xx>/<sha256>.<ext>` (storage.py: named by their SHA-256, `xx` its first two
#: digits); a reduced display copy is `sized/<xx>/<sha256 of its display file>-<width>w.jpg`.
MEDIA_NAME = re.compile(
    rf"media/(?:(?:{'|'.join(VARIANTS)})/(?P<a>[0-9a-f]{{2}})/(?P=a)[0-9a-f]{{62}}\.(?:jpg|png)"
    rf"|{SIZED}/(?P<s>[0-9a-f]{{2}})/(?P=s)[0-9a-f]{{62}}-[0-9]{{1,5}}w\.jpg)"
)
DATABASE_MEMBERS = {"sqlite": SQLITE_MEMBER, "postgresql": POSTGRES_MEMBER}
#: What a member that is not a regular file is, in words.
_MEMBER_KINDS = {
    tarfile.SYMTYPE: "a symbolic link",
    tarfile.LNKTYPE: "a hard link",
    tarfile.CHRTYPE: "a character device",
    tarfile.BLKTYPE: "a block device",
    tarfile.DIRTYPE: "a directory",
    tarfile.FIFOTYPE: "a named pipe",
    tarfile.CONTTYPE: "a contiguous file",
    tarfile.GNUTYPE_SPARSE: "a sparse file",
}
_WHAT_A_BACKUP_HOLDS = (
    "A fieldapp backup holds only regular files: backup.json, the database, and media files "
    "named media/<variant>/<xx>/<sha256>.<ext>."
)


def _extract_verified(archive: Path, scratch: Path) -> dict:
    """Copy the backup's files into `scratch`, checking each against the manifest's SHA-256.

    Every member is checked before any is read: only regular files, each once, named exactly
    as fieldapp names them (no absolute names, no `..`, no links, no devices, no folders).
    """
    try:
        with tarfile.open(archive, "r") as tar:
            members = tar.getmembers()
            manifest = _read_manifest(tar, members, archive)
            database_member = DATABASE_MEMBERS[manifest["database"]]
            seen: set[str] = set()
            for member in members:
                reason = _refusal(member, database_member, seen)
                if reason:
                    raise BackupError(
                        f"Refusing {archive}: {reason}; nothing was restored. {_WHAT_A_BACKUP_HOLDS}"
                    )
                seen.add(member.name)
            expected = manifest["files"]
            if seen - {MANIFEST} != set(expected) or database_member not in expected:
                raise BackupError("The backup's files do not match its manifest.")
            for member in members:
                if member.name != MANIFEST:
                    _copy_checked(tar, member, scratch / member.name, expected[member.name])
    except (tarfile.TarError, ValueError) as error:
        raise BackupError(f"{archive} is not a fieldapp backup ({error}).") from None
    except OSError as error:
        raise BackupError(
            f"Could not restore from {archive}: {error}. Nothing was restored."
        ) from None
    return manifest


def _refusal(member: tarfile.TarInfo, database_member: str, seen: set[str]) -> str | None:
    """Why this member cannot be restored, or None when it is a file fieldapp wrote."""
    name = member.name
    if PurePosixPath(name).is_absolute():
        return f"its member {name!r} has an absolute name"
    if ".." in PurePosixPath(name).parts:
        return f"its member {name!r} climbs out of its folder with '..'"
    if member.type not in (tarfile.REGTYPE, tarfile.AREGTYPE):
        kind = _MEMBER_KINDS.get(member.type, f"of tar type {member.type!r}")
        return f"its member {name!r} is {kind}, not a regular file"
    if name in seen:
        return f"it holds {name!r} twice"
    if name not in (MANIFEST, database_member) and not MEDIA_NAME.fullmatch(name):
        return f"its member {name!r} is not a file fieldapp writes"
    return None


def _read_manifest(tar: tarfile.TarFile, members: list[tarfile.TarInfo], archive: Path) -> dict:
    """`backup.json`, checked to be one regular file that reads as a manifest of our format."""
    found = [member for member in members if member.name == MANIFEST]
    if len(found) != 1 or found[0].type not in (tarfile.REGTYPE, tarfile.AREGTYPE):
        what = "no" if not found else "more than one" if len(found) > 1 else "an irregular"
        raise BackupError(f"{archive} is not a fieldapp backup ({what} {MANIFEST}).")
    source = tar.extractfile(found[0])
    try:
        manifest = json.loads(source.read()) if source else None
    except ValueError:
        manifest = None
    if not isinstance(manifest, dict):
        raise BackupError(f"{archive} is not a fieldapp backup ({MANIFEST} is not a manifest).")
    if manifest.get("format") != FORMAT:
        raise BackupError(f"Unknown backup format {manifest.get('format')!r}.")
    files = manifest.get("files")
    well_formed = (
        manifest.get("database") in DATABASE_MEMBERS
        and isinstance(manifest.get("encounters"), int)
        and isinstance(files, dict)
        and all(isinstance(d, str) and re.fullmatch("[0-9a-f]{64}", d) for d in files.values())
    )
    if not well_formed:
        raise BackupError(f"{archive} is not a fieldapp backup ({MANIFEST} is incomplete).")
    return manifest


def _copy_checked(tar: tarfile.TarFile, member: tarfile.TarInfo, target: Path, digest: str):
    """Write the member's bytes to `target` (in the scratch folder), checking its SHA-256."""
    source = tar.extractfile(member)
    if source is None:
        raise BackupError(f"{member.name} in the backup cannot be read.")
    target.parent.mkdir(parents=True, exist_ok=True)
    hashed = hashlib.sha256()
    with target.open("xb") as copy:
        while chunk := source.read(_CHUNK):
            hashed.update(chunk)
            copy.write(chunk)
    if hashed.hexdigest() != digest:
        raise BackupError(f"{member.name} in the backup is damaged (its SHA-256 does not match).")


def _check_media_target(media_dir: Path, name: str, archive: Path) -> None:
    """Where the backup's media file `name` goes; refused unless inside `media_dir`, even
    through a link already in the media folder, and free."""
    target = media_dir / name.removeprefix("media/")
    root = media_dir.resolve()
    if not target.resolve().is_relative_to(root):
        raise BackupError(
            f"Refusing {archive}: {name} would be written outside the media folder {root}; "
            "nothing was restored."
        )
    if target.exists() or target.is_symlink():
        raise BackupError(f"Refusing {archive}: {target} already exists; nothing was restored.")


def _restore_sqlite(engine: Engine, snapshot: Path) -> None:
    engine.dispose()  # no pooled connection may hold the old file
    target_path = make_url(str(engine.url)).database
    # Not None: the app's SQLite database is a file (an in-memory `sqlite://` has no backup).
    assert target_path is not None
    Path(target_path).parent.mkdir(parents=True, exist_ok=True)
    source = sqlite3.connect(snapshot)
    destination = sqlite3.connect(target_path)
    try:
        source.backup(destination)  # replaces the (empty) database, WAL or not, atomically
    finally:
        source.close()
        destination.close()

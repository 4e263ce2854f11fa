"""`flask restore` writes nothing unless every member of the archive is a file fieldapp wrote.

Each archive here is crafted by hand, its manifest's hashes matching, so that only the member
under test can be the reason for a refusal: a name with `..` or an absolute name, a symbolic or
hard link, a device, a folder posing as a photo, a member twice, a name fieldapp never writes,
or a media folder that leads elsewhere. A refused restore writes nothing, neither the database
nor a media file, inside the instance or outside it.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import shutil
import sqlite3
import subprocess
import sys
import tarfile
from pathlib import Path

import pytest

from fieldapp import create_app
from fieldapp.extensions import db
from tests.conftest import app_config

ROOT = Path(__file__).resolve().parent.parent
PHOTO = b"\xff\xd8\xff\xe0 not really a photo, but bytes with a hash\xff\xd9"
DIGEST = hashlib.sha256(PHOTO).hexdigest()
#: A name exactly as fieldapp/media/storage.py writes it.
PHOTO_NAME = f"media/archive/{DIGEST[:2]}/{DIGEST}.jpg"
SECRET = b"the instance's secret key\n"


def regular(name: str, data: bytes) -> tuple[tarfile.TarInfo, bytes]:
    info = tarfile.TarInfo(name)
    info.size = len(data)
    return info, data


def special(name: str, kind: bytes, linkname: str = "") -> tuple[tarfile.TarInfo, None]:
    info = tarfile.TarInfo(name)
    info.type = kind
    info.linkname = linkname
    return info, None


def craft(path: Path, database: Path, members: list, hashes: dict[str, bytes] | None = None):
    """A tar like `flask backup` writes: the database snapshot, `members`, and a manifest whose
    SHA-256 for each member is that of its bytes (or of `hashes[name]` for links and the like,
    the bytes they would lead to)."""
    snapshot = database.read_bytes()
    entries = [regular("database.sqlite3", snapshot), *members]
    files = {}
    for info, data in entries:
        content = (hashes or {}).get(info.name, data if data is not None else b"")
        files[info.name] = hashlib.sha256(content).hexdigest()
    manifest = {"format": 1, "created_at": "2026-01-01T00:00:00+00:00", "database": "sqlite",
                "encounters": 0, "files": files}  # fmt: skip
    with tarfile.open(path, "w", format=tarfile.PAX_FORMAT) as tar:
        for info, data in entries:
            tar.addfile(info, io.BytesIO(data) if data is not None else None)
        body = json.dumps(manifest).encode()
        info, _ = regular("backup.json", body)
        tar.addfile(info, io.BytesIO(body))
    return path


def snapshot(root: Path) -> dict[str, str]:
    """Every path under `root`: a file's SHA-256, a link's target, or "dir"."""
    seen = {}
    for path in sorted(root.rglob("*")):
        key = path.relative_to(root).as_posix()
        if path.is_symlink():
            seen[key] = "-> " + os.readlink(path)
        elif path.is_dir():
            seen[key] = "dir"
        else:
            seen[key] = hashlib.sha256(path.read_bytes()).hexdigest()
    return seen


@pytest.fixture
def instance(tmp_path):
    """A brand-new instance (no database file yet) in tmp_path/instance, with a secret key and
    a file beside its media folder that an escaping member would overwrite."""
    root = tmp_path / "instance"
    root.mkdir()
    (root / "secret_key").write_bytes(SECRET)
    (root / "victim.txt").write_text("untouched\n")
    app = create_app(app_config(root))
    yield app
    with app.app_context():
        db.engine.dispose()


def restore(app, archive: Path):
    result = app.test_cli_runner().invoke(args=["restore", str(archive)])
    with app.app_context():
        db.engine.dispose()
    return result


def assert_refused_and_nothing_written(app, tmp_path, archive, message):
    before = snapshot(tmp_path)
    result = restore(app, archive)
    assert result.exit_code == 1, result.output
    assert message in result.output
    assert "nothing was restored" in result.output
    assert result.output.startswith("Error: ")
    assert "Traceback" not in result.output
    assert snapshot(tmp_path) == before  # neither the database nor any file, here or beside
    assert not (tmp_path / "instance" / "fieldapp.sqlite3").exists()


def test_a_crafted_backup_of_regular_files_restores(instance, tmp_path, migrated_db):
    """The control: the same kind of hand-made archive, with nothing wrong in it, restores."""
    archive = craft(tmp_path / "good.tar", migrated_db, [regular(PHOTO_NAME, PHOTO)])
    result = restore(instance, archive)
    assert result.exit_code == 0, result.output
    media = Path(instance.config["MEDIA_DIR"])
    assert (media / PHOTO_NAME.removeprefix("media/")).read_bytes() == PHOTO
    assert [p for p in media.rglob("*") if p.is_file()] == [media / PHOTO_NAME[6:]]
    assert (tmp_path / "instance" / "victim.txt").read_text() == "untouched\n"


@pytest.mark.parametrize(
    ("name", "message"),
    [
        # The old restore put this at media/../victim.txt: beside the media folder.
        ("media/../victim.txt", "climbs out of its folder with '..'"),
        (f"media/archive/{DIGEST[:2]}/../../../victim.txt", "climbs out of its folder"),
        ("media/archive/../../fieldapp/__init__.py", "climbs out of its folder"),
    ],
)
@pytest.mark.parametrize("media_folder", ["missing", "empty"])
def test_a_name_with_dot_dot_is_refused(
    instance, tmp_path, migrated_db, name, message, media_folder
):
    if media_folder == "empty":  # an instance that ran once: the old restore overwrote victim.txt
        Path(instance.config["MEDIA_DIR"]).mkdir()
    archive = craft(tmp_path / "evil.tar", migrated_db, [regular(name, b"import os  # owned\n")])
    assert_refused_and_nothing_written(instance, tmp_path, archive, message)
    assert (tmp_path / "instance" / "victim.txt").read_text() == "untouched\n"


def test_an_absolute_name_is_refused(instance, tmp_path, migrated_db):
    victim = tmp_path / "instance" / "victim.txt"
    archive = craft(tmp_path / "evil.tar", migrated_db, [regular(str(victim), b"owned\n")])
    assert_refused_and_nothing_written(instance, tmp_path, archive, "has an absolute name")


def test_a_symbolic_link_to_the_secret_key_is_refused(instance, tmp_path, migrated_db):
    """The old restore moved this link into the media folder (its hash was the secret file's,
    carried along in the archive): the gallery image would have been the secret key."""
    members = [
        special(PHOTO_NAME, tarfile.SYMTYPE, "../../../secret_key"),
        regular("secret_key", SECRET),
    ]
    archive = craft(tmp_path / "evil.tar", migrated_db, members, {PHOTO_NAME: SECRET})
    assert_refused_and_nothing_written(
        instance, tmp_path, archive, f"{PHOTO_NAME!r} is a symbolic link, not a regular file"
    )


def test_a_hard_link_is_refused(instance, tmp_path, migrated_db):
    """A hard link to the archive's own database: the old restore put a copy of it among the
    photos."""
    members = [special(PHOTO_NAME, tarfile.LNKTYPE, "database.sqlite3")]
    hashes = {PHOTO_NAME: migrated_db.read_bytes()}
    archive = craft(tmp_path / "evil.tar", migrated_db, members, hashes)
    assert_refused_and_nothing_written(instance, tmp_path, archive, "is a hard link")


@pytest.mark.parametrize(
    ("kind", "words"),
    [
        (tarfile.CHRTYPE, "is a character device"),
        (tarfile.BLKTYPE, "is a block device"),
        (tarfile.FIFOTYPE, "is a named pipe"),
        (tarfile.DIRTYPE, "is a directory"),  # a folder posing as a photo
    ],
)
def test_devices_pipes_and_folders_are_refused(instance, tmp_path, migrated_db, kind, words):
    archive = craft(tmp_path / "evil.tar", migrated_db, [special(PHOTO_NAME, kind)])
    assert_refused_and_nothing_written(instance, tmp_path, archive, words)


def test_a_member_twice_is_refused(instance, tmp_path, migrated_db):
    """Two members of one name: which one would be restored? Neither."""
    members = [regular(PHOTO_NAME, PHOTO), regular(PHOTO_NAME, b"something else")]
    archive = craft(tmp_path / "evil.tar", migrated_db, members)
    assert_refused_and_nothing_written(instance, tmp_path, archive, f"holds {PHOTO_NAME!r} twice")


@pytest.mark.parametrize(
    "name",
    [
        "media/notes.txt",
        "secret_key",
        f"media/archive/{DIGEST}.jpg",  # not in its two-digit folder
        f"media/archive/00/{DIGEST}.jpg",  # the wrong folder for its hash
        f"media/archive/{DIGEST[:2]}/{DIGEST}.jpg.py",
        f"media/./archive/{DIGEST[:2]}/{DIGEST}.jpg",
        f"media//archive/{DIGEST[:2]}/{DIGEST}.jpg",
        f"media/other/{DIGEST[:2]}/{DIGEST}.jpg",
    ],
)
def test_a_name_fieldapp_never_writes_is_refused(instance, tmp_path, migrated_db, name):
    archive = craft(tmp_path / "evil.tar", migrated_db, [regular(name, PHOTO)])
    assert_refused_and_nothing_written(instance, tmp_path, archive, "is not a file fieldapp writes")


def test_a_media_folder_leading_elsewhere_is_refused(tmp_path, migrated_db):
    """An honest archive, but the empty instance's media folder holds a link to another folder:
    nothing may be written through it."""
    root = tmp_path / "instance"
    elsewhere = tmp_path / "elsewhere"
    (root / "media").mkdir(parents=True)
    elsewhere.mkdir()
    (root / "media" / "archive").symlink_to(elsewhere)
    app = create_app(app_config(root))
    archive = craft(tmp_path / "honest.tar", migrated_db, [regular(PHOTO_NAME, PHOTO)])
    before = snapshot(tmp_path)
    result = restore(app, archive)
    assert result.exit_code == 1
    assert "would be written outside the media folder" in result.output
    assert snapshot(tmp_path) == before
    assert not (root / "fieldapp.sqlite3").exists()


def test_a_refused_restore_leaves_a_migrated_empty_database_as_it_was(tmp_path, migrated_db):
    root = tmp_path / "instance"
    root.mkdir()
    shutil.copy(migrated_db, root / "fieldapp.sqlite3")
    app = create_app(app_config(root))
    members = [regular("secret_key", SECRET), regular(PHOTO_NAME, PHOTO)]
    archive = craft(tmp_path / "evil.tar", migrated_db, members)
    before = snapshot(tmp_path)
    result = restore(app, archive)
    assert result.exit_code == 1
    assert "'secret_key' is not a file fieldapp writes" in result.output
    assert snapshot(tmp_path) == before
    with sqlite3.connect(root / "fieldapp.sqlite3") as connection:
        assert connection.execute("SELECT count(*) FROM encounters").fetchone() == (0,)


def test_the_real_command_refuses_with_one_line_and_status_1(tmp_path, migrated_db):
    """`flask --app fieldapp restore` as an administrator runs it: one clear line, exit 1."""
    root = tmp_path / "instance"
    root.mkdir()
    (root / "victim.txt").write_text("untouched\n")
    archive = craft(tmp_path / "evil.tar", migrated_db, [regular("media/../victim.txt", b"x")])
    env = {
        **os.environ,
        "FIELDAPP_SECRET_KEY": "restore test secret",
        "FIELDAPP_DATABASE_URL": f"sqlite:///{root / 'fieldapp.sqlite3'}",
        "FIELDAPP_MEDIA_DIR": str(root / "media"),
    }
    before = snapshot(tmp_path)
    result = subprocess.run(
        [sys.executable, "-m", "flask", "--app", "fieldapp", "restore", str(archive)],
        env=env, cwd=ROOT, capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert result.returncode == 1, result.stderr
    assert result.stderr.startswith("Error: Refusing ")
    assert "climbs out of its folder with '..'" in result.stderr
    assert result.stderr.count("\n") == 1
    assert snapshot(tmp_path) == before

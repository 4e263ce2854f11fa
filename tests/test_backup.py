"""`flask backup` / `flask restore`: a snapshot of the database and the media, round-tripped."""

from __future__ import annotations

import hashlib
import json
import shutil
import sqlite3
import tarfile
from pathlib import Path

import pytest

from fieldapp import create_app
from fieldapp.extensions import db
from tests.conftest import app_config
from tests.dataset_fixtures import make_collection
from tests.factories import stored_files


def fresh_app(root: Path, migrated_db: Path | None = None):
    root.mkdir(parents=True, exist_ok=True)
    if migrated_db is not None:
        shutil.copy(migrated_db, root / "fieldapp.sqlite3")
    return create_app(app_config(root))


def dump(app) -> dict:
    """Every encounter, photo and consent event as plain rows, and every media file's hash."""
    path = Path(app.config["SQLALCHEMY_DATABASE_URI"].removeprefix("sqlite:///"))
    with sqlite3.connect(path) as connection:
        tables = {
            table: connection.execute(f"SELECT * FROM {table} ORDER BY id").fetchall()  # noqa: S608
            for table in ("encounters", "photos", "tickets", "consent_events", "consent_versions")
        }
    media = Path(app.config["MEDIA_DIR"])
    files = {
        p.relative_to(media).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in stored_files(app)
    }
    return {"tables": tables, "files": files}


def run(app, *args):
    result = app.test_cli_runner().invoke(args=list(args))
    with app.app_context():
        db.engine.dispose()
    return result


def test_backup_then_restore_into_an_empty_instance_round_trips(live_app, tmp_path, migrated_db):
    make_collection(live_app)
    before = dump(live_app)
    assert before["files"] and len(before["tables"]["encounters"]) == 5
    result = run(live_app, "backup", str(tmp_path / "snapshot.tar"))
    assert result.exit_code == 0, result.output

    # Into a brand-new instance with no database file at all...
    empty = fresh_app(tmp_path / "new")
    result = run(empty, "restore", str(tmp_path / "snapshot.tar"))
    assert result.exit_code == 0, result.output
    assert dump(empty) == before
    # ...and into a migrated instance that holds no data yet.
    migrated = fresh_app(tmp_path / "migrated", migrated_db)
    result = run(migrated, "restore", str(tmp_path / "snapshot.tar"))
    assert result.exit_code == 0, result.output
    assert dump(migrated) == before


def test_restore_refuses_an_instance_that_holds_data(live_app, tmp_path, migrated_db):
    make_collection(live_app)
    assert run(live_app, "backup", str(tmp_path / "snapshot.tar")).exit_code == 0
    before = dump(live_app)
    result = run(live_app, "restore", str(tmp_path / "snapshot.tar"))
    assert result.exit_code != 0
    assert "Refusing to restore into an instance that holds data" in result.output
    assert dump(live_app) == before


def test_restore_refuses_a_damaged_backup_and_changes_nothing(live_app, tmp_path):
    make_collection(live_app)
    assert run(live_app, "backup", str(tmp_path / "snapshot.tar")).exit_code == 0
    # Flip bytes in one media file inside the tar.
    with tarfile.open(tmp_path / "snapshot.tar") as tar:
        tar.extractall(tmp_path / "unpacked", filter="data")
    manifest = json.loads((tmp_path / "unpacked" / "backup.json").read_text())
    victim = next(name for name in manifest["files"] if name.startswith("media/"))
    path = tmp_path / "unpacked" / victim
    path.write_bytes(path.read_bytes()[:-10] + b"0123456789")
    with tarfile.open(tmp_path / "damaged.tar", "w") as tar:
        for name in [*manifest["files"], "backup.json"]:
            tar.add(tmp_path / "unpacked" / name, arcname=name)
    empty = fresh_app(tmp_path / "new")
    result = run(empty, "restore", str(tmp_path / "damaged.tar"))
    assert result.exit_code != 0 and "damaged" in result.output
    assert not stored_files(empty)


@pytest.mark.parametrize("name", ["missing.tar", "not-a-backup.tar"])
def test_restore_explains_a_file_that_is_not_a_backup(tmp_path, name):
    (tmp_path / "not-a-backup.tar").write_bytes(b"hello")
    empty = fresh_app(tmp_path / "new")
    result = run(empty, "restore", str(tmp_path / name))
    assert result.exit_code != 0
    assert "No backup file" in result.output or "is not a fieldapp backup" in result.output

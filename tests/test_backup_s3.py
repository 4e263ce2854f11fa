"""`flask backup` / `flask restore` with the photos in a bucket of a real S3 server (SeaweedFS):
a backup of an app on S3 restores into an empty bucket and into a folder, a folder's backup
into a bucket, every hash checked; a bucket that holds objects is refused, and a store that
does not answer is a one-line error."""

from __future__ import annotations

import hashlib
import json
import tarfile

import pytest

from tests import s3_app
from tests.helpers import free_port
from tests.media_instances import Instance, plain_photo, store_contents

# One SeaweedFS for the module (tests/s3_app.py); every test reaches it with the AWS_* variables.
seaweed = s3_app.seaweed
s3_credentials = s3_app.s3_credentials
pytestmark = pytest.mark.usefixtures("s3_credentials")


def on_s3(seaweed, root, migrated_db=None, prefix: str = "media") -> Instance:
    bucket = seaweed.new_bucket()
    return Instance(
        root,
        migrated_db=migrated_db,
        media_url=f"s3://{bucket}/{prefix}",
        endpoint=seaweed.endpoint,
    )


def manifest_of(archive) -> dict:
    with tarfile.open(archive) as tar:
        return json.loads(tar.extractfile("backup.json").read())


def test_a_backup_moves_between_a_bucket_and_a_folder_both_ways(seaweed, tmp_path, migrated_db):
    app_on_s3 = on_s3(seaweed, tmp_path / "live", migrated_db)
    tokens = [app_on_s3.upload(plain_photo(index)) for index in range(3)]
    rows, files = app_on_s3.rows(), store_contents(app_on_s3.store)
    assert len(files) == 9 and not list((tmp_path / "live").rglob("*.jpg"))

    result = app_on_s3.run("backup", str(tmp_path / "from-s3.tar"))
    assert result.exit_code == 0, result.output
    manifest = manifest_of(tmp_path / "from-s3.tar")
    assert {
        k.removeprefix("media/"): v for k, v in manifest["files"].items() if k != "database.sqlite3"
    } == files

    # Into an empty bucket, with no database file yet.
    new_s3 = on_s3(seaweed, tmp_path / "new-s3", prefix="restored")
    result = new_s3.run("restore", str(tmp_path / "from-s3.tar"))
    assert result.exit_code == 0, result.output
    assert new_s3.rows() == rows
    assert store_contents(new_s3.store) == files
    assert new_s3.drawing(tokens[0]).status_code == 200

    # Into a folder, from the same backup of a bucket.
    in_folder = Instance(tmp_path / "folder")
    result = in_folder.run("restore", str(tmp_path / "from-s3.tar"))
    assert result.exit_code == 0, result.output
    assert in_folder.rows() == rows
    assert store_contents(in_folder.store) == files
    assert in_folder.drawing(tokens[1]).status_code == 200

    # And the folder's own backup into another empty bucket.
    assert in_folder.run("backup", str(tmp_path / "from-folder.tar")).exit_code == 0
    again_s3 = on_s3(seaweed, tmp_path / "again-s3", prefix="")
    result = again_s3.run("restore", str(tmp_path / "from-folder.tar"))
    assert result.exit_code == 0, result.output
    assert again_s3.rows() == rows
    assert store_contents(again_s3.store) == files
    for name, digest in files.items():  # as the bucket holds them, read directly
        body = seaweed.client().get_object(Bucket=again_s3.store.bucket, Key=name)["Body"].read()
        assert hashlib.sha256(body).hexdigest() == digest


def test_restore_refuses_a_bucket_that_holds_objects(seaweed, tmp_path, migrated_db):
    app_on_s3 = on_s3(seaweed, tmp_path / "live", migrated_db)
    app_on_s3.upload(plain_photo(7))
    assert app_on_s3.run("backup", str(tmp_path / "snapshot.tar")).exit_code == 0

    # A new, empty database, but a bucket (under the same prefix) that is not empty.
    bucket = app_on_s3.store.bucket
    seaweed.client().put_object(Bucket=bucket, Key="media/notes.txt", Body=b"someone's file")
    busy = Instance(tmp_path / "new", media_url=f"s3://{bucket}/media", endpoint=seaweed.endpoint)
    keys = seaweed.keys(bucket)
    result = busy.run("restore", str(tmp_path / "snapshot.tar"))
    assert result.exit_code == 1
    assert "Refusing to restore into an instance that holds data" in result.output
    assert f"the media store s3://{bucket}/media/ has files" in result.output
    assert seaweed.keys(bucket) == keys
    assert busy.rows() == {}  # no database was made


def test_a_store_that_does_not_answer_is_a_clear_error(seaweed, tmp_path, migrated_db):
    app_on_s3 = on_s3(seaweed, tmp_path / "live", migrated_db)
    app_on_s3.upload(plain_photo(3))
    assert app_on_s3.run("backup", str(tmp_path / "snapshot.tar")).exit_code == 0

    # Nothing listens on this port: the store cannot be reached.
    unreachable = f"http://127.0.0.1:{free_port()}"
    cut_off = app_on_s3.same_data(endpoint=unreachable)
    result = cut_off.run("backup", str(tmp_path / "again.tar"))
    assert result.exit_code == 1
    assert result.output.startswith("Error: The media store") and "Traceback" not in result.output
    assert "cannot be reached" in result.output
    assert not (tmp_path / "again.tar").exists()

    empty = Instance(tmp_path / "new", media_url="s3://nobody-here/media", endpoint=unreachable)
    result = empty.run("restore", str(tmp_path / "snapshot.tar"))
    assert result.exit_code == 1
    assert result.output.startswith("Error: The media store") and "Traceback" not in result.output
    assert empty.rows() == {}

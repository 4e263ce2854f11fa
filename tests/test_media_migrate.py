"""`flask media migrate --to`: every photo file copied to a bucket of a real S3 server
(SeaweedFS) and back to a folder, each hash checked; stopped halfway by the store dying, it
goes on where it stopped; a damaged copy is replaced, a damaged source file reported."""

from __future__ import annotations

import hashlib
import re
import threading
import time

import pytest

from fieldapp.cli import SCRUBBED_MARK
from fieldapp.media.storage import FolderStore
from tests import s3_app
from tests.media_instances import Instance, pixels, plain_photo, store_contents
from tests.netproxy import NetProxy

PHOTOS = 4


# One SeaweedFS for the module (tests/s3_app.py); every test reaches it with the AWS_* variables.
seaweed = s3_app.seaweed
s3_credentials = s3_app.s3_credentials
pytestmark = pytest.mark.usefixtures("s3_credentials")


@pytest.fixture
def on_a_folder(tmp_path, migrated_db, seaweed) -> tuple[Instance, list[str]]:
    """An instance on its media folder with PHOTOS drawings uploaded through the API, the
    first two also fetched at 720 px wide (their reduced copies made), and a file no drawing
    uses (a crash's leftover)."""
    instance = Instance(tmp_path / "folder", migrated_db=migrated_db, endpoint=seaweed.endpoint)
    tokens = [instance.upload(plain_photo(index)) for index in range(PHOTOS)]
    for token in tokens[:2]:
        assert instance.drawing(token, width=720).status_code == 200
    FolderStore(instance.media_dir).write("archive", b"left by a crash", "jpg")
    return instance, tokens


def summary_of(result) -> str:
    return next(line for line in result.output.splitlines() if line.startswith("Copied "))


def referenced(instance: Instance) -> dict[str, str]:
    """The store's files a drawing uses (everything but the crash's leftover)."""
    return {
        name: digest
        for name, digest in store_contents(instance.store).items()
        if digest != _LEFTOVER_SHA256
    }


_LEFTOVER_SHA256 = hashlib.sha256(b"left by a crash").hexdigest()


def test_photos_move_to_a_bucket_and_back_and_are_served_from_each(on_a_folder, seaweed, tmp_path):
    instance, tokens = on_a_folder
    before = referenced(instance)
    assert len(before) == 3 * PHOTOS + 2  # archive, display, thumb each; two reduced copies
    served = {token: pixels(instance.drawing(token).data) for token in tokens}
    rows = instance.rows()
    bucket = seaweed.new_bucket()
    # The mark a finished `media scrub` leaves goes along: the files are as clean in the bucket.
    instance.store.replace(SCRUBBED_MARK, b"scrubbed")

    result = instance.run("media", "migrate", "--to", f"s3://{bucket}/photos")
    assert result.exit_code == 0, result.output
    assert summary_of(result) == (
        f"Copied {len(before) + 1}, already there 0, skipped (unreferenced) 1, problems 0."
    )
    assert f"set FIELDAPP_MEDIA_URL=s3://{bucket}/photos" in result.output
    assert seaweed.keys(bucket) == sorted(f"photos/{name}" for name in [*before, SCRUBBED_MARK])
    objects = seaweed.client()
    for name, digest in before.items():
        body = objects.get_object(Bucket=bucket, Key=f"photos/{name}")["Body"].read()
        assert hashlib.sha256(body).hexdigest() == digest
    assert instance.rows() == rows  # the database is not touched...
    assert len(store_contents(instance.store)) == len(before) + 1  # ...nor the folder

    # The app switched to the bucket serves every drawing, the same pixels.
    on_s3 = instance.same_data(media_url=f"s3://{bucket}/photos")
    for token in tokens:
        response = on_s3.drawing(token)
        assert response.status_code == 200
        assert pixels(response.data) == served[token]
    assert on_s3.drawing(tokens[0], width=720).status_code == 200
    assert "scrubbed before: nothing to do" in on_s3.run("media", "scrub", "--once").output

    # And back to a new folder, from the app on the bucket.
    result = on_s3.run("media", "migrate", "--to", str(tmp_path / "back"))
    assert result.exit_code == 0, result.output
    assert summary_of(result) == (
        f"Copied {len(before) + 1}, already there 0, skipped (unreferenced) 0, problems 0."
    )
    assert "unset FIELDAPP_MEDIA_URL" in result.output
    on_folder_again = on_s3.same_data(media_url=None, media_dir=tmp_path / "back")
    assert store_contents(on_folder_again.store) == before
    for token in tokens:
        assert pixels(on_folder_again.drawing(token).data) == served[token]


def test_a_migration_stopped_by_the_store_dying_goes_on_where_it_stopped(on_a_folder, seaweed):
    instance, _tokens = on_a_folder
    total = len(referenced(instance))
    bucket = seaweed.new_bucket()
    # The command reaches the store through a slow network, so that it is surely halfway
    # when the store dies.
    with NetProxy(seaweed.s3, mode="slow") as network:
        network.set_mode("slow", delay=0.08)
        through_network = instance.same_data(endpoint=network.url)
        finished = []
        running = threading.Thread(
            target=lambda: finished.append(
                through_network.run("media", "migrate", "--to", f"s3://{bucket}/photos")
            )
        )
        running.start()
        try:
            copied_before = _wait_for_objects(seaweed, bucket, 3, running)
            seaweed.kill()
        finally:
            running.join(timeout=120)
            if seaweed.process.poll() is not None:
                seaweed.start()  # the store is back, with what it had taken
    [stopped] = finished
    assert stopped.exit_code == 1, stopped.output
    assert "Stopped: the destination" in stopped.output
    assert "Run the same command again" in stopped.output
    assert re.search(
        r"^Copied \d+, already there 0, skipped \(unreferenced\) 1, problems 0\.$",
        stopped.output,
        re.M,
    )

    kept = len(seaweed.keys(bucket))
    assert copied_before <= kept < total
    result = instance.run("media", "migrate", "--to", f"s3://{bucket}/photos")
    assert result.exit_code == 0, result.output
    assert summary_of(result) == (
        f"Copied {total - kept}, already there {kept}, skipped (unreferenced) 1, problems 0."
    )
    assert len(seaweed.keys(bucket)) == total

    again = instance.run("media", "migrate", "--to", f"s3://{bucket}/photos")
    assert again.exit_code == 0, again.output
    assert summary_of(again) == (
        f"Copied 0, already there {total}, skipped (unreferenced) 1, problems 0."
    )


def _wait_for_objects(seaweed, bucket: str, count: int, running: threading.Thread) -> int:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        assert running.is_alive(), "the migration finished before the store died"
        found = len(seaweed.keys(bucket))
        if found >= count:
            return found
        time.sleep(0.05)
    pytest.fail(f"the migration never copied {count} files")


def test_a_damaged_copy_is_replaced_and_a_damaged_source_file_is_reported(on_a_folder, seaweed):
    instance, _tokens = on_a_folder
    before = referenced(instance)
    bucket = seaweed.new_bucket()
    assert instance.run("media", "migrate", "--to", f"s3://{bucket}").exit_code == 0

    # An object changed behind the app's back (no sha256 metadata): found and replaced.
    damaged = next(name for name in before if name.startswith("display/"))
    seaweed.client().put_object(Bucket=bucket, Key=damaged, Body=b"not the display image")
    result = instance.run("media", "migrate", "--to", f"s3://{bucket}")
    assert result.exit_code == 0, result.output
    assert summary_of(result) == (
        f"Copied 1, already there {len(before) - 1}, skipped (unreferenced) 1, problems 0."
    )
    body = seaweed.client().get_object(Bucket=bucket, Key=damaged)["Body"].read()
    assert hashlib.sha256(body).hexdigest() == before[damaged]

    # A source file whose bytes changed on disk, and one gone: reported, the others copied.
    rotten = next(name for name in before if name.startswith("archive/"))
    lost = next(name for name in before if name.startswith("thumb/"))
    path = instance.media_dir / rotten
    path.write_bytes(path.read_bytes()[:-16] + b"0123456789abcdef")
    (instance.media_dir / lost).unlink()
    fresh = seaweed.new_bucket()
    result = instance.run("media", "migrate", "--to", f"s3://{fresh}")
    assert result.exit_code == 1
    assert summary_of(result) == (
        f"Copied {len(before) - 2}, already there 0, skipped (unreferenced) 1, problems 2."
    )
    assert f"{rotten}: damaged in {instance.media_dir}" in result.output
    assert f"{lost}: missing from {instance.media_dir}" in result.output
    assert "Nothing was switched" in result.output
    assert seaweed.keys(fresh) == sorted(set(before) - {rotten, lost})


def test_refuses_the_store_in_use_and_a_url_that_names_no_store(on_a_folder, seaweed):
    instance, _tokens = on_a_folder
    for to in (str(instance.media_dir), str(instance.media_dir / "archive")):
        result = instance.run("media", "migrate", "--to", to)
        assert result.exit_code == 2
        assert "the store in use" in result.output
    bucket = seaweed.new_bucket()
    on_s3 = instance.same_data(media_url=f"s3://{bucket}/photos")
    for to in (f"s3://{bucket}/photos", f"s3://{bucket}/photos/", f"s3://{bucket}"):
        result = on_s3.run("media", "migrate", "--to", to)
        assert result.exit_code == 2, result.output
        assert "the store in use" in result.output
    for to in ("s3:/photos", "https://example.org/photos", "s3://bucket/photos?x=1"):
        result = instance.run("media", "migrate", "--to", to)
        assert result.exit_code == 2, result.output
        assert f"Refusing --to {to}: A media URL" in result.output
    assert seaweed.keys(bucket) == []

    result = instance.run("media", "migrate", "--to", "s3://no-such-bucket/photos")
    assert result.exit_code == 1
    assert "Nothing was copied: the destination s3://no-such-bucket/photos/ cannot be" in (
        result.output
    )

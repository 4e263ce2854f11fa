"""`flask media scrub`: photo files stored before every file was clean lose their metadata on
disk, with their pixels untouched, their Photo row pointed at the clean files in one write
transaction and the old files deleted after it; a second run, or a clean store, changes nothing.

The stores "of an older version" are made here as that version made them: a photo recorded
through the real service, then its files written again with a camera's comment (JPEG COM) or
PNG text chunks holding where someone lives, straight into the media store, and its row
pointed at them.
"""

from __future__ import annotations

import errno
import functools
import io
import struct
import zlib
from pathlib import Path

import pytest
from PIL import Image
from sqlalchemy import select

from fieldapp.cli import SCRUBBED_MARK
from fieldapp.extensions import db
from fieldapp.media import scrub
from fieldapp.media.images import SIZED_WIDTHS
from fieldapp.media.models import Photo
from fieldapp.media.scrub import without_metadata
from fieldapp.media.services import VARIANTS, file_name, media_store, sized_name
from fieldapp.media.storage import FolderStore
from fieldapp.media.xmp import PNG_SIGNATURE
from tests import photo_corpus as corpus
from tests.factories import make_encounter, number_of, token_of
from tests.factories import stored_files as all_stored_files
from tests.helpers import EXIFTOOL, exiftool, not_clean
from tests.postgres import on_both_databases

SECRET = corpus.SECRET.encode()


@functools.cache
def jpeg_photo() -> bytes:
    """A drawing as the phone sends it (1200×1600, sRGB profile): its display image is wide
    enough for every reduced copy."""
    return corpus._save(
        corpus.drawing((1200, 1600)), "JPEG", quality=90, icc_profile=corpus.icc_srgb()
    )


@functools.cache
def png_photo() -> bytes:
    """A PNG upload: its archive copy is a lossless PNG."""
    return corpus.png_bytes((1200, 1600))


def com(text: bytes) -> bytes:
    return b"\xff\xfe" + struct.pack(">H", len(text) + 2) + text


def png_chunk(kind: bytes, body: bytes) -> bytes:
    crc = struct.pack(">I", zlib.crc32(kind + body) & 0xFFFFFFFF)
    return struct.pack(">I", len(body)) + kind + body + crc


def png_with_chunks(png: bytes, *chunks: bytes) -> bytes:
    """The PNG with `chunks` right after IHDR."""
    after_ihdr = 8 + 12 + struct.unpack(">I", png[8:12])[0]
    return png[:after_ihdr] + b"".join(chunks) + png[after_ihdr:]


def jpeg_as_the_old_version_wrote_it(clean: bytes) -> bytes:
    """Pillow told to keep the camera's comment, as the writer did before encode_clean()."""
    image = Image.open(io.BytesIO(clean))
    out = io.BytesIO()
    image.save(out, "JPEG", quality=85, comment=SECRET, icc_profile=image.info.get("icc_profile"))
    return out.getvalue()


def with_metadata(variant: str, clean: bytes) -> bytes:
    """A stored file as an older version may have left it, the secret in its metadata."""
    if clean.startswith(PNG_SIGNATURE):
        return png_with_chunks(
            clean,
            png_chunk(b"tEXt", b"Comment\x00" + SECRET),
            png_chunk(b"zTXt", b"Description\x00\x00" + zlib.compress(SECRET)),
            png_chunk(b"iTXt", b"Location\x00\x00\x00en\x00Location\x00" + SECRET),
            png_chunk(b"tIME", b"\x07\xe9\x06\x0e\x0c\x00\x00"),
        )
    if variant == "display":
        return jpeg_as_the_old_version_wrote_it(clean)
    return corpus.with_segments(clean, com(SECRET), corpus.iptc_app13())


def store_the_old_way(
    app, photo: bytes, variants=VARIANTS
) -> tuple[str, dict[str, str], dict[str, str]]:
    """Record a drawing, then give its `variants` files metadata, written straight into the
    store with the row pointed at them (the clean files removed): the files an older version
    left. Returns the encounter's UUID, the names of its files and the names the app gives
    them today, by variant."""
    client_uuid = make_encounter(app, photo=photo)
    store = media_store_of(app)
    with app.app_context():
        row = db.session.scalar(select(Photo).where(Photo.encounter.has(uuid=client_uuid)))
        clean_names = {variant: file_name(row, variant) for variant in VARIANTS}
        for variant in variants:
            clean_name = clean_names[variant]
            legacy = with_metadata(variant, store.path(clean_name).read_bytes())
            assert SECRET in legacy
            extension = clean_name.rsplit(".", 1)[1]
            setattr(row, f"{variant}_name", store.write(variant, legacy, extension).name)
            store.remove(clean_name)
        db.session.commit()
        names = {variant: file_name(row, variant) for variant in VARIANTS}
    return client_uuid, names, clean_names


def media_store_of(app) -> FolderStore:
    with app.app_context():
        return media_store()


def photo_names(app, client_uuid: str) -> dict[str, str]:
    with app.app_context():
        row = db.session.scalar(select(Photo).where(Photo.encounter.has(uuid=client_uuid)))
        return {variant: file_name(row, variant) for variant in VARIANTS}


def stored_files(app) -> list[Path]:
    """The photo files (not the mark a finished scrub leaves)."""
    return [p for p in all_stored_files(app) if p.name != SCRUBBED_MARK]


def snapshot(app) -> dict[str, tuple[bytes, int]]:
    """Every media file: its bytes and the time it was last written."""
    root = Path(app.config["MEDIA_DIR"])
    return {
        p.relative_to(root).as_posix(): (p.read_bytes(), p.stat().st_mtime_ns)
        for p in stored_files(app)
    }


def run_scrub(app):
    return app.test_cli_runner().invoke(args=["media", "scrub"])


def pixels(data: bytes) -> tuple[str, tuple[int, int], bytes]:
    image = Image.open(io.BytesIO(data))
    return image.mode, image.size, image.tobytes()


def assert_no_metadata(paths: list[Path]) -> None:
    for path in paths:
        assert SECRET not in path.read_bytes() and corpus.SECRET_MARK not in path.read_bytes()
    if EXIFTOOL is None:  # the bytes above are the judge then; ExifTool is the stricter one
        return
    for path, tags in exiftool(paths).items():
        extra = not_clean(tags)
        assert extra == {}, f"{path} still holds {extra}"


# The command ------------------------------------------------------------------------------


@on_both_databases
def test_old_jpeg_files_lose_their_metadata_and_keep_their_pixels(app, client):
    client_uuid, old, today = store_the_old_way(app, jpeg_photo())
    store = media_store_of(app)
    before = {variant: store.path(name).read_bytes() for variant, name in old.items()}
    # A reduced copy made from the old display file, by the older version: the comment too.
    stale_copy = sized_name(old["display"], SIZED_WIDTHS[0])
    store.write_as(stale_copy, with_metadata("thumb", before["thumb"]))
    token, number = token_of(app, client_uuid), number_of(app, client_uuid)
    served_before = client.get(f"/p/{token}/drawing.jpg").data

    result = run_scrub(app)

    assert result.exit_code == 0, result.output
    assert result.output.strip() == (
        "Scrubbed 3 files of 1 photo; dropped 1 reduced copy; checked 4 files."
    )
    new = photo_names(app, client_uuid)
    assert all(new[v] != old[v] for v in VARIANTS)
    # The comment and IPTC segments added to the thumbnail were dropped byte-wise: it is again,
    # byte for byte, the file the app writes today (so the same name).
    assert new["thumb"] == today["thumb"]
    assert_no_metadata([store.path(name) for name in new.values()])
    for variant in VARIANTS:
        after = store.path(new[variant]).read_bytes()
        assert pixels(after) == pixels(before[variant]), variant
        assert Image.open(io.BytesIO(after)).info["icc_profile"] == corpus.icc_srgb()
        assert not store.path(old[variant]).exists(), f"the old {variant} file is still there"
    assert not store.path(stale_copy).exists()
    # Only the new files are left: nothing for `flask media sweep` to find.
    assert {p.relative_to(store.root).as_posix() for p in stored_files(app)} == set(new.values())
    # Served as before: the way out already dropped what is now gone from the disk.
    for url in (
        f"/p/{token}/drawing.jpg",
        f"/p/{token}/thumb.jpg",
        f"/gallery/{number}/display.jpg",
        f"/gallery/{number}/thumb.jpg",
        f"/p/{token}/drawing.jpg?w={SIZED_WIDTHS[0]}",  # made again, from the clean display
    ):
        response = client.get(url)
        assert response.status_code == 200, url
        assert SECRET not in response.data, url
    assert client.get(f"/p/{token}/drawing.jpg").data == served_before
    assert store.path(sized_name(new["display"], SIZED_WIDTHS[0])).exists()

    files = snapshot(app)
    again = run_scrub(app)
    assert again.exit_code == 0, again.output
    assert (
        again.output.strip()
        == "Scrubbed 0 files of 0 photos; dropped 0 reduced copies; checked 4 files."
    )
    assert snapshot(app) == files
    assert photo_names(app, client_uuid) == new


def test_an_old_png_archive_stays_lossless_with_its_text_chunks_gone(app, client):
    client_uuid, old, _today = store_the_old_way(app, png_photo())
    store = media_store_of(app)
    assert old["archive"].endswith(".png")
    before = store.path(old["archive"]).read_bytes()

    result = run_scrub(app)

    assert result.exit_code == 0, result.output
    assert result.output.startswith("Scrubbed 3 files of 1 photo;")
    new = photo_names(app, client_uuid)
    archive = store.path(new["archive"]).read_bytes()
    assert new["archive"].endswith(".png") and archive.startswith(b"\x89PNG")
    assert pixels(archive) == pixels(before)
    assert_no_metadata([store.path(name) for name in new.values()])
    assert not any(store.path(name).exists() for name in old.values())
    token = token_of(app, client_uuid)
    assert client.get(f"/p/{token}/drawing.jpg").status_code == 200
    assert run_scrub(app).output.startswith("Scrubbed 0 files")


def test_a_clean_store_is_left_exactly_as_it_is(app, client):
    """Photos stored by this version (and their reduced copies) are read, never written."""
    clean_uuid = make_encounter(app, photo=jpeg_photo())
    make_encounter(app, photo=png_photo())
    token = token_of(app, clean_uuid)
    assert client.get(f"/p/{token}/drawing.jpg?w={SIZED_WIDTHS[0]}").status_code == 200
    files = snapshot(app)
    names = photo_names(app, clean_uuid)

    result = run_scrub(app)

    assert result.exit_code == 0, result.output
    assert (
        result.output.strip()
        == "Scrubbed 0 files of 0 photos; dropped 0 reduced copies; checked 7 files."
    )
    assert snapshot(app) == files
    assert photo_names(app, clean_uuid) == names


def test_only_the_photos_holding_metadata_change(app):
    clean_uuid = make_encounter(app, photo=png_photo())
    clean_files, clean_names = snapshot(app), photo_names(app, clean_uuid)
    old_uuid, old, _today = store_the_old_way(app, jpeg_photo(), variants=("display",))

    result = run_scrub(app)

    assert result.output.startswith("Scrubbed 1 file of 1 photo;"), result.output
    new = photo_names(app, old_uuid)
    assert new["display"] != old["display"]
    assert (new["archive"], new["thumb"]) == (old["archive"], old["thumb"])
    after = snapshot(app)
    assert {name: after[name] for name in clean_files} == clean_files
    assert photo_names(app, clean_uuid) == clean_names


def test_a_file_changed_on_disk_under_its_own_name_is_put_right_in_place(app):
    """A name whose file holds other bytes than its own (written over by hand): the clean bytes
    are the ones the name was made from, so they go back under it and the row stays."""
    client_uuid = make_encounter(app, photo=jpeg_photo())
    names = photo_names(app, client_uuid)
    path = media_store_of(app).path(names["thumb"])
    clean = path.read_bytes()
    path.write_bytes(corpus.with_segments(clean, com(SECRET)))

    result = run_scrub(app)

    assert result.output.startswith("Scrubbed 1 file of 1 photo;"), result.output
    assert photo_names(app, client_uuid) == names
    assert path.read_bytes() == clean
    assert run_scrub(app).output.startswith("Scrubbed 0 files")


def test_a_missing_or_unreadable_file_is_reported_and_the_rest_scrubbed(app):
    broken_uuid = make_encounter(app, photo=png_photo())
    broken = photo_names(app, broken_uuid)
    store = media_store_of(app)
    store.path(broken["thumb"]).write_bytes(b"not a picture at all")
    store.remove(broken["archive"])
    old_uuid, old, _today = store_the_old_way(app, jpeg_photo())

    result = run_scrub(app)

    assert result.exit_code == 1
    assert "Scrubbed 3 files of 1 photo;" in result.output
    assert "2 files could not be scrubbed." in result.output
    assert f"{broken['archive']} (missing)" in result.output
    assert f"{broken['thumb']} (unreadable)" in result.output
    assert photo_names(app, broken_uuid) == broken
    assert all(photo_names(app, old_uuid)[v] != old[v] for v in VARIANTS)


def test_a_full_disk_is_reported_and_changes_nothing(app, monkeypatch):
    client_uuid, old, _today = store_the_old_way(app, jpeg_photo())
    files = snapshot(app)

    def full(self, name, data, **_options):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(FolderStore, "_write", full)
    result = run_scrub(app)
    monkeypatch.undo()

    assert result.exit_code == 1
    assert "Scrubbed 0 files of 0 photos;" in result.output
    assert "(no clean copy written: No space left on device)" in result.output
    assert photo_names(app, client_uuid) == old
    assert snapshot(app) == files
    assert run_scrub(app).output.startswith("Scrubbed 3 files of 1 photo;")


# Never losing a drawing -------------------------------------------------------------------


@on_both_databases
def test_a_failure_before_the_commit_leaves_the_old_files_referenced(app, monkeypatch):
    """The clean files written so far are removed, the row still names the old files, which
    are all there; the next run does the work."""
    client_uuid, old, _today = store_the_old_way(app, jpeg_photo())
    files = snapshot(app)
    write_as = FolderStore.write_as
    calls = []

    def write_then_fail(self, name, data):
        calls.append(name)
        if len(calls) == 2:
            raise OSError("the power went out")
        return write_as(self, name, data)

    monkeypatch.setattr(FolderStore, "write_as", write_then_fail)
    with pytest.raises(OSError, match="the power went out"), app.app_context():
        scrub.scrub_media(db.session, media_store())
    monkeypatch.undo()

    assert photo_names(app, client_uuid) == old
    assert snapshot(app) == files  # the first clean file was taken back
    assert run_scrub(app).output.startswith("Scrubbed 3 files of 1 photo;")


def test_a_crash_after_the_commit_leaves_the_new_files_referenced_and_old_ones_to_sweep(
    app, monkeypatch
):
    client_uuid, old, _today = store_the_old_way(app, jpeg_photo())

    def crash(*_args):
        raise SystemExit("killed between the commit and the deletion")

    monkeypatch.setattr(scrub, "remove_unreferenced", crash)
    with pytest.raises(SystemExit), app.app_context():
        scrub.scrub_media(db.session, media_store())
    monkeypatch.undo()

    store = media_store_of(app)
    new = photo_names(app, client_uuid)
    assert all(new[v] != old[v] and store.path(new[v]).exists() for v in VARIANTS)
    assert all(store.path(old[v]).exists() for v in VARIANTS)  # orphans now
    swept = app.test_cli_runner().invoke(args=["media", "sweep"])
    assert "Removed 3 unused photo file(s)." in swept.output
    assert {p.relative_to(store.root).as_posix() for p in stored_files(app)} == set(new.values())


def test_a_photo_withdrawn_while_its_files_were_read_is_left_to_the_withdrawal(app, monkeypatch):
    client_uuid, old, _today = store_the_old_way(app, jpeg_photo())
    point_at_clean_files = scrub._point_at_clean_files

    def withdrawn_meanwhile(session, store, photo_id, names, cleaned):
        session.delete(session.get(Photo, photo_id))  # as withdraw() does, in its own commit
        session.commit()
        return point_at_clean_files(session, store, photo_id, names, cleaned)

    monkeypatch.setattr(scrub, "_point_at_clean_files", withdrawn_meanwhile)
    result = run_scrub(app)

    assert result.output.startswith("Scrubbed 0 files of 0 photos;"), result.output
    store = media_store_of(app)
    # Nothing written; the old files are the withdrawal's to delete (or the sweep's).
    assert {p.relative_to(store.root).as_posix() for p in stored_files(app)} == set(old.values())


def test_every_container_start_scrubs_after_the_sweep_and_starts_even_if_it_cannot():
    """Neither a sweep nor a scrub that cannot finish (a store that does not answer) stops
    the start: the app answers 503 for photos until the store is back."""
    entrypoint = (Path(__file__).parents[1] / "docker" / "entrypoint.sh").read_text()
    sweep = entrypoint.index("\nflask --app fieldapp media sweep || ")
    scrub_line = entrypoint.index("\nflask --app fieldapp media scrub --once || ")
    assert sweep < scrub_line < entrypoint.index("exec gunicorn")


# The byte-wise rewrite --------------------------------------------------------------------


def _progressive_with_comment_between_scans() -> tuple[bytes, bytes]:
    clean = corpus._save(corpus.drawing((160, 120)), "JPEG", quality=80, progressive=True)
    second_scan = clean.index(b"\xff\xda", clean.index(b"\xff\xda") + 2)
    return clean, clean[:second_scan] + com(SECRET) + clean[second_scan:]


def _cmyk_with_adobe_and_exif() -> tuple[bytes, bytes]:
    clean = corpus._save(Image.new("CMYK", (80, 64), (10, 200, 30, 5)), "JPEG", quality=80)
    exif = b"Exif\x00\x00" + SECRET
    return clean, corpus.with_segments(clean, b"\xff\xe1" + struct.pack(">H", len(exif) + 2) + exif)


def _jfif_with_a_thumbnail() -> tuple[bytes, bytes]:
    clean = corpus._save(corpus.drawing((160, 120)), "JPEG", quality=80)
    assert clean[2:6] == b"\xff\xe0\x00\x10"
    jfif = clean[6:18] + b"\x02\x02" + SECRET[:12]  # a 2x2 thumbnail: pixels of another picture
    dirty = clean[:2] + b"\xff\xe0" + struct.pack(">H", len(jfif) + 2) + jfif + clean[20:]
    return clean[:2] + clean[20:], dirty


def _bytes_after_the_end_of_a_jpeg() -> tuple[bytes, bytes]:
    clean = corpus._save(corpus.drawing((160, 120)), "JPEG", quality=80)
    return clean, clean + b"\x00\xff\xd8 second picture " + SECRET  # as an MPO's depth map


def _png_with_exif_and_bytes_after_iend() -> tuple[bytes, bytes]:
    clean = corpus._save(corpus.drawing((120, 160)), "PNG")
    exif, phys = png_chunk(b"eXIf", b"MM\x00*" + SECRET), png_chunk(b"pHYs", b"\x00" * 9)
    return clean, png_with_chunks(clean, exif, phys) + b"trailing " + SECRET


@pytest.mark.parametrize(
    "make",
    [
        _progressive_with_comment_between_scans,
        _cmyk_with_adobe_and_exif,
        _jfif_with_a_thumbnail,
        _bytes_after_the_end_of_a_jpeg,
        _png_with_exif_and_bytes_after_iend,
    ],
    ids=[
        "progressive-com-between-scans",
        "cmyk-adobe-exif",
        "jfif-thumbnail",
        "after-eoi",
        "png-exif",
    ],
)
def test_without_metadata_drops_segments_and_chunks_and_keeps_the_picture(make):
    clean, dirty = make()
    assert SECRET[:12] in dirty
    scrubbed = without_metadata(dirty)
    assert scrubbed == clean
    assert pixels(scrubbed) == pixels(dirty)
    assert without_metadata(scrubbed) == scrubbed


def test_without_metadata_refuses_what_it_cannot_walk():
    jpeg = corpus._save(corpus.drawing((160, 120)), "JPEG", quality=80)
    for damaged in (b"GIF89a", jpeg[:300], b"\x89PNG\r\n\x1a\n\x00\x00"):
        with pytest.raises(ValueError):
            without_metadata(damaged)


def test_once_scrubs_until_a_run_has_finished_then_reads_nothing(app):
    """The container asks at every start: after one finished run, no file is read again."""
    client_uuid, old, _today = store_the_old_way(app, png_photo())
    runner = app.test_cli_runner()
    first = runner.invoke(args=["media", "scrub", "--once"])
    assert first.exit_code == 0, first.output
    assert first.output.startswith("Scrubbed 3 files of 1 photo;")
    assert photo_names(app, client_uuid) != old
    again = runner.invoke(args=["media", "scrub", "--once"])
    assert again.exit_code == 0, again.output
    assert again.output.strip() == "Photo files were scrubbed before: nothing to do."
    # Without --once it still checks every file.
    assert run_scrub(app).output.startswith("Scrubbed 0 files of 0 photos;")


def test_a_file_it_cannot_rewrite_byte_wise_is_re_encoded_without_its_metadata(app, client):
    """Junk bytes between two segments: Pillow reads past them, the byte-wise walk cannot, so
    the scrub re-encodes the file. (Its fallback once called a counter of the same name, and
    the file kept its comment, reported as unreadable.)"""
    client_uuid = make_encounter(app, photo=jpeg_photo())
    store = media_store_of(app)
    with app.app_context():
        row = db.session.scalar(select(Photo).where(Photo.encounter.has(uuid=client_uuid)))
        clean_name = file_name(row, "thumb")
        clean = store.path(clean_name).read_bytes()
        damaged = clean[:2] + com(SECRET) + b"\x00\x00" + clean[2:]
        with pytest.raises(ValueError, match="no marker where a segment should start"):
            without_metadata(damaged)
        assert pixels(damaged) == pixels(clean)  # yet it is a picture any reader opens
        row.thumb_name = store.write("thumb", damaged, "jpg").name
        store.remove(clean_name)
        db.session.commit()
        damaged_name = row.thumb_name

    result = run_scrub(app)

    assert result.exit_code == 0, result.output
    assert "Scrubbed 1 file of 1 photo (1 re-encoded);" in result.output
    new = photo_names(app, client_uuid)["thumb"]
    assert new != damaged_name and not store.path(damaged_name).exists()
    assert_no_metadata([store.path(new)])
    scrubbed = Image.open(store.path(new))
    assert scrubbed.size == Image.open(io.BytesIO(clean)).size
    token = token_of(app, client_uuid)
    served = client.get(f"/p/{token}/thumb.jpg")
    assert served.status_code == 200 and SECRET not in served.data

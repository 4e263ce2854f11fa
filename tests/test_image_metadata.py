"""No metadata but ours leaves the server: every image stored, served or exported from a photo
holds its pixels, at most its colour profile, and the drawer's rights XMP the app adds.

The photos of tests/photo_corpus.py's METADATA_FILES hide where someone lives in every place a
file can: a JPEG comment (COM), PNG text chunks (tEXt, zTXt, iTXt), EXIF (GPS, description,
user comment, maker note), the camera's XMP, IPTC (APP13), WebP and HEIC metadata, and the
second picture of an MPO. Each is uploaded as the phone does, then every file is judged by
ExifTool (which reads every segment and chunk) and by walking its segments or chunks here.
"""

from __future__ import annotations

import io
import json
import struct
import uuid as uuidlib
import zipfile
from pathlib import Path

import pytest
from PIL import Image

from fieldapp.extensions import db
from fieldapp.media.images import encode_clean, scale_to_width
from fieldapp.media.models import Photo
from fieldapp.media.services import media_store, sized_widths
from fieldapp.media.xmp import (
    JPEG_XMP_HEADER,
    PNG_SIGNATURE,
    PNG_XMP_KEYWORD,
    jpeg_with_xmp,
    png_with_xmp,
    rights_xmp,
)
from tests import photo_corpus as corpus
from tests.factories import encounter_data, number_of, put_encounter, stored_files
from tests.helpers import CLEAN_FILE_TAGS, EXIFTOOL, exiftool, not_clean

needs_exiftool = pytest.mark.skipif(
    EXIFTOOL is None,
    reason="ExifTool judges the files: apt-get install libimage-exiftool-perl (/usr/bin/exiftool)",
)

#: What ExifTool may report of a file the app serves: a clean file's, and the rights XMP.
ALLOWED_TAGS = CLEAN_FILE_TAGS | {"XMP-plus:DataMining", "XMP-dc:Creator"}
#: About the file on this disk, not in it.
#: Words of the secret's other places (the city in XMP and IPTC) that must not appear either.
SECRET_WORDS = (corpus.SECRET_MARK, b"13.4050E", b"Berlin")

JPEG_TABLES = {0xC0, 0xC1, 0xC2, 0xC4, 0xDB, 0xDD}  # SOF0-2, DHT, DQT, DRI


def not_allowed(tags: dict) -> dict:
    """The tags ExifTool found that are neither the file's facts, nor ICC, nor the rights."""
    return not_clean(tags, ALLOWED_TAGS)


def jpeg_segments(data: bytes) -> tuple[list[tuple[int, bytes]], int]:
    """(marker, payload) of each segment before the image data, and where the data ends."""
    assert data[:2] == b"\xff\xd8", "not a JPEG"
    segments, position = [], 2
    while True:
        marker = data[position + 1]
        (length,) = struct.unpack(">H", data[position + 2 : position + 4])
        segments.append((marker, data[position + 4 : position + 2 + length]))
        position += 2 + length
        if marker == 0xDA:
            break
    # In entropy-coded data 0xFF is followed by 0x00 or a restart marker: the first FFD9 ends it.
    return segments, data.index(b"\xff\xd9", position) + 2


def png_chunks(data: bytes) -> tuple[list[tuple[bytes, bytes]], int]:
    """(type, body) of each chunk, and where IEND ends."""
    assert data.startswith(PNG_SIGNATURE), "not a PNG"
    chunks, position = [], 8
    while True:
        (length,) = struct.unpack(">I", data[position : position + 4])
        kind = data[position + 4 : position + 8]
        chunks.append((kind, data[position + 8 : position + 8 + length]))
        position += 12 + length
        if kind == b"IEND":
            return chunks, position


def assert_pixels_profile_and_rights_only(
    data: bytes, *, signed: bool, where: str, provenance: bool = False
) -> None:
    """Nothing in the bytes but the picture, its ICC profile, (`signed`) one rights XMP and
    (`provenance`: an exported image) its C2PA manifest, in JUMBF boxes (JPEG APP11, PNG caBX)."""
    for word in SECRET_WORDS:
        assert word not in data, f"{where}: {word!r} is in the bytes"
    if data.startswith(PNG_SIGNATURE):
        chunks, end = png_chunks(data)
        kinds = [kind for kind, _body in chunks]
        texts = [body for kind, body in chunks if kind in (b"tEXt", b"zTXt", b"iTXt")]
        c2pa = {b"caBX"} if provenance else set()
        assert set(kinds) <= {b"IHDR", b"iCCP", b"IDAT", b"IEND", b"iTXt", *c2pa}, (where, kinds)
        assert kinds.count(b"caBX") == (1 if provenance else 0), (where, kinds)
        assert [t.split(b"\x00", 1)[0] for t in texts] == ([PNG_XMP_KEYWORD] if signed else [])
    else:
        segments, end = jpeg_segments(data)
        markers = [marker for marker, _payload in segments]
        assert 0xFE not in markers, f"{where}: a COM segment"
        app = [(m, p) for m, p in segments if 0xE0 <= m <= 0xEF]
        ours = (0xE0, 0xE1, 0xE2, 0xEB) if provenance else (0xE0, 0xE1, 0xE2)
        assert [m for m, _p in app if m not in ours] == [], (where, markers)
        # APP11: JUMBF boxes ("JP"), the C2PA manifest store and nothing else.
        jumbf = [p for m, p in app if m == 0xEB]
        assert all(p.startswith(b"JP") and b"c2pa" in p for p in jumbf), where
        assert bool(jumbf) == provenance, f"{where}: {len(jumbf)} APP11 segments"
        assert all(p.startswith(b"JFIF\x00") for m, p in app if m == 0xE0), where
        assert all(p.startswith(b"ICC_PROFILE\x00") for m, p in app if m == 0xE2), where
        xmp = [p for m, p in app if m == 0xE1]
        assert len(xmp) == (1 if signed else 0), f"{where}: {len(xmp)} APP1 segments"
        assert all(p.startswith(JPEG_XMP_HEADER) for p in xmp), f"{where}: an APP1 that is not XMP"
        assert set(markers) - {0xE0, 0xE1, 0xE2, 0xEB, 0xDA} <= JPEG_TABLES, (where, markers)
    assert end == len(data), f"{where}: {len(data) - end} bytes after the picture"


#: exiftool's names for the C2PA manifest an exported image carries (its JUMBF boxes, read as
#: JPEG 2000 boxes, and their CBOR assertions): ours, checked by tests/test_provenance.py.
C2PA_GROUPS = ("CBOR:", "JUMBF:", "Jpeg2000:C2pa", "Jpeg2000:Cawg")


def ours_left_out(where: str, tags: dict) -> dict:
    """An image's tags without the C2PA manifest's, for an exported image."""
    if not where.startswith("export"):
        return tags
    return {name: value for name, value in tags.items() if not name.startswith(C2PA_GROUPS)}


def training_consent() -> dict:
    return {"version": 1, "keep": True, "gallery": True, "training": True, "social": False}


def export_images(app, tmp_path: Path, *options: str) -> dict[str, bytes]:
    """The images of a dataset export made with the command line's `options`."""
    out = tmp_path / f"export{'-'.join(options)}.zip"
    result = app.test_cli_runner().invoke(args=["export", "dataset", str(out), *options])
    assert result.exit_code == 0, result.output
    with zipfile.ZipFile(out) as archive:
        return {
            f"export{' '.join(options)}:{name}": archive.read(name)
            for name in archive.namelist()
            if name.startswith("train/") and not name.endswith(".jsonl")
        }


# The corpus means something ---------------------------------------------------------------


@needs_exiftool
def test_every_metadata_fixture_really_hides_the_secret(tmp_path):
    """ExifTool finds the secret in each fixture: otherwise the tests below prove nothing."""
    paths = []
    for name, make in corpus.METADATA_FILES.items():
        content, filename, _type = make()
        paths.append(tmp_path / f"{name}{Path(filename).suffix.lower()}")
        paths[-1].write_bytes(content)
    for path, tags in exiftool(paths).items():
        values = json.dumps(tags, ensure_ascii=False)
        assert corpus.SECRET in values, f"{path}: the fixture hides no secret"
    everything = exiftool([paths[1]])[str(paths[1])]
    for tag in ("File:Comment", "GPS:GPSLatitude", "IFD0:ImageDescription", "ExifIFD:UserComment",
                "XMP-dc:Description", "IPTC:Caption-Abstract", "ICC-header:ProfileClass"):  # fmt: skip
        assert tag in everything, f"jpeg_exif_xmp_iptc_makernote_com has no {tag}"
    assert corpus.SECRET_MARK in corpus.METADATA_FILES["jpeg_exif_xmp_iptc_makernote_com"]()[0]


# Through the whole app --------------------------------------------------------------------


@needs_exiftool
@pytest.mark.parametrize("name", sorted(corpus.METADATA_FILES))
def test_no_stored_served_or_exported_image_keeps_any_metadata_but_ours(
    app, client, api_token, logged_in, tmp_path, name
):
    content, filename, content_type = corpus.METADATA_FILES[name]()
    client_uuid = str(uuidlib.uuid4())
    data = encounter_data(consent=training_consent(), credit={"name": "Ana Lima"})
    phone = app.test_client()
    response = put_encounter(
        phone, api_token, client_uuid, data, content, filename=filename, content_type=content_type
    )
    assert response.status_code == 201, response.get_json()
    token, number = response.get_json()["token"], number_of(app, client_uuid)
    with app.app_context():
        display_width = db.session.query(Photo).one().display_width
    widths = sized_widths(display_width)

    urls = [f"/p/{token}/drawing.jpg", f"/p/{token}/thumb.jpg"]
    urls += [f"/gallery/{number}/display.jpg", f"/gallery/{number}/thumb.jpg"]
    urls += [f"/encounters/{client_uuid}/photo/{v}" for v in ("archive", "display", "thumb")]
    urls += [f"{base}?w={w}" for base in urls[:3:2] for w in widths]  # the phones' copies
    served: dict[str, bytes] = {}
    for url in urls:
        got = client.get(url)
        assert got.status_code == 200, (url, got.status_code)
        assert got.mimetype in ("image/jpeg", "image/png"), url
        served[url] = got.data
    stored = {f"stored:{p.relative_to(app.config['MEDIA_DIR'])}": p.read_bytes()
              for p in stored_files(app)}  # fmt: skip
    assert len(stored) == 3 + len(widths)  # archive, display, thumb, and the reduced copies
    exported = export_images(app, tmp_path)
    exported |= export_images(app, tmp_path, "--size", "512")
    exported |= export_images(app, tmp_path, "--ink")
    assert len(exported) == 3

    files, folder = {}, tmp_path / "judged"
    folder.mkdir()
    for i, (where, data) in enumerate({**served, **stored, **exported}.items()):
        assert_pixels_profile_and_rights_only(
            data,
            signed=not where.startswith("stored:"),
            where=where,
            provenance=where.startswith("export"),
        )
        suffix = ".png" if data.startswith(PNG_SIGNATURE) else ".jpg"
        files[where] = folder / f"{i}{suffix}"
        files[where].write_bytes(data)
    tags = exiftool(list(files.values()))
    left = {
        where: not_allowed(ours_left_out(where, tags[str(path)])) for where, path in files.items()
    }
    assert {where: found for where, found in left.items() if found} == {}
    for where, path in files.items():
        if not where.startswith("stored:"):
            assert tags[str(path)]["XMP-plus:DataMining"].endswith("DMI-ALLOWED"), where
            assert tags[str(path)]["XMP-dc:Creator"] == "Ana Lima", where
    # Upright, and the photo's own colour profile kept where it had one.
    drawing = Image.open(io.BytesIO(served[f"/p/{token}/drawing.jpg"]))
    assert corpus.marker_corner(drawing) == "top-left"
    if name in ("jpeg_exif_xmp_iptc_makernote_com", "png_exif_xmp", "webp_exif_xmp"):
        for where, data in {**served, **stored}.items():
            assert Image.open(io.BytesIO(data)).info["icc_profile"] == corpus.icc_srgb(), where


# Files stored before the fix, and the one writer ------------------------------------------


# Pillow warns of the MPF segment below (it indexes no picture) and reads the file as a JPEG.
@pytest.mark.filterwarnings("ignore:Image appears to be a malformed MPO file")
def test_a_stored_file_holding_metadata_is_served_without_it(app, client):
    """A display file written by an older version (with a comment, IPTC and a JFIF thumbnail
    of another picture) leaves the server with none of them, and so does its reduced copy."""
    from tests.factories import make_encounter, token_of

    token = token_of(app, make_encounter(app, photo=corpus.png_bytes((1200, 1600))))
    with app.app_context():
        photo = db.session.query(Photo).one()
        path = media_store().path(photo.display_name)
    clean = path.read_bytes()
    assert clean[2:6] == b"\xff\xe0\x00\x10"  # a plain JFIF APP0 (16 bytes) first
    thumbnail = b"\xff\x00\x00" * 4  # 2x2 RGB pixels of some other picture
    jfif = b"JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x02\x02" + thumbnail
    com = b"\xff\xfe" + struct.pack(">H", len(corpus.SECRET) + 2) + corpus.SECRET.encode()
    mpf = b"MPF\x00" + corpus.SECRET.encode()
    legacy = corpus.with_segments(
        clean, com, corpus.iptc_app13(), corpus._app1_xmp(corpus.secret_xmp()),
        b"\xff\xe2" + struct.pack(">H", len(mpf) + 2) + mpf,
    )  # fmt: skip
    legacy = b"\xff\xd8\xff\xe0" + struct.pack(">H", len(jfif) + 2) + jfif + legacy[20:]
    assert Image.open(io.BytesIO(legacy)).info["comment"] == corpus.SECRET.encode()
    path.write_bytes(legacy)
    for url in (f"/p/{token}/drawing.jpg", f"/p/{token}/drawing.jpg?w=720"):
        served = client.get(url)
        assert served.status_code == 200
        assert_pixels_profile_and_rights_only(served.data, signed=True, where=url)
    segments, _end = jpeg_segments(client.get(f"/p/{token}/drawing.jpg").data)
    assert [m for m, _p in segments if 0xE0 <= m <= 0xEF or m == 0xFE] == [0xE1]  # the rights


def test_signing_keeps_the_colour_profile_and_the_picture():
    image = corpus.drawing((300, 400))
    icc = corpus.icc_srgb()
    jpeg = encode_clean(image, "JPEG", quality=85, icc_profile=icc)
    rights = rights_xmp(training_allowed=True, creator=None)
    signed = jpeg_with_xmp(corpus.with_segments(jpeg, corpus.iptc_app13()), rights)
    opened = Image.open(io.BytesIO(signed))
    assert opened.info["icc_profile"] == icc
    assert opened.tobytes() == Image.open(io.BytesIO(jpeg)).tobytes()
    png = corpus.png_with_exif_and_xmp((300, 400))
    signed_png = png_with_xmp(png, rights)
    assert_pixels_profile_and_rights_only(signed_png, signed=True, where="png")
    opened = Image.open(io.BytesIO(signed_png))
    assert opened.info["icc_profile"] == icc
    assert opened.tobytes() == Image.open(io.BytesIO(png)).tobytes()


@pytest.mark.parametrize("kind", ["JPEG", "PNG"])
def test_encode_clean_writes_pixels_and_profile_only_and_leaves_the_image_alone(kind):
    """Whatever an image object carries in `info` or `encoderinfo` (Pillow's writers read both)."""
    image = corpus.drawing((200, 300))
    image.info = {
        "comment": corpus.SECRET.encode(), "exif": corpus.secret_exif().tobytes(),
        "xmp": corpus.secret_xmp(), "transparency": (255, 0, 0), "dpi": (300, 300),
        "icc_profile": b"not this one",
    }  # fmt: skip
    image.encoderinfo = {"comment": corpus.SECRET, "pnginfo": None}
    before = dict(image.info)
    data = encode_clean(image, kind, quality=80, icc_profile=corpus.icc_srgb())
    assert_pixels_profile_and_rights_only(data, signed=False, where=kind)
    opened = Image.open(io.BytesIO(data))
    assert opened.info["icc_profile"] == corpus.icc_srgb()
    assert "transparency" not in opened.info and "dpi" not in opened.info
    assert image.info == before


def test_a_reduced_copy_of_a_display_file_with_a_comment_has_none():
    display = encode_clean(corpus.drawing((1200, 1600)), "JPEG", quality=85)
    commented = corpus.with_segments(
        display, b"\xff\xfe" + struct.pack(">H", len(corpus.SECRET) + 2) + corpus.SECRET.encode()
    )
    assert Image.open(io.BytesIO(commented)).info["comment"] == corpus.SECRET.encode()
    reduced = scale_to_width(commented, 720)
    assert_pixels_profile_and_rights_only(reduced.data, signed=False, where="720")


def test_an_rgb_png_with_a_transparent_colour_is_stored_on_white_without_it():
    """A tRNS colour in an RGB PNG was copied into the lossless archive, so the paper of that
    colour became transparent (and the chunk, metadata of the source, survived)."""
    from fieldapp.media.images import process_photo

    image = corpus.drawing((300, 400))
    data = corpus._save(image, "PNG", transparency=image.getpixel((150, 390)))
    archive = process_photo(data, max_pixels=52_000_000).archive
    assert archive.extension == "png"
    chunks, _end = png_chunks(archive.data)
    assert b"tRNS" not in [kind for kind, _body in chunks]
    assert Image.open(io.BytesIO(archive.data)).mode == "RGB"


def test_signing_drops_a_comment_between_progressive_scans_and_bytes_after_the_picture():
    """The way out walks every scan to the end of the picture, not only the segments before
    the first: a comment hidden between two scans of a progressive JPEG, or bytes after it,
    never leave the server."""
    image = corpus.drawing((300, 400))
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", quality=85, progressive=True)
    progressive = buffer.getvalue()
    com = b"\xff\xfe" + struct.pack(">H", len(corpus.SECRET) + 2) + corpus.SECRET.encode()
    second_scan = progressive.index(b"\xff\xda", progressive.index(b"\xff\xda") + 2)
    hidden = progressive[:second_scan] + com + progressive[second_scan:] + corpus.SECRET.encode()
    assert corpus.SECRET.encode() in hidden
    rights = rights_xmp(training_allowed=False, creator=None)
    signed = jpeg_with_xmp(hidden, rights)
    assert corpus.SECRET_MARK not in signed and b"13.4050E" not in signed
    assert signed.endswith(b"\xff\xd9")
    assert Image.open(io.BytesIO(signed)).tobytes() == Image.open(io.BytesIO(progressive)).tobytes()
    png = corpus.png_with_exif_and_xmp((300, 400)) + corpus.SECRET.encode()
    signed_png = png_with_xmp(png, rights)
    assert corpus.SECRET_MARK not in signed_png and signed_png.endswith(b"IEND\xaeB`\x82")

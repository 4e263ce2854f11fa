"""Deterministic, in-memory photo fixtures for testing the photo-upload pipeline.

Every picture is a phone-style photo of a red-ink portrait drawing on off-white paper whose
upright version carries an orientation MARKER (a pure-red square in the top-left corner), so
`marker_corner()` can prove that whatever the app outputs is upright. GOOD_FILES / BAD_FILES map
names to zero-argument builders returning (content, filename, content_type).

ODD_FILES are decodable oddities (CMYK, 16-bit, greyscale, palette, progressive, a path in the
file name, a multi-picture MPO) that the app must accept as upright RGB without metadata.
METADATA_FILES are real photos hiding SECRET (where someone lives) in every place a file can hold
text: a JPEG comment, PNG tEXt/zTXt/iTXt, EXIF with GPS and a maker note, XMP, IPTC, WebP and
HEIC metadata, an MPO; none of it may reach a stored, served or exported file. DATA_PAYLOADS
maps names to the raw `data` part of an encounter upload (malformed and huge JSON, wrong types
in every field, impossible dates and time limits, unknown venue types); each must be refused
with a 4xx.

CLI: `python tests/photo_corpus.py OUTDIR` writes every fixture and payload, prints one line per
file, then self-checks the promises made here and exits 1 if any of them fails.
"""

from __future__ import annotations

import functools
import io
import json
import math
import random
import struct
import sys
import time
import zipfile
import zlib
from collections.abc import Callable
from pathlib import Path

from PIL import Image, ImageChops, ImageDraw, ImageOps, ImageStat
from PIL.TiffImagePlugin import IFDRational

T = Image.Transpose
# What turns an upright picture into the pixels a camera stores with EXIF orientation N:
# the inverse of the transpose ImageOps.exif_transpose applies for N.
STORE_TRANSPOSE = {
    2: T.FLIP_LEFT_RIGHT,
    3: T.ROTATE_180,
    4: T.FLIP_TOP_BOTTOM,
    5: T.TRANSPOSE,
    6: T.ROTATE_90,
    7: T.TRANSVERSE,
    8: T.ROTATE_270,
}
LAT, LON = 40.7128, -74.0060  # New York: 40°42'46.08" N, 74°0'21.6" W
BOMB_SIDE = 30000
Fixture = Callable[[], tuple[bytes, str, str]]


def corner_boxes(size: tuple[int, int]) -> dict[str, tuple[int, int, int, int]]:
    """The four marker-sized squares (side 8%, margin 2% of the shorter edge) of an image."""
    w, h = size
    s, m = max(1, round(0.08 * min(w, h))), round(0.02 * min(w, h))
    return {
        "top-left": (m, m, m + s, m + s),
        "top-right": (w - m - s, m, w - m, m + s),
        "bottom-left": (m, h - m - s, m + s, h - m),
        "bottom-right": (w - m - s, h - m - s, w - m, h - m),
    }


def marker_corner(img: Image.Image) -> str:
    """Corner whose square is reddest (the marker); raises ValueError if none is clearly red."""
    rgb = img.convert("RGB")
    means = {
        name: ImageStat.Stat(rgb.crop(box)).mean for name, box in corner_boxes(rgb.size).items()
    }
    redness = {name: r - (g + b) / 2 for name, (r, g, b) in means.items()}
    best, second = sorted(redness.values(), reverse=True)[:2]
    if best < 80 or best - second < 60:
        raise ValueError(f"no clear marker corner: {redness}")
    return max(redness, key=redness.__getitem__)


def _save(img: Image.Image, fmt: str, **options) -> bytes:
    buf = io.BytesIO()
    img.save(buf, fmt, **options)
    return buf.getvalue()


def _paper(size: tuple[int, int]) -> Image.Image:
    """Off-white paper lit from the upper right: a smooth gradient of about 20 levels."""
    small = Image.new("RGB", (8, 8))
    for x in range(8):
        for y in range(8):
            light = 1 - 0.09 * math.hypot(x / 7 - 0.8, y / 7 - 0.2)
            small.putpixel((x, y), (round(243 * light), round(238 * light), round(226 * light)))
    return small.resize(size, Image.Resampling.BICUBIC)


def _noise(size: tuple[int, int], rng: random.Random, amplitude: int = 5) -> Image.Image:
    """Tiled grey sensor noise with values 0..2*amplitude (add it with offset -amplitude)."""
    side = 509
    tile = Image.frombytes("L", (side, side), rng.randbytes(side * side))
    tile = tile.point([v % (2 * amplitude + 1) for v in range(256)])
    out = Image.new("L", size)
    for x in range(0, size[0], side):
        for y in range(0, size[1], side):
            out.paste(tile, (x, y))
    return Image.merge("RGB", (out, out, out))


def _portrait_strokes(rng: random.Random) -> list[list[tuple[float, float]]]:
    """About fifty polylines (fractions of width/height): a face and shoulders right of centre.

    Everything above half height stays right of x=0.53, so the top-left quarter is ink-free."""

    def arc(cx, cy, rx, ry, a0, a1, n=40):
        angles = [math.radians(a0 + (a1 - a0) * i / n) for i in range(n + 1)]
        return [(cx + rx * math.cos(a), cy + ry * math.sin(a)) for a in angles]

    strokes = [
        arc(0.68, 0.32, 0.135 - 0.004 * k, 0.14, 10 * k, 10 * k + 350) for k in range(3)
    ]  # head
    strokes += [
        arc(0.68, 0.32 - 0.007 * k, 0.135 + 0.002 * k, 0.15, 190 + 3 * k, 350 - 3 * k)
        for k in range(10)
    ]  # hair
    for ex in (0.63, 0.73):  # eyes, pupils, brows
        strokes += [
            arc(ex, 0.30, 0.025, 0.010, 0, 360),
            arc(ex, 0.30, 0.006, 0.005, 0, 360, 12),
            arc(ex, 0.285, 0.03, 0.012, 200, 340),
        ]
    strokes += [
        [(0.68, 0.31), (0.665, 0.36), (0.69, 0.365)],  # nose
        arc(0.68, 0.39, 0.035, 0.012, 10, 170),
        arc(0.68, 0.395, 0.03, 0.008, 190, 350),  # mouth
        arc(0.545, 0.32, 0.012, 0.025, 90, 270),
        arc(0.815, 0.32, 0.012, 0.025, -90, 90),  # ears
        [(0.635, 0.45), (0.64, 0.56)],
        [(0.725, 0.45), (0.72, 0.56)],  # neck
        [(0.64, 0.56), (0.40, 0.60), (0.22, 0.66), (0.19, 0.86)],  # left shoulder and arm
        [(0.72, 0.56), (0.86, 0.60), (0.92, 0.66), (0.92, 0.86)],  # right shoulder and arm
        arc(0.68, 0.56, 0.06, 0.05, 10, 170),
    ]  # collar
    strokes += [
        [(0.30 + 0.05 * k, 0.70 + 0.01 * (k % 3)), (0.33 + 0.05 * k, 0.84)] for k in range(12)
    ]  # shading
    wobbly = []
    for stroke in strokes:  # hand-drawn look: each stroke slightly displaced, each point jittered
        dx, dy = rng.uniform(-0.004, 0.004), rng.uniform(-0.004, 0.004)
        wobbly.append(
            [
                (x + dx + rng.uniform(-6e-4, 6e-4), y + dy + rng.uniform(-6e-4, 6e-4))
                for x, y in stroke
            ]
        )
    return wobbly


def drawing(size: tuple[int, int] = (3024, 4032)) -> Image.Image:
    """Upright RGB phone photo of a red portrait on paper, with the pure-red marker square top-left."""
    rng = random.Random(20240517)
    half = (
        max(1, size[0] // 2),
        max(1, size[1] // 2),
    )  # ink drawn at half size, upscaled: soft edges
    mask = Image.new("L", half)
    pen = ImageDraw.Draw(mask)
    for stroke in _portrait_strokes(rng):
        pen.line(
            [(x * half[0], y * half[1]) for x, y in stroke],
            fill=rng.randint(190, 255),
            width=max(1, round(min(half) * rng.uniform(0.004, 0.007))),
            joint="curve",
        )
    ink = Image.new("RGB", size, (178, 30, 44))
    img = Image.composite(ink, _paper(size), mask.resize(size, Image.Resampling.BILINEAR))
    img = ImageChops.add(img, _noise(size, rng), offset=-5)
    img.paste((255, 0, 0), corner_boxes(size)["top-left"])
    return img


def camera_exif(orientation: int = 1, gps: bool = True) -> Image.Exif:
    """EXIF as a Pixel 7 writes it: Make, Model, DateTimeOriginal, Orientation and optional GPS IFD."""
    exif = Image.Exif()
    exif[0x010F], exif[0x0110], exif[0x0112] = "Google", "Pixel 7", orientation
    exif[0x0131], exif[0x0132] = "HDR+ 1.0.540104767zd", "2024:05:17 14:32:09"
    exif.get_ifd(0x8769)[0x9003] = "2024:05:17 14:32:09"  # DateTimeOriginal
    if gps:

        def dms(deg: float) -> tuple[IFDRational, ...]:
            d, rest = divmod(round(abs(deg) * 360000), 360000)  # hundredths of a second
            return IFDRational(d, 1), IFDRational(rest // 6000, 1), IFDRational(rest % 6000, 100)

        g = exif.get_ifd(0x8825)
        g[0], g[1], g[2] = b"\x02\x02\x00\x00", "N" if LAT >= 0 else "S", dms(LAT)
        g[3], g[4] = "E" if LON >= 0 else "W", dms(LON)
    return exif


def _stored(upright: Image.Image, orientation: int) -> Image.Image:
    return upright.transpose(STORE_TRANSPOSE[orientation]) if orientation != 1 else upright


def camera_jpeg(
    orientation: int = 6, gps: bool = True, size: tuple[int, int] = (4032, 3024), quality: int = 92
) -> bytes:
    """JPEG storing `size` pixels that become the upright drawing once EXIF `orientation` is applied."""
    upright = size if orientation <= 4 else (size[1], size[0])
    stored = _stored(drawing(upright), orientation)
    return _save(stored, "JPEG", quality=quality, exif=camera_exif(orientation, gps))


def png_bytes(size: tuple[int, int] = (1200, 1600), alpha: bool = False) -> bytes:
    """The upright drawing as PNG; with `alpha`, RGBA whose outer 1% margin is fully transparent."""
    img = drawing(size)
    if alpha:
        m, opaque = max(1, round(0.01 * min(size))), Image.new("L", size, 0)
        opaque.paste(255, (m, m, size[0] - m, size[1] - m))
        img.putalpha(opaque)
    return _save(img, "PNG")


def webp_bytes(size: tuple[int, int] = (1200, 1600), lossless: bool = False) -> bytes:
    """The upright drawing as a still WebP (lossy quality 85, or lossless at low effort)."""
    return _save(drawing(size), "WEBP", lossless=lossless, quality=20 if lossless else 85)


def heic_bytes(size: tuple[int, int] = (600, 800), gps: bool = True, orientation: int = 6) -> bytes:
    """HEIC that libheif shows upright at `size`; its EXIF keeps GPS and the camera's Orientation.

    Found with pillow-heif 1.8.1 / libheif 1.23.6: on save, pillow-heif hands the EXIF Orientation
    to libheif, which encodes the pixels exactly as given (here the drawing transposed for
    `orientation`: 800x600 landscape for 6) plus `irot`/`imir` boxes (6 -> irot 270), and writes
    the EXIF block unchanged (Orientation=6, GPS intact). On open, libheif applies irot/imir, so
    Pillow (after register_heif_opener) gets `size` (600x800) already upright, and pillow-heif
    rewrites the in-memory EXIF Orientation to 1 (info["original_orientation"] == 6); so
    ImageOps.exif_transpose is a no-op and the marker is top-left. getexif().get_ifd(0x8825)
    still holds the GPS. A reader applying irot AND the file's raw Orientation=6 rotates twice.
    """
    from pillow_heif import register_heif_opener

    register_heif_opener()
    stored = _stored(drawing(size), orientation)
    return _save(stored, "HEIF", quality=80, exif=camera_exif(orientation, gps).tobytes())


def animated(fmt: str, frames: int = 3, size: tuple[int, int] = (300, 400)) -> bytes:
    """A `frames`-frame animated GIF, WEBP or PNG (APNG) of the drawing, each frame tinted differently."""
    base = drawing(size)
    imgs = [
        ImageChops.add(base, Image.new("RGB", size, (0, 25 * i, 25 * i))) for i in range(frames)
    ]
    return _save(imgs[0], fmt, save_all=True, append_images=imgs[1:], duration=200, loop=0)


def truncated_jpeg() -> bytes:
    """The first 60% of a 1600x1200 camera JPEG: headers and EXIF intact, load() raises OSError."""
    data = camera_jpeg(size=(1600, 1200))
    return data[: len(data) * 6 // 10]


def corrupt_jpeg() -> bytes:
    """320x240 JPEG whose mid-scan data is garbage ending in a bogus SOS: opens, load() raises OSError."""
    data = bytearray(camera_jpeg(orientation=1, gps=False, size=(320, 240)))
    sos = data.find(b"\xff\xda")
    mid = (sos + 4 + int.from_bytes(data[sos + 2 : sos + 4], "big") + data.rfind(b"\xff\xd9")) // 2
    # Plain garbage only earns libjpeg warnings; the marker makes it stop the scan and fail.
    garbage = bytes(b % 255 for b in random.Random(7).randbytes(120)) + b"\xff\xda\x00\x02"
    data[mid : mid + len(garbage)] = garbage
    return bytes(data)


def bomb_png(side: int = BOMB_SIDE) -> bytes:
    """1-bit PNG declaring side x side white pixels (~150 KB), compressed row batch by row batch."""

    def chunk(kind: bytes, body: bytes) -> bytes:
        return (
            struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))
        )

    row, z = (
        b"\x00" + b"\xff" * ((side + 7) // 8),
        zlib.compressobj(9),
    )  # filter 0, then white pixels
    idat = b"".join(z.compress(row * min(1000, side - y)) for y in range(0, side, 1000)) + z.flush()
    ihdr = struct.pack(">IIBBBBB", side, side, 1, 0, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", idat) + chunk(b"IEND", b"")


def huge_dimensions_jpeg(side: int = BOMB_SIDE) -> bytes:
    """A 16x16 JPEG whose SOF0 header is patched to declare side x side (a few hundred bytes)."""
    data = bytearray(_save(Image.new("RGB", (16, 16), (240, 236, 226)), "JPEG"))
    sof = data.find(b"\xff\xc0")
    data[sof + 5 : sof + 9] = struct.pack(">HH", side, side)
    return bytes(data)


def polyglot_jpeg_zip() -> bytes:
    """Decodable 480x640 JPEG + appended zip: refuse it, or accept and re-encode without the trailer."""
    archive = io.BytesIO()
    with zipfile.ZipFile(archive, "w") as zf:
        entry = zipfile.ZipInfo(
            "payload.html", date_time=(2024, 5, 17, 14, 32, 9)
        )  # fixed: deterministic
        zf.writestr(entry, "<script>alert(document.cookie)</script>")
    return camera_jpeg(orientation=1, gps=False, size=(480, 640)) + archive.getvalue()


_HTML = b"<!DOCTYPE html><html><body><h1>drawing</h1><script>alert(document.cookie)</script></body></html>\n"
_SVG = (
    b'<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg" width="300" height="400">'
    b'<rect width="300" height="400" fill="#f3eee2"/><script>alert(1)</script></svg>\n'
)

BAD_FILES: dict[str, Fixture] = {
    "empty": lambda: (b"", "photo.jpg", "image/jpeg"),
    "truncated_jpeg": lambda: (truncated_jpeg(), "photo.jpg", "image/jpeg"),
    "corrupt_jpeg": lambda: (corrupt_jpeg(), "photo.jpg", "image/jpeg"),
    "text_as_jpg": lambda: (b"hello, this is not a photo\n" * 50, "photo.jpg", "image/jpeg"),
    "html_as_png": lambda: (_HTML, "drawing.png", "image/png"),
    "svg_with_script": lambda: (_SVG, "drawing.svg", "image/svg+xml"),
    "decompression_bomb_png": lambda: (bomb_png(), "drawing.png", "image/png"),
    "huge_dimensions_jpeg": lambda: (huge_dimensions_jpeg(), "photo.jpg", "image/jpeg"),
    "animated_gif": lambda: (animated("GIF"), "drawing.gif", "image/gif"),
    "animated_webp": lambda: (animated("WEBP"), "drawing.webp", "image/webp"),
    "animated_png": lambda: (animated("PNG"), "drawing.png", "image/png"),
    "gif_single": lambda: (_save(drawing((300, 400)), "GIF"), "drawing.gif", "image/gif"),
    "tiff": lambda: (_save(drawing((300, 400)), "TIFF"), "drawing.tiff", "image/tiff"),
    "bmp": lambda: (_save(drawing((300, 400)), "BMP"), "drawing.bmp", "image/bmp"),
    # The last two DO decode; the tests decide whether the app must refuse them (see the docstrings).
    "polyglot_jpeg_zip": lambda: (polyglot_jpeg_zip(), "photo.jpg", "image/jpeg"),
    "one_by_one": lambda: (
        _save(Image.new("RGB", (1, 1), (240, 236, 226)), "JPEG"),
        "photo.jpg",
        "image/jpeg",
    ),
}


def _chunk(kind: bytes, body: bytes) -> bytes:
    return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))


def png16(size: tuple[int, int] = (300, 400), colour: bool = False) -> bytes:
    """The drawing as a 16-bit-per-channel PNG (greyscale, or RGB), written by hand: Pillow can
    read 16-bit RGB but not write it."""
    img = drawing(size) if colour else drawing(size).convert("L")
    samples = img.tobytes()
    wide = b"".join(struct.pack(">H", v * 257) for v in samples)  # 0..255 -> 0..65535
    row = size[0] * (6 if colour else 2)
    raw = b"".join(b"\x00" + wide[y * row : (y + 1) * row] for y in range(size[1]))
    ihdr = struct.pack(">IIBBBBB", size[0], size[1], 16, 2 if colour else 0, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + _chunk(b"IHDR", ihdr)
        + _chunk(b"IDAT", zlib.compress(raw))
        + _chunk(b"IEND", b"")
    )


def gif_huge_screen(side: int = BOMB_SIDE) -> bytes:
    """A 16x16 GIF whose logical screen is patched to declare side x side."""
    data = bytearray(_save(Image.new("P", (16, 16)), "GIF"))
    data[6:10] = struct.pack("<HH", side, side)
    return bytes(data)


def png_bad_crc() -> bytes:
    """A 300x400 PNG whose IDAT checksum is wrong."""
    data = bytearray(_save(drawing((300, 400)), "PNG"))
    idat = data.find(b"IDAT")
    length = struct.unpack(">I", data[idat - 4 : idat])[0]
    data[idat + 4 + length] ^= 0xFF
    return bytes(data)


def _zip() -> bytes:
    archive = io.BytesIO()
    with zipfile.ZipFile(archive, "w") as zf:
        zf.writestr(zipfile.ZipInfo("x.txt", date_time=(2024, 5, 17, 14, 32, 9)), "zip")
    return archive.getvalue()


_TEXT = b"hello, this is not a photo\n" * 50
_PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"
_EXE = b"MZ\x90\x00\x03" + b"\x00" * 55 + b"\x40\x00\x00\x00" + b"PE\x00\x00" + b"\x00" * 200

# Not photos, or not photos we accept, whatever their name and declared type.
BAD_FILES |= {
    "pdf_as_jpg": lambda: (_PDF, "photo.jpg", "image/jpeg"),
    "zip_as_png": lambda: (_zip(), "drawing.png", "image/png"),
    "exe_as_jpg": lambda: (_EXE, "photo.jpg", "application/x-msdownload"),
    "html_as_text_html": lambda: (_HTML, "photo.jpg", "text/html"),
    "svg_named_jpg": lambda: (_SVG, "photo.jpg", "image/jpeg"),
    "text_octet_stream": lambda: (_TEXT, "photo", "application/octet-stream"),
    "text_no_content_type": lambda: (_TEXT, "photo.jpg", ""),
    "jpeg_header_only": lambda: (
        b"\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00",
        "photo.jpg",
        "image/jpeg",
    ),
    "png_truncated": lambda: (png_bytes((300, 400))[:3000], "drawing.png", "image/png"),
    "webp_truncated": lambda: (webp_bytes((300, 400))[:500], "drawing.webp", "image/webp"),
    "heic_truncated": lambda: (heic_bytes((120, 160))[:400], "IMG_0002.HEIC", "image/heic"),
    "gif_huge_screen": lambda: (gif_huge_screen(), "drawing.gif", "image/gif"),
    "narrow_strip": lambda: (png_bytes((40, 3000)), "drawing.png", "image/png"),
    "ico": lambda: (_save(drawing((64, 64)), "ICO"), "favicon.ico", "image/x-icon"),
    "ppm": lambda: (_save(drawing((100, 100)), "PPM"), "drawing.ppm", "image/x-portable-pixmap"),
    # Path traversal in the file name, on content that is not a photo: refused, nothing written.
    "traversal_unix_name": lambda: (_TEXT, "../../../../etc/passwd", "image/jpeg"),
    "traversal_windows_name": lambda: (_TEXT, "..\\..\\..\\Windows\\win.ini", "image/jpeg"),
    "traversal_absolute_name": lambda: (_TEXT, "/etc/cron.d/fieldapp.jpg", "image/jpeg"),
    "traversal_encoded_name": lambda: (_TEXT, "..%2f..%2fmedia%2fphoto.php%00.jpg", "image/jpeg"),
}

# Metadata a camera, an editor or an attacker leaves in a file -------------------------------

#: The secret every METADATA_FILES fixture hides in its metadata (none in its pixels): where
#: someone lives. Nothing the app stores, serves or exports may contain SECRET_MARK.
SECRET = "home at 52.5200N 13.4050E"
SECRET_MARK = b"52.5200N"
BERLIN = (52.52, 13.405)


@functools.cache
def icc_srgb() -> bytes:
    """An sRGB ICC profile: the one piece of metadata the app keeps. (Cached: LittleCMS stamps
    each profile it makes with the time.)"""
    from PIL import ImageCms

    return ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()


def secret_exif(orientation: int = 1) -> Image.Exif:
    """camera_exif() placed in Berlin, with the secret in ImageDescription, UserComment and
    a MakerNote (a maker's private block: Pillow writes it as opaque bytes)."""
    exif = camera_exif(orientation, gps=True)
    g = exif.get_ifd(0x8825)
    for ref, value, key in (("N", BERLIN[0], 2), ("E", BERLIN[1], 4)):
        d, rest = divmod(round(value * 360000), 360000)
        g[key - 1], g[key] = ref, (
            IFDRational(d, 1), IFDRational(rest // 6000, 1), IFDRational(rest % 6000, 100)
        )  # fmt: skip
    exif[0x010E] = SECRET  # ImageDescription
    ifd = exif.get_ifd(0x8769)
    ifd[0x9286] = b"ASCII\x00\x00\x00" + SECRET.encode()  # UserComment
    ifd[0x927C] = b"Google\x00\x00HDRP" + SECRET.encode() + b"\x00" * 16  # MakerNote
    return exif


def secret_xmp() -> bytes:
    """A camera's XMP packet: GPS, a description and a city, the secret among them."""
    return (
        '<?xpacket begin="\ufeff" id="W5M0MpCehiHzreSzNTczkc9d"?>'
        '<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF'
        ' xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">'
        '<rdf:Description rdf:about="" xmlns:dc="http://purl.org/dc/elements/1.1/"'
        ' xmlns:exif="http://ns.adobe.com/exif/1.0/"'
        ' xmlns:photoshop="http://ns.adobe.com/photoshop/1.0/"'
        ' exif:GPSLatitude="52,31.2N" exif:GPSLongitude="13,24.3E" photoshop:City="Berlin">'
        f'<dc:description><rdf:Alt><rdf:li xml:lang="x-default">{SECRET}</rdf:li></rdf:Alt>'
        "</dc:description></rdf:Description></rdf:RDF></x:xmpmeta>"
        '<?xpacket end="w"?>'
    ).encode()


def iptc_app13() -> bytes:
    """An APP13 segment as Photoshop writes it: IPTC-IIM caption (2:120) and city (2:90)."""

    def dataset(record: int, number: int, value: bytes) -> bytes:
        return bytes((0x1C, record, number)) + struct.pack(">H", len(value)) + value

    iim = dataset(1, 90, b"\x1b%G") + dataset(2, 120, SECRET.encode()) + dataset(2, 90, b"Berlin")
    resource = b"8BIM" + struct.pack(">H", 0x0404) + b"\x00\x00" + struct.pack(">I", len(iim))
    resource += iim + b"\x00" * (len(iim) % 2)
    payload = b"Photoshop 3.0\x00" + resource
    return b"\xff\xed" + struct.pack(">H", len(payload) + 2) + payload


def _app1_xmp(xmp: bytes) -> bytes:
    payload = b"http://ns.adobe.com/xap/1.0/\x00" + xmp
    return b"\xff\xe1" + struct.pack(">H", len(payload) + 2) + payload


def with_segments(jpeg: bytes, *segments: bytes) -> bytes:
    """The JPEG with `segments` inserted after its APPn and COM segments, before its tables."""
    position = 2
    while 0xE0 <= jpeg[position + 1] <= 0xEF or jpeg[position + 1] == 0xFE:
        position += 2 + struct.unpack(">H", jpeg[position + 2 : position + 4])[0]
    return jpeg[:position] + b"".join(segments) + jpeg[position:]


def jpeg_with_comment(size: tuple[int, int] = (1600, 1200)) -> bytes:
    """A plain JPEG (no EXIF) whose only metadata is a COM segment holding the secret."""
    return _save(drawing(size), "JPEG", quality=90, comment=SECRET.encode())


def jpeg_with_everything(orientation: int = 6, size: tuple[int, int] = (1600, 1200)) -> bytes:
    """A phone JPEG stored sideways (`size` as stored) with every kind of metadata: EXIF with GPS,
    description, user comment and maker note; the camera's XMP; IPTC in APP13; a COM comment;
    and an sRGB ICC profile (the only part that may be kept)."""
    upright = size if orientation <= 4 else (size[1], size[0])
    jpeg = _save(
        _stored(drawing(upright), orientation), "JPEG", quality=90,
        exif=secret_exif(orientation), comment=SECRET.encode(), icc_profile=icc_srgb(),
    )  # fmt: skip
    return with_segments(jpeg, _app1_xmp(secret_xmp()), iptc_app13())


def png_with_text(kind: str, size: tuple[int, int] = (1200, 1600)) -> bytes:
    """A PNG whose `comment` text chunk (kind "tEXt", "zTXt" or "iTXt") holds the secret."""
    from PIL.PngImagePlugin import PngInfo

    info = PngInfo()
    if kind == "iTXt":
        info.add_itxt("comment", SECRET, lang="en", tkey="Comment")
    else:
        info.add_text("comment", SECRET, zip=kind == "zTXt")
    return _save(drawing(size), "PNG", pnginfo=info)


def png_with_exif_and_xmp(size: tuple[int, int] = (1200, 1600)) -> bytes:
    """A PNG with an eXIf chunk (GPS and the secret), the camera's XMP in iTXt, a Description
    tEXt, and an sRGB iCCP."""
    from PIL.PngImagePlugin import PngInfo

    info = PngInfo()
    info.add_itxt("XML:com.adobe.xmp", secret_xmp().decode())
    info.add_text("Description", SECRET)
    return _save(drawing(size), "PNG", pnginfo=info, exif=secret_exif(1), icc_profile=icc_srgb())


def webp_with_metadata(size: tuple[int, int] = (1200, 1600)) -> bytes:
    """A lossy WebP with EXIF (GPS, the secret), the camera's XMP and an sRGB ICC profile."""
    return _save(
        drawing(size), "WEBP", quality=80,
        exif=secret_exif(1).tobytes(), xmp=secret_xmp(), icc_profile=icc_srgb(),
    )  # fmt: skip


def heic_with_metadata(size: tuple[int, int] = (600, 800), orientation: int = 6) -> bytes:
    """heic_bytes() whose EXIF also holds the secret (and GPS in Berlin), with the camera's XMP."""
    from pillow_heif import register_heif_opener

    register_heif_opener()
    stored = _stored(drawing(size), orientation)
    return _save(
        stored, "HEIF", quality=60, exif=secret_exif(orientation).tobytes(), xmp=secret_xmp()
    )


#: The primary picture of mpo_jpeg(), as stored: the upright drawing. Its second picture is
#: plain blue: anything blue in the output came from the wrong picture.
MPO_SECOND_COLOUR = (20, 40, 230)


def mpo_jpeg(size: tuple[int, int] = (1600, 1200), metadata: bool = True) -> bytes:
    """A multi-picture JPEG (MPO, CIPA DC-007) as phones write one with a depth map: the photo
    (`size`, upright) first, a smaller blue second picture after it. With `metadata`, the
    primary carries secret_exif() (GPS) and a COM comment, and the second picture the secret
    in its own comment."""
    second = Image.new("RGB", (size[0] // 2, size[1] // 2), MPO_SECOND_COLOUR)
    if metadata:
        second.encoderinfo = {"comment": SECRET.encode()}
    options = {"exif": secret_exif(1), "comment": SECRET.encode()} if metadata else {}
    return _save(drawing(size), "MPO", save_all=True, append_images=[second], **options)


#: Real photos carrying metadata that must not survive anywhere: every file the app stores,
#: serves or exports from them holds pixels, at most their colour profile, and the drawer's
#: rights XMP the app adds, nothing else (tests/test_image_metadata.py).
METADATA_FILES: dict[str, Fixture] = {
    "jpeg_com": lambda: (jpeg_with_comment(), "IMG_1234.jpg", "image/jpeg"),
    "jpeg_exif_xmp_iptc_makernote_com": lambda: (
        jpeg_with_everything(),
        "PXL_20240517_143209123.jpg",
        "image/jpeg",
    ),  # fmt: skip
    "png_text_comment": lambda: (png_with_text("tEXt"), "drawing.png", "image/png"),
    "png_ztxt_comment": lambda: (png_with_text("zTXt"), "drawing.png", "image/png"),
    "png_itxt_comment": lambda: (png_with_text("iTXt"), "drawing.png", "image/png"),
    "png_exif_xmp": lambda: (png_with_exif_and_xmp(), "drawing.png", "image/png"),
    "webp_exif_xmp": lambda: (webp_with_metadata(), "drawing.webp", "image/webp"),
    "heic_exif_xmp": lambda: (heic_with_metadata(), "IMG_0003.HEIC", "image/heic"),
    "mpo_exif_com": lambda: (mpo_jpeg(), "PXL_20240517_143209123.MP.jpg", "image/jpeg"),
}


# Decodable oddities the app must accept: stored upright, RGB, without metadata.
ODD_FILES: dict[str, Fixture] = {
    "cmyk_jpeg": lambda: (
        _save(drawing((300, 400)).convert("CMYK"), "JPEG"),
        "scan.jpg",
        "image/jpeg",
    ),
    "png16_grey": lambda: (png16(), "scan.png", "image/png"),
    "png16_rgb": lambda: (png16(colour=True), "scan.png", "image/png"),
    "grey_jpeg": lambda: (
        _save(drawing((300, 400)).convert("L"), "JPEG"),
        "grey.jpg",
        "image/jpeg",
    ),
    "palette_png": lambda: (_save(drawing((300, 400)).convert("P"), "PNG"), "p.png", "image/png"),
    "progressive_jpeg": lambda: (
        _save(drawing((300, 400)), "JPEG", progressive=True),
        "progressive.jpg",
        "image/jpeg",
    ),
    # Pillow does not check IDAT checksums; every pixel decodes, so the photo is kept.
    "png_bad_crc": lambda: (png_bad_crc(), "drawing.png", "image/png"),
    "traversal_name_real_photo": lambda: (
        _save(drawing((300, 401)), "JPEG"),
        "../../../../tmp/fieldapp-evil.jpg",
        "image/jpeg",
    ),
    # Many phones' photos: the primary picture and a depth or gain map; the primary is kept.
    "mpo_two_pictures": lambda: (mpo_jpeg((400, 300), metadata=False), "photo.jpg", "image/jpeg"),
}


def _valid_data() -> dict:
    """A valid completed encounter's `data`, an hour ago (kept here so the CLI needs no app)."""
    from datetime import UTC, datetime, timedelta

    started = datetime.now(UTC) - timedelta(hours=1)
    return {
        "status": "completed",
        "venue_type": "bar",
        "venue": "pool night",
        "city": "Lyon",
        "started_at": started.isoformat(),
        "drawing_started_at": (started + timedelta(minutes=1)).isoformat(),
        "drawing_finished_at": (started + timedelta(minutes=3)).isoformat(),
        "time_limit_seconds": 120,
        "consent": {
            "version": 1,
            "keep": True,
            "gallery": True,
            "training": False,
            "social": False,
        },
        "credit": {"anonymous": True},
        "notes": "",
    }


def _with(**changes) -> Callable[[], str]:
    """A payload: the valid data with `changes` (a value of ... removes the key)."""

    def build() -> str:
        data = _valid_data()
        for key, value in changes.items():
            target, _, sub = key.partition("__")
            if sub:
                data[target] = {**data[target], sub: value}
            elif value is ...:
                data.pop(key)
            else:
                data[key] = value
        return json.dumps(data, allow_nan=True)

    return build


def _raw(text: str) -> Callable[[], str]:
    return lambda: text


def _huge_json() -> str:
    return _with(notes="x" * 3_000_000)()


def _deep_json() -> str:
    return "[" * 200_000 + "]" * 200_000


# Wrong types in every field of an encounter: each key gets a value of a type it never takes.
WRONG_TYPES = {
    "status": 1, "venue_type": ["bar"], "venue": 5, "city": {"name": "Lyon"}, "started_at": 1716000000,
    "drawing_started_at": True, "drawing_finished_at": [], "time_limit_seconds": "120",
    "consent": "yes", "credit": "anonymous", "notes": ["note"], "ticket": 7,
    "consent__version": "1", "consent__keep": "true", "consent__gallery": 1,
    "consent__training": None, "consent__social": {}, "credit__name": 42,
}  # fmt: skip

DATA_PAYLOADS: dict[str, Callable[[], str]] = {
    "json_empty": _raw(""),
    "json_truncated": _raw('{"status": "completed", "venue_type": "ba'),
    "json_not_json": _raw("hello, not json"),
    "json_null": _raw("null"),
    "json_array": _raw("[]"),
    "json_number": _raw("42"),
    "json_deep_nesting": _deep_json,
    "json_huge_3mb": _huge_json,
    "json_nan_time_limit": _with(time_limit_seconds=float("nan")),
    "json_infinite_time_limit": _with(time_limit_seconds=float("inf")),
    "json_lone_surrogate": _raw(_with(venue="SURROGATE")().replace("SURROGATE", "\\ud800")),
    "json_nul_character": _with(city="Ly\x00on"),
    "json_unknown_field": _with(is_admin=True),
    "json_missing_status": _with(status=...),
    **{f"wrong_type_{key}": _with(**{key: value}) for key, value in WRONG_TYPES.items()},
    "date_far_future": _with(started_at="9999-12-31T23:59:59+00:00"),
    "date_year_3000": _with(started_at="3000-01-01T00:00:00Z"),
    "date_overflows_utc": _with(started_at="9999-12-31T23:59:59-14:00"),
    "date_underflows_utc": _with(started_at="0001-01-01T00:00:00+14:00"),
    "date_without_offset": _with(started_at="2026-05-17T20:00:00"),
    "date_not_a_date": _with(started_at="last Tuesday"),
    "date_finished_before_started": _with(
        drawing_started_at="2026-05-17T20:10:00+00:00",
        drawing_finished_at="2026-05-17T20:00:00+00:00",
    ),
    "time_limit_negative": _with(time_limit_seconds=-60),
    "time_limit_zero": _with(time_limit_seconds=0),
    "time_limit_huge": _with(time_limit_seconds=10**30),
    "time_limit_fraction": _with(time_limit_seconds=1.5),
    "venue_type_unknown": _with(venue_type="spaceship"),
    "venue_type_empty": _with(venue_type=""),
    "venue_type_capitalised": _with(venue_type="Bar"),
    "venue_type_injection": _with(venue_type="bar'; DROP TABLE encounters; --"),
    "consent_version_huge": _with(consent__version=10**30),
    "consent_version_unknown": _with(consent__version=999_999),
    "consent_version_zero": _with(consent__version=0),
    "ticket_unknown": _with(ticket="no-such-ticket-token-at-all"),
    "ticket_huge": _with(ticket="t" * 100_000),
    "credit_name_too_long": _with(credit={"name": "x" * 101}),
    "credit_name_blank": _with(credit={"name": "   "}),
    "venue_too_long": _with(venue="v" * 201),
    "declined_with_consent": _with(status="declined"),
}

GOOD_FILES: dict[str, Fixture] = {
    "camera_jpeg_orientation_6_gps": lambda: (
        camera_jpeg(),
        "PXL_20240517_143209123.jpg",
        "image/jpeg",
    ),
    "png": lambda: (png_bytes(), "drawing.png", "image/png"),
    "png_alpha": lambda: (png_bytes(alpha=True), "drawing.png", "image/png"),
    "webp": lambda: (webp_bytes(), "drawing.webp", "image/webp"),
    "webp_lossless": lambda: (webp_bytes(lossless=True), "drawing.webp", "image/webp"),
    "heic": lambda: (heic_bytes(), "IMG_0001.HEIC", "image/heic"),
}


def describe(content: bytes) -> str:
    """One line saying what Pillow (with the HEIF opener, if registered) makes of `content`."""
    desc = ""
    try:
        with Image.open(io.BytesIO(content)) as im:
            exif, was = im.getexif(), im.info.get("original_orientation")
            desc = f"{im.format} {im.size[0]}x{im.size[1]} {im.mode}"
            desc += f", {im.n_frames} frames" if getattr(im, "n_frames", 1) > 1 else ""
            desc += f", EXIF orientation {exif[0x0112]}" if 0x0112 in exif else ""
            desc += f" (file says {was}, decoder applied it)" if was else ""
            desc += ", GPS" if exif.get_ifd(0x8825) else ""
            im.load()
        return desc + ", decodes"
    except Image.UnidentifiedImageError:
        return "empty" if not content else "not an image to Pillow (UnidentifiedImageError)"
    except Exception as exc:  # noqa: BLE001 - describing the failure is the point
        return f"{desc}; {type(exc).__name__}: {exc}".lstrip("; ")


def _opened(content: bytes) -> Image.Image:
    im = Image.open(io.BytesIO(content))
    im.load()
    return im


def _error(content: bytes) -> type[BaseException] | None:
    try:
        _opened(content)
    except Exception as exc:  # noqa: BLE001
        return type(exc)
    return None


def _saturated_red(img: Image.Image) -> Image.Image:
    """Mask of pixels whose red exceeds both green and blue by more than 60."""
    r, g, b = img.convert("RGB").split()
    return ImageChops.subtract(r, ImageChops.lighter(g, b)).point(lambda v: 255 if v > 60 else 0)


def self_check(built: dict[str, tuple[bytes, str, str]]) -> list[str]:
    """Check this module's promises against the built fixtures (plus a few rebuilt); returns failures."""
    from pillow_heif import register_heif_opener

    register_heif_opener()
    fails: list[str] = []

    def check(ok: bool, claim: str) -> None:
        fails.extend([] if ok else [claim])

    for size in ((3024, 4032), (300, 400), (4032, 3024)):
        d, boxes = drawing(size), corner_boxes(size)
        check(
            [c for _, c in d.crop(boxes["top-left"]).getcolors()] == [(255, 0, 0)],
            f"drawing{size}: marker",
        )
        quarter = d.crop((0, 0, size[0] // 2, size[1] // 2))
        quarter.paste((240, 236, 226), boxes["top-left"])
        check(
            _saturated_red(quarter).getbbox() is None,
            f"drawing{size}: top-left quarter red only in marker",
        )
        for name in ("top-right", "bottom-left", "bottom-right"):
            paper = d.crop(boxes[name])
            check(
                _saturated_red(paper).getbbox() is None and min(ImageStat.Stat(paper).mean) > 180,
                f"drawing{size}: {name} square is paper",
            )
        for method, corner in (
            (None, "top-left"),
            (T.ROTATE_90, "bottom-left"),
            (T.ROTATE_180, "bottom-right"),
            (T.FLIP_LEFT_RIGHT, "top-right"),
        ):
            img = d if method is None else d.transpose(method)
            small = _opened(
                _save(img.resize((img.width // 5, img.height // 5)), "JPEG", quality=60)
            )
            check(
                marker_corner(small) == corner,
                f"drawing{size} {method}: marker_corner -> {corner} after JPEG",
            )

    content, _, _ = built["camera_jpeg_orientation_6_gps"]
    jpg = _opened(content)
    exif, gps = jpg.getexif(), jpg.getexif().get_ifd(0x8825)
    check(jpg.format == "JPEG" and jpg.size == (4032, 3024), "camera JPEG stores 4032x3024")
    check(2_000_000 <= len(content) <= 5_000_000, f"camera JPEG is 2-5 MB (is {len(content):,})")
    check(
        (exif.get(0x010F), exif.get(0x0110), exif.get(0x0112)) == ("Google", "Pixel 7", 6),
        "Make/Model/Orient",
    )
    check(
        exif.get_ifd(0x8769).get(0x9003) == "2024:05:17 14:32:09",
        "DateTimeOriginal in the Exif IFD",
    )
    deg = {k: float(gps[k][0] + gps[k][1] / 60 + gps[k][2] / 3600) for k in (2, 4) if k in gps}
    check(
        gps.get(1) == "N"
        and gps.get(3) == "W"
        and all(isinstance(v, IFDRational) for v in gps.get(2, ()))
        and abs(deg.get(2, 0) - 40.7128) < 1e-6
        and abs(deg.get(4, 0) - 74.0060) < 1e-6,
        "GPS 40.7128 N 74.006 W",
    )
    upright = ImageOps.exif_transpose(jpg)
    check(
        upright.size == (3024, 4032) and marker_corner(upright) == "top-left",
        "camera JPEG upright, marker TL",
    )
    check(
        marker_corner(jpg) == "bottom-left",
        "camera JPEG stored pixels are rotated (marker bottom-left)",
    )
    for orientation in range(1, 9):
        for with_gps in (True, False):
            im = _opened(camera_jpeg(orientation, with_gps, size=(160, 120)))
            check(
                im.getexif().get(0x0112) == orientation
                and bool(im.getexif().get_ifd(0x8825)) == with_gps
                and marker_corner(ImageOps.exif_transpose(im)) == "top-left",
                f"camera_jpeg({orientation})",
            )

    for name, mode in (
        ("png", "RGB"),
        ("png_alpha", "RGBA"),
        ("webp", "RGB"),
        ("webp_lossless", "RGB"),
    ):
        im = _opened(built[name][0])
        check(
            im.format == name.split("_")[0].upper()
            and im.size == (1200, 1600)
            and im.mode == mode
            and marker_corner(im) == "top-left",
            f"{name}: 1200x1600 {mode}, marker top-left",
        )
    alpha = _opened(built["png_alpha"][0]).getchannel("A")
    check(
        alpha.getpixel((0, 0)) == 0 and alpha.getpixel((600, 800)) == 255,
        "png_alpha: transparent margin",
    )
    check(
        ImageChops.difference(_opened(built["webp_lossless"][0]), drawing((1200, 1600))).getbbox()
        is None,
        "webp_lossless decodes to exactly drawing((1200, 1600))",
    )

    heic = built["heic"][0]
    im, raw = _opened(heic), Image.Exif()
    raw.load(
        heic[max(heic.rfind(b"Exif\0\0MM\0*"), heic.rfind(b"Exif\0\0II*\0")) :]
    )  # the file's own EXIF
    check(
        im.format == "HEIF" and im.size == (600, 800),
        "HEIC opens as 600x800 (libheif applied irot)",
    )
    check(
        b"irot" in heic and raw.get(0x0112) == 6 and raw.get(0x010F) == "Google",
        "HEIC: irot + raw Orient 6",
    )
    check(
        im.getexif().get(0x0112) == 1 and im.info.get("original_orientation") == 6,
        "pillow-heif says 1 (was 6)",
    )
    check(
        bool(im.getexif().get_ifd(0x8825)) and bool(raw.get_ifd(0x8825)),
        "HEIC keeps GPS in its EXIF",
    )
    check(
        marker_corner(ImageOps.exif_transpose(im)) == "top-left",
        "HEIC via exif_transpose: marker top-left",
    )
    check(GOOD_FILES["heic"]()[0] == heic, "HEIC encoding is deterministic")

    bad = {name: built[name][0] for name in BAD_FILES}
    check(bad["empty"] == b"", "empty is empty")
    for name in ("truncated_jpeg", "corrupt_jpeg"):
        check(
            Image.open(io.BytesIO(bad[name])).format == "JPEG" and _error(bad[name]) is OSError,
            f"{name}: header opens, load() raises OSError",
        )
    for name in ("text_as_jpg", "html_as_png", "svg_with_script"):
        check(
            _error(bad[name]) is Image.UnidentifiedImageError, f"{name} is not an image to Pillow"
        )
    check(
        b"<script>alert(1)</script>" in bad["svg_with_script"]
        and b"<script>" in bad["html_as_png"],
        "scripts",
    )
    for name, limit in (("decompression_bomb_png", 2_000_000), ("huge_dimensions_jpeg", 2_000)):
        check(
            len(bad[name]) < limit and _error(bad[name]) is Image.DecompressionBombError,
            f"{name}: under {limit:,} bytes, Image.open raises DecompressionBombError",
        )
    check(
        struct.unpack(">II", bad["decompression_bomb_png"][16:24]) == (BOMB_SIDE, BOMB_SIDE),
        "bomb IHDR",
    )
    for name, fmt, frames in (
        ("animated_gif", "GIF", 3),
        ("animated_webp", "WEBP", 3),
        ("animated_png", "PNG", 3),
        ("gif_single", "GIF", 1),
        ("tiff", "TIFF", 1),
        ("bmp", "BMP", 1),
        ("polyglot_jpeg_zip", "JPEG", 1),
        ("one_by_one", "JPEG", 1),
    ):
        im = _opened(bad[name])
        check(
            im.format == fmt and getattr(im, "n_frames", 1) == frames,
            f"{name} is {fmt} with {frames} frame(s)",
        )
    check(zipfile.is_zipfile(io.BytesIO(bad["polyglot_jpeg_zip"])), "polyglot also reads as a zip")
    check(len(BAD_FILES) + len(DATA_PAYLOADS) >= 40, "at least 40 bad files and payloads")
    odd = {name: _opened(built[name][0]) for name in ODD_FILES}
    check(odd["cmyk_jpeg"].mode == "CMYK", "cmyk_jpeg is CMYK")
    check(odd["png16_grey"].mode.startswith("I;16"), "png16_grey is 16-bit greyscale")
    check(built["png16_rgb"][0][24:26] == b"\x10\x02", "png16_rgb: IHDR says 16-bit RGB")
    check(odd["png16_rgb"].size == (300, 400), "png16_rgb decodes at 300x400")
    for name in ("gif_huge_screen",):
        check(_error(bad[name]) is Image.DecompressionBombError, f"{name} is a bomb to Pillow")
    for name in ("pdf_as_jpg", "zip_as_png", "exe_as_jpg", "text_octet_stream", "jpeg_header_only"):
        check(_error(bad[name]) is not None, f"{name} does not decode")
    for name in DATA_PAYLOADS:
        payload = built[f"payload {name}"]
        try:
            data = json.loads(payload)
        except (ValueError, RecursionError):
            continue
        check(data != _valid_data(), f"payload {name} differs from valid data")
    check(_opened(bad["one_by_one"]).size == (1, 1), "one_by_one is 1x1")
    mpo = _opened(built["mpo_two_pictures"][0])
    check(mpo.format == "MPO" and mpo.n_frames == 2, "mpo_two_pictures is an MPO of 2 pictures")
    check(marker_corner(mpo) == "top-left", "mpo_two_pictures: the primary is the drawing")
    mpo.seek(1)
    second = mpo.convert("RGB").getpixel((0, 0))
    check(
        max(abs(a - b) for a, b in zip(second, MPO_SECOND_COLOUR, strict=True)) <= 3,
        "the MPO's 2nd picture is blue",
    )
    for name in METADATA_FILES:
        im = _opened(built[name][0])
        texts = [str(v) for v in im.info.values()] + [str(v) for v in im.getexif().values()]
        hidden = any(SECRET in t for t in texts) or SECRET_MARK in built[name][0]
        check(hidden, f"{name} hides the secret")
        check(marker_corner(ImageOps.exif_transpose(im)) == "top-left", f"{name} upright")
    check(
        _opened(built["png_ztxt_comment"][0]).info.get("comment") == SECRET,
        "png_ztxt_comment: a zTXt comment (compressed: not in the raw bytes)",
    )
    return fails


def main(argv: list[str]) -> int:
    """Write every fixture into argv[1], print one line each, self-check; 0 only if every claim holds."""
    if len(argv) != 2:
        print(f"usage: {argv[0]} OUTDIR", file=sys.stderr)
        return 2
    from pillow_heif import register_heif_opener

    register_heif_opener()
    out, start, built = Path(argv[1]), time.monotonic(), {}
    out.mkdir(parents=True, exist_ok=True)
    for group, fixtures in (
        ("good", GOOD_FILES),
        ("bad", BAD_FILES),
        ("odd", ODD_FILES),
        ("metadata", METADATA_FILES),
    ):
        for name, make in fixtures.items():
            content, filename, content_type = built[name] = make()
            path = out / f"{group}_{name}{Path(filename).suffix.lower()}"
            path.write_bytes(content)
            print(
                f"{path.name:38} {len(content):>10,} B  {content_type:13} {filename!r}: {describe(content)}"
            )
    for name, make in DATA_PAYLOADS.items():
        payload = built[f"payload {name}"] = make()
        path = out / f"payload_{name}.json"
        path.write_text(payload, encoding="utf-8", errors="surrogatepass")
        print(f"{path.name:38} {len(payload):>10,} ch  {payload[:60]!r}")
    try:
        fails = self_check(built)
    except Exception as exc:  # noqa: BLE001 - a crash is a failed claim too
        fails = [f"self-check crashed: {exc!r}"]
    for claim in fails:
        print(f"SELF-CHECK FAILED: {claim}")
    print(
        f"self-check {'FAILED' if fails else 'OK'}: {len(built)} files in {time.monotonic() - start:.1f}s"
    )
    return 1 if fails else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))

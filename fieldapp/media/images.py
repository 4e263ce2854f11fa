"""Turn an uploaded photo into an upright archive copy, a display image and a thumbnail.

Pure functions on bytes: no app, no database, no disk. Every output is re-encoded from pixels
by `encode_clean()`, so no EXIF (GPS above all), XMP, IPTC, maker notes, JPEG comment or PNG text
can survive; only the colour profile is kept.
"""

from __future__ import annotations

import hashlib
import io
import warnings
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

from PIL import ExifTags, Image
from pillow_heif import register_heif_opener

from fieldapp.media.framing import AUTO, NONE, Corners, rectify
from fieldapp.media.sheet_detection import find_sheet, working_copy

register_heif_opener()

# Decoders Pillow may try. Restricting them means an SVG, a TIFF or a text file is never
# handed to a parser we did not choose, whatever its name or declared type.
ACCEPTED_FORMATS = ("JPEG", "PNG", "WEBP", "HEIF")
ACCEPTED_DESCRIPTION = "JPEG, PNG, WebP or HEIC"

MIN_SHORT_EDGE = 64  # smaller than this is an icon or a tracking pixel, not a photo of a drawing
DISPLAY_LONG_EDGE = 2016  # exactly half a 12 MP phone photo's long edge: a cheap 2x reduce
THUMB_LONG_EDGE = 480
ARCHIVE_JPEG_QUALITY = 92
DISPLAY_JPEG_QUALITY = 85
THUMB_JPEG_QUALITY = 80

# EXIF Orientation -> the transposition that makes the pixels upright (as ImageOps does).
_UPRIGHT = {
    2: (Image.Transpose.FLIP_LEFT_RIGHT,),
    3: (Image.Transpose.ROTATE_180,),
    4: (Image.Transpose.FLIP_TOP_BOTTOM,),
    5: (Image.Transpose.TRANSPOSE,),
    6: (Image.Transpose.ROTATE_270,),
    7: (Image.Transpose.TRANSVERSE,),
    8: (Image.Transpose.ROTATE_90,),
}

# The archive (full size) is rotated and encoded on this thread while the display image and
# the thumbnail are made on the caller's: Pillow releases the GIL in both, so they overlap.
_archive_worker = ThreadPoolExecutor(max_workers=2, thread_name_prefix="photo-archive")


class UnacceptablePhoto(ValueError):
    """The upload is not a photo we accept. `status` is the HTTP status to answer with."""

    def __init__(self, message: str, status: int = 415):
        super().__init__(message)
        self.message = message
        self.status = status


@dataclass(frozen=True)
class Rendition:
    """One encoded output image."""

    data: bytes
    extension: str
    width: int
    height: int


@dataclass(frozen=True)
class ProcessedPhoto:
    """What an upload became: three renditions, facts about the original, and its framing
    (media.framing: the display image and thumbnail show the sheet found, or the whole photo
    when none was found, framing NONE)."""

    original_sha256: str
    original_format: str
    original_bytes: int
    archive: Rendition
    display: Rendition
    thumb: Rendition
    corners: Corners | None = None  # the sheet found at ingest; None: none found

    @property
    def framing(self) -> str:
        """AUTO when a sheet was found, NONE when the display image is the whole photo."""
        return NONE if self.corners is None else AUTO


def process_photo(data: bytes, *, max_pixels: int) -> ProcessedPhoto:
    """Decode, orient and re-encode a photo, or raise UnacceptablePhoto with a clear message.

    Refused: empty, truncated or corrupt files; anything but JPEG, PNG, WebP and HEIC;
    animated or multi-frame images; images over `max_pixels`. A multi-picture JPEG (MPO: a
    phone photo with a depth map or a second view) is its first, primary picture.
    """
    if not data:
        raise UnacceptablePhoto("The photo is empty (0 bytes).", 400)
    image, source_format = _open_single_frame(data, max_pixels)
    icc_profile = image.info.get("icc_profile")
    lossless = source_format == "PNG" or (source_format == "WEBP" and _is_lossless_webp(data))
    orientation = image.getexif().get(ExifTags.Base.Orientation, 1)
    image = _flatten_to_rgb(image)
    # What we need of the file's metadata is read; the rest (comments, text, EXIF, XMP...) is
    # dropped here, so that the images made from this one carry none and encode_clean() need
    # not copy 12 MP to leave it behind. (The image is ours: opened or converted just now.)
    image.info = {}

    archive_job = _archive_worker.submit(
        lambda: _encode(
            _upright(image, orientation),
            lossless=lossless,
            quality=ARCHIVE_JPEG_QUALITY,
            icc=icc_profile,
        )
    )
    # The sheet is looked for on a ~700 px copy, reduced before it is turned upright.
    corners = find_sheet(_upright(working_copy(image), orientation))
    display, thumb = display_renditions(image, corners, orientation=orientation, icc=icc_profile)
    return ProcessedPhoto(
        original_sha256=hashlib.sha256(data).hexdigest(),
        original_format=source_format,
        original_bytes=len(data),
        archive=archive_job.result(),
        display=display,
        thumb=thumb,
        corners=corners,
    )


def display_renditions(
    image: Image.Image, corners: Corners | None, *, orientation: int = 1, icc: bytes | None
) -> tuple[Rendition, Rendition]:
    """The display image and thumbnail of a photo: the sheet inside `corners` straightened,
    or the whole photo when there are none. `image` is as stored, turned upright by
    `orientation`; the corners are the upright photo's (see media.framing)."""
    if corners is None:
        # Shrink first, then turn upright: rotating 3 MP instead of 12 MP.
        display_image = _upright(_shrink(image, DISPLAY_LONG_EDGE), orientation)
    else:
        display_image = rectify(image, corners, DISPLAY_LONG_EDGE, orientation=orientation)
    return _display_and_thumb(display_image, icc)


def _display_and_thumb(
    display_image: Image.Image, icc: bytes | None
) -> tuple[Rendition, Rendition]:
    display = _encode(display_image, quality=DISPLAY_JPEG_QUALITY, icc=icc)
    thumb_image = _shrink(display_image, THUMB_LONG_EDGE)
    return display, _encode(thumb_image, quality=THUMB_JPEG_QUALITY, icc=icc)


def whole_photo(path, long_edge: int = DISPLAY_LONG_EDGE) -> Rendition:
    """An archive photo reduced to fit `long_edge`, as a JPEG: the whole photo for a screen
    (the framing editor), decoded at 1/2, 1/4 or 1/8 scale where the JPEG allows it."""
    with Image.open(path, formats=("JPEG", "PNG")) as archive:
        icc = archive.info.get("icc_profile")
        archive.draft("RGB", (long_edge, long_edge))
        image = _shrink(archive.convert("RGB"), long_edge)
    return _encode(image, quality=DISPLAY_JPEG_QUALITY, icc=icc)


def _upright(image: Image.Image, orientation: int) -> Image.Image:
    for method in _UPRIGHT.get(orientation, ()):
        image = image.transpose(method)
    return image


def _open_single_frame(data: bytes, max_pixels: int) -> tuple[Image.Image, str]:
    with warnings.catch_warnings():
        # Pillow only warns between MAX_IMAGE_PIXELS and twice that; we refuse both.
        warnings.simplefilter("error", Image.DecompressionBombWarning)
        try:
            image = Image.open(io.BytesIO(data), formats=ACCEPTED_FORMATS)
        except (Image.DecompressionBombError, Image.DecompressionBombWarning):
            raise _too_many_pixels(None, max_pixels) from None
        except Exception:
            raise UnacceptablePhoto(
                f"This file is not a photo we can read. Send a {ACCEPTED_DESCRIPTION} image."
            ) from None
        width, height = image.size
        if width * height > max_pixels:
            raise _too_many_pixels((width, height), max_pixels)
        if min(width, height) < MIN_SHORT_EDGE:
            raise UnacceptablePhoto(
                f"The image is {width}×{height} pixels: too small to be a photo of a drawing.", 422
            )
        if getattr(image, "n_frames", 1) > 1:
            if image.format != "MPO":
                raise UnacceptablePhoto(
                    "Animated or multi-frame images are not accepted: send a single photo."
                )
            # A multi-picture JPEG (CIPA DC-007), as many phones save a photo with its depth
            # map or gain map: the first picture is the primary one, the photo itself. The
            # others are never decoded.
            image.seek(0)
        source_format = image.format
        assert source_format is not None  # Image.open() sets the format it decoded
        try:
            image.load()
        except (Image.DecompressionBombError, Image.DecompressionBombWarning):
            raise _too_many_pixels((width, height), max_pixels) from None
        except Exception:
            raise UnacceptablePhoto(
                "The photo is damaged or incomplete (was the upload cut off?). Take it again."
            ) from None
    return image, source_format


def _too_many_pixels(size: tuple[int, int] | None, max_pixels: int) -> UnacceptablePhoto:
    described = f"{size[0]}×{size[1]} pixels" if size else "too many pixels"
    return UnacceptablePhoto(
        f"The image is {described}; the limit is {max_pixels // 1_000_000} megapixels.", 413
    )


def _is_lossless_webp(data: bytes) -> bool:
    # RIFF....WEBPVP8L is a lossless bitstream; VP8 (lossy) and VP8X (extended) are not.
    return data[12:16] == b"VP8L"


def _flatten_to_rgb(image: Image.Image) -> Image.Image:
    """RGB on white: transparency becomes paper, not black."""
    if image.mode in ("RGBA", "LA", "PA") or "transparency" in image.info:
        rgba = image.convert("RGBA")
        paper = Image.new("RGB", rgba.size, "white")
        paper.paste(rgba, mask=rgba.getchannel("A"))
        return paper
    if image.mode in ("I;16", "I;16B", "I;16L", "I"):
        # 16-bit greyscale: scale to 8 bits instead of clipping everything to white.
        return image.point(lambda v: v / 256).convert("L").convert("RGB")
    if image.mode == "RGB":
        return image
    return image.convert("RGB")


def _shrink(image: Image.Image, long_edge: int) -> Image.Image:
    """Fit inside long_edge x long_edge, keeping the aspect ratio."""
    longest = max(image.size)
    if longest <= long_edge:
        return image
    if longest % long_edge == 0:
        # An exact integer ratio (4032 -> 2016): a box reduce is exact and three times faster.
        return image.reduce(longest // long_edge)
    scale = long_edge / longest
    size = (max(1, round(image.width * scale)), max(1, round(image.height * scale)))
    return image.resize(size, Image.Resampling.LANCZOS, reducing_gap=2.0)


def _encode(
    image: Image.Image, *, quality: int, icc: bytes | None, lossless: bool = False
) -> Rendition:
    if lossless:
        data = encode_clean(image, "PNG", compress_level=1, icc_profile=icc)
        return Rendition(data, "png", image.width, image.height)
    data = encode_clean(image, "JPEG", quality=quality, icc_profile=icc)
    return Rendition(data, "jpg", image.width, image.height)


def encode_clean(
    image: Image.Image,
    kind: str,
    *,
    quality: int = 90,
    compress_level: int = 6,
    icc_profile: bytes | None = None,
) -> bytes:
    """The pixels of `image` as "JPEG" or "PNG" bytes with, if given, the colour profile, and
    nothing else: no comment, no text chunk, no EXIF, XMP, IPTC or maker note.

    Every image the app stores or exports is encoded here. Decoding fills `image.info` with
    the file's metadata, and resizing, rotating and converting carry it along; Pillow's
    writers then copy some of it on their own (the JPEG writer a `comment`, whatever the
    source: a JPEG COM segment or a PNG text chunk; the PNG writer the colour profile and
    transparency). So the writer is never shown `info`, and is told every option it reads.
    The caller's image is not changed (one carrying metadata is copied first).
    """
    bare = image
    if image.info or getattr(image, "encoderinfo", None):
        bare = image.copy()  # a new Image: no `encoderinfo`, whose keys would beat ours
        bare.info = {}
    out = io.BytesIO()
    profile = {"icc_profile": icc_profile} if icc_profile else {}
    if kind == "JPEG":
        bare.save(out, "JPEG", quality=quality, optimize=False, progressive=False, **profile)
    elif kind == "PNG":
        bare.save(out, "PNG", compress_level=compress_level, optimize=False, **profile)
    else:
        raise ValueError(f"encode_clean writes JPEG or PNG, not {kind!r}")
    return out.getvalue()


#: Widths (pixels) of the reduced display images that pages offer phones in `srcset`: a
#: 412 px wide phone at 1.75x picks 720, one at 2.6x (Pixel 7) picks 1080; larger screens and
#: zoom take the display image itself.
SIZED_WIDTHS = (720, 1080)
SIZED_JPEG_QUALITY = 82


def scale_to_width(display: bytes, width: int) -> Rendition:
    """A display JPEG reduced to `width` pixels wide (aspect kept), re-encoded without metadata.

    Only the colour profile is carried over (a comment, say, in a display file stored before
    encode_clean() existed, is not). Raises ValueError for a width that is not
    smaller than the image's own.
    """
    image: Image.Image = Image.open(io.BytesIO(display), formats=("JPEG",))
    icc_profile = image.info.get("icc_profile")
    if width >= image.width:
        raise ValueError(f"{width} px is not smaller than the image ({image.width} px)")
    height = max(1, round(image.height * width / image.width))
    image.draft("RGB", (width, height))  # a cheap 1/2, 1/4 or 1/8 decode when it still fits
    image = image.convert("RGB").resize((width, height), Image.Resampling.LANCZOS)
    return _encode(image, quality=SIZED_JPEG_QUALITY, icc=icc_profile)

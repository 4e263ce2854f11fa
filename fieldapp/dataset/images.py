"""The images of an export: re-encoded from the stored file, optionally squared, optionally
reduced to the red ink alone. Pure functions on files and bytes (Pillow only).

Every exported image is decoded and encoded again by the media pipeline's one writer
(`encode_clean`), so it can carry nothing but pixels, the rights XMP added by the caller, and
sRGB colours.
"""

from __future__ import annotations

import io
from typing import BinaryIO

from PIL import Image, ImageCms, ImageFilter, ImageMath, ImageOps

from fieldapp.media.images import encode_clean

EXPORT_JPEG_QUALITY = 90
#: The one red every extracted line is drawn in, on pure white.
INK_RED = (200, 16, 32)
#: Redness (red minus the stronger of green and blue, relative to the paper) below which a
#: pixel is paper, and above which it is fully ink; in between it is the line's soft edge.
INK_FLOOR = 0.10
INK_FULL = 0.32
#: The paper's light is estimated at this fraction of the size, where lines vanish under a
#: max filter, then smoothed and scaled back: shadows and tints divide out.
_BACKGROUND_SCALE = 8

_SRGB = ImageCms.createProfile("sRGB")


def render_export_image(stored_file: BinaryIO, *, size: int | None, ink: bool) -> tuple[bytes, str]:
    """The exported image of a stored file: (bytes, extension "jpg" or "png").

    `size` None keeps the stored size; otherwise the image is fitted into a white square of
    `size` px. `ink` keeps only the red ink lines, on white, as a PNG (lossless lines).
    """
    with Image.open(stored_file) as stored:
        stored.load()
        image = _to_srgb(stored)
    if ink:
        image = extract_ink(image)
    if size is not None:
        image = ImageOps.pad(image, (size, size), method=Image.Resampling.LANCZOS, color="white")
    if ink:
        return encode_clean(image, "PNG", compress_level=6), "png"
    return encode_clean(image, "JPEG", quality=EXPORT_JPEG_QUALITY), "jpg"


def extract_ink(photo: Image.Image) -> Image.Image:
    """Only the red ink of a photographed drawing, drawn in one red on clean white.

    The paper's own light (shadows, a warm or blue tint) is estimated from the photo and
    divided out per channel; a pixel is ink as far as its red stands out from its green and
    blue against that paper. Pencil, shadows and the paper's grain are not red: they go white.
    """
    rgb = photo.convert("RGB")
    red, green, blue = rgb.split()
    paper_red, paper_green, paper_blue = _paper_light(rgb).split()
    alpha = ImageMath.lambda_eval(
        _ink_alpha, r=red, g=green, b=blue, pr=paper_red, pg=paper_green, pb=paper_blue
    )
    alpha = alpha.convert("L").filter(ImageFilter.MedianFilter(3))
    white = Image.new("RGB", rgb.size, "white")
    return Image.composite(Image.new("RGB", rgb.size, INK_RED), white, alpha)


def _ink_alpha(a: dict):
    """Per pixel: how red it stands out from its paper, as an alpha from 0 to 255."""
    fl, mx, mn = a["float"], a["max"], a["min"]

    def relative(channel, paper):
        return fl(a[channel]) / mx(fl(a[paper]), 1.0)

    redness = relative("r", "pr") - mx(relative("g", "pg"), relative("b", "pb"))
    return mn(mx((redness - INK_FLOOR) * (255.0 / (INK_FULL - INK_FLOOR)), 0.0), 255.0)


def _paper_light(rgb: Image.Image) -> Image.Image:
    """The light the paper reflects at each pixel, without the lines drawn on it."""
    small_size = (max(1, rgb.width // _BACKGROUND_SCALE), max(1, rgb.height // _BACKGROUND_SCALE))
    small = rgb.resize(small_size, Image.Resampling.BOX)
    small = small.filter(ImageFilter.MaxFilter(5)).filter(ImageFilter.GaussianBlur(3))
    return small.resize(rgb.size, Image.Resampling.BILINEAR)


def _to_srgb(image: Image.Image) -> Image.Image:
    """RGB pixels in sRGB: a stored photo's colour profile (Display P3, say) is applied."""
    profile = image.info.get("icc_profile")
    rgb = image.convert("RGB")
    if not profile:
        return rgb
    try:
        source = ImageCms.ImageCmsProfile(io.BytesIO(profile))
        return ImageCms.profileToProfile(rgb, source, _SRGB, outputMode="RGB") or rgb
    except (ImageCms.PyCMSError, OSError):
        return rgb  # an unreadable profile: the pixels as they are

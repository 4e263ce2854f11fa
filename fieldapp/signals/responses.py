"""The signals on the way out: each response states the training choice its view declared, and
a drawing's image is served with its drawer's current choices in its bytes and headers."""

from __future__ import annotations

import hashlib
import io
from pathlib import Path

from flask import Response, abort, g, request

from fieldapp.encounters.models import Encounter
from fieldapp.extensions import db
from fieldapp.media.images import whole_photo
from fieldapp.media.services import file_name, media_store, sized_display
from fieldapp.media.xmp import rights_xmp, with_rights
from fieldapp.signals.services import NOAI, image_version, signal_headers, training_allowed


def declare_training(allowed: bool) -> None:
    """Let this response state `allowed` instead of the default reservation.

    A view that shows one drawing calls this before rendering; the headers (after_request)
    and the meta tags (base.html) both read it back through `declared_training()`.
    """
    g.training_allowed = allowed


def declared_training() -> bool:
    """What this response states: the view's declaration, else reserved (False)."""
    return g.get("training_allowed", False)


def apply_signal_headers(response: Response) -> Response:
    """Add the declared choice's headers, keeping directives already in X-Robots-Tag."""
    for name, value in signal_headers(declared_training()).items():
        if name == "X-Robots-Tag" and response.headers.get(name):
            present = [d.strip() for d in response.headers[name].split(",") if d.strip()]
            value = ", ".join(present + [d for d in NOAI if d not in present])
        response.headers[name] = value
    return response


#: How long a browser may keep an image at a versioned URL without asking again.
IMMUTABLE_MAX_AGE = 365 * 24 * 3600


def send_signed_photo(
    encounter: Encounter, variant: str, version: str | None = None, width: int | None = None
) -> Response:
    """One of the encounter's stored files, with its drawer's current choices in XMP and headers.

    With a `width` (display only: one of media.images.SIZED_WIDTHS narrower than the display
    image), the display image reduced to that width, made on its first request; any other
    width is a 404. When the disk has no room for the copy, the display image itself.

    The stored file has no metadata; the XMP (training choice, and the credit name only if
    the drawer chose one) is injected into the bytes on the way out. The ETag names both the
    stored file and the XMP.

    Caching: with the current `version` (the URL's `?v=`), `private, max-age=<a year>,
    immutable`; without it or with a stale one, `private, no-cache` (revalidate every time). Never
    `public`: a shared cache could keep serving a drawing after its drawer withdrew it, while
    the origin answers 404 at once (see docs/DEPLOY.md).
    """
    if encounter.photo is None:
        abort(404)
    if width is None:
        name = file_name(encounter.photo, variant)
    elif variant == "display":
        sized_name = sized_display(db.session(), media_store(), encounter.photo, width)
        if sized_name is None or encounter.photo is None:  # (the photo may be gone since)
            abort(404)
        name = sized_name
        if name == encounter.photo.display_name:
            # No room for the reduced copy: the display image itself, as at its own URL (its
            # ETag) and revalidated (no-cache), so the copy replaces it once it can be made.
            width = version = None
    else:
        abort(404)
    try:
        stored = media_store().read(name)
    except FileNotFoundError:
        abort(404)
    mimetype = "image/png" if name.endswith(".png") else "image/jpeg"
    sized = f"-{width}w" if width else ""
    return _signed_image(encounter, stored, mimetype, f"{Path(name).stem[:32]}{sized}", version)


def send_whole_photo(encounter: Encounter, version: str | None = None) -> Response:
    """The whole photo (the archive) reduced to the display size, made on each request and
    never stored: what the framing editor shows a phone, instead of 12 MP to decode."""
    if encounter.photo is None:
        abort(404)
    archive_name = encounter.photo.archive_name
    try:
        whole = whole_photo(io.BytesIO(media_store().read(archive_name)))
    except FileNotFoundError:
        abort(404)
    return _signed_image(
        encounter, whole.data, "image/jpeg", f"{Path(archive_name).stem[:32]}-whole", version
    )


def _signed_image(
    encounter: Encounter, stored: bytes, mimetype: str, etag_stem: str, version: str | None
) -> Response:
    """An image of the encounter with its drawer's rights in XMP and headers, cached as the
    URL's version allows (see send_signed_photo)."""
    allowed = training_allowed(encounter)
    declare_training(allowed)
    creator = encounter.credit_name
    signed = with_rights(stored, training_allowed=allowed, creator=creator)
    response = Response(signed, mimetype=mimetype)
    rights = rights_xmp(training_allowed=allowed, creator=creator)
    response.set_etag(f"{etag_stem}-{hashlib.sha256(rights).hexdigest()[:16]}")
    response.cache_control.private = True
    if version is not None and version == image_version(encounter):
        response.cache_control.max_age = IMMUTABLE_MAX_AGE
        response.cache_control.immutable = True
    else:
        response.cache_control.no_cache = True
    response.make_conditional(request)  # 304 or 206 where the request asks for it, in place
    return response

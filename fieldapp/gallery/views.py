"""The public gallery: a page of thumbnails, a page per drawing, and their images."""

from __future__ import annotations

from flask import Blueprint, abort, render_template, request

from fieldapp.extensions import db
from fieldapp.gallery.services import gallery_page, gallery_photo
from fieldapp.signals.services import declare_training, send_signed_photo, training_allowed

bp = Blueprint("gallery", __name__, url_prefix="/gallery")


@bp.get("")
def index():
    before = request.args.get("before", type=int)
    return render_template("gallery/index.html", page=gallery_page(db.session, before=before))


@bp.get("/<int:number>")
def item(number: int):
    found = gallery_photo(db.session, number)
    if found is None:
        abort(404)
    declare_training(training_allowed(found[1]))
    return render_template("gallery/item.html", item=found[0])


@bp.get("/<int:number>/display.jpg")
@bp.get("/<int:number>/<version>/display.jpg")
def display(number: int, version: str | None = None):
    return _image(number, "display", version)


@bp.get("/<int:number>/thumb.jpg")
@bp.get("/<int:number>/<version>/thumb.jpg")
def thumb(number: int, version: str | None = None):
    return _image(number, "thumb", version)


def _image(number: int, variant: str, version: str | None):
    """Served only while the drawing is in the gallery: a withdrawal or a hidden drawing is a
    404 at once. Pages link the versioned URL, which browsers (never shared caches) keep."""
    found = gallery_photo(db.session, number)
    if found is None:
        abort(404)
    return send_signed_photo(found[1], variant, version)

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
def display(number: int):
    return _image(number, "display")


@bp.get("/<int:number>/thumb.jpg")
def thumb(number: int):
    return _image(number, "thumb")


def _image(number: int, variant: str):
    """Served only while the drawing is in the gallery; browsers revalidate every time
    (a cheap 304), so a withdrawal or a changed choice takes effect at once."""
    found = gallery_photo(db.session, number)
    if found is None:
        abort(404)
    return send_signed_photo(found[1], variant)

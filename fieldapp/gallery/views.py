"""The public gallery: a page of thumbnails, a page per drawing, and their images."""

from __future__ import annotations

from flask import Blueprint, abort, render_template, request, session

from fieldapp.arguments import database_int
from fieldapp.auth.access import collector_signed_in
from fieldapp.extensions import db
from fieldapp.gallery.services import gallery_photo, gallery_rows, page_of
from fieldapp.signals.responses import declare_training, send_signed_photo
from fieldapp.signals.services import training_allowed
from fieldapp.web.direct_select import plain_connection
from fieldapp.web.rendered import RenderedPages

bp = Blueprint("gallery", __name__, url_prefix="/gallery")

#: Rendered gallery pages of this process, by everything they are made of (see index()).
_rendered = RenderedPages(kept=64)


@bp.get("")
def index():
    """The newest drawings (or those before `before`).

    The query runs on every request, so a withdrawal or a changed choice shows at once. Its
    rows, with the raw `before` and the prefix the app is mounted under, are the whole input of
    the page for a visitor who is not logged in and has no message waiting: the rendered HTML is
    reused for the same input, which halves the cost of the page (bench/load.py).
    """
    with plain_connection() as connection:
        rows = gallery_rows(connection, before=request.args.get("before", type=database_int))
    if collector_signed_in() or session.get("_flashes"):
        return render_template("gallery/index.html", page=page_of(rows))
    key = (request.script_root, request.args.get("before"), rows)
    return _rendered.get_or_render(
        key, lambda: render_template("gallery/index.html", page=page_of(rows))
    )


@bp.get("/<int:number>")
def item(number: int):
    found = gallery_photo(db.session(), number)
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
    """Served only while the drawing is in the gallery: a withdrawal or a hidden drawing is a
    404 at once. Pages link the versioned URL, which browsers (never shared caches) keep."""
    found = gallery_photo(db.session(), number)
    if found is None:
        abort(404)
    return send_signed_photo(
        found[1], variant, request.args.get("v"), request.args.get("w", type=int)
    )

"""The pages a participant's QR code opens. The token in the path is the only key."""

from flask import Blueprint, Response, abort, render_template

from fieldapp.extensions import db
from fieldapp.media.services import send_photo
from fieldapp.participants.services import (
    ParticipantView,
    link_for,
    participant_view,
    qr_png,
    qr_svg,
)

bp = Blueprint("participants", __name__, url_prefix="/p")


@bp.get("/<token>")
def page(token: str):
    view = _view_or_404(token)
    return render_template("participants/page.html", view=view, link=link_for(token))


@bp.get("/<token>/qr.svg")
def qr_code_svg(token: str):
    _view_or_404(token)
    return Response(qr_svg(link_for(token)), mimetype="image/svg+xml")


@bp.get("/<token>/qr.png")
def qr_code_png(token: str):
    _view_or_404(token)
    return Response(qr_png(link_for(token)), mimetype="image/png")


@bp.get("/<token>/drawing.jpg")
def drawing(token: str):
    return _photo(token, "display")


@bp.get("/<token>/thumb.jpg")
def thumb(token: str):
    return _photo(token, "thumb")


def _photo(token: str, variant: str):
    view = _view_or_404(token)
    if view.encounter is None or view.encounter.photo is None:
        abort(404)
    response = send_photo(view.encounter.photo, variant, max_age=300)
    response.cache_control.private = True
    response.cache_control.public = False
    return response


def _view_or_404(token: str) -> ParticipantView:
    view = participant_view(db.session, token)
    if view is None:
        abort(404)
    return view

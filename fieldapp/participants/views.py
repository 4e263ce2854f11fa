"""The pages a participant's QR code opens. The token in the path is the only key."""

from flask import Blueprint, Response, abort, render_template

from fieldapp.extensions import db
from fieldapp.participants.services import (
    ParticipantView,
    link_for,
    participant_view,
    qr_png,
    qr_svg,
)
from fieldapp.signals.services import declare_training, send_signed_photo, training_allowed

bp = Blueprint("participants", __name__, url_prefix="/p")


@bp.get("/<token>")
def page(token: str):
    view = _view_or_404(token)
    declare_training(training_allowed(view.encounter))
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
    return send_signed_photo(view.encounter, variant)


def _view_or_404(token: str) -> ParticipantView:
    view = participant_view(db.session, token)
    if view is None:
        abort(404)
    return view

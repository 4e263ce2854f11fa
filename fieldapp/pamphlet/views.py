"""The pamphlet the QR code leads to: the invisible labor behind machine-learning datasets."""

from flask import Blueprint, render_template

bp = Blueprint("pamphlet", __name__)


@bp.get("/pamphlet")
def pamphlet():
    return render_template("pamphlet/pamphlet.html")

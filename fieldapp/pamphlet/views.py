"""The pamphlet the QR code leads to: the invisible labor behind machine-learning datasets."""

from flask import Blueprint, render_template

from fieldapp.i18n import DEFAULT_LANGUAGE, page_language

bp = Blueprint("pamphlet", __name__)


@bp.get("/pamphlet")
def pamphlet():
    """The pamphlet in the page's language where it is written in it (pamphlet.<lang>.html),
    else in English (pamphlet.html)."""
    language = page_language()
    written = ["pamphlet/pamphlet.html"]
    if language != DEFAULT_LANGUAGE:
        written.insert(0, f"pamphlet/pamphlet.{language}.html")
    return render_template(written)

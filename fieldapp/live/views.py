"""The live screen for a projector at a fair, its JSON feed, and the zine to print.

Both are public: they show only the count, aggregate labor figures and gallery drawings.
"""

from __future__ import annotations

from flask import Blueprint, Response, current_app, jsonify, render_template, request
from markupsafe import Markup

from fieldapp.extensions import db
from fieldapp.gallery.services import gallery_page
from fieldapp.ledger.charts import charts_for
from fieldapp.ledger.services import ledger
from fieldapp.live.services import etag_of, live_figures

bp = Blueprint("live", __name__)

PAPERS = {"a4": "A4", "letter": "Letter"}
ZINE_DRAWINGS = 24


@bp.get("/live")
def screen():
    return render_template("live/screen.html", figures=live_figures(db.session()))


@bp.get("/live.json")
def feed():
    """Polled every few seconds: 304 when nothing changed, so a poll costs a few bytes."""
    payload = live_figures(db.session())
    etag = etag_of(payload)
    unchanged = request.if_none_match.contains(etag)
    response = Response(status=304) if unchanged else jsonify(payload)
    response.set_etag(etag)
    response.headers["Cache-Control"] = "no-cache"
    return response


@bp.get("/zine")
def zine():
    """The pamphlet, the public ledger and a grid of drawings, laid out for A4 or Letter."""
    paper = request.args.get("paper", "a4").lower()
    if paper not in PAPERS:
        paper = "a4"
    figures = ledger(db.session(), public=True)
    return render_template(
        "live/zine.html",
        paper=paper,
        papers=PAPERS,
        figures=figures,
        charts=charts_for(figures),
        drawings=gallery_page(db.session(), per_page=ZINE_DRAWINGS).items,
        pamphlet=_pamphlet_article(),
    )


def _pamphlet_article() -> Markup:
    """The pamphlet's text, rendered from its own template's content block (one source)."""
    template = current_app.jinja_env.get_template("pamphlet/pamphlet.html")
    context = template.new_context({})
    return Markup("".join(template.blocks["content"](context)))  # noqa: S704 (our template)

"""The installable field app: /sw.js, the manifest, icons, the offline page and the outbox page."""

from __future__ import annotations

from flask import Blueprint, Response, abort, current_app, render_template, url_for

from fieldapp.auth.access import collector_required, helper_allowed
from fieldapp.encounters.forms import TIME_LIMIT_CHOICES, VENUE_CHOICES
from fieldapp.pwa.icons import ICONS, icon_png
from fieldapp.pwa.services import manifest, precache

bp = Blueprint("pwa", __name__)
WORKER_TEMPLATE = "pwa/sw.js"


@bp.get("/sw.js")
def service_worker():
    """Served from the root so that its scope is the whole site; never cached by HTTP."""
    loader = current_app.jinja_env.loader
    source, _, _ = loader.get_source(current_app.jinja_env, WORKER_TEMPLATE)
    cached = precache(current_app.static_folder, source, url_for("static", filename="")[:-1])
    body = render_template(WORKER_TEMPLATE, precache=cached)
    response = Response(body, mimetype="text/javascript")
    response.headers["Cache-Control"] = "no-cache"
    return response


@bp.get("/manifest.webmanifest")
def web_manifest():
    response = current_app.json.response(manifest())
    response.mimetype = "application/manifest+json"
    return response


@bp.get("/icons/<name>")
def icon(name: str):
    if name not in ICONS:
        abort(404)
    response = Response(icon_png(name), mimetype="image/png")
    response.cache_control.public = True
    response.cache_control.max_age = 86400
    return response


@bp.get("/offline")
def offline():
    """Shown by the service worker for a page it has not cached while there is no network."""
    return render_template("pwa/offline.html")


@bp.get("/outbox")
@helper_allowed  # the phone's own records, whoever holds it
@collector_required
def outbox():
    """The encounters waiting on this phone. The list lives in the phone, so the script draws it."""
    return render_template(
        "pwa/outbox.html", venue_choices=VENUE_CHOICES, time_limit_choices=TIME_LIMIT_CHOICES
    )

"""The site-wide AI-training files, and the hooks that put the signals on every response."""

from __future__ import annotations

import json

from flask import Blueprint, Response

from fieldapp.media.services import sized_widths
from fieldapp.signals.responses import apply_signal_headers, declared_training
from fieldapp.signals.services import image_version

bp = Blueprint("signals", __name__)
# Templates put it in image URLs: url_for(..., v=image_version(encounter)).
bp.add_app_template_global(image_version, "image_version")
# And the reduced widths of a display image in srcset (templates/_drawing.html).
bp.add_app_template_global(sized_widths, "sized_widths")

#: W3C TDMRep (Final Community Group Report, 2024-05-10), section "TDM File on the Origin
#: Server": an array of rules, first match wins. One rule: everything is reserved. A drawing
#: whose drawer allowed training says so in its own `tdm-reservation: 0` header, which the
#: protocol ranks above this file.
TDMREP_RULES = [{"location": "/", "tdm-reservation": 1}]

#: Spawning's ai.txt (robots.txt syntax, for AI training). Reserved by default: image
#: types first, then the whole site, as Spawning's generator writes it.
AI_TXT = """\
# ai.txt (https://spawning.ai/ai-txt)
# Every drawing here belongs to the person who drew it. By default none may be used to
# train AI models. A drawing whose drawer allowed training says so itself: its image and
# page are served with `tdm-reservation: 0`, `Content-Usage: train-ai=y` and XMP
# plus:DataMining DMI-ALLOWED.

User-Agent: *
Disallow: *.jpg
Disallow: *.jpeg
Disallow: *.png
Disallow: *.webp
Disallow: *.gif
Disallow: *.svg
Disallow: /
"""


@bp.get("/.well-known/tdmrep.json")
def tdmrep():
    response = Response(json.dumps(TDMREP_RULES, indent=2) + "\n", mimetype="application/json")
    response.cache_control.public = True
    response.cache_control.max_age = 86400
    return response


@bp.get("/ai.txt")
def ai_txt():
    response = Response(AI_TXT, mimetype="text/plain")
    response.cache_control.public = True
    response.cache_control.max_age = 86400
    return response


@bp.after_app_request
def _state_the_training_choice(response: Response) -> Response:
    # Registered with the blueprints, before fieldapp/headers.py: runs after it, and so
    # adds to (never loses) the participant pages' "noindex, nofollow".
    return apply_signal_headers(response)


@bp.app_template_global()
def training_allowed_here() -> bool:
    """For base.html: the choice this page states in its meta tags."""
    return declared_training()

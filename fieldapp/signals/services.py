"""AI-training signals: what every response says about mining and training the drawings.

The rule: a response that shows one drawing states its drawer's current choice; every other
response (home, pamphlet, login, the log, lists of many drawings, files) reserves, because it
shows or leads to many people's work. Nothing is cached between requests: the choice is read
when the response is made, so a change of mind applies to the very next request.

Four places say the same thing:
- HTTP headers (`signal_headers`, put on each response by responses.py): `tdm-reservation`
  (W3C TDMRep), `Content-Usage` (IETF AI preferences, a **draft**: see CONTENT_USAGE) and
  `X-Robots-Tag`;
- HTML `<meta>` tags (in templates/base.html);
- XMP inside the image bytes served (fieldapp/media/xmp.py);
- the site-wide `/.well-known/tdmrep.json` and `/ai.txt` (views.py), which reserve everything;
  TDMRep lets a response's own header override the site file, so an allowed drawing's image
  and page carry `tdm-reservation: 0`.
"""

from __future__ import annotations

import hashlib
from typing import Protocol

from fieldapp.encounters.models import AGE_MINOR, Encounter
from fieldapp.media.xmp import rights_xmp

#: X-Robots-Tag directives asking crawlers not to use the page or its images for AI.
NOAI = ("noai", "noimageai")

#: The `Content-Usage` header of the IETF AI Preferences working group, still an Internet-Draft
#: (draft-ietf-aipref-attach-05 for the header, draft-ietf-aipref-vocab-07 for its value; both
#: may change before they become RFCs). Its value is a Structured Field Dictionary (RFC 9651)
#: whose keys are usage categories and whose values are the Tokens `y` (allow) or `n`
#: (disallow); `train-ai` is "using an asset to modify the learned parameters of an AI model
#: used to generate synthetic content". It states the same choice as `tdm-reservation`: a
#: category left out would mean "no preference", so every response names `train-ai`.
CONTENT_USAGE = {True: "train-ai=y", False: "train-ai=n"}


class Choices(Protocol):
    """An encounter as an ORM object or as the plain columns a busy page reads."""

    @property
    def keep(self) -> bool | None: ...

    @property
    def training(self) -> bool | None: ...

    @property
    def age_group(self) -> str: ...


def training_allowed(encounter: Choices | None) -> bool:
    """True only when the drawer allowed training *and* the collection keeps the drawing, and
    the drawer is not a minor (whose drawing is never trained on, whatever a row says).

    The one place that turns consent into a signal: when consent becomes a history of
    events, derive the current state here.
    """
    if encounter is None or encounter.age_group == AGE_MINOR:
        return False
    return bool(encounter.keep and encounter.training)


def signal_headers(allowed: bool) -> dict[str, str]:
    """The response headers that state a training choice (the reservation, if not allowed)."""
    if allowed:
        return {"tdm-reservation": "0", "Content-Usage": CONTENT_USAGE[True]}
    return {
        "tdm-reservation": "1",
        "Content-Usage": CONTENT_USAGE[False],
        "X-Robots-Tag": ", ".join(NOAI),
    }


def image_version(encounter: Encounter) -> str:
    """A short hash of the stored display image and of its drawer's current rights XMP.

    Image URLs carry it (`.../display.jpg?v=<version>`), so an image is cached for a year, and
    a change of the served bytes (a new photo or framing, whose display file is named by its
    content; a new credit, another training choice) makes a new URL.
    """
    return photo_version(
        encounter.photo.display_name, training_allowed(encounter), encounter.credit_name
    )


def photo_version(display_name: str, allowed: bool, creator: str | None) -> str:
    """image_version() from its parts, for a query that selects columns, not encounters."""
    rights = rights_xmp(training_allowed=allowed, creator=creator)
    return hashlib.sha256(display_name.encode() + rights).hexdigest()[:16]

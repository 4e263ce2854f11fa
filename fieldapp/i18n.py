"""The drawer's languages: which one a page is in, and how a page keeps it without a cookie.

The drawer's pages (participant page, choices, withdrawal, receipt, "on its way", 404, the
pamphlet and the consent step) are translated with gettext catalogues under
fieldapp/translations/ (compiled to .mo by the build: `make translations`). The collector's
pages stay English.

A page is in the language of `?lang=` when it names one we have, else the best match of the
browser's `Accept-Language`, else English. `?lang=` is remembered by carrying it in the links
of the page (`lang_args()`), never in a cookie: the participant page sets none.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from flask import Flask, g, has_request_context, request
from flask_babel import Babel, format_date

#: The languages the drawer can read the app in, each named in itself, as BCP 47 tags.
LANGUAGES = {"en": "English", "es": "Español", "zh-Hans": "简体中文"}
DEFAULT_LANGUAGE = "en"

babel = Babel()


def babel_locale(language: str) -> str:
    """The Babel locale of a BCP 47 tag: zh-Hans → zh_Hans."""
    return language.replace("-", "_")


def chosen_language() -> str | None:
    """The language named by `?lang=`, when it is one of ours."""
    if not has_request_context():
        return None
    asked = request.args.get("lang", "")
    return asked if asked in LANGUAGES else None


def page_language() -> str:
    """The language of this request's page (a BCP 47 tag of LANGUAGES)."""
    if not has_request_context():
        return DEFAULT_LANGUAGE
    if "page_language" not in g:
        g.page_language = chosen_language() or _accepted_language()
    return g.page_language


def _accepted_language() -> str:
    # Werkzeug matches "es-MX" to "es" and "zh-CN" to "zh"; Chinese is offered in its
    # Simplified script, the script of zh-CN and zh-SG.
    offered = [*LANGUAGES, "zh", "zh-CN", "zh-SG"]
    best = request.accept_languages.best_match(offered, default=DEFAULT_LANGUAGE)
    return "zh-Hans" if best.startswith("zh") else best


def lang_args() -> dict[str, Any]:
    """`lang=` for the links of a drawer's page: the `?lang=` it was opened with, if any."""
    chosen = chosen_language()
    return {"lang": chosen} if chosen else {}


#: The drawer's pages outside /p/<token>: their language follows page_language(); every other
#: page is the collector's, in English.
DRAWER_ENDPOINTS = frozenset({"pamphlet.pamphlet"})


def drawer_page() -> bool:
    """Whether this request's page is one a drawer reads: their own pages (/p/...), the
    pamphlet, and the 404 of an address we do not know (a mistyped or half-scanned QR code)."""
    if not has_request_context():
        return False
    if request.path.startswith("/p/") or request.endpoint in DRAWER_ENDPOINTS:
        return True
    return request.endpoint is None


def drawer_date(moment: date | datetime) -> str:
    """A day as the page's language writes it: 20 May 2026, 20 de mayo de 2026, 2026年5月20日.

    A datetime is read on its own clock (the room's): its date is taken before formatting,
    which would otherwise move it to UTC first and give 21 May for 23:30 in New York.
    """
    day = moment.date() if isinstance(moment, datetime) else moment
    return format_date(day, "d MMMM y" if page_language() == DEFAULT_LANGUAGE else "long")


def _locale() -> str:
    """The drawer's pages in their language; the collector's in English, whatever the browser
    prefers (the consent step renders each of its languages itself: force_locale)."""
    return babel_locale(page_language() if drawer_page() else DEFAULT_LANGUAGE)


def init_app(app: Flask) -> None:
    babel.init_app(app, locale_selector=_locale)
    app.jinja_env.globals.update(
        LANGUAGES=LANGUAGES,
        page_language=page_language,
        lang_args=lang_args,
        drawer_page=drawer_page,
        drawer_date=drawer_date,
    )

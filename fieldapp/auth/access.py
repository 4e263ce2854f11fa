"""Who may use which page: the collector everything, a helper only what is marked for helpers.

One rule, closed by default. Every page behind a login is guarded by `collector_required`
(on a blueprint's `before_request`, or on a single view); a helper passes it only on views
marked `@helper_allowed`: the capture flow, the declined button, the phone's outbox, its own
QR codes, and the API calls the phone's outbox makes. The API applies the same marks to bearer
tokens through `refused_to_helper()`. `tests/test_helper_role.py` walks `app.url_map` as a
helper, so a new route is refused until someone decides otherwise here.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import TypeVar

from flask import current_app, render_template, request
from flask_login import AnonymousUserMixin, current_user, login_required

from fieldapp.auth.models import Collector

View = TypeVar("View", bound=Callable)
HELPER_MARK = "helper_allowed"
FORBIDDEN_MESSAGE = "This page is for the collector."


def helper_allowed(view: View) -> View:
    """Mark a view a helper may use (behind `collector_required`, or in the API)."""
    setattr(view, HELPER_MARK, True)
    return view


def helper_may_use(endpoint: str | None) -> bool:
    """True when the view of `endpoint` is marked `@helper_allowed`."""
    view = current_app.view_functions.get(endpoint or "")
    return bool(getattr(view, HELPER_MARK, False))


def refused_to_helper(account: Collector | AnonymousUserMixin) -> bool:
    """True when `account` is a helper and the current request's view is not theirs. (Nobody
    logged in is no helper: `login_required` lets OPTIONS through anonymously.)"""
    return getattr(account, "is_helper", False) and not helper_may_use(request.endpoint)


def forbidden_page():
    """403: says plainly whose page it is, with the way home (JSON under /api/)."""
    if request.path.startswith("/api/"):
        return {"error": "This is for the collector's account only."}, 403
    return render_template("errors/forbidden.html", message=FORBIDDEN_MESSAGE), 403


def collector_required(view: View) -> View:
    """Log in first (as `login_required`); then a helper gets 403 unless the requested view is
    marked `@helper_allowed`. Works on a single view and on a blueprint's `before_request`."""

    @wraps(view)
    def guarded(*args, **kwargs):
        if refused_to_helper(current_user):
            return forbidden_page()
        return view(*args, **kwargs)

    return login_required(guarded)


def collector_signed_in() -> bool:
    """For base.html's menus: is the collector logged in? A request that carries no cookie at all
    (a drawer opening their link, a visitor of the gallery) is not, and Flask-Login, which
    hashes the client's address and browser whenever it is asked, is not asked (bench/load.py).
    """
    return bool(request.cookies) and current_user.is_authenticated


def is_helper() -> bool:
    """For templates and views: is a helper signed in?"""
    return bool(request.cookies) and current_user.is_authenticated and current_user.is_helper

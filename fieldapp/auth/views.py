"""First-run setup, login and logout."""

import math
import time
from urllib.parse import urlsplit

from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for
from flask_limiter import RateLimitExceeded
from flask_login import current_user, login_required, login_user, logout_user

from fieldapp.auth.forms import LoginForm, LogoutForm, SetupForm
from fieldapp.auth.models import Collector
from fieldapp.auth.services import AccountError, authenticate, create_collector, has_collector
from fieldapp.database import write_transaction
from fieldapp.errors import error_response
from fieldapp.extensions import db, limiter, login_manager

bp = Blueprint("auth", __name__)


@login_manager.user_loader
def _load_collector(login_id: str) -> Collector | None:
    """The collector of a session, while its login generation is still the current one."""
    collector_id, _, generation = login_id.partition(".")
    if not (collector_id.isdigit() and generation.isdigit()):
        return None
    collector = db.session.get(Collector, int(collector_id))
    if collector is None or collector.login_generation != int(generation):
        return None
    return collector


@bp.app_template_global()
def collector_signed_in() -> bool:
    """For base.html's menus: is the collector logged in? A request that carries no cookie at all
    (a drawer opening their link, a visitor of the gallery) is not, and Flask-Login, which
    hashes the client's address and browser whenever it is asked, is not asked (bench/load.py).
    """
    return bool(request.cookies) and current_user.is_authenticated


@login_manager.unauthorized_handler
def _unauthorized():
    if not has_collector(db.session):
        return redirect(url_for("auth.setup"))
    return redirect(url_for("auth.login", next=request.full_path.rstrip("?")))


@bp.route("/setup", methods=["GET", "POST"])
def setup():
    """Create the first collector account; only while none exists."""
    if has_collector(db.session):
        return redirect(url_for("auth.login"))
    form = SetupForm()
    if form.validate_on_submit():
        try:
            with write_transaction(db.session):
                if has_collector(db.session):  # someone finished setup while we typed
                    return redirect(url_for("auth.login"))
                collector = create_collector(db.session, form.username.data, form.password.data)
        except AccountError as error:
            form.username.errors = [*form.username.errors, str(error)]
        else:
            login_user(collector, remember=True)
            return redirect(url_for("encounters.home"))
    return render_template("auth/setup.html", form=form), 400 if form.errors else 200


def _login_limit() -> str:
    return current_app.config["LOGIN_RATE_LIMIT"]


def _failed_login(response) -> bool:
    """Only failed attempts count: a collector who logs in often is never locked out."""
    return response.status_code != 302


@bp.route("/login", methods=["GET", "POST"])
@limiter.limit(_login_limit, methods=["POST"], deduct_when=_failed_login)
def login():
    if not has_collector(db.session):
        return redirect(url_for("auth.setup"))
    if current_user.is_authenticated:
        return redirect(url_for("encounters.home"))
    form = LoginForm()
    if form.validate_on_submit():
        collector = authenticate(db.session, form.username.data, form.password.data)
        if collector is not None:
            login_user(collector, remember=True)
            return redirect(_safe_next(request.args.get("next")))
        form.password.errors = [*form.password.errors, "Wrong username or password."]
    return render_template("auth/login.html", form=form), 200 if not form.errors else 400


@bp.post("/logout")
@login_required
def logout():
    if LogoutForm().validate_on_submit():
        with write_transaction(db.session):
            collector = current_user._get_current_object()
            collector.login_generation += 1  # every cookie of this login is void from now
        logout_user()
        flash("Logged out.")
    return redirect(url_for("auth.login"))


@bp.app_errorhandler(RateLimitExceeded)
def _too_many_attempts(error: RateLimitExceeded):
    """429 with the wait in words; Flask-Limiter adds the Retry-After header."""
    current = limiter.current_limit
    seconds = current.reset_at - time.time() if current else error.limit.limit.get_expiry()
    minutes = max(1, math.ceil((seconds - 1) / 60))  # reset_at rounds up by a second
    wait = "1 minute" if minutes == 1 else f"{minutes} minutes"
    return error_response(429, "Too many attempts", f"Too many attempts; try again in {wait}.")


def _safe_next(target: str | None) -> str:
    """Only follow `next` to a path on this site, never to another host."""
    if not target or not target.startswith("/") or target.startswith(("//", "/\\")):
        return url_for("encounters.home")
    parts = urlsplit(target)
    return url_for("encounters.home") if parts.scheme or parts.netloc else target

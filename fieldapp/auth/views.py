"""First-run setup, login and logout, and the account page (password, devices, API tokens)."""

from urllib.parse import urlsplit

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    g,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_login import current_user, login_required, login_user, logout_user
from sqlalchemy import select
from sqlalchemy.exc import OperationalError

from fieldapp.auth.access import collector_signed_in, helper_allowed
from fieldapp.auth.devices import (
    active_devices,
    ago,
    mark_seen,
    needs_seen,
    revoke_device,
    revoke_other_devices,
    start_device,
)
from fieldapp.auth.forms import ChangePasswordForm, LoginForm, LogoutForm, RevokeForm, SetupForm
from fieldapp.auth.login_limit import LoginAttempt, Refusal, begin_attempt, limit_key
from fieldapp.auth.models import Collector, Device
from fieldapp.auth.services import (
    AccountError,
    api_tokens_of,
    authenticate,
    create_collector,
    has_collector,
    new_password_hash,
    revoke_api_token,
    revoke_api_tokens,
    set_password_hash,
)
from fieldapp.database import write_transaction
from fieldapp.errors import error_response
from fieldapp.extensions import db, login_manager

bp = Blueprint("auth", __name__)


@login_manager.user_loader
def _load_collector(login_id: str) -> Collector | None:
    """The collector of a session, while its login generation is the current one and its
    device (the login) is neither revoked nor gone."""
    parts = login_id.split(".")
    if not all(part.isdigit() for part in parts):
        return None
    if len(parts) == 2:
        return _adopt_login_from_before_devices(*map(int, parts))
    if len(parts) != 3:
        return None
    collector_id, generation, device_id = map(int, parts)
    row = db.session.execute(
        select(Collector, Device.last_seen_at)
        .join(Device, Device.collector_id == Collector.id)
        .where(Collector.id == collector_id, Device.id == device_id, Device.revoked_at.is_(None))
    ).first()
    if row is None or row[0].login_generation != generation:
        return None
    collector, last_seen_at = row
    collector.device_id = device_id
    if needs_seen(last_seen_at):
        g.device_to_mark_seen = device_id  # written after the view (_mark_device_seen)
    return collector


def _adopt_login_from_before_devices(collector_id: int, generation: int) -> Collector | None:
    """A session or remember cookie from before devices ("id.generation") of the current login
    generation: it becomes a device of its own, listed and revocable like any other, rather
    than sending the collector back to the login form out in the field on the day of an
    update. Flask-Login then writes the remember cookie again with the new id."""
    collector = db.session.get(Collector, collector_id)
    if collector is None or collector.login_generation != generation:
        return None
    try:
        with write_transaction(db.session()):
            start_device(db.session(), collector, request.user_agent.string)
    except OperationalError:
        return None  # the database is busy: this request goes without; the next adopts it
    session["_user_id"] = collector.get_id()
    session["_remember"] = "set"
    return collector


@bp.after_app_request
def _mark_device_seen(response):
    """Write a signed-in device's `last_seen_at`, at most every few minutes, after the view
    has done its own work. Losing one such write is harmless: never fail the page over it."""
    device_id = g.pop("device_to_mark_seen", None)
    if device_id is not None:
        try:
            with write_transaction(db.session()):
                mark_seen(db.session(), device_id)
        except OperationalError:  # the database busy for 15 s: the next request tries again
            current_app.logger.warning("could not note that device %s was seen", device_id)
    return response


bp.add_app_template_global(collector_signed_in)
bp.add_app_template_filter(ago, "ago")


@login_manager.unauthorized_handler
def _unauthorized():
    if not has_collector(db.session()):
        return redirect(url_for("auth.setup"))
    return redirect(url_for("auth.login", next=request.full_path.rstrip("?")))


@bp.route("/setup", methods=["GET", "POST"])
def setup():
    """Create the first collector account; only while none exists."""
    if has_collector(db.session()):
        return redirect(url_for("auth.login"))
    form = SetupForm()
    if form.validate_on_submit():
        try:
            with write_transaction(db.session()):
                if has_collector(db.session()):  # someone finished setup while we typed
                    return redirect(url_for("auth.login"))
                collector = create_collector(db.session(), form.username.data, form.password.data)
                start_device(db.session(), collector, request.user_agent.string)
        except AccountError as error:
            form.username.errors = [*form.username.errors, str(error)]
        else:
            login_user(collector, remember=True)
            return redirect(url_for("encounters.home"))
    return render_template("auth/setup.html", form=form), 400 if form.errors else 200


@bp.route("/login", methods=["GET", "POST"])
def login():
    """Log in on a new device. Each attempt first takes its place in the login limit (before
    scrypt runs: a refused guess costs nothing); a right password gives the place back."""
    if not has_collector(db.session()):
        return redirect(url_for("auth.setup"))
    if current_user.is_authenticated:
        return redirect(url_for("encounters.home"))
    form = LoginForm()
    if form.validate_on_submit():
        attempt = _begin_attempt()
        if attempt.refusal is not None:
            return _too_many_attempts(attempt.refusal)
        collector = authenticate(db.session(), form.username.data, form.password.data)
        if collector is not None:
            with write_transaction(db.session()):
                attempt.succeeded()
                start_device(db.session(), collector, request.user_agent.string)
            login_user(collector, remember=True)
            return redirect(_safe_next(request.args.get("next")))
        form.password.errors = [*form.password.errors, "Wrong username or password."]
    return render_template("auth/login.html", form=form), 200 if not form.errors else 400


def _begin_attempt() -> LoginAttempt:
    """Take this request's place in the login limit of its client address."""
    return begin_attempt(
        db.session(),
        limit_key(request.remote_addr),
        current_app.config["LOGIN_RATE_LIMIT"],
        current_app.config.get("LOGIN_LIMIT_STORAGE_URI"),
    )


def _too_many_attempts(refusal: Refusal):
    """429 with the wait in words and in a Retry-After header."""
    wait = refusal.wait_in_words()
    return error_response(
        429,
        "Too many attempts",
        f"Too many attempts; try again in {wait}.",
        headers={"Retry-After": str(refusal.retry_after)},
    )


@bp.post("/logout")
@login_required
@helper_allowed
def logout():
    """Sign this device out: its cookies, and any copy of them, never log in again."""
    if LogoutForm().validate_on_submit():
        with write_transaction(db.session()):
            revoke_device(db.session(), current_user.id, current_user.device_id)
        logout_user()
        flash("Logged out.")
    return redirect(url_for("auth.login"))


# The account page: any signed-in person's own password, devices and API tokens -------------


@bp.get("/account")
@login_required
@helper_allowed
def account():
    return _account_page(ChangePasswordForm())


def _account_page(password_form: ChangePasswordForm, status: int = 200):
    collector_id = current_user.id
    page = render_template(
        "auth/account.html",
        username=current_user.username,
        password_form=password_form,
        revoke_form=RevokeForm(),
        devices=active_devices(db.session(), collector_id),
        this_device=current_user.device_id,
        tokens=api_tokens_of(db.session(), collector_id),
    )
    return page, status


@bp.post("/account/password")
@login_required
@helper_allowed
def password():
    """A new password: this device stays signed in, every other device and every API token is
    cut off at once. A wrong current password counts as a failed login (a thief holding an
    unlocked phone must not guess it here instead)."""
    form = ChangePasswordForm()
    if form.validate_on_submit():
        attempt = _begin_attempt()
        if attempt.refusal is not None:
            return _too_many_attempts(attempt.refusal)
        collector = current_user._get_current_object()
        try:
            new_hash = new_password_hash(collector, form.current.data, form.password.data)
        except AccountError as error:
            form.current.errors = [*form.current.errors, str(error)]
        else:
            with write_transaction(db.session()):
                attempt.succeeded()
                set_password_hash(db.session(), collector, new_hash, current_user.device_id)
            flash("Password changed. Every other device and every API token is signed out.")
            return redirect(url_for("auth.account"))
    return _account_page(form, 400)


@bp.post("/account/devices/<int:device_id>/revoke")
@login_required
@helper_allowed
def revoke_device_view(device_id: int):
    if device_id == current_user.device_id:
        return redirect(url_for("auth.account"))  # this device signs out with "Log out"
    with write_transaction(db.session()):
        revoked = revoke_device(db.session(), current_user.id, device_id)
    if not revoked:
        abort(404)
    flash("That device is signed out.")
    return redirect(url_for("auth.account"))


@bp.post("/account/tokens/<int:token_id>/revoke")
@login_required
@helper_allowed
def revoke_token_view(token_id: int):
    with write_transaction(db.session()):
        revoked = revoke_api_token(db.session(), token_id, collector_id=current_user.id)
    if not revoked:
        abort(404)
    flash("That API token is revoked.")
    return redirect(url_for("auth.account"))


@bp.post("/account/sign-out-elsewhere")
@login_required
@helper_allowed
def sign_out_elsewhere():
    """Lost phone: every other device and every API token of the account is cut off."""
    with write_transaction(db.session()):
        devices = revoke_other_devices(db.session(), current_user.id, keep=current_user.device_id)
        tokens = revoke_api_tokens(db.session(), current_user.id)
    flash(
        f"Signed out everywhere else: {_count(devices, 'device')} and "
        f"{_count(tokens, 'API token')} cut off."
    )
    return redirect(url_for("auth.account"))


def _count(number: int, noun: str) -> str:
    return f"{number} {noun}" if number == 1 else f"{number} {noun}s"


def _safe_next(target: str | None) -> str:
    """Only follow `next` to a path on this site, never to another host."""
    if not target or not target.startswith("/") or target.startswith(("//", "/\\")):
        return url_for("encounters.home")
    parts = urlsplit(target)
    return url_for("encounters.home") if parts.scheme or parts.netloc else target

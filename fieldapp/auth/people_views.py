"""The collector's people page (/settings/people): accounts and their roles, adding a helper,
removing one."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_wtf import FlaskForm
from wtforms import PasswordField, StringField
from wtforms.validators import InputRequired, Length, ValidationError

from fieldapp.auth.access import collector_required, is_helper
from fieldapp.auth.models import Collector
from fieldapp.auth.people import add_helper, is_removed, people, remove_helper
from fieldapp.auth.services import MIN_PASSWORD_LENGTH, AccountError, password_problem
from fieldapp.extensions import db

bp = Blueprint("people", __name__, url_prefix="/settings/people")
bp.add_app_template_global(is_helper, "helper_signed_in")


def _acceptable_password(_form, field) -> None:
    if problem := password_problem(field.data or ""):
        raise ValidationError(problem)


class HelperForm(FlaskForm):
    username = StringField("Username", validators=[InputRequired(), Length(max=64)])
    password = PasswordField(
        "Initial password",
        validators=[InputRequired(), _acceptable_password],
        description=f"At least {MIN_PASSWORD_LENGTH} characters. Tell it to your helper in "
        "person; they log in with it on their own phone.",
    )


class RemoveForm(FlaskForm):
    """Only the CSRF token: removing is a POST."""


@bp.before_request
@collector_required
def _collectors_only():
    """Only the collector manages accounts."""


@bp.get("")
def index():
    return _page(HelperForm(formdata=None))


@bp.post("")
def create():
    """Add a helper with a username and an initial password."""
    form = HelperForm()
    if form.validate_on_submit():
        try:
            helper = add_helper(db.session(), form.username.data, form.password.data)
        except AccountError as error:
            form.username.errors = [*form.username.errors, str(error)]
        else:
            flash(f"Helper {helper.username!r} added. They can log in now.")
            return redirect(url_for("people.index"))
    return _page(form, status=400)


@bp.route("/<int:account_id>/remove", methods=["GET", "POST"])
def remove(account_id: int):
    """GET asks first (a thumb slips on a phone); POST disables the helper: logged out
    everywhere, never able to log in again; its encounters stay."""
    if request.method == "GET":
        helper = db.session.get(Collector, account_id)
        if helper is None or not helper.is_helper or is_removed(helper):
            abort(404)
        return render_template("auth/remove_helper.html", helper=helper, form=RemoveForm())
    if not RemoveForm().validate_on_submit():
        flash("This form has expired. Reload the page and try again.")
        return redirect(url_for("people.index"))
    try:
        helper = remove_helper(db.session(), account_id)
    except AccountError as error:
        flash(str(error))
    else:
        flash(
            f"Helper {helper.username!r} removed: logged out everywhere. "
            "The encounters they recorded stay."
        )
    return redirect(url_for("people.index"))


def _page(form: HelperForm, status: int = 200):
    return render_template("auth/people.html", people=people(db.session()), form=form), status

"""The two ways to a withdrawal: the drawer's own page, and the collector's encounter page when
the drawer asks in person. Each asks first; both end in `services.withdraw()`."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, url_for
from flask_babel import gettext as _

from fieldapp.auth.access import collector_required
from fieldapp.encounters.services import encounter_by_uuid
from fieldapp.extensions import db
from fieldapp.i18n import lang_args
from fieldapp.media.services import media_store
from fieldapp.participants.services import participant_view
from fieldapp.withdrawal.forms import CollectorWithdrawForm, ParticipantWithdrawForm
from fieldapp.withdrawal.services import withdraw

bp = Blueprint("withdrawal", __name__)


@bp.route("/p/<token>/withdraw", methods=["GET", "POST"])
def participant(token: str):
    """The drawer withdraws their drawing: a confirmation page, then the POST that deletes it."""
    view = participant_view(db.session(), token)
    if view is None:
        abort(404)
    if view.is_withdrawn:
        return redirect(url_for("participants.page", token=token, **lang_args()))
    form = ParticipantWithdrawForm()
    if form.validate_on_submit():
        withdraw(db.session(), media_store(), view.ticket)
        flash(_("Your drawing is withdrawn. Its photos are deleted from this site."))
        return redirect(url_for("participants.page", token=token, **lang_args()))
    return render_template("withdrawal/participant.html", view=view, form=form)


@bp.route("/encounters/<uuid>/withdraw", methods=["GET", "POST"])
@collector_required
def collector(uuid: str):
    """The drawer asked the collector (in person, by email): the collector withdraws it for them,
    saying how they asked. The same withdrawal as on the drawer's page."""
    encounter = encounter_by_uuid(db.session(), uuid)
    if encounter is None:
        abort(404)
    if encounter.is_withdrawn or encounter.ticket is None:
        flash(
            "Nothing to withdraw: this drawing is already withdrawn."
            if encounter.is_withdrawn
            else "Nothing to withdraw: a declined approach keeps no drawing."
        )
        return redirect(url_for("review.detail", uuid=uuid))
    form = CollectorWithdrawForm()
    if form.validate_on_submit():
        done = withdraw(
            db.session(),
            media_store(),
            encounter.ticket,
            actor="collector",
            method="drawer_request",
            reason=form.reason.data,
        )
        flash(
            f"Drawing #{done.number} is withdrawn: its photos are deleted, only its tombstone stays."
        )
        return redirect(url_for("review.detail", uuid=uuid))
    status = 422 if form.errors else 200
    return render_template("withdrawal/collector.html", encounter=encounter, form=form), status

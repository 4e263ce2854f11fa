"""The collector's consent pages: the consent text versions, and corrections of a drawer's
consent (always with a reason, kept in the history)."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, url_for
from sqlalchemy import select

from fieldapp.auth.access import collector_required
from fieldapp.consent.forms import ConsentTextForm, CorrectionForm
from fieldapp.consent.models import ConsentVersion
from fieldapp.consent.services import (
    ConsentError,
    consent_history,
    current_version,
    publish_version,
    update_choices,
    version_usage,
)
from fieldapp.encounters.services import encounter_by_uuid
from fieldapp.extensions import db

bp = Blueprint("consent", __name__)


@bp.before_request
@collector_required
def _collectors_only():
    """Every page here is the collector's."""


@bp.route("/settings/consent", methods=["GET", "POST"])
def consent_text():
    current = current_version(db.session)
    form = ConsentTextForm(data={"text": current.text if current else ""})
    if form.validate_on_submit():
        try:
            version, created = publish_version(db.session, form.text.data)
        except ConsentError as refused:
            form.text.errors.append(str(refused))
        else:
            if created:
                flash(f"Saved as consent version {version.id}. The next participant sees it.")
            else:
                flash(f"Unchanged: version {version.id} already has this text.")
            return redirect(url_for("consent.consent_text"))
    versions = list(db.session.scalars(select(ConsentVersion).order_by(ConsentVersion.id.desc())))
    status = 422 if form.errors else 200
    return render_template(
        "consent/settings.html", form=form, versions=versions, usage=version_usage(db.session)
    ), status


@bp.post("/encounters/<uuid>/consent")
def correct(uuid: str):
    """The collector corrects an encounter's consent; the reason goes into its history."""
    encounter = encounter_by_uuid(db.session, uuid)
    if encounter is None:
        abort(404)
    form = CorrectionForm()
    if form.validate_on_submit():
        try:
            changed = update_choices(
                db.session,
                encounter,
                actor="collector",
                method="collector_correction",
                reason=form.reason.data,
                **form.choices(),
            )
        except ConsentError as refused:
            form.form_errors.append(str(refused))
        else:
            flash("Consent corrected." if changed else "Nothing changed.")
            return redirect(url_for("encounters.detail", uuid=uuid))
    history = consent_history(db.session, encounter)
    return render_template(
        "encounters/detail.html", encounter=encounter, history=history, correction=form
    ), 422

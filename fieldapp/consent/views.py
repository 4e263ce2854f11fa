"""The collector's consent page: the consent text and its versions. (A correction of one
drawer's consent is made on the encounter page: review.)"""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, url_for
from sqlalchemy import select

from fieldapp.auth.access import collector_required
from fieldapp.consent.forms import ConsentTextForm
from fieldapp.consent.models import ConsentVersion
from fieldapp.consent.services import (
    ConsentError,
    current_version,
    publish_version,
    version_usage,
)
from fieldapp.extensions import db

bp = Blueprint("consent", __name__)


@bp.before_request
@collector_required
def _collectors_only():
    """Every page here is the collector's."""


@bp.route("/settings/consent", methods=["GET", "POST"])
def consent_text():
    current = current_version(db.session())
    form = ConsentTextForm(data={"text": current.text if current else ""})
    if form.validate_on_submit():
        try:
            version, created = publish_version(db.session(), form.text.data)
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
        "consent/settings.html", form=form, versions=versions, usage=version_usage(db.session())
    ), status

"""The collector's printable sheet of freshly reserved tickets."""

from __future__ import annotations

from flask import Blueprint, Response, render_template, request
from flask_login import current_user

from fieldapp.auth.access import collector_required
from fieldapp.extensions import db
from fieldapp.tickets.forms import TicketSheetForm
from fieldapp.tickets.links import public_base_url
from fieldapp.tickets.sheet import (
    LABELS_PER_PAGE,
    PAPERS,
    render_sheet,
    reserve_sheet,
    sheet_filename,
)

bp = Blueprint("tickets", __name__, url_prefix="/tickets")


@bp.before_request
@collector_required
def _collectors_only():
    """Every page here is the collector's."""


@bp.route("/sheet", methods=["GET", "POST"])
def sheet():
    """The form; its POST reserves the tickets and answers with the PDF to print."""
    form = TicketSheetForm()
    if form.validate_on_submit():
        labels = reserve_sheet(
            db.session(),
            pages=form.pages.data,
            base_url=public_base_url(),
            collector_id=current_user.id,
        )
        response = Response(
            render_sheet(labels, PAPERS[form.paper.data]), mimetype="application/pdf"
        )
        response.headers["Content-Disposition"] = f'attachment; filename="{sheet_filename(labels)}"'
        # Every link on the sheet is a participant's secret: keep no copy anywhere.
        response.headers["Cache-Control"] = "no-store"
        return response
    status = 400 if request.method == "POST" else 200
    return render_template("tickets/sheet.html", form=form, per_page=LABELS_PER_PAGE), status

"""The collector's after-hours pages: the log, the encounter page and its fixes (details,
number, printed ticket, photo, consent correction), and the CSV export.

The withdrawal the encounter page links to is fieldapp/withdrawal's; the backlog import,
fieldapp/backlog's.
"""

from __future__ import annotations

from datetime import date
from typing import BinaryIO

from flask import (
    Blueprint,
    Response,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    stream_with_context,
    url_for,
)
from flask_login import current_user

from fieldapp.auth.access import collector_required
from fieldapp.consent.forms import CorrectionForm
from fieldapp.consent.services import (
    ConsentError,
    consent_history,
    record_guardian_agreement,
    text_seen,
    update_choices,
)
from fieldapp.encounters.history import history
from fieldapp.encounters.models import VENUE_TYPES, Encounter
from fieldapp.encounters.services import encounter_by_uuid
from fieldapp.extensions import db
from fieldapp.media.framing import FramingRefused, parse_corners
from fieldapp.media.images import UnacceptablePhoto
from fieldapp.media.services import VARIANTS, media_store, prepare_photo, read_upload
from fieldapp.review import services
from fieldapp.review.export import csv_lines
from fieldapp.review.forms import (
    AttachTicketForm,
    EditForm,
    FramingForm,
    GuardianForm,
    PhotoForm,
    RenumberForm,
)
from fieldapp.review.log import SORTS, LogFilters, log_page, needing_framing
from fieldapp.review.services import (
    LABELS,
    ReviewRefused,
    attach_printed_ticket,
    edit_encounter,
    recorded_by,
    renumber,
)
from fieldapp.signals.responses import declare_training, send_signed_photo, send_whole_photo
from fieldapp.signals.services import training_allowed

bp = Blueprint("review", __name__)
Upload = tuple[str, BinaryIO]  # an uploaded file's safe name, and its stream


@bp.before_request
@collector_required
def _collectors_only():
    """Every page here is the collector's."""


# The log ---------------------------------------------------------------------------------


@bp.get("/encounters")
def index():
    """The log: filters and sorts in the URL, a keyset page at a time (see review.log)."""
    filters = LogFilters.from_args(request.args)
    page = log_page(db.session(), filters, after=request.args.get("after"))
    return render_template(
        "review/log.html",
        page=page,
        filters=filters,
        venue_types=VENUE_TYPES,
        sorts=SORTS,
        unframed=needing_framing(db.session()),
    )


# The encounter page ----------------------------------------------------------------------


@bp.get("/encounters/<uuid>")
def detail(uuid: str):
    return detail_page(_encounter_or_404(uuid))


@bp.get("/encounters/<uuid>/photo/<variant>")
def photo(uuid: str, variant: str):
    encounter = _encounter_or_404(uuid)
    if encounter.photo is None:
        abort(404)
    if variant == "whole":  # the framing editor's photo
        return send_whole_photo(encounter, request.args.get("v"))
    if variant not in VARIANTS:
        abort(404)
    return send_signed_photo(encounter, variant, request.args.get("v"))


def fix_context(encounter: Encounter, **forms) -> dict:
    """What the encounter page needs for its review forms and its edit history."""
    context = {"revisions": history(db.session(), encounter.id), "labels": LABELS}
    if encounter.is_withdrawn:
        return context
    context["edit_form"] = forms.get("edit_form") or EditForm.for_encounter(encounter)
    if encounter.is_completed:
        context["renumber_form"] = forms.get("renumber_form") or RenumberForm(
            formdata=None, prefix="renumber"
        )
        context["attach_form"] = forms.get("attach_form") or AttachTicketForm(
            formdata=None, prefix="attach"
        )
        if encounter.keep:
            context["photo_form"] = forms.get("photo_form") or PhotoForm(
                formdata=None, prefix="retake"
            )
        if encounter.photo is not None:
            context["framing_form"] = forms.get("framing_form") or FramingForm(
                formdata=None, prefix="framing"
            )
    return context


def detail_page(
    encounter: Encounter, status: int = 200, *, correction=None, guardian=None, **forms
):
    """The encounter page: its consent history, correction and fix forms; after a refusal, with
    the refused form and its message (nothing changed)."""
    declare_training(training_allowed(encounter))
    correctable = encounter.is_completed and encounter.keep and not encounter.is_withdrawn
    if correction is None and correctable:
        correction = CorrectionForm(formdata=None, data=CorrectionForm.data_of(encounter))
    # A minor who wished the gallery is shown there once a parent or guardian agreed.
    shown = encounter.gallery or encounter.guardian_agreed
    if guardian is None and correctable and encounter.is_minor and shown:
        agreed = "no" if encounter.guardian_agreed else "yes"
        guardian = GuardianForm(formdata=None, prefix="guardian", data={"agreed": agreed})
    return render_template(
        "review/encounter.html",
        encounter=encounter,
        history=consent_history(db.session(), encounter),
        text_seen=text_seen(db.session(), encounter),
        correction=correction,
        guardian=guardian,
        recorded_by=recorded_by(db.session(), encounter),
        **fix_context(encounter, **forms),
    ), status


def _encounter_or_404(uuid: str) -> Encounter:
    encounter = encounter_by_uuid(db.session(), uuid)
    if encounter is None:
        abort(404)
    return encounter


@bp.post("/encounters/<uuid>/edit")
def edit(uuid: str):
    encounter = _encounter_or_404(uuid)
    if encounter.is_withdrawn:
        return _refused_tombstone(encounter)
    form = EditForm.for_encounter(encounter, formdata=request.form)
    if form.validate_on_submit():
        try:
            changes = edit_encounter(
                db.session(),
                encounter,
                form.values(encounter),
                reason=form.reason.data,
                collector_id=current_user.id,
            )
        except ReviewRefused as refused:
            form.form_errors.append(str(refused))
        else:
            if changes:
                flash("Saved: " + ", ".join(LABELS[name] for name, _o, _n in changes) + ".")
            else:
                flash("Nothing changed.")
            return redirect(url_for("review.detail", uuid=uuid))
    return detail_page(encounter, 422, edit_form=form)


@bp.post("/encounters/<uuid>/renumber")
def renumber_view(uuid: str):
    def apply(encounter: Encounter, form: RenumberForm) -> str:
        done = renumber(
            db.session(),
            encounter,
            form.number.data,
            swap=form.swap.data,
            reason=form.reason.data,
            collector_id=current_user.id,
        )
        return done.message

    return _number_fix(uuid, RenumberForm(prefix="renumber"), apply, "renumber_form")


@bp.post("/encounters/<uuid>/ticket")
def attach_ticket(uuid: str):
    def apply(encounter: Encounter, form: AttachTicketForm) -> str:
        return attach_printed_ticket(
            db.session(),
            encounter,
            form.number.data,
            reason=form.reason.data,
            collector_id=current_user.id,
        )

    return _number_fix(uuid, AttachTicketForm(prefix="attach"), apply, "attach_form")


def _number_fix(uuid: str, form, apply, form_name: str):
    """A fix of the encounter's number: `apply` does it and says what it did; a refusal (a
    collision, an unknown ticket) is 409 with the form shown again, a bad form 422."""
    encounter = _encounter_or_404(uuid)
    if encounter.is_withdrawn:
        return _refused_tombstone(encounter)
    if form.validate_on_submit():
        try:
            message = apply(encounter, form)
        except ReviewRefused as refused:
            form.form_errors.append(str(refused))
        else:
            flash(message)
            return redirect(url_for("review.detail", uuid=uuid))
    return detail_page(encounter, 409 if form.form_errors else 422, **{form_name: form})


@bp.post("/encounters/<uuid>/photo")
def replace_photo(uuid: str):
    encounter = _encounter_or_404(uuid)
    if encounter.is_withdrawn:
        return _refused_tombstone(encounter)
    form = PhotoForm(prefix="retake")
    status = 422
    if form.validate_on_submit():
        try:
            if not form.photo.data:
                raise UnacceptablePhoto("Choose or take a photo of the drawing.", 422)
            upload = read_upload(form.photo.data.stream, current_app.config["MAX_PHOTO_BYTES"])
            message = services.replace_photo(
                db.session(),
                media_store(),
                encounter,
                prepare_photo(upload),
                reason=form.reason.data,
                collector_id=current_user.id,
            )
        except UnacceptablePhoto as refused:
            form.form_errors.append(refused.message)
            status = refused.status
        except ReviewRefused as refused:
            form.form_errors.append(str(refused))
            status = 409
        else:
            flash(message)
            return redirect(url_for("review.detail", uuid=uuid))
    return detail_page(encounter, status, photo_form=form)


@bp.post("/encounters/<uuid>/framing")
def change_framing(uuid: str):
    """The framing editor saves: the display copies are made again from the archive photo."""
    encounter = _encounter_or_404(uuid)
    if encounter.is_withdrawn:
        return _refused_tombstone(encounter)
    form = FramingForm(prefix="framing")
    status = 422
    if form.validate_on_submit():
        try:
            how = form.how.data or "corners"
            corners = parse_corners(form.corners.data) if form.corners.data else None
            message = services.change_framing(
                db.session(),
                media_store(),
                encounter,
                how,
                corners,
                reason=form.reason.data,
                collector_id=current_user.id,
            )
        except (FramingRefused, ReviewRefused) as refused:
            form.form_errors.append(str(refused))
        else:
            flash(message)
            return redirect(url_for("review.detail", uuid=uuid, _anchor="framing"))
    return detail_page(encounter, status, framing_form=form)


@bp.post("/encounters/<uuid>/consent")
def correct_consent(uuid: str):
    """The collector corrects an encounter's consent; the reason goes into its history."""
    encounter = _encounter_or_404(uuid)
    form = CorrectionForm()
    if form.validate_on_submit():
        try:
            changed = update_choices(
                db.session(),
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
            return redirect(url_for("review.detail", uuid=uuid))
    return detail_page(encounter, 422, correction=form)


@bp.post("/encounters/<uuid>/guardian")
def guardian_agreement(uuid: str):
    """The collector records that a minor's parent or guardian agreed to the gallery (or not)."""
    encounter = _encounter_or_404(uuid)
    if encounter.is_withdrawn:
        return _refused_tombstone(encounter)
    form = GuardianForm(prefix="guardian")
    if form.validate_on_submit():
        agreed = form.agreed.data == "yes"
        try:
            changed = record_guardian_agreement(
                db.session(), encounter, agreed=agreed, reason=form.reason.data
            )
        except ConsentError as refused:
            form.form_errors.append(str(refused))
        else:
            if not changed:
                flash("Nothing changed.")
            elif agreed:
                flash("Recorded: a parent or guardian agreed. The drawing is in the gallery.")
            else:
                flash("Recorded: no guardian's agreement. The drawing left the gallery.")
            return redirect(url_for("review.detail", uuid=uuid))
    return detail_page(encounter, 422, guardian=form)


def _refused_tombstone(encounter: Encounter):
    flash(
        f"Drawing #{encounter.number} was withdrawn by its drawer: it is a tombstone and "
        "cannot be changed. Nothing was changed."
    )
    return detail_page(encounter, 409)


# The CSV export --------------------------------------------------------------------------


@bp.get("/encounters.csv")
def export_csv():
    """The log under the current filters, streamed as CSV."""
    filters = LogFilters.from_args(request.args)
    lines = csv_lines(db.session(), filters)
    return Response(
        stream_with_context(lines),
        mimetype="text/csv",
        headers={
            "Content-Disposition": f'attachment; filename="encounters-{date.today()}.csv"',
            "Cache-Control": "no-store",
        },
    )

"""The collector's review pages: fixing an encounter, the backlog import, the CSV export.

The log itself is `encounters.index` (it calls `review.log`); the encounter page
(`encounters.detail`) shows the forms below through `fix_context()`.
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
    jsonify,
    redirect,
    render_template,
    request,
    stream_with_context,
    url_for,
)
from flask_login import current_user
from flask_wtf.csrf import CSRFError, validate_csrf
from sqlalchemy import func, select
from wtforms import ValidationError

from fieldapp.auth.access import collector_required
from fieldapp.auth.models import Collector
from fieldapp.consent.forms import CorrectionForm
from fieldapp.consent.models import ConsentVersion
from fieldapp.consent.services import ConsentChoices, consent_history
from fieldapp.encounters.models import Encounter
from fieldapp.encounters.services import encounter_by_uuid, last_venue
from fieldapp.extensions import csrf, db
from fieldapp.media.images import UnacceptablePhoto
from fieldapp.media.services import media_store, prepare_photo, read_upload
from fieldapp.review import backlog, rescue
from fieldapp.review.audit import history
from fieldapp.review.export import csv_lines
from fieldapp.review.forms import AttachTicketForm, EditForm, ImportForm, PhotoForm, RenumberForm
from fieldapp.review.log import LogFilters
from fieldapp.review.services import (
    LABELS,
    ReviewRefused,
    attach_printed_ticket,
    edit_encounter,
    renumber,
    replace_photo,
)
from fieldapp.signals.services import declare_training, training_allowed
from fieldapp.tickets.models import Ticket

bp = Blueprint("review", __name__)
Upload = tuple[str, BinaryIO]  # an uploaded file's safe name, and its stream


@bp.before_request
@collector_required
def _collectors_only():
    """Every page here is the collector's."""


# The encounter page ----------------------------------------------------------------------


def fix_context(encounter: Encounter, **forms) -> dict:
    """What the encounter page needs for its review forms and its edit history."""
    context = {"revisions": history(db.session, encounter.id), "labels": LABELS}
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
    return context


def detail_page(encounter: Encounter, status: int = 200, **forms):
    """The encounter page: its consent history, correction and fix forms; after a refusal, with
    the refused form and its message (nothing changed)."""
    declare_training(training_allowed(encounter))
    correction = None
    if encounter.is_completed and encounter.keep and not encounter.is_withdrawn:
        correction = CorrectionForm(formdata=None, data=CorrectionForm.data_of(encounter))
    return render_template(
        "encounters/detail.html",
        encounter=encounter,
        history=consent_history(db.session, encounter),
        correction=correction,
        recorded_by=_recorded_by(encounter),
        **fix_context(encounter, **forms),
    ), status


def _recorded_by(encounter: Encounter) -> str | None:
    """The username of the account that recorded the encounter (None: no account)."""
    if encounter.recorded_by_id is None:
        return None
    return db.session.scalar(
        select(Collector.username).where(Collector.id == encounter.recorded_by_id)
    )


def _encounter_or_404(uuid: str) -> Encounter:
    encounter = encounter_by_uuid(db.session, uuid)
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
                db.session,
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
            return redirect(url_for("encounters.detail", uuid=uuid))
    return detail_page(encounter, 422, edit_form=form)


@bp.post("/encounters/<uuid>/renumber")
def renumber_view(uuid: str):
    def apply(encounter: Encounter, form: RenumberForm) -> str:
        done = renumber(
            db.session,
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
            db.session,
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
            return redirect(url_for("encounters.detail", uuid=uuid))
    return detail_page(encounter, 409 if form.form_errors else 422, **{form_name: form})


@bp.post("/encounters/<uuid>/photo")
def photo(uuid: str):
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
            message = replace_photo(
                db.session,
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
            return redirect(url_for("encounters.detail", uuid=uuid))
    return detail_page(encounter, status, photo_form=form)


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
    lines = csv_lines(db.session, filters)
    return Response(
        stream_with_context(lines),
        mimetype="text/csv",
        headers={
            "Content-Disposition": f'attachment; filename="encounters-{date.today()}.csv"',
            "Cache-Control": "no-store",
        },
    )


# The backlog import ----------------------------------------------------------------------


def _import_form(formdata=None, meta: dict | None = None) -> ImportForm:
    versions = list(db.session.scalars(select(ConsentVersion).order_by(ConsentVersion.id.desc())))
    highest = db.session.scalar(select(func.max(Ticket.number))) or 0
    venue = last_venue(db.session)
    form = ImportForm(
        formdata=formdata,
        meta=meta or {},
        data={
            "start_number": highest + 1,
            "on": date.today(),
            "consent_version": versions[0].id if versions else None,
            "gallery": False,
            **venue,
        },
    )
    form.consent_version.choices = [
        (v.id, f"Version {v.id} ({v.created_at:%Y-%m-%d})") for v in versions
    ]
    return form


def _settings(form: ImportForm) -> backlog.BatchSettings:
    return backlog.BatchSettings(
        on=form.on.data,
        utc_offset_minutes=form.utc_offset_minutes(),
        venue_type=form.venue_type.data,
        venue=(form.venue.data or "").strip(),
        city=(form.city.data or "").strip(),
        consent_version=form.consent_version.data,
        choices=ConsentChoices(
            keep=True,
            gallery=bool(form.gallery.data),
            training=bool(form.training.data),
            social=bool(form.social.data),
        ),
    )


def _checked_csrf() -> None:
    """CSRF for the import's POSTs, checked after the larger upload limit is set.

    Flask-WTF's own check would read the form before the view could raise the limit (a batch
    of photos is larger than one photo), so these views are exempt from it and check here.
    """
    request.max_content_length = backlog.BATCH_MAX_BYTES
    try:
        validate_csrf(request.headers.get("X-CSRFToken") or request.form.get("csrf_token"))
    except ValidationError as invalid:
        raise CSRFError(str(invalid)) from None


@bp.get("/encounters/import")
def import_page():
    return render_template("review/import.html", form=_import_form(), outcomes=None)


@bp.post("/encounters/import")
@csrf.exempt
def import_batch():
    """The no-JavaScript import: every file in one multipart POST; a page of outcomes.

    The batch settings are checked only when some file needs them (not a rescue zip)."""
    _checked_csrf()
    form = _import_form(formdata=request.form, meta={"csrf": False})  # checked above
    rescues, others = _uploads(request.files.getlist("files"))
    if (others or not rescues) and not form.validate():
        return render_template("review/import.html", form=form, outcomes=None), 422
    sources, outcomes = _sources(others)
    if not sources and not outcomes and not rescues:
        form.files.errors = ["Choose the photos (or a zip of photos) to import."]
        return render_template("review/import.html", form=form, outcomes=None), 422
    outcomes += _import(form, sources) + _rescue(rescues)
    return render_template("review/import.html", form=form, outcomes=outcomes)


@bp.post("/encounters/import/probe")
def import_probe():
    """The capture time in the first bytes of a photo, so the page can upload in that order."""
    upload = request.files.get("head")
    head = upload.stream.read(backlog.PROBE_BYTES) if upload else b""
    taken = backlog.capture_time(head)
    return jsonify({"taken": taken.isoformat() if taken else None})


@bp.post("/encounters/import/file")
@csrf.exempt
def import_file():
    """One file of a batch (a photo or a zip), numbered from `start_number`: JSON outcomes.

    A phone's rescue zip is one outcome per record; the batch settings do not apply to it."""
    _checked_csrf()
    form = _import_form(formdata=request.form, meta={"csrf": False})  # checked above
    rescues, others = _uploads(request.files.getlist("files"))
    if (others or not rescues) and not form.validate():
        problems = [
            f"{form[name].label.text}: {' '.join(errs)}" for name, errs in form.errors.items()
        ]
        return jsonify({"problems": problems}), 422
    sources, outcomes = _sources(others)
    outcomes += _import(form, sources) + _rescue(rescues)
    return jsonify({"outcomes": [o.as_json() for o in outcomes]})


def _import(form: ImportForm, sources: list[backlog.Source]) -> list[backlog.Outcome]:
    """Import these files as the batch the form describes, numbered from its start number."""
    if not sources:
        return []  # the form may not have been checked: only rescue zips were sent
    return list(
        backlog.import_sources(
            db.session,
            media_store(),
            _settings(form),
            sources,
            start_number=form.start_number.data,
            max_pixels=current_app.config["MAX_PHOTO_PIXELS"],
            collector_id=current_user.id,
            secret=current_app.config["SECRET_KEY"].encode(),
        )
    )


def _rescue(uploads: list[Upload]) -> list[backlog.Outcome]:
    """Record the encounters of the phone's rescue zips, each with its own data and consent."""
    outcomes = []
    for name, stream in uploads:
        outcomes += rescue.import_outbox_zip(
            db.session,
            media_store(),
            filename=name,
            stream=stream,
            max_photo_bytes=current_app.config["MAX_PHOTO_BYTES"],
            max_pixels=current_app.config["MAX_PHOTO_PIXELS"],
            collector_id=current_user.id,
        )
    return outcomes


def _uploads(files) -> tuple[list[Upload], list[Upload]]:
    """The uploaded files, named, as (the phone's rescue zips, every other file)."""
    rescues, others = [], []
    for upload in files:
        if not upload or not upload.filename:
            continue
        name = upload.filename.replace("\\", "/").rsplit("/", 1)[-1][:200]
        is_rescue = rescue.is_outbox_zip(name, upload.stream)
        (rescues if is_rescue else others).append((name, upload.stream))
    return rescues, others


def _sources(uploads: list[Upload]) -> tuple[list[backlog.Source], list[backlog.Outcome]]:
    max_bytes = current_app.config["MAX_PHOTO_BYTES"]
    sources, outcomes = [], []
    for name, stream in uploads:
        found, refused = backlog.sources_of(name, stream, max_bytes)
        sources += found
        outcomes += refused
    return sources, outcomes

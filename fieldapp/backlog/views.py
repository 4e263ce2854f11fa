"""The backlog import: photos of older drawings (or a zip of them), and a phone's rescue zip.

The page works without JavaScript (every file in one POST); with it, import.js sends the files
one at a time, in the order they were taken (`/probe` reads a photo's capture time first).
"""

from __future__ import annotations

from datetime import date
from typing import BinaryIO

from flask import Blueprint, current_app, jsonify, render_template, request
from flask_login import current_user
from flask_wtf.csrf import CSRFError, validate_csrf
from sqlalchemy import func, select
from wtforms import ValidationError

from fieldapp.auth.access import collector_required
from fieldapp.backlog import rescue
from fieldapp.backlog import services as backlog
from fieldapp.backlog.forms import ImportForm
from fieldapp.consent.models import ConsentVersion
from fieldapp.consent.services import ConsentChoices
from fieldapp.encounters.services import last_venue
from fieldapp.extensions import csrf, db
from fieldapp.media.services import media_store
from fieldapp.tickets.models import Ticket

bp = Blueprint("backlog", __name__)
Upload = tuple[str, BinaryIO]  # an uploaded file's safe name, and its stream


@bp.before_request
@collector_required
def _collectors_only():
    """Every page here is the collector's."""


def _import_form(formdata=None, meta: dict | None = None) -> ImportForm:
    versions = list(db.session.scalars(select(ConsentVersion).order_by(ConsentVersion.id.desc())))
    highest = db.session.scalar(select(func.max(Ticket.number))) or 0
    venue = last_venue(db.session())
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
    return render_template("backlog/import.html", form=_import_form(), outcomes=None)


@bp.post("/encounters/import")
@csrf.exempt
def import_batch():
    """The no-JavaScript import: every file in one multipart POST; a page of outcomes.

    The batch settings are checked only when some file needs them (not a rescue zip)."""
    _checked_csrf()
    form = _import_form(formdata=request.form, meta={"csrf": False})  # checked above
    rescues, others = _uploads(request.files.getlist("files"))
    if (others or not rescues) and not form.validate():
        return render_template("backlog/import.html", form=form, outcomes=None), 422
    sources, outcomes = _sources(others)
    if not sources and not outcomes and not rescues:
        form.files.errors = ["Choose the photos (or a zip of photos) to import."]
        return render_template("backlog/import.html", form=form, outcomes=None), 422
    outcomes += _import(form, sources) + _rescue(rescues)
    return render_template("backlog/import.html", form=form, outcomes=outcomes)


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
            db.session(),
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
            db.session(),
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
    rescues: list[Upload] = []
    others: list[Upload] = []
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

"""The collector's dataset pages: settings, the export (a download made as it is sent), past
exports."""

from __future__ import annotations

from pathlib import Path

from flask import (
    Blueprint,
    Response,
    current_app,
    flash,
    redirect,
    render_template,
    stream_with_context,
    url_for,
)

from fieldapp.auth.access import collector_required
from fieldapp.database import utcnow
from fieldapp.dataset.documents import DATASHEET_QUESTIONS
from fieldapp.dataset.forms import DatasetSettingsForm, ExportForm
from fieldapp.dataset.services import (
    ExportError,
    ExportOptions,
    count_eligible,
    dataset_settings,
    export_file_name,
    past_exports,
    save_dataset_settings,
    stream_export,
)
from fieldapp.extensions import db
from fieldapp.media.services import media_store

bp = Blueprint("dataset", __name__)


@bp.before_request
@collector_required
def _collectors_only():
    """Every page here is the collector's."""


@bp.route("/settings/dataset", methods=["GET", "POST"])
def settings():
    current = dataset_settings(db.session())
    data = {
        "license": current.license,
        "pretty_name": current.pretty_name,
        "creator": current.creator,
        "contact": current.contact,
        "size": "" if current.default_size is None else str(current.default_size),
        "ink": current.default_ink,
    } | {f"answer_{key}": (current.answers or {}).get(key, "") for key, _, _ in DATASHEET_QUESTIONS}
    form = DatasetSettingsForm(data=data)
    if form.validate_on_submit():
        save_dataset_settings(
            db.session(),
            license=form.license.data,
            pretty_name=form.pretty_name.data.strip(),
            creator=form.creator.data.strip(),
            contact=form.contact.data.strip(),
            answers=form.answers(),
            default_size=form.image_size(),
            default_ink=form.ink.data,
        )
        flash("Dataset settings saved. The next export's card and datasheet use them.")
        return redirect(url_for("dataset.settings"))
    status = 422 if form.errors else 200
    questions = [form[f"answer_{key}"] for key, _, _ in DATASHEET_QUESTIONS]
    return render_template("dataset/settings.html", form=form, questions=questions), status


@bp.route("/dataset/export", methods=["GET", "POST"])
def export():
    current = dataset_settings(db.session())
    form = ExportForm(
        data={
            "kind": "training",
            "size": "" if current.default_size is None else str(current.default_size),
            "ink": current.default_ink,
        }
    )
    if form.validate_on_submit():
        try:
            options = ExportOptions(
                kind=form.kind.data, image_size=form.image_size(), ink=form.ink.data
            )
        except ExportError as refused:
            form.form_errors.append(str(refused))
        else:
            return _download(options)
    counts = {kind: count_eligible(db.session(), kind) for kind in ("training", "archive")}
    status = 422 if form.errors else 200
    return render_template(
        "dataset/export.html", form=form, counts=counts, settings=current
    ), status


@bp.get("/dataset/exports")
def exports():
    return render_template("dataset/exports.html", exports=past_exports(db.session()))


def _download(options: ExportOptions) -> Response:
    """The export, sent while it is made (no length known beforehand: chunked). It is recorded
    only if the download reaches its end; nothing of it stays on the server."""
    created_at = utcnow()
    chunks = stream_export(
        db.session(),
        media_store(),
        options,
        made_by="web",
        created_at=created_at,
        scratch_dir=_scratch_dir(),
    )
    response = Response(stream_with_context(chunks), mimetype="application/zip")
    name = export_file_name(options.kind, created_at)
    response.headers["Content-Disposition"] = f'attachment; filename="{name}"'
    response.headers["X-Accel-Buffering"] = "no"  # a proxy passes each drawing on at once
    response.cache_control.no_store = True
    return response


def _scratch_dir() -> str:
    """An export's scratch file lives on the instance's disk (not a RAM-backed /tmp)."""
    path = Path(current_app.instance_path) / "tmp"
    path.mkdir(parents=True, exist_ok=True)
    return str(path)

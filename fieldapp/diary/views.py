"""The public diary and the collector's editor."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for

from fieldapp.auth.access import collector_required
from fieldapp.database import utcnow
from fieldapp.diary.forms import DeleteForm, EntryForm
from fieldapp.diary.models import DiaryEntry
from fieldapp.diary.services import (
    all_entries,
    delete_entry,
    public_page,
    render_markdown,
    save_entry,
)
from fieldapp.extensions import db

bp = Blueprint("diary", __name__, url_prefix="/diary")


@bp.get("")
def index():
    page = public_page(db.session(), request.args.get("page", 1, type=int))
    rendered = [(entry, render_markdown(db.session(), entry.body)) for entry in page.entries]
    return render_template("diary/index.html", page=page, rendered=rendered)


@bp.get("/manage")
@collector_required
def manage():
    return render_template("diary/manage.html", entries=all_entries(db.session()))


@bp.route("/new", methods=["GET", "POST"])
@collector_required
def new():
    form = EntryForm(data={"entry_date": utcnow().date()} if request.method == "GET" else None)
    return _edit(form, None)


@bp.route("/<int:entry_id>/edit", methods=["GET", "POST"])
@collector_required
def edit(entry_id: int):
    entry = _entry_or_404(entry_id)
    form = EntryForm(obj=entry)
    return _edit(form, entry)


@bp.route("/<int:entry_id>/delete", methods=["GET", "POST"])
@collector_required
def delete(entry_id: int):
    """GET asks first (a thumb slips on a phone); POST deletes."""
    entry = _entry_or_404(entry_id)
    form = DeleteForm()
    if request.method == "GET":
        preview = render_markdown(db.session(), entry.body)
        return render_template("diary/delete.html", entry=entry, form=form, preview=preview)
    if not form.validate_on_submit():
        abort(400)
    delete_entry(db.session(), entry)
    flash("Entry deleted.")
    return redirect(url_for("diary.manage"))


def _edit(form: EntryForm, entry: DiaryEntry | None):
    if form.validate_on_submit():
        save_entry(
            db.session(),
            entry,
            entry_date=form.entry_date.data,
            title=form.title.data or "",
            body=form.body.data,
            public=form.public.data,
        )
        flash("Entry saved." + (" It is public." if form.public.data else " It is private."))
        return redirect(url_for("diary.manage"))
    preview = render_markdown(db.session(), entry.body) if entry else None
    status = 400 if form.is_submitted() else 200
    return render_template("diary/edit.html", form=form, entry=entry, preview=preview), status


def _entry_or_404(entry_id: int) -> DiaryEntry:
    entry = db.session.get(DiaryEntry, entry_id)
    if entry is None:
        abort(404)
    return entry

"""The collector's consent page: the layered consent text, its translations and its versions.
(A correction of one drawer's consent is made on the encounter page: review.)"""

from __future__ import annotations

from dataclasses import dataclass

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from sqlalchemy import select

from fieldapp.auth.access import collector_required
from fieldapp.consent.forms import ConsentTextForm, TranslationForm
from fieldapp.consent.models import ConsentVersion
from fieldapp.consent.services import (
    ConsentError,
    current_version,
    earlier_text_in,
    language_usage,
    publish_translation,
    publish_version,
    text_in,
    texts_of,
)
from fieldapp.consent.texts import LABEL_LIMIT, LINE_LIMIT, ConsentText
from fieldapp.extensions import db
from fieldapp.i18n import LANGUAGES

bp = Blueprint("consent", __name__)


@bp.before_request
@collector_required
def _collectors_only():
    """Every page here is the collector's."""


@dataclass
class LanguageSlot:
    """One language of the current version: its published text, or a form to publish it."""

    language: str
    name: str
    published: ConsentText | None = None
    form: TranslationForm | None = None
    drafted_from: int | None = None  # the version whose text prefilled the form


@bp.route("/settings/consent", methods=["GET", "POST"])
def consent_text():
    session = db.session()
    if request.method == "GET":
        return _page()
    # Only what was sent: a part left out is missing, never taken from the current version.
    form = ConsentTextForm()
    if form.validate_on_submit():
        try:
            version, created = publish_version(
                session,
                form.text.data,
                summary=form.summary.data,
                choices=form.choices(),
                language=form.language.data,
            )
        except ConsentError as refused:
            form.form_errors.append(str(refused))
        else:
            if created:
                flash(f"Saved as consent version {version.id}. The next participant sees it.")
            else:
                flash(f"Unchanged: version {version.id} already has this text.")
            return redirect(url_for("consent.consent_text"))
    return _page(form=form)


@bp.post("/settings/consent/translations/<language>")
def translation(language: str):
    if language not in LANGUAGES:
        abort(404)  # not a language of ours: no such page
    session = db.session()
    current = current_version(session)
    if current is None:
        abort(404)
    form = TranslationForm(prefix=language)
    if form.validate_on_submit():
        try:
            if form.version.data != str(current.id):
                raise ConsentError(
                    f"Version {current.id} was published since this page was opened: "
                    "translate the version now in use."
                )
            publish_translation(
                session,
                current,
                language,
                summary=form.summary.data,
                choices=form.choices(),
                text=form.text.data,
            )
        except ConsentError as refused:
            form.form_errors.append(str(refused))
        else:
            flash(f"Published the {LANGUAGES[language]} text of version {current.id}.")
            return redirect(url_for("consent.consent_text", _anchor=f"language-{language}"))
    return _page(translations={language: form})


def _page(
    *, form: ConsentTextForm | None = None, translations: dict[str, TranslationForm] | None = None
):
    """The settings page; 422 when a form it shows was refused."""
    session = db.session()
    current = current_version(session)
    own = text_in(session, current, None) if current else None
    if form is None:
        form = ConsentTextForm(
            formdata=None,
            data=ConsentTextForm.data_of(own) | ({"language": own.language} if own else {}),
        )
    slots = _language_slots(current, translations or {}) if current else []
    versions = list(session.scalars(select(ConsentVersion).order_by(ConsentVersion.id.desc())))
    posted = translations or {}
    refused = bool(form.errors) or any(f.errors for f in posted.values())
    # A form for the version's own language has no place among the translations: its
    # refusal is said above them.
    elsewhere = [f for language, f in posted.items() if language not in {s.language for s in slots}]
    return render_template(
        "consent/settings.html",
        form=form,
        current=current,
        slots=slots,
        refused_elsewhere=elsewhere,
        versions=[(v, texts_of(session, v)) for v in versions],
        usage=language_usage(session),
        label_limit=LABEL_LIMIT,
        line_limit=LINE_LIMIT,
    ), (422 if refused else 200)


def _language_slots(
    current: ConsentVersion, posted: dict[str, TranslationForm]
) -> list[LanguageSlot]:
    session = db.session()
    slots = []
    for language, name in LANGUAGES.items():
        if language == current.language:
            continue
        slot = LanguageSlot(language, name, published=text_in(session, current, language))
        if language in posted:  # refused: shown with its reasons (above the text if published)
            slot.form = posted[language]
        elif slot.published is None:
            draft = earlier_text_in(session, current, language)
            slot.drafted_from = draft.version_id if draft else None
            slot.form = TranslationForm(
                prefix=language,
                formdata=None,
                data=TranslationForm.data_of(draft) | {"version": str(current.id)},
            )
        slots.append(slot)
    return slots

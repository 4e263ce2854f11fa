"""The pages a participant's QR code opens. The token in the path is the only key.

The withdrawal, one tap away, is fieldapp/withdrawal's."""

from flask import Blueprint, Response, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _

from fieldapp.consent.services import ConsentError, update_choices
from fieldapp.extensions import db
from fieldapp.i18n import lang_args
from fieldapp.participants.forms import (
    CHOICE_WORDS,
    GUARDIAN_NOTE,
    MINOR_REASONS,
    ChoicesForm,
    minor_refusals,
)
from fieldapp.participants.services import (
    ParticipantView,
    consent_shown,
    participant_page,
    participant_view,
)
from fieldapp.signals.responses import declare_training, send_signed_photo
from fieldapp.signals.services import training_allowed
from fieldapp.tickets.links import link_for, qr_png, qr_svg
from fieldapp.web.direct_select import plain_connection

bp = Blueprint("participants", __name__, url_prefix="/p")


@bp.get("/<token>")
def page(token: str):
    """The drawing, its facts, the drawer's choices and the ways to change them.

    The page a whole room opens at once: it holds no form, so it needs no CSRF token and sets
    no cookie (bench/load.py); the forms are one tap away.
    """
    consent = None
    with plain_connection() as connection:
        view = participant_page(connection, token)
        if view is None:
            abort(404)
        e = view.encounter
        sha256 = view.consent_sha256  # of the version the encounter points at: both or neither
        if e is not None and e.consent_version_id is not None and sha256 and not view.is_withdrawn:
            consent = consent_shown(connection, e.consent_version_id, sha256, e.consent_language)
    declare_training(training_allowed(e))
    return render_template(
        "participants/page.html",
        view=view,
        choices=CHOICE_WORDS.answers(e),
        consent=consent,
        link=link_for(token),
    )


@bp.route("/<token>/choices", methods=["GET", "POST"])
def choices(token: str):
    """The drawer's choices (gallery, training, social, credit); a saved change is a consent
    event."""
    view = _view_or_404(token)
    if not view.can_change_choices:
        flash(_("These choices can no longer change."))
        return redirect(url_for("participants.page", token=token, **lang_args()))
    if request.method == "GET":
        form = ChoicesForm(data=ChoicesForm.data_of(view.encounter))
        return _render_choices(view, form)
    form = ChoicesForm()
    if not form.validate_on_submit():
        return _render_choices(view, form), 422
    assert view.encounter is not None  # can_change_choices says so
    refused = minor_refusals(view.encounter, form)
    if refused:  # a forged form: the page offers none of these for a minor
        form.form_errors.append(_("Not saved: %(reasons)s", reasons=" ".join(refused)))
        form.training.data = form.social.data = False  # shown as they stay: not allowed
        form.credit.data = "anonymous"
        return _render_choices(view, form), 422
    try:
        changed = update_choices(
            db.session(),
            view.encounter,
            actor="participant",
            method="participant_page",
            **form.choices(),
        )
    except ConsentError as refused:
        form.form_errors.append(str(refused))
        return _render_choices(view, form), 422
    flash(_("Saved. Your new choices apply from now on.") if changed else _("Nothing changed."))
    return redirect(url_for("participants.page", token=token, **lang_args()))


@bp.get("/<token>/qr.svg")
def qr_code_svg(token: str):
    _view_or_404(token)
    return Response(qr_svg(link_for(token)), mimetype="image/svg+xml")


@bp.get("/<token>/qr.png")
def qr_code_png(token: str):
    _view_or_404(token)
    return Response(qr_png(link_for(token)), mimetype="image/png")


@bp.get("/<token>/drawing.jpg")
def drawing(token: str):
    """The display image, or with `?w=720` / `?w=1080` a reduced copy for phones (srcset)."""
    return _photo(token, "display")


@bp.get("/<token>/thumb.jpg")
def thumb(token: str):
    return _photo(token, "thumb")


def _photo(token: str, variant: str):
    view = _view_or_404(token)
    if view.is_withdrawn:
        abort(410, _("This drawing was withdrawn by its drawer; its files are deleted."))
    if view.encounter is None or view.encounter.photo is None:
        abort(404)
    return send_signed_photo(
        view.encounter, variant, request.args.get("v"), request.args.get("w", type=int)
    )


def _render_choices(view: ParticipantView, form: ChoicesForm) -> str:
    # It shows no drawing: it reserves, as every such page does (fieldapp/signals).
    e = view.encounter
    minor = e is not None and e.is_minor
    return render_template(
        "participants/choices.html",
        view=view,
        form=form,
        locked=MINOR_REASONS if minor else {},
        gallery_note=GUARDIAN_NOTE if minor and e is not None and not e.guardian_agreed else None,
    )


def _view_or_404(token: str) -> ParticipantView:
    view = participant_view(db.session(), token)
    if view is None:
        abort(404)
    return view

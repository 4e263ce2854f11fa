"""The capture side: home, the capture flow, the declined button, the handoff screen, a
helper's own encounters. The log and the encounter page are review's."""

from __future__ import annotations

import uuid as uuidlib

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user

from fieldapp.auth.access import collector_required, helper_allowed
from fieldapp.consent.services import current_version
from fieldapp.database import utcnow
from fieldapp.encounters.consent_step import consent_step
from fieldapp.encounters.forms import DeclinedForm, EncounterForm
from fieldapp.encounters.models import Encounter
from fieldapp.encounters.services import (
    EncounterConflict,
    EncounterGone,
    encounter_by_uuid,
    encounters_recorded_by,
    last_venue_and_time,
    record_encounter,
)
from fieldapp.encounters.validation import InvalidEncounter, parse_encounter_data
from fieldapp.extensions import db
from fieldapp.ledger.services import headline_for
from fieldapp.media.images import UnacceptablePhoto
from fieldapp.media.services import media_store, prepare_photo, read_upload

bp = Blueprint("encounters", __name__)
MINE_SHOWN = 50  # a helper's own encounters listed, newest first
#: What the form without JavaScript says of a question the drawer left unanswered.
UNANSWERED = {
    "age_group": "The drawer's age was not answered: ask whether they are an adult.",
    "keep": "Keep the drawing: the drawer did not answer yes or no.",
    "gallery": "Public gallery: the drawer did not answer yes or no.",
    "training": "Machine-learning training: the drawer did not answer yes or no.",
    "social": "Social media: the drawer did not answer yes or no.",
}


@bp.app_template_global()
def duration(seconds: int | None) -> str:
    """A time limit or a drawing time in words: "no limit", "45 s", "2 min", "1 min 30 s"."""
    if seconds is None:
        return "no limit"
    if seconds < 60:
        return f"{seconds} s"
    minutes, rest = divmod(seconds, 60)
    return f"{minutes} min {rest} s" if rest else f"{minutes} min"


@bp.before_request
@collector_required
def _collectors_only():
    """Every page here is the collector's, except those marked @helper_allowed."""


@bp.get("/")
@helper_allowed
def home():
    """The count towards the goal, new encounter, declined, and the phone's last QR codes.
    A helper sees its own count only."""
    count = headline_for(db.session(), current_user.id, helper=_helper())
    venue, venue_at = _last_venue()
    return render_template(
        "encounters/home.html",
        count=count,
        counted_at=utcnow(),
        declined_form=DeclinedForm(formdata=None, data=_fresh_start(venue)),
        venue_at=venue_at,
    )


@bp.route("/encounters/new", methods=["GET", "POST"])
@helper_allowed
def new():
    """The capture flow. The form carries its own UUID, so a double submit records once."""
    version = current_version(db.session())
    venue, venue_at = _last_venue()
    step = consent_step(db.session(), version, current_app.config["ADULT_AGE"])
    form = EncounterForm(
        data=_fresh_start(venue)
        | {"consent_version": str(version.id), "consent_language": step["first"].language}
    )
    page = {"form": form, "consent": version, "step": step, "venue_at": venue_at}
    if request.method == "POST" and form.validate_on_submit():
        if unanswered := form.unanswered():
            problems = [UNANSWERED[name] for name in unanswered]
            return render_template("encounters/new.html", problems=problems, **page), 422
        outcome = _record(form)
        if isinstance(outcome, Encounter):
            return redirect(url_for("encounters.handoff", uuid=outcome.uuid))
        return render_template("encounters/new.html", problems=outcome, **page), 422
    if form.errors:  # a posted form with a value none of its choices has: tampered with
        return render_template("encounters/new.html", problems=_form_problems(form), **page), 422
    return render_template("encounters/new.html", problems=[], **page)


@bp.post("/encounters/declined")
@helper_allowed
def declined():
    """Log an approach that was declined: one tap from home, venue only."""
    form = DeclinedForm()
    if form.validate_on_submit():
        outcome = _record(form)
        if isinstance(outcome, Encounter):
            flash("Declined approach logged. It counts: asking is labor too.")
            return redirect(url_for("encounters.home"))
        flash("Not logged: " + "; ".join(outcome))
    elif form.errors:
        flash("Not logged: " + "; ".join(_form_problems(form)))
    return redirect(url_for("encounters.home"))


@bp.get("/encounters/<uuid>/handoff")
@helper_allowed
def handoff(uuid: str):
    """The QR code to hand over; a helper's only for the encounters it recorded."""
    encounter = encounter_by_uuid(db.session(), uuid)
    if encounter is None or (_helper() and encounter.recorded_by_id != current_user.id):
        abort(404)
    if not encounter.is_completed or encounter.is_withdrawn:
        if _helper():
            return redirect(url_for("encounters.mine"))
        return redirect(url_for("review.detail", uuid=uuid))
    return render_template("encounters/handoff.html", encounter=encounter)


@bp.get("/encounters/mine")
@helper_allowed
def mine():
    """The encounters this account recorded, newest first: numbers, dates and QR links only."""
    encounters = encounters_recorded_by(db.session(), current_user.id, limit=MINE_SHOWN)
    return render_template("encounters/mine.html", encounters=encounters, shown=MINE_SHOWN)


def _helper() -> bool:
    return current_user.is_helper


def _last_venue():
    """The last venue of this account's encounters for a helper, of anyone's for the collector."""
    return last_venue_and_time(db.session(), recorded_by=current_user.id if _helper() else None)


def _fresh_start(venue: dict[str, str]) -> dict:
    """A new UUID, the time now, and the previous encounter's venue."""
    return {"uuid": str(uuidlib.uuid4()), "started_at": utcnow().isoformat(), **venue}


def _record(form: EncounterForm | DeclinedForm) -> Encounter | list[str]:
    """Record the form's encounter; return it, or the problems to show."""
    try:
        client_uuid = str(uuidlib.UUID(form.uuid.data))
        data = parse_encounter_data(form.to_data())
        upload = form.photo.data if isinstance(form, EncounterForm) else None
        photo = (
            prepare_photo(read_upload(upload.stream, current_app.config["MAX_PHOTO_BYTES"]))
            if upload
            else None
        )
        if photo is None and data.choices is not None and data.choices.keep:
            return ["Take a photo of the drawing before handing over the QR code."]
        recorded = record_encounter(
            db.session(),
            media_store(),
            uuid=client_uuid,
            data=data,
            photo=photo,
            collector_id=current_user.id,
        )
    except InvalidEncounter as invalid:
        return [f"{e['field']}: {e['message']}" for e in invalid.errors]
    except UnacceptablePhoto as refused:
        return [refused.message]
    except ValueError:  # a UUID that is not one: the form was tampered with
        return ["The form was damaged; start a new encounter."]
    except (EncounterConflict, EncounterGone) as refused:
        return [str(refused)]
    return recorded.encounter


def _form_problems(form) -> list[str]:
    """The form's field errors, as lines people can read."""
    return [
        f"{form[name].label.text}: {message}"
        for name, messages in form.errors.items()
        if name in form
        for message in messages
    ] or ["This form has expired or was not sent from this site."]

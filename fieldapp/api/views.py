"""The JSON API the phone syncs through: /api/v1/..."""

from __future__ import annotations

import json
import uuid as uuidlib

from flask import Blueprint, current_app, g, request, url_for
from flask_login import current_user
from flask_wtf.csrf import CSRFError, generate_csrf

from fieldapp.api.openapi import openapi_document
from fieldapp.auth.access import forbidden_page, helper_allowed, refused_to_helper
from fieldapp.auth.services import collector_for_api_token
from fieldapp.consent.services import current_version, texts_of
from fieldapp.database import utcnow, write_transaction
from fieldapp.encounters.models import Encounter
from fieldapp.encounters.services import (
    EncounterConflict,
    EncounterGone,
    encounter_by_uuid,
    gone_message,
    record_encounter,
)
from fieldapp.encounters.validation import InvalidEncounter, parse_encounter_data, whole_number
from fieldapp.extensions import csrf, db
from fieldapp.ledger.services import headline_for
from fieldapp.media.images import UnacceptablePhoto
from fieldapp.media.services import media_store, photo_unless_held, read_upload
from fieldapp.tickets.links import link_for
from fieldapp.tickets.services import MAX_TICKETS_PER_REQUEST, reserve_tickets

bp = Blueprint("api", __name__, url_prefix="/api/v1")
csrf.exempt(bp)  # checked below, for session callers only: a bearer token is not ambient
PUBLIC_ENDPOINTS = {"api.openapi"}
SAFE_METHODS = {"GET", "HEAD", "OPTIONS"}


@bp.before_request
def _authenticate():
    """A bearer token, or the logged-in session plus a CSRF header; else 401. A helper gets 403
    outside the calls its phone's outbox makes (marked @helper_allowed)."""
    if request.endpoint in PUBLIC_ENDPOINTS:
        return None
    header = request.headers.get("Authorization", "")
    if header.startswith("Bearer "):
        collector = collector_for_api_token(db.session(), header.removeprefix("Bearer ").strip())
        if collector is None:
            return _error(401, "This API token is not valid.")
        if refused_to_helper(collector):
            return forbidden_page()
        g.collector_id, g.helper = collector.id, collector.is_helper
        return None
    if current_user.is_authenticated:
        if refused_to_helper(current_user):
            return forbidden_page()
        if request.method not in SAFE_METHODS:
            try:
                csrf.protect()
            except CSRFError:
                return _error(
                    401, "Send the X-CSRFToken header with the session, or use a bearer token."
                )
        g.collector_id, g.helper = current_user.id, current_user.is_helper
        return None
    return _error(401, "Log in, or send Authorization: Bearer <token>.")


@bp.get("/openapi.json")
def openapi():
    return openapi_document()


@bp.get("/session")
@helper_allowed
def session():
    """Who is calling, and for a logged-in session the CSRF token its writes must send."""
    body = {"collector_id": g.collector_id}
    if current_user.is_authenticated:
        body["csrf_token"] = generate_csrf()
    return body


@bp.get("/progress")
@helper_allowed
def progress():
    """The count the home screen shows, so it can follow the uploads without a reload. A
    helper's is its own: the collection's figures are the collector's."""
    count = headline_for(db.session(), g.collector_id, helper=g.helper)
    return {
        "drawings": count.drawings,
        "approaches": count.approaches,
        "withdrawn": count.withdrawn,
        "goal": count.goal,
        "at": utcnow().isoformat(),
    }


@bp.get("/consent/current")
@helper_allowed
def consent_current():
    """The consent shown to the next drawer: its own language's layers at the top (as before,
    `text` and `sha256` are that language's), and every published language in `translations`,
    the version's own first. The phone records the language it showed (`consent.language`)."""
    session = db.session()
    version = current_version(session)
    assert version is not None  # the first migration publishes version 1
    texts = texts_of(session, version)
    own = texts[0]
    return {
        "version": version.id,
        "language": own.language,
        "summary": own.summary,
        "choices": own.choices,
        "text": own.text,
        "sha256": own.sha256,
        "translations": [text.document() | {"sha256": text.sha256} for text in texts],
    }


@bp.post("/tickets")
@helper_allowed
def tickets():
    try:
        body = request.get_json(silent=True)
    except RecursionError:  # JSON nested thousands of levels deep
        body = None
    count = whole_number(body.get("count")) if isinstance(body, dict) else None
    if count is None or not 1 <= count <= MAX_TICKETS_PER_REQUEST:
        return _error(
            422,
            "Invalid request.",
            [
                {
                    "field": "count",
                    "message": f"must be a whole number from 1 to {MAX_TICKETS_PER_REQUEST}",
                }
            ],
        )
    with write_transaction(db.session()):
        reserved = reserve_tickets(db.session(), count, g.collector_id)
        body = [
            {"number": t.number, "token": t.token, "participant_url": link_for(t.token)}
            for t in reserved
        ]
    return {"tickets": body}, 201


@bp.get("/encounters/<uuid>")
def get_encounter(uuid: str):
    encounter = encounter_by_uuid(db.session(), _normal_uuid(uuid) or "")
    if encounter is None:
        return _error(404, "No encounter has this UUID.")
    if encounter.is_withdrawn:
        return _error(410, gone_message(encounter.number))
    return encounter_body(encounter)


@bp.put("/encounters/<uuid>")
@helper_allowed
def put_encounter(uuid: str):
    """Record an encounter idempotently: 201 created, 200 already there, 409 conflicting."""
    client_uuid = _normal_uuid(uuid)
    if client_uuid is None:
        return _error(422, "Invalid request.", [{"field": "uuid", "message": "must be a UUID"}])
    if request.mimetype != "multipart/form-data":
        return _error(
            415, "Send multipart/form-data with a `data` part (JSON) and an optional `photo` part."
        )
    known = encounter_by_uuid(db.session(), client_uuid)
    if known is not None and known.is_withdrawn:  # before reading a photo we will not keep
        return _error(410, gone_message(known.number))
    try:
        data = parse_encounter_data(_data_part())
        photo = _photo_part(client_uuid)
        recorded = record_encounter(
            db.session(),
            media_store(),
            uuid=client_uuid,
            data=data,
            photo=photo,
            collector_id=g.collector_id,
        )
    except InvalidEncounter as invalid:
        return _error(422, "Invalid encounter.", invalid.errors)
    except UnacceptablePhoto as refused:
        if refused.status == 422:  # every 422 names its fields (ValidationError)
            return _error(422, refused.message, [{"field": "photo", "message": refused.message}])
        return _error(refused.status, refused.message)
    except EncounterConflict as conflict:
        return _error(409, str(conflict))
    except EncounterGone as gone:
        return _error(410, str(gone))
    body = encounter_body(recorded.encounter)
    if recorded.created:
        return body, 201, {"Location": url_for("api.get_encounter", uuid=client_uuid)}
    return body, 200


def encounter_body(encounter: Encounter) -> dict:
    """The API's description of a stored encounter (the same for PUT and GET)."""
    photo = encounter.photo
    return {
        "uuid": encounter.uuid,
        "number": encounter.number,
        "token": encounter.token,
        "status": encounter.status,
        "participant_url": link_for(encounter.token) if encounter.token else None,
        "photo": {
            "sha256": photo.original_sha256,
            "width": photo.width,
            "height": photo.height,
            "framing": photo.framing,
        }
        if photo
        else None,
    }


def _data_part():
    # A part without a name arrives keyed None: name it for the message, never compare it.
    unknown = sorted(
        (name or "(unnamed part)")
        for name in (set(request.form) | set(request.files)) - {"data", "photo"}
    )
    if unknown:
        raise InvalidEncounter(
            [{"field": name, "message": "is not a part of an encounter upload"} for name in unknown]
        )
    if "data" in request.form:
        raw = request.form["data"]
    elif "data" in request.files:  # a Blob appended to FormData arrives as a file part
        raw = request.files["data"].read(1024 * 1024).decode("utf-8", errors="replace")
    else:
        raise InvalidEncounter([{"field": "data", "message": "is required: the encounter as JSON"}])
    try:
        return json.loads(raw)
    except (ValueError, RecursionError):  # RecursionError: nested thousands of levels deep
        raise InvalidEncounter([{"field": "data", "message": "is not valid JSON"}]) from None


def _photo_part(client_uuid: str):
    upload = request.files.get("photo")
    if upload is None:
        return None
    data = read_upload(upload.stream, current_app.config["MAX_PHOTO_BYTES"])
    known = encounter_by_uuid(db.session(), client_uuid)
    held = known.photo if known is not None else None
    return photo_unless_held(held, data, max_pixels=current_app.config["MAX_PHOTO_PIXELS"])


def _normal_uuid(value: str) -> str | None:
    try:
        return str(uuidlib.UUID(value))
    except ValueError:
        return None


def _error(status: int, message: str, errors: list | None = None):
    body: dict = {"error": message}
    if errors is not None:
        body["errors"] = errors
    return body, status

"""Liveness for load balancers and `make run` scripts."""

from flask import Blueprint, current_app
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from fieldapp.extensions import db
from fieldapp.media.services import media_store
from fieldapp.media.storage import StorageUnavailable

bp = Blueprint("health", __name__)


@bp.get("/healthz")
def healthz():
    """200 once the database answers; 503 while it does not.

    The media store's state is reported beside it ("store": "ok" or "unavailable") but does not
    fail the check: every app server shares the one store, so taking servers out of a load
    balancer for it would only turn uploads' 503 (which phones retry) into no answer at all.
    """
    store = _store_state()
    try:
        db.session.execute(text("SELECT 1"))
    except SQLAlchemyError:
        db.session.rollback()
        return {"status": "unavailable", "database": "unavailable", "store": store}, 503
    return {"status": "ok", "database": "ok", "store": store}


def _store_state() -> str:
    try:
        media_store().check()
    except StorageUnavailable as error:
        current_app.logger.warning("Media store unavailable: %s", error)
        return "unavailable"
    return "ok"

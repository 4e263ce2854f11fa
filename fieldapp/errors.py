"""Error pages for people and JSON errors for the API: clear words, never a stack trace."""

from flask import Flask, render_template, request
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException, RequestEntityTooLarge

from fieldapp.extensions import db
from fieldapp.media.storage import StorageUnavailable


def wants_json() -> bool:
    return request.path.startswith("/api/")


def error_response(status: int, title: str, message: str):
    """JSON under /api/, a page everywhere else."""
    if wants_json():
        return {"error": message}, status
    return render_template("errors/error.html", title=title, message=message), status


def register(app: Flask) -> None:
    @app.errorhandler(CSRFError)
    def _csrf(error: CSRFError):
        message = (
            "This form has expired or was not sent from this site. Go back, reload and try again."
        )
        return error_response(400, "Form expired", message)

    @app.errorhandler(RequestEntityTooLarge)
    def _too_large(error):
        limit_mb = app.config["MAX_PHOTO_BYTES"] // (1024 * 1024)
        message = f"The upload is too large: a photo may be at most {limit_mb} MB."
        return error_response(413, "Photo too large", message)

    @app.errorhandler(StorageUnavailable)
    def _storage(error: StorageUnavailable):
        app.logger.error(
            "Media storage unavailable on %s %s: %s", request.method, request.path, error
        )
        db.session.rollback()
        response = error_response(error.status, "Storage unavailable", error.message)
        return (*response, {"Retry-After": "300"})

    @app.errorhandler(HTTPException)
    def _http(error: HTTPException):
        if error.code == 404 and not wants_json():
            return render_template("errors/not_found.html"), 404
        return error_response(error.code, error.name, error.description)

    @app.errorhandler(Exception)
    def _unexpected(error: Exception):
        app.logger.exception("Unhandled error on %s %s", request.method, request.path)
        db.session.rollback()
        message = "Something went wrong on our side. Nothing was lost from your phone: try again."
        return error_response(500, "Server error", message)

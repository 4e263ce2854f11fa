"""Error pages for people and JSON errors for the API: clear words, never a stack trace."""

from flask import Flask, render_template, request
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException, RequestEntityTooLarge

from fieldapp.extensions import db


def wants_json() -> bool:
    return request.path.startswith("/api/")


def register(app: Flask) -> None:
    @app.errorhandler(CSRFError)
    def _csrf(error: CSRFError):
        message = (
            "This form has expired or was not sent from this site. Go back, reload and try again."
        )
        if wants_json():
            return {"error": message}, 400
        return render_template("errors/error.html", title="Form expired", message=message), 400

    @app.errorhandler(RequestEntityTooLarge)
    def _too_large(error):
        limit_mb = app.config["MAX_PHOTO_BYTES"] // (1024 * 1024)
        message = f"The upload is too large: a photo may be at most {limit_mb} MB."
        if wants_json():
            return {"error": message}, 413
        return render_template("errors/error.html", title="Photo too large", message=message), 413

    @app.errorhandler(HTTPException)
    def _http(error: HTTPException):
        if wants_json():
            return {"error": error.description}, error.code
        if error.code == 404:
            return render_template("errors/not_found.html"), 404
        return (
            render_template("errors/error.html", title=error.name, message=error.description),
            error.code,
        )

    @app.errorhandler(Exception)
    def _unexpected(error: Exception):
        app.logger.exception("Unhandled error on %s %s", request.method, request.path)
        db.session.rollback()
        message = "Something went wrong on our side. Nothing was lost from your phone: try again."
        if wants_json():
            return {"error": message}, 500
        return render_template("errors/error.html", title="Server error", message=message), 500

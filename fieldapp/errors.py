"""Error pages for people and JSON errors for the API: clear words, never a stack trace."""

import traceback

from flask import Flask, render_template, request
from flask_babel import gettext as _
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException, RequestEntityTooLarge

from fieldapp.extensions import db
from fieldapp.i18n import drawer_page
from fieldapp.media.storage import StorageUnavailable
from fieldapp.redaction import redact


def wants_json() -> bool:
    return request.path.startswith("/api/")


def error_response(
    status: int, title: str, message: str | None, headers: dict | list | None = None
):
    """JSON under /api/, a page everywhere else (with `headers`, e.g. Allow on a 405)."""
    if wants_json():
        return {"error": message}, status, headers or {}
    page = render_template("errors/error.html", title=title, message=message)
    return page, status, headers or {}


def own_headers(error: HTTPException) -> list[tuple[str, str]]:
    """The headers the exception carries (Allow on a 405, WWW-Authenticate on a 401,
    Retry-After on a 429 or 503), without its Content-Type: the page or JSON sets its own."""
    return [(name, value) for name, value in error.get_headers() if name.lower() != "content-type"]


def redacted(text: str) -> str:
    """`text` fit for the error log: no participant token, neither in a path (the
    access log's redaction) nor anywhere else (an exception's message may quote a query's parameters)."""
    text = redact(text)
    token = (request.view_args or {}).get("token")
    return text.replace(token, "…") if isinstance(token, str) and token else text


def register(app: Flask) -> None:
    @app.errorhandler(CSRFError)
    def _csrf(error: CSRFError):
        if drawer_page():  # the drawer's choices or withdrawal, in their language
            message = _(
                "This form has expired or was not sent from this site. "
                "Go back, reload and try again."
            )
            return error_response(400, _("Form expired"), message)
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
            "Media storage unavailable on %s %s: %s",
            request.method,
            redacted(request.path),
            redacted(str(error)),
        )
        db.session.rollback()
        # The error's own wait: a store that cannot be reached is often back in seconds (30 s),
        # a full one needs an administrator (300 s).
        return error_response(
            error.status,
            "Storage unavailable",
            error.message,
            {"Retry-After": str(error.retry_after)},
        )

    @app.errorhandler(HTTPException)
    def _http(error: HTTPException):
        headers = own_headers(error)
        assert error.code is not None  # Flask returns an HTTPException without a code unhandled
        if error.code == 404 and not wants_json():
            return render_template("errors/not_found.html"), 404, headers
        return error_response(error.code, error.name, error.description, headers)

    @app.errorhandler(Exception)
    def _unexpected(error: Exception):
        # The traceback is formatted here, not by the logger, so that it is redacted too.
        app.logger.error(
            "Unhandled error on %s %s\n%s",
            request.method,
            redacted(request.path),
            redacted("".join(traceback.format_exception(error)).rstrip()),
        )
        db.session.rollback()
        message = "Something went wrong on our side. Nothing was lost from your phone: try again."
        return error_response(500, "Server error", message)

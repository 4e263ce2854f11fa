"""Response headers every page gets, and the stricter ones of participant pages."""

from flask import Flask, request


def register(app: Flask) -> None:
    @app.after_request
    def _security_headers(response):
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("X-Frame-Options", "DENY")
        if request.path.startswith("/p/"):
            # The path holds the participant's secret: never tell another site where we were,
            # never keep the page in a shared cache, never index it.
            response.headers["Referrer-Policy"] = "no-referrer"
            response.headers["X-Robots-Tag"] = "noindex, nofollow"
            response.headers.setdefault("Cache-Control", "private, no-store")
        else:
            response.headers.setdefault("Referrer-Policy", "same-origin")
        return response
